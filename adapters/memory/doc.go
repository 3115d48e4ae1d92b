// Package memory keeps civicloop's data in the process's memory: one store
// per domain package, for tests, examples, benchmarks and programs that do
// not need their data to outlive the process. Nothing is written to disk;
// a store starts empty and is gone when it is no longer referenced.
//
// The stores, each implementing its domain's Store interface and passing
// that domain's conformance suite (ledgertest, orgtest, pointstest,
// dispatchtest):
//
//   - LedgerStore (NewLedgerStore) implements ledger.Store: accounts,
//     transfers and holds, per-account entries with their hash chains. Each
//     Apply runs the ledger's own rules (ledger.Apply) under the store's
//     write lock, so a batch is atomic. Accounts, transfers and entries sit
//     in fixed-size chunks of compact records found by index, so a million
//     accounts and tens of millions of entries stay small.
//   - OrgStore (NewOrgStore) implements org.Store: the node tree, teams,
//     volunteers and pairings, with subtree roll-ups kept up to date on
//     every write.
//   - PointsStore (NewPointsStore) implements points.Store: service
//     records, awards, wallets, redemptions and certificates.
//   - DispatchStore (NewDispatchStore) implements dispatch.Store: the menu,
//     orders, their history and the change feed.
//
// Every store is safe for concurrent use: one lock per store serialises its
// writes, and every write is atomic and isolated. Who owns the arguments and
// the returned values is as each domain's Store interface says. The stores
// are independent: each domain service is given its own.
//
// # Usage
//
// Build each service on its store; the constructors take no options.
//
//	led, err := ledger.New(memory.NewLedgerStore(), nil)
//	if err != nil { ... }
//	dir, err := org.New(memory.NewOrgStore(), nil)
//	if err != nil { ... }
//	pts, err := points.New(memory.NewPointsStore(), led, dir, nil)
//	if err != nil { ... }
//
// A conformance test runs a domain's suite against a fresh store:
//
//	func TestLedgerConformance(t *testing.T) {
//		ledgertest.Run(t, func(t *testing.T) ledger.Store { return memory.NewLedgerStore() })
//	}
//
// For data that must survive a restart, use adapters/sqlite (one file, the
// embedded default) or adapters/postgres instead; they implement the same
// interfaces.
package memory
