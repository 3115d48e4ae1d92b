// Package postgres stores civicloop in PostgreSQL through
// github.com/jackc/pgx/v5: the ledger, org, points and dispatch stores of
// one deployment, in one schema, shared by any number of application
// servers.
//
// Correctness comes from the database, never from this process: every
// write is one transaction that takes its row locks in a fixed order (or a
// single serialising row, for the low-rate org, points and dispatch
// writes) and is retried, with bounded jittered back-off, on serialization
// failure (40001), deadlock (40P01) and lost connections. Ledger writes of
// concurrent callers are coalesced into shared transactions (group
// commit); each caller still gets his own results, and one caller's
// refused transfer never fails another's. Issuing accounts (no floor, no
// ceiling) are never a hot lock: see ledger_seal.go.
//
// The SQL is kept to what PostgreSQL-compatible distributed databases also
// accept: plain SELECT ... FOR UPDATE / FOR KEY SHARE, INSERT ... ON
// CONFLICT, unnest of arrays, no stored procedures, no LISTEN/NOTIFY;
// advisory locks only around migrations, and optional (NoAdvisoryLock).
//
// # Usage
//
//	db, err := postgres.Open(ctx, "postgres://app@db:5432/civic?sslmode=disable",
//		&postgres.Options{Schema: "jintan"})
//	if err != nil { ... }
//	defer db.Close()
//	ledgerSvc, err := ledger.New(db.Ledger(), nil)
//	orgSvc, err := org.New(db.Org(), nil)
//
// New takes a pool of your own (a *pgxpool.Pool fits Pool) instead of a DSN.
// Open and New create and migrate the tables of Options.Stores (all by
// default) under a transaction-level advisory lock, so servers starting
// together migrate once; a schema migrated by newer code is refused with
// ErrSchemaTooNew.
//
// Tests read the server from CIVICLOOP_TEST_POSTGRES, e.g.
//
//	CIVICLOOP_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable go test ./adapters/postgres/
//
// and skip, saying so, without it.
package postgres
