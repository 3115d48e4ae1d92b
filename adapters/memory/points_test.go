package memory_test

import (
	"context"
	"testing"

	"github.com/civicloop/civicloop/adapters/memory"
	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/points"
	"github.com/civicloop/civicloop/points/pointstest"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
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

// TestPointsUsageKeys: counters of short periods (kept by their bytes) and
// of long ones (kept by string) add up and read back apart.
func TestPointsUsageKeys(t *testing.T) {
	ctx := context.Background()
	s := memory.NewPointsStore()
	long := "period-longer-than-twelve-bytes"
	periods := []string{"D:2026-03-02", "M:2026-03", "M:2026-03\x00", long, ""}
	for i := 0; i < 2; i++ {
		c := &points.Change{Wallets: []points.Wallet{{Volunteer: "V1", Version: int64(i + 1)}}}
		for j, p := range periods[:4] {
			c.Usage = append(c.Usage, points.UsageDelta{Volunteer: "V1", Period: p, Points: decimal.New(int64(j+1), 0)})
		}
		require.NoError(t, s.Commit(ctx, c))
	}
	got, err := s.Usage(ctx, "V1", periods)
	require.NoError(t, err)
	units := make([]int64, len(periods))
	require.NoError(t, s.UsageUnits(ctx, "V1", periods, units))
	for j, want := range []int64{2, 4, 6, 8, 0} {
		require.Truef(t, got[j].Equal(decimal.New(want, 0)), "%q: got %s, want %d", periods[j], got[j], want)
		require.Equal(t, want*100, units[j], periods[j])
	}
	other, err := s.Usage(ctx, "V2", periods[:1])
	require.NoError(t, err)
	require.True(t, other[0].IsZero())
}
