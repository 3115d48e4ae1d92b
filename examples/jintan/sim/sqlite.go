package sim

import (
	"github.com/civicloop/civicloop/adapters/sqlite"
)

// openSQLite opens (or creates) the database file with the adapter's
// defaults (WAL, one writer that batches concurrent writes), durable
// commits unless sync is SyncNormal, and a read connection for each of
// readers concurrent readers.
//
// The read pool must not be smaller than the readers: the adapter prepares
// a statement it has not cached yet on a pool connection while the read
// transaction that needs it holds another, so as many readers as
// connections, all meeting a new query at once, would wait for each other
// for ever.
func openSQLite(path, sync string, readers int) (*stores, error) {
	opts := &sqlite.Options{Synchronous: sqlite.SyncFull, ReadConns: readers}
	if sync == SyncNormal {
		opts.Synchronous = sqlite.SyncNormal
	}
	db, err := sqlite.Open(path, opts)
	if err != nil {
		return nil, err
	}
	return &stores{
		ledger: db.Ledger(), org: db.Org(), points: db.Points(), dispatch: db.Dispatch(),
		path: db.Path(), close: db.Close,
	}, nil
}
