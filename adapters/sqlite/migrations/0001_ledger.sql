-- Ledger: accounts, transfers, and each account's entries (its
-- hash-chained history). Amounts are INTEGER minor units of the asset;
-- times are INTEGER microseconds since 1970-01-01 UTC (NULL for "no
-- time"); hashes are 32-byte BLOBs. Nothing here is ever deleted.
--
-- A transfer's postings are kept in its row as a JSON array (units as JSON
-- integers, exact in 64 bits): they are read and written only with their
-- transfer, and one row per transfer instead of three is what lets a batch
-- commit tens of thousands of transfers a second. Per-account amounts live
-- in ledger_entries as INTEGER columns. There are no foreign keys: every
-- row is written by the ledger's rules inside one transaction, and the
-- lookups a foreign key costs on each insert would be spent on the hot
-- path.

CREATE TABLE ledger_accounts (
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
    last_hash       BLOB    NOT NULL CHECK (length(last_hash) = 32),
    owner           TEXT    NOT NULL,
    metadata        TEXT,
    opened_at       INTEGER NOT NULL,
    closed_at       INTEGER
) STRICT, WITHOUT ROWID;

CREATE TABLE ledger_transfers (
    id              TEXT    NOT NULL PRIMARY KEY,
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
    fingerprint     BLOB    NOT NULL CHECK (length(fingerprint) = 32),
    posted_units    INTEGER NOT NULL,
    resolved_by     TEXT    NOT NULL,
    reversed_by     TEXT    NOT NULL,
    refusal_code    TEXT    NOT NULL,
    refusal_message TEXT    NOT NULL
) STRICT, WITHOUT ROWID;

-- Pending holds by deadline, for DueHolds.
CREATE INDEX ledger_transfers_due ON ledger_transfers (hold_until, id) WHERE status = 2;

CREATE TABLE ledger_entries (
    account      TEXT    NOT NULL,
    seq          INTEGER NOT NULL CHECK (seq > 0),
    transfer_id  TEXT    NOT NULL,
    units        INTEGER NOT NULL,
    balance      INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    recorded_at  INTEGER,
    effective_at INTEGER,
    hash         BLOB    NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (account, seq)
) STRICT, WITHOUT ROWID;
