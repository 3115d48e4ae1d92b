package postgres

import (
	"sync"

	"testing"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/dispatch/dispatchtest"
	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/ledger/ledgertest"
	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/org/orgtest"
	"github.com/civicloop/civicloop/points"
	"github.com/civicloop/civicloop/points/pointstest"
)

// Each subtest of each suite gets an empty schema of its own (see
// newTestDB); the suites run in parallel with each other.

func TestLedgerConformance(t *testing.T) {
	testDSN(t)
	t.Parallel()
	ledgertest.Run(t, func(t *testing.T) ledger.Store { return newTestDB(t, &Options{Stores: []string{StoreLedger}}).Ledger() })
}

func TestOrgConformance(t *testing.T) {
	testDSN(t)
	t.Parallel()
	orgtest.Run(t, func(t *testing.T) org.Store { return newTestDB(t, &Options{Stores: []string{StoreOrg}}).Org() })
}

func TestDispatchConformance(t *testing.T) {
	testDSN(t)
	t.Parallel()
	dispatchtest.Run(t, func(t *testing.T) dispatch.Store {
		return newTestDB(t, &Options{Stores: []string{StoreDispatch}}).Dispatch()
	})
}

// raceSequences is how many random sequences the points Property runs
// under the race detector.
const raceSequences = 20

func TestPointsConformance(t *testing.T) {
	testDSN(t)
	t.Parallel()
	// The suite asks for a points store, then a ledger store, for each
	// environment; the pair shares one DB (one schema), as in a deployment.
	var mu sync.Mutex
	var pending *DB
	newStore := func(t *testing.T) points.Store {
		db := newTestDB(t, &Options{Stores: []string{StorePoints, StoreLedger}})
		mu.Lock()
		pending = db
		mu.Unlock()
		return db.Points()
	}
	newLedger := func(t *testing.T) ledger.Store {
		mu.Lock()
		db := pending
		pending = nil
		mu.Unlock()
		if db == nil {
			db = newTestDB(t, &Options{Stores: []string{StoreLedger}})
		}
		return db.Ledger()
	}
	if !raceEnabled {
		pointstest.Run(t, newStore, newLedger)
		return
	}
	// Under the race detector one Property sequence takes about 2.3 s here
	// (fresh schemas each time), so the full pointstest.MinSequences (200)
	// would pass go test's default 10-minute timeout. The cases run as
	// usual and Property runs raceSequences sequences; a run without -race
	// runs the whole suite, Property's 200 included.
	for _, c := range pointstest.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			c.Run(t, pointstest.NewEnv(t, newStore(t), newLedger(t), c.Edit))
		})
	}
	t.Run("Property", func(t *testing.T) { pointstest.PropertyN(t, raceSequences, newStore, newLedger) })
}
