-- Dispatch: the menu, orders with their history, the change feed and the
-- relays' positions. An order's menu item snapshot is written once, when
-- the order is created. Orders, history entries, events and menu items are
-- kept whole in doc (JSON) beside the columns the Store's lookups and
-- orderings use; times in those columns are INTEGER nanoseconds since
-- 1970-01-01 UTC.

CREATE TABLE dispatch_menu (
    code    TEXT    NOT NULL PRIMARY KEY,
    version INTEGER NOT NULL,
    doc     TEXT    NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE dispatch_orders (
    id           TEXT    NOT NULL PRIMARY KEY,
    version      INTEGER NOT NULL,
    state        TEXT    NOT NULL,
    team         TEXT    NOT NULL,
    active       INTEGER NOT NULL CHECK (active IN (0, 1)),
    due          INTEGER,           -- Order.Due(); NULL when none
    showcased_at INTEGER,           -- set while the state is showcased
    item         TEXT    NOT NULL,  -- the menu item as ordered; never rewritten
    doc          TEXT    NOT NULL   -- the order without its item
) STRICT, WITHOUT ROWID;
CREATE INDEX dispatch_orders_team ON dispatch_orders (team, active);
CREATE INDEX dispatch_orders_due ON dispatch_orders (due, id);
CREATE INDEX dispatch_orders_showcase ON dispatch_orders (showcased_at, id);

CREATE TABLE dispatch_history (
    order_id TEXT    NOT NULL,
    version  INTEGER NOT NULL,
    doc      TEXT    NOT NULL,
    PRIMARY KEY (order_id, version)
) STRICT, WITHOUT ROWID;

CREATE TABLE dispatch_events (
    seq INTEGER PRIMARY KEY,
    doc TEXT    NOT NULL
) STRICT;

CREATE TABLE dispatch_positions (
    relay TEXT    NOT NULL PRIMARY KEY,
    seq   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The feed Seq of the commit that last assigned each team an order.
CREATE TABLE dispatch_assigned (
    team TEXT    NOT NULL PRIMARY KEY,
    seq  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
