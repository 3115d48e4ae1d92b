-- Org: the practice network. Ancestry is the materialised path of each
-- node ("/centre/institute/station/"); a subtree is the range
-- [path, path with its last '/' replaced by '0'), an index range scan.
-- Each node row carries its subtree totals (roll-ups), updated on every
-- write for the node and its ancestors. Times are INTEGER nanoseconds since
-- 1970-01-01 UTC (NULL for "no time"); hours and points are INTEGER
-- hundredths (org.CounterScale).

CREATE TABLE org_seq (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
) STRICT;
INSERT INTO org_seq (id, value) VALUES (1, 0);

CREATE TABLE org_nodes (
    id             TEXT    NOT NULL PRIMARY KEY,
    kind           TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    parent         TEXT    NOT NULL,
    path           TEXT    NOT NULL UNIQUE,
    status         TEXT    NOT NULL,
    created        INTEGER,
    updated        INTEGER,
    created_change INTEGER NOT NULL,
    -- subtree totals
    centres        INTEGER NOT NULL DEFAULT 0,
    institutes     INTEGER NOT NULL DEFAULT 0,
    stations       INTEGER NOT NULL DEFAULT 0,
    points         INTEGER NOT NULL DEFAULT 0,
    corps          INTEGER NOT NULL DEFAULT 0,
    detachments    INTEGER NOT NULL DEFAULT 0,
    specialty      INTEGER NOT NULL DEFAULT 0,
    volunteers     INTEGER NOT NULL DEFAULT 0,
    pairings       INTEGER NOT NULL DEFAULT 0,
    sub_hours      INTEGER NOT NULL DEFAULT 0,
    sub_points     INTEGER NOT NULL DEFAULT 0,
    sub_orders     INTEGER NOT NULL DEFAULT 0,
    sub_completed  INTEGER NOT NULL DEFAULT 0,
    sub_activities INTEGER NOT NULL DEFAULT 0,
    -- the node's own counters (kept non-negative)
    own_hours      INTEGER NOT NULL DEFAULT 0 CHECK (own_hours >= 0),
    own_points     INTEGER NOT NULL DEFAULT 0 CHECK (own_points >= 0)
) STRICT, WITHOUT ROWID;

CREATE INDEX org_nodes_parent ON org_nodes (parent, status);

CREATE TABLE org_teams (
    id       TEXT    NOT NULL PRIMARY KEY,
    name     TEXT    NOT NULL,
    tier     TEXT    NOT NULL,
    parent   TEXT    NOT NULL,
    anchor   TEXT    NOT NULL,
    area     TEXT    NOT NULL,
    skills   TEXT    NOT NULL,
    capacity INTEGER NOT NULL,
    leader   TEXT    NOT NULL,
    status   TEXT    NOT NULL,
    version  INTEGER NOT NULL,
    created  INTEGER,
    updated  INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX org_teams_anchor ON org_teams (anchor);
CREATE INDEX org_teams_area ON org_teams (area);
CREATE INDEX org_teams_parent ON org_teams (parent);

-- Which team offers which skill in which area (TeamsServing).
CREATE TABLE org_team_skills (
    skill TEXT NOT NULL,
    area  TEXT NOT NULL,
    team  TEXT NOT NULL,
    PRIMARY KEY (skill, area, team)
) STRICT, WITHOUT ROWID;

CREATE TABLE org_volunteers (
    id       TEXT    NOT NULL PRIMARY KEY,
    name     TEXT    NOT NULL,
    contact  TEXT    NOT NULL,
    home     TEXT    NOT NULL,
    status   TEXT    NOT NULL,
    doc_hash TEXT    UNIQUE,
    version  INTEGER NOT NULL,
    created  INTEGER,
    updated  INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX org_volunteers_home ON org_volunteers (home, id);

CREATE TABLE org_members (
    team      TEXT NOT NULL,
    volunteer TEXT NOT NULL,
    role      TEXT NOT NULL,
    since     INTEGER,
    PRIMARY KEY (team, volunteer)
) STRICT, WITHOUT ROWID;

CREATE INDEX org_members_volunteer ON org_members (volunteer, team);

CREATE TABLE org_pairings (
    id        TEXT NOT NULL PRIMARY KEY,
    unit      TEXT NOT NULL,
    unit_name TEXT NOT NULL,
    unit_kind TEXT NOT NULL,
    node      TEXT NOT NULL,
    start_at  INTEGER,
    end_at    INTEGER,
    created   INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX org_pairings_unit ON org_pairings (unit, node);
CREATE INDEX org_pairings_node ON org_pairings (node);

CREATE TABLE org_counter_keys (
    key        TEXT    NOT NULL PRIMARY KEY,
    node       TEXT    NOT NULL,
    hours      INTEGER NOT NULL,
    points     INTEGER NOT NULL,
    orders     INTEGER NOT NULL,
    completed  INTEGER NOT NULL,
    activities INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE org_changes (
    seq       INTEGER PRIMARY KEY,
    action    TEXT NOT NULL,
    node      TEXT NOT NULL,
    team      TEXT NOT NULL,
    volunteer TEXT NOT NULL,
    pairing   TEXT NOT NULL,
    actor     TEXT NOT NULL,
    at        INTEGER,
    detail    TEXT NOT NULL
) STRICT;

CREATE INDEX org_changes_node ON org_changes (node, seq);
CREATE INDEX org_changes_team ON org_changes (team, seq);
CREATE INDEX org_changes_volunteer ON org_changes (volunteer, seq);
CREATE INDEX org_changes_pairing ON org_changes (pairing, seq);

CREATE TABLE org_refusals (
    seq    INTEGER PRIMARY KEY,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    reason TEXT NOT NULL,
    at     INTEGER
) STRICT;
