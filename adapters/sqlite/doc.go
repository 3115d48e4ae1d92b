// Package sqlite keeps civicloop in one SQLite file: the embedded default
// store for a program that wants its data to survive a restart, with no
// server and no cgo (it uses the pure-Go driver modernc.org/sqlite).
//
// One DB implements every domain store: Ledger (ledger.Store), Org
// (org.Store), Points (points.Store) and Dispatch (dispatch.Store), each
// in its own file of this package and its own tables.
//
// # Durability and concurrency
//
//   - The file is in WAL mode. By default (SyncFull) every acknowledged
//     write has been synced to disk and survives a crash of the process or
//     of the machine; Options.Synchronous = SyncNormal trades the last
//     commits before a power loss for speed.
//   - In the default mode the writer syncs the log itself, after SQLite's
//     COMMIT has written it, and runs the next batch while the sync is
//     under way (pipelined group commit); a batch's callers get their
//     results once the sync is done. No read returns before every commit
//     it could have seen is synced, so nobody sees a write that a power
//     loss could take back. If a sync fails, the store refuses every
//     later write, and every read that could see a commit no sync covered,
//     until it is reopened (a failed sync leaves unknown what reached the
//     disk). DBs open on one file in one process share the syncing; a
//     commit by another process writing the file may be seen here up to
//     one sync before it is durable.
//   - One writer goroutine owns the only read-write connection. Concurrent
//     callers' writes are queued and run together in one transaction
//     (group commit); ledger writes of many callers even share one pass
//     over the tables. A refused or failed write never fails another
//     caller's: the batch then runs again with each write inside its own
//     SAVEPOINT, and the failed one is rolled back alone. Every caller gets
//     its own result once the shared commit is durable.
//   - Reads use a separate pool of read-only connections and run
//     concurrently with each other and with the writer.
//   - The writer keeps the ledger account states it committed in memory
//     rather than reading them back for each transfer. Another connection
//     or process may still write the same file: before a transaction uses
//     those states, the writer asks SQLite whether anyone else committed
//     since (PRAGMA data_version) and, if so, reads the accounts again.
//   - The schema is created and upgraded by numbered migrations embedded in
//     the binary (migrations/*.sql), each in one transaction, recorded in
//     the schema_version table. A file written by a newer version is
//     refused (ErrSchemaTooNew); so are a folder, an unwritable path
//     (ErrInvalidPath) and a file that is not a civicloop database
//     (ErrNotCivicloop), without writing anything.
//   - Driver errors become sentinel errors in one place (errors.go), by
//     SQLite result code.
//   - Amounts are INTEGER minor units in the ledger tables; no column is
//     floating point.
//
// # Usage
//
//	db, err := sqlite.Open(filepath.Join(dir, "civicloop.db"), nil)
//	if err != nil { ... }
//	defer db.Close()
//	led, err := ledger.New(db.Ledger(), nil)
//	if err != nil { ... }
//	_, err = led.OpenAccount(ctx, ledger.AccountSpec{ID: "issuer", Asset: points, NoFloor: true})
//	// org.New(db.Org(), ...), points.New(db.Points(), led, ...),
//	// dispatch.New(db.Dispatch(), ...) work the same way.
package sqlite
