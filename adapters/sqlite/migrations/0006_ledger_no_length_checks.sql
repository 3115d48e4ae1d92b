-- The ledger's three tables lose their CHECK (length(...) = 32) on the
-- hash columns. A CHECK that calls a function makes SQLite treat every
-- multi-row INSERT or UPDATE on the table as one that may abort midway, and
-- inside a transaction such a statement first copies each page it touches
-- to a statement journal, so that it can undo itself: about a tenth of the
-- work of a batch of transfers. The writer never needs that undo: a failed
-- request is always rolled back to its savepoint or with its whole
-- transaction, and the ledger's writes say OR FAIL. The lengths stay
-- enforced where they come from: the hashes are [32]byte in Go, and a read
-- of any other length reports ErrCorrupt. The other CHECKs call no function
-- and stay. SQLite cannot drop a CHECK in place, so each table is rebuilt.

CREATE TABLE ledger_accounts_v6 (
    id              TEXT    NOT NULL PRIMARY KEY,
    asset_code      TEXT    NOT NULL,
    asset_scale     INTEGER NOT NULL CHECK (asset_scale BETWEEN 0 AND 18),
    floor           INTEGER NOT NULL,
    no_floor        INTEGER NOT NULL CHECK (no_floor IN (0, 1)),
    ceiling         INTEGER NOT NULL,
    has_ceiling     INTEGER NOT NULL CHECK (has_ceiling IN (0, 1)),
    closed          INTEGER NOT NULL CHECK (closed IN (0, 1)),
    balance         INTEGER NOT NULL,
    pending_debits  INTEGER NOT NULL CHECK (pending_debits >= 0),
    pending_credits INTEGER NOT NULL CHECK (pending_credits >= 0),
    version         INTEGER NOT NULL,
    entries         INTEGER NOT NULL,
    last_hash       BLOB    NOT NULL,
    owner           TEXT    NOT NULL,
    metadata        TEXT,
    opened_at       INTEGER NOT NULL,
    closed_at       INTEGER
) STRICT, WITHOUT ROWID;

INSERT INTO ledger_accounts_v6 (id, asset_code, asset_scale, floor, no_floor, ceiling, has_ceiling,
    closed, balance, pending_debits, pending_credits, version, entries, last_hash, owner, metadata,
    opened_at, closed_at)
SELECT id, asset_code, asset_scale, floor, no_floor, ceiling, has_ceiling,
    closed, balance, pending_debits, pending_credits, version, entries, last_hash, owner, metadata,
    opened_at, closed_at
FROM ledger_accounts ORDER BY id;

DROP TABLE ledger_accounts;
ALTER TABLE ledger_accounts_v6 RENAME TO ledger_accounts;

CREATE TABLE ledger_transfers_v6 (
    id              TEXT    NOT NULL UNIQUE,
    kind            INTEGER NOT NULL,
    status          INTEGER NOT NULL,
    ref             TEXT    NOT NULL,
    units           INTEGER NOT NULL,
    reason          TEXT    NOT NULL,
    principal       TEXT    NOT NULL,
    postings        TEXT    NOT NULL,
    metadata        TEXT,
    recorded_at     INTEGER,
    effective_at    INTEGER,
    hold_until      INTEGER,
    fingerprint     BLOB    NOT NULL,
    posted_units    INTEGER NOT NULL,
    resolved_by     TEXT    NOT NULL,
    reversed_by     TEXT    NOT NULL,
    refusal_code    TEXT    NOT NULL,
    refusal_message TEXT    NOT NULL
) STRICT;

-- The rowids are kept, so the rows stay in the order they were written.
INSERT INTO ledger_transfers_v6 (rowid, id, kind, status, ref, units, reason, principal, postings,
    metadata, recorded_at, effective_at, hold_until, fingerprint, posted_units, resolved_by,
    reversed_by, refusal_code, refusal_message)
SELECT rowid, id, kind, status, ref, units, reason, principal, postings,
    metadata, recorded_at, effective_at, hold_until, fingerprint, posted_units, resolved_by,
    reversed_by, refusal_code, refusal_message
FROM ledger_transfers ORDER BY rowid;

DROP TABLE ledger_transfers;
ALTER TABLE ledger_transfers_v6 RENAME TO ledger_transfers;

-- Pending holds by deadline, for DueHolds (dropped with the old table).
CREATE INDEX ledger_transfers_due ON ledger_transfers (hold_until, id) WHERE status = 2;

CREATE TABLE ledger_entries_v6 (
    account      TEXT    NOT NULL,
    seq          INTEGER NOT NULL CHECK (seq > 0),
    transfer_id  TEXT    NOT NULL,
    units        INTEGER NOT NULL,
    balance      INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    recorded_at  INTEGER,
    effective_at INTEGER,
    hash         BLOB    NOT NULL,
    PRIMARY KEY (account, seq)
) STRICT, WITHOUT ROWID;

INSERT INTO ledger_entries_v6 (account, seq, transfer_id, units, balance, version, recorded_at,
    effective_at, hash)
SELECT account, seq, transfer_id, units, balance, version, recorded_at, effective_at, hash
FROM ledger_entries ORDER BY account, seq;

DROP TABLE ledger_entries;
ALTER TABLE ledger_entries_v6 RENAME TO ledger_entries;
