-- The points scheme. Each object is kept whole (data: its encoding/gob
-- form, exact for decimals) beside the columns queries select on. Every
-- Commit takes the row of points_lock FOR UPDATE: commits are serialised,
-- which makes their checks (versions, uniqueness, stock) and the op, level
-- and objection order race-free across processes.

CREATE TABLE {s}.points_lock (
    id       INT PRIMARY KEY,
    seq      BIGINT NOT NULL,
    refusals BIGINT NOT NULL
);
INSERT INTO {s}.points_lock (id, seq, refusals) VALUES (1, 0, 0);

CREATE TABLE {s}.points_wallets (
    volunteer TEXT COLLATE "C" PRIMARY KEY,
    version   BIGINT NOT NULL,
    data      BYTEA NOT NULL
);

CREATE TABLE {s}.points_records (
    id         TEXT COLLATE "C" PRIMARY KEY,
    source_key TEXT COLLATE "C" NOT NULL,
    volunteer  TEXT COLLATE "C" NOT NULL,
    at         TIMESTAMPTZ,
    version    BIGINT NOT NULL,
    data       BYTEA NOT NULL
);
CREATE UNIQUE INDEX points_records_source ON {s}.points_records (source_key) WHERE source_key <> '';
CREATE INDEX points_records_volunteer ON {s}.points_records (volunteer, at, id);

CREATE TABLE {s}.points_awards (
    id        TEXT COLLATE "C" PRIMARY KEY,
    volunteer TEXT COLLATE "C" NOT NULL,
    at        TIMESTAMPTZ,
    data      BYTEA NOT NULL
);
CREATE INDEX points_awards_volunteer ON {s}.points_awards (volunteer, at, id);

CREATE TABLE {s}.points_lots (
    id         TEXT COLLATE "C" PRIMARY KEY,
    volunteer  TEXT COLLATE "C" NOT NULL,
    earned_at  TIMESTAMPTZ,
    expires_at TIMESTAMPTZ,
    positive   BOOLEAN NOT NULL,
    data       BYTEA NOT NULL
);
CREATE INDEX points_lots_volunteer ON {s}.points_lots (volunteer, earned_at, id);
CREATE INDEX points_lots_due ON {s}.points_lots (expires_at, id) WHERE positive AND expires_at IS NOT NULL;

CREATE TABLE {s}.points_levels (
    volunteer TEXT COLLATE "C" NOT NULL,
    seq       BIGINT NOT NULL,
    ord       INT NOT NULL,
    data      BYTEA NOT NULL,
    PRIMARY KEY (volunteer, seq, ord)
);

CREATE TABLE {s}.points_objections (
    id      TEXT COLLATE "C" PRIMARY KEY,
    record  TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    seq     BIGINT NOT NULL,
    data    BYTEA NOT NULL
);
CREATE INDEX points_objections_record ON {s}.points_objections (record, seq, id);

CREATE TABLE {s}.points_items (
    id        TEXT COLLATE "C" PRIMARY KEY,
    owner     TEXT COLLATE "C" NOT NULL,
    version   BIGINT NOT NULL,
    unlimited BOOLEAN NOT NULL,
    stock     BIGINT NOT NULL,
    data      BYTEA NOT NULL
);

CREATE TABLE {s}.points_redemptions (
    id        TEXT COLLATE "C" PRIMARY KEY,
    volunteer TEXT COLLATE "C" NOT NULL,
    item      TEXT COLLATE "C" NOT NULL,
    held_at   TIMESTAMPTZ,
    deadline  TIMESTAMPTZ,
    held      BOOLEAN NOT NULL,
    version   BIGINT NOT NULL,
    data      BYTEA NOT NULL
);
CREATE INDEX points_redemptions_volunteer ON {s}.points_redemptions (volunteer, item, held_at, id);
CREATE INDEX points_redemptions_due ON {s}.points_redemptions (deadline, id) WHERE held;

CREATE TABLE {s}.points_certificates (
    number    TEXT COLLATE "C" PRIMARY KEY,
    volunteer TEXT COLLATE "C" NOT NULL,
    data      BYTEA NOT NULL
);

-- usage: points in minor units of points.PointsAsset.
CREATE TABLE {s}.points_usage (
    volunteer TEXT COLLATE "C" NOT NULL,
    period    TEXT COLLATE "C" NOT NULL,
    units     BIGINT NOT NULL,
    PRIMARY KEY (volunteer, period)
);

CREATE TABLE {s}.points_ops (
    id    TEXT COLLATE "C" PRIMARY KEY,
    seq   BIGINT NOT NULL,
    acked BOOLEAN NOT NULL,
    data  BYTEA NOT NULL
);
CREATE INDEX points_ops_pending ON {s}.points_ops (seq) WHERE NOT acked;

CREATE TABLE {s}.points_numbers (
    series TEXT COLLATE "C" PRIMARY KEY,
    n      BIGINT NOT NULL
);

CREATE TABLE {s}.points_refusals (
    seq  BIGINT PRIMARY KEY,
    data BYTEA NOT NULL
);
