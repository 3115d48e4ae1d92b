package sqlite

import (
	"sync"
	"testing"

	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/points"
	"github.com/civicloop/civicloop/points/pointstest"
)

// TestPointsConformance runs the points suite with the points store and
// the ledger it drives in one database file, as a program embedding both
// would. The suite asks for a points store and then a ledger store for
// each fresh environment; both come from the same new file.
func TestPointsConformance(t *testing.T) {
	var (
		mu     sync.Mutex
		latest = map[*testing.T]*DB{}
	)
	pointstest.Run(t,
		func(t *testing.T) points.Store {
			db := newTestDB(t)
			mu.Lock()
			defer mu.Unlock()
			latest[t] = db
			return db.Points()
		},
		func(t *testing.T) ledger.Store {
			mu.Lock()
			db, ok := latest[t]
			delete(latest, t)
			mu.Unlock()
			if !ok {
				db = newTestDB(t)
			}
			return db.Ledger()
		})
}
