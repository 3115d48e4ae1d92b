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
