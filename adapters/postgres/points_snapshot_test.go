package postgres

import (
	"testing"

	"github.com/civicloop/civicloop/points/pointstest"
)

// TestPointsDueLotsWalletsOneSnapshot: DueLotsWallets reads the due lots
// and the wallets in one snapshot (see pointstest.DueLotsWalletsOneSnapshot).
func TestPointsDueLotsWalletsOneSnapshot(t *testing.T) {
	s := newTestDB(t, nil).Points()
	pointstest.DueLotsWalletsOneSnapshot(t, s, func(hook func()) { s.afterDueLots = hook })
}
