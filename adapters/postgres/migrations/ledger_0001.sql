-- The ledger. Amounts are BIGINT minor units of the account's asset.

CREATE TABLE {s}.ledger_accounts (
    id              TEXT COLLATE "C" PRIMARY KEY,
    asset_code      TEXT NOT NULL,
    asset_scale     SMALLINT NOT NULL,
    floor           BIGINT NOT NULL,
    no_floor        BOOLEAN NOT NULL,
    ceiling         BIGINT NOT NULL,
    has_ceiling     BOOLEAN NOT NULL,
    -- deferred: no floor and no ceiling (an issuing account). Transfers do
    -- not lock its row; they append to ledger_pending, and seal() folds
    -- those rows into entries and the columns below.
    deferred        BOOLEAN NOT NULL,
    closed          BOOLEAN NOT NULL,
    balance         BIGINT NOT NULL,
    pending_debits  BIGINT NOT NULL,
    pending_credits BIGINT NOT NULL,
    version         BIGINT NOT NULL,
    entries         BIGINT NOT NULL,
    last_hash       BYTEA NOT NULL,
    owner           TEXT NOT NULL,
    metadata        JSONB,
    opened_at       TIMESTAMPTZ NOT NULL,
    closed_at       TIMESTAMPTZ
);

CREATE TABLE {s}.ledger_transfers (
    id              TEXT COLLATE "C" PRIMARY KEY,
    kind            SMALLINT NOT NULL,
    status          SMALLINT NOT NULL,
    -- postings: encodePostings' binary form.
    postings        BYTEA NOT NULL,
    ref             TEXT NOT NULL,
    units           BIGINT NOT NULL,
    reason          TEXT NOT NULL,
    principal       TEXT NOT NULL,
    metadata        JSONB,
    recorded_at     TIMESTAMPTZ NOT NULL,
    effective_at    TIMESTAMPTZ NOT NULL,
    hold_until      TIMESTAMPTZ,
    fingerprint     BYTEA NOT NULL,
    posted_units    BIGINT NOT NULL,
    resolved_by     TEXT NOT NULL,
    reversed_by     TEXT NOT NULL,
    refusal_code    TEXT NOT NULL,
    refusal_message TEXT NOT NULL
);

CREATE INDEX ledger_transfers_due ON {s}.ledger_transfers (hold_until, id) WHERE status = 2;

CREATE TABLE {s}.ledger_entries (
    account      TEXT COLLATE "C" NOT NULL,
    seq          BIGINT NOT NULL,
    transfer     TEXT NOT NULL,
    units        BIGINT NOT NULL,
    balance      BIGINT NOT NULL,
    version      BIGINT NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL,
    effective_at TIMESTAMPTZ NOT NULL,
    hash         BYTEA NOT NULL,
    PRIMARY KEY (account, seq)
);


-- Changes to deferred accounts not yet sealed into ledger_entries: one row
-- per command that touched the account.
CREATE TABLE {s}.ledger_pending (
    account         TEXT NOT NULL,
    transfer        TEXT NOT NULL,
    units           BIGINT NOT NULL,
    pending_debits  BIGINT NOT NULL,
    pending_credits BIGINT NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL,
    effective_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, transfer)
);
