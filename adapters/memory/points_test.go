package memory_test

import (
	"testing"

	"github.com/civicloop/civicloop/adapters/memory"
	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/points"
	"github.com/civicloop/civicloop/points/pointstest"
)

func TestPointsConformance(t *testing.T) {
	pointstest.Run(t,
		func(*testing.T) points.Store { return memory.NewPointsStore() },
		func(*testing.T) ledger.Store { return memory.NewLedgerStore() })
}

// plainPointsStore hides the memory store's optional capabilities
// (points.UsageUnitsStore), so that the Service's fallback paths, the ones
// the SQL adapters take, run against the suite too.
type plainPointsStore struct{ points.Store }

func TestPointsConformanceWithoutCapabilities(t *testing.T) {
	pointstest.Run(t,
		func(*testing.T) points.Store { return plainPointsStore{memory.NewPointsStore()} },
		func(*testing.T) ledger.Store { return memory.NewLedgerStore() })
}
