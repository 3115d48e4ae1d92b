-- The practice network. Every org write holds the row of org_lock (FOR
-- UPDATE), whose seq numbers the change log; counter additions share it
-- (FOR SHARE), so they never see the tree move under them.

CREATE TABLE {s}.org_lock (
    id  INT PRIMARY KEY,
    seq BIGINT NOT NULL
);
INSERT INTO {s}.org_lock (id, seq) VALUES (1, 0);

-- path is the materialised path "/centre/institute/station/": a subtree is
-- the byte range [path, path with its last '/' replaced by '0').
CREATE TABLE {s}.org_nodes (
    id      TEXT COLLATE "C" PRIMARY KEY,
    kind    TEXT NOT NULL,
    name    TEXT NOT NULL,
    parent  TEXT COLLATE "C" NOT NULL,
    path    TEXT COLLATE "C" NOT NULL UNIQUE,
    retired BOOLEAN NOT NULL,
    created TIMESTAMPTZ,
    updated TIMESTAMPTZ
);
CREATE INDEX org_nodes_parent ON {s}.org_nodes (parent);

-- Subtree totals per node; hours and points in hundredths. own_* are what
-- AddCounters added at the node itself.
CREATE TABLE {s}.org_rollups (
    node        TEXT COLLATE "C" PRIMARY KEY,
    centres     BIGINT NOT NULL DEFAULT 0,
    institutes  BIGINT NOT NULL DEFAULT 0,
    stations    BIGINT NOT NULL DEFAULT 0,
    points      BIGINT NOT NULL DEFAULT 0,
    corps       BIGINT NOT NULL DEFAULT 0,
    detachments BIGINT NOT NULL DEFAULT 0,
    specialty   BIGINT NOT NULL DEFAULT 0,
    volunteers  BIGINT NOT NULL DEFAULT 0,
    pairings    BIGINT NOT NULL DEFAULT 0,
    hours       BIGINT NOT NULL DEFAULT 0,
    points_ctr  BIGINT NOT NULL DEFAULT 0,
    orders      BIGINT NOT NULL DEFAULT 0,
    completed   BIGINT NOT NULL DEFAULT 0,
    activities  BIGINT NOT NULL DEFAULT 0,
    own_hours   BIGINT NOT NULL DEFAULT 0,
    own_points  BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE {s}.org_teams (
    id       TEXT COLLATE "C" PRIMARY KEY,
    name     TEXT NOT NULL,
    tier     TEXT NOT NULL,
    parent   TEXT COLLATE "C" NOT NULL,
    anchor   TEXT COLLATE "C" NOT NULL,
    area     TEXT COLLATE "C" NOT NULL,
    skills   TEXT[] NOT NULL,
    capacity BIGINT NOT NULL,
    leader   TEXT COLLATE "C" NOT NULL,
    retired  BOOLEAN NOT NULL,
    version  BIGINT NOT NULL,
    created  TIMESTAMPTZ,
    updated  TIMESTAMPTZ
);
CREATE INDEX org_teams_anchor ON {s}.org_teams (anchor);
CREATE INDEX org_teams_area ON {s}.org_teams (area);
CREATE INDEX org_teams_parent ON {s}.org_teams (parent);

CREATE TABLE {s}.org_volunteers (
    id       TEXT COLLATE "C" PRIMARY KEY,
    name     TEXT NOT NULL,
    contact  TEXT NOT NULL,
    home     TEXT COLLATE "C" NOT NULL,
    status   TEXT NOT NULL,
    doc_hash TEXT NOT NULL,
    version  BIGINT NOT NULL,
    created  TIMESTAMPTZ,
    updated  TIMESTAMPTZ
);
CREATE INDEX org_volunteers_home ON {s}.org_volunteers (home, id);
CREATE UNIQUE INDEX org_volunteers_doc ON {s}.org_volunteers (doc_hash) WHERE doc_hash <> '';

CREATE TABLE {s}.org_members (
    team      TEXT COLLATE "C" NOT NULL,
    volunteer TEXT COLLATE "C" NOT NULL,
    role      TEXT NOT NULL,
    since     TIMESTAMPTZ,
    PRIMARY KEY (team, volunteer)
);
CREATE INDEX org_members_volunteer ON {s}.org_members (volunteer, team);

CREATE TABLE {s}.org_pairings (
    id        TEXT COLLATE "C" PRIMARY KEY,
    unit      TEXT COLLATE "C" NOT NULL,
    unit_name TEXT NOT NULL,
    unit_kind TEXT NOT NULL,
    node      TEXT COLLATE "C" NOT NULL,
    start_at  TIMESTAMPTZ,
    end_at    TIMESTAMPTZ,
    created   TIMESTAMPTZ
);
CREATE INDEX org_pairings_unit ON {s}.org_pairings (unit);
CREATE INDEX org_pairings_node ON {s}.org_pairings (node);

CREATE TABLE {s}.org_counter_keys (
    key        TEXT COLLATE "C" PRIMARY KEY,
    node       TEXT COLLATE "C" NOT NULL,
    hours      BIGINT NOT NULL,
    points_ctr BIGINT NOT NULL,
    orders     BIGINT NOT NULL,
    completed  BIGINT NOT NULL,
    activities BIGINT NOT NULL
);

-- One row per change and object it names (obj: "n:", "t:", "v:" or "p:"
-- and the ID), so an object's history is one index range. A bulk load
-- shares one seq among its changes; ord orders them.
CREATE TABLE {s}.org_changes (
    obj         TEXT COLLATE "C" NOT NULL,
    seq         BIGINT NOT NULL,
    ord         INT NOT NULL,
    action      TEXT NOT NULL,
    node        TEXT NOT NULL,
    team        TEXT NOT NULL,
    volunteer   TEXT NOT NULL,
    pairing     TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_role  TEXT NOT NULL,
    actor_scope TEXT NOT NULL,
    actor_team  TEXT NOT NULL,
    at          TIMESTAMPTZ,
    detail      TEXT NOT NULL,
    PRIMARY KEY (obj, seq, ord)
);

CREATE TABLE {s}.org_refusals (
    seq          BIGINT PRIMARY KEY,
    actor_id     TEXT NOT NULL,
    actor_role   TEXT NOT NULL,
    actor_scope  TEXT NOT NULL,
    actor_team   TEXT NOT NULL,
    action       TEXT NOT NULL,
    target_node  TEXT NOT NULL,
    target_team  TEXT NOT NULL,
    target_owner TEXT NOT NULL,
    reason       TEXT NOT NULL,
    at           TIMESTAMPTZ
);
