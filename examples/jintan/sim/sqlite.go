package sim

import (
	"github.com/civicloop/civicloop/adapters/sqlite"
)

// openSQLite opens (or creates) the database file with the adapter's
// defaults: WAL, durable commits, one writer that batches.
func openSQLite(path string) (*stores, error) {
	db, err := sqlite.Open(path, nil)
	if err != nil {
		return nil, err
	}
	return &stores{
		ledger: db.Ledger(), org: db.Org(), points: db.Points(), dispatch: db.Dispatch(),
		path: db.Path(), close: db.Close,
	}, nil
}
