-- The five-order loop. Orders, history entries and events are kept whole
-- as JSON (data); the columns beside them are what queries select on. Every
-- commit takes the row of dispatch_feed FOR UPDATE to number its event, so
-- commits are serialised and the feed is read in commit order.

CREATE TABLE {s}.dispatch_feed (
    id  INT PRIMARY KEY,
    seq BIGINT NOT NULL
);
INSERT INTO {s}.dispatch_feed (id, seq) VALUES (1, 0);

CREATE TABLE {s}.dispatch_menu (
    code    TEXT COLLATE "C" PRIMARY KEY,
    version BIGINT NOT NULL,
    data    TEXT NOT NULL
);

CREATE TABLE {s}.dispatch_orders (
    id           TEXT COLLATE "C" PRIMARY KEY,
    version      BIGINT NOT NULL,
    state        TEXT NOT NULL,
    team         TEXT COLLATE "C" NOT NULL,
    active       BOOLEAN NOT NULL,
    due          TIMESTAMPTZ,
    showcased_at TIMESTAMPTZ,
    item         TEXT NOT NULL,
    data         TEXT NOT NULL
);
CREATE INDEX dispatch_orders_team ON {s}.dispatch_orders (team) WHERE active;
CREATE INDEX dispatch_orders_due ON {s}.dispatch_orders (due, id) WHERE due IS NOT NULL;
CREATE INDEX dispatch_orders_showcase ON {s}.dispatch_orders (showcased_at, id) WHERE state = 'showcased';

CREATE TABLE {s}.dispatch_history (
    order_id TEXT COLLATE "C" NOT NULL,
    version  BIGINT NOT NULL,
    data     TEXT NOT NULL,
    PRIMARY KEY (order_id, version)
);

CREATE TABLE {s}.dispatch_events (
    seq  BIGINT PRIMARY KEY,
    data TEXT NOT NULL
);

CREATE TABLE {s}.dispatch_assigned (
    team TEXT COLLATE "C" PRIMARY KEY,
    seq  BIGINT NOT NULL
);

CREATE TABLE {s}.dispatch_relays (
    relay TEXT COLLATE "C" PRIMARY KEY,
    seq   BIGINT NOT NULL
);
