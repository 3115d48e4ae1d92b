package sim

import (
	"github.com/civicloop/civicloop/adapters/sqlite"
)

// openSQLite opens (or creates) the database file with the adapter's
// defaults (WAL, one writer that batches concurrent writes), durable
// commits unless sync is SyncNormal.
func openSQLite(path, sync string) (*stores, error) {
	opts := &sqlite.Options{Synchronous: sqlite.SyncFull}
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
