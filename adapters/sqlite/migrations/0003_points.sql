-- Points: the points scheme's aggregates. Each row keeps its aggregate
-- whole in doc (JSON; decimals as strings, so exact; times RFC 3339 with
-- nanoseconds) beside the columns the Store's lookups and orderings use.
-- Ordering columns hold INTEGER nanoseconds since 1970-01-01 UTC. The
-- authoritative hours and points live in the ledger tables as INTEGER
-- minor units; these rows only mirror the scheme's bookkeeping.

CREATE TABLE points_records (
    id         TEXT    NOT NULL PRIMARY KEY,
    volunteer  TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    source_key TEXT    UNIQUE,
    version    INTEGER NOT NULL,
    doc        TEXT    NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX points_records_volunteer ON points_records (volunteer, at, id);

CREATE TABLE points_wallets (
    volunteer TEXT    NOT NULL PRIMARY KEY,
    version   INTEGER NOT NULL,
    doc       TEXT    NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE points_lots (
    id         TEXT    NOT NULL PRIMARY KEY,
    volunteer  TEXT    NOT NULL,
    earned_at  INTEGER NOT NULL,
    expires_at INTEGER,
    live       INTEGER NOT NULL CHECK (live IN (0, 1)), -- Remaining > 0
    doc        TEXT    NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX points_lots_volunteer ON points_lots (volunteer, live, earned_at, id);
CREATE INDEX points_lots_due ON points_lots (live, expires_at, id);

CREATE TABLE points_awards (
    id        TEXT    NOT NULL PRIMARY KEY,
    volunteer TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    doc       TEXT    NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX points_awards_volunteer ON points_awards (volunteer, at, id);

CREATE TABLE points_levels (
    seq       INTEGER PRIMARY KEY,
    volunteer TEXT    NOT NULL,
    doc       TEXT    NOT NULL
) STRICT;
CREATE INDEX points_levels_volunteer ON points_levels (volunteer, seq);

CREATE TABLE points_usage (
    volunteer TEXT NOT NULL,
    period    TEXT NOT NULL,
    points    TEXT NOT NULL, -- decimal string, exact
    PRIMARY KEY (volunteer, period)
) STRICT, WITHOUT ROWID;

-- rowid keeps the order in which objections were raised.
CREATE TABLE points_objections (
    raised  INTEGER PRIMARY KEY,
    id      TEXT    NOT NULL UNIQUE,
    record  TEXT    NOT NULL,
    version INTEGER NOT NULL,
    doc     TEXT    NOT NULL
) STRICT;
CREATE INDEX points_objections_record ON points_objections (record, raised);

CREATE TABLE points_items (
    id        TEXT    NOT NULL PRIMARY KEY,
    owner     TEXT    NOT NULL,
    version   INTEGER NOT NULL,
    unlimited INTEGER NOT NULL CHECK (unlimited IN (0, 1)),
    stock     INTEGER NOT NULL,
    doc       TEXT    NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX points_items_owner ON points_items (owner, id);

CREATE TABLE points_redemptions (
    id        TEXT    NOT NULL PRIMARY KEY,
    volunteer TEXT    NOT NULL,
    item      TEXT    NOT NULL,
    held_at   INTEGER NOT NULL,
    deadline  INTEGER NOT NULL,
    held      INTEGER NOT NULL CHECK (held IN (0, 1)),
    version   INTEGER NOT NULL,
    doc       TEXT    NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX points_redemptions_volunteer ON points_redemptions (volunteer, held_at, id);
CREATE INDEX points_redemptions_due ON points_redemptions (held, deadline, id);

CREATE TABLE points_certificates (
    number    TEXT NOT NULL PRIMARY KEY,
    volunteer TEXT NOT NULL,
    doc       TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX points_certificates_volunteer ON points_certificates (volunteer, number);

CREATE TABLE points_sequences (
    series TEXT    NOT NULL PRIMARY KEY,
    value  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The outbox of ledger operations; seq orders them.
CREATE TABLE points_ops (
    seq   INTEGER PRIMARY KEY,
    id    TEXT    NOT NULL UNIQUE,
    acked INTEGER NOT NULL CHECK (acked IN (0, 1)),
    doc   TEXT    NOT NULL
) STRICT;
CREATE INDEX points_ops_pending ON points_ops (acked, seq);

-- Refused commands (who, what, why), for audit.
CREATE TABLE points_refusals (
    seq INTEGER PRIMARY KEY,
    doc TEXT    NOT NULL
) STRICT;
