package pointstest

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
)

// DueLotsWalletsOneSnapshot checks a store's points.DueWalletsStore
// capability: a change stored between DueLotsWallets' read of the lots and
// its read of the wallets is seen by neither (the wallets come from the snapshot of the lots), so that a
// sweep built on them conflicts instead of expiring points the change
// spent. The wallets come once per volunteer, in the order of the first
// lots, a zero one for a volunteer never written. s must be empty;
// between installs a hook the store runs between its two reads (nil
// removes it): an adapter's test reaches its own unexported hook so.
func DueLotsWalletsOneSnapshot(t *testing.T, s interface {
	points.Store
	points.DueWalletsStore
}, between func(hook func())) {
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	lot := func(id string, v string, remaining int64, expires time.Time) points.Lot {
		return points.Lot{ID: id, Volunteer: org.VolunteerID(v), Amount: decimal.New(20, 0), Remaining: decimal.New(remaining, 0),
			EarnedAt: at, ExpiresAt: expires}
	}
	l1 := lot("L1", "V1", 20, at.AddDate(1, 0, 1))
	require.NoError(t, s.Commit(ctx, &points.Change{Wallets: []points.Wallet{{Volunteer: "V1", Version: 1}},
		Lots: []points.Lot{l1, lot("L2", "V2", 5, at.AddDate(1, 0, 0)), lot("L3", "V1", 5, at.AddDate(1, 0, 2))}}))
	spent := l1
	spent.Remaining = decimal.New(10, 0)
	fired := false
	between(func() {
		fired = true
		require.NoError(t, s.Commit(ctx, &points.Change{Wallets: []points.Wallet{{Volunteer: "V1", Version: 2}}, Lots: []points.Lot{spent}}))
	})
	lots, ws, err := s.DueLotsWallets(ctx, at.AddDate(2, 0, 0), 10)
	require.NoError(t, err)
	require.True(t, fired, "the change ran between the reads")
	var ids []string
	for _, l := range lots {
		ids = append(ids, l.ID)
	}
	require.Equal(t, []string{"L2", "L1", "L3"}, ids)
	require.True(t, lots[1].Remaining.Equal(decimal.New(20, 0)), "L1 remaining %s", lots[1].Remaining)
	require.Len(t, ws, 2)
	require.Equal(t, org.VolunteerID("V2"), ws[0].Volunteer)
	require.Zero(t, ws[0].Version, "V2 has no wallet")
	require.Equal(t, org.VolunteerID("V1"), ws[1].Volunteer)
	require.Equal(t, int64(1), ws[1].Version, "V1's wallet as of the lots' snapshot")

	// Stored since: both read anew.
	between(nil)
	lots, ws, err = s.DueLotsWallets(ctx, at.AddDate(2, 0, 0), 2)
	require.NoError(t, err)
	require.Len(t, lots, 2)
	require.True(t, lots[1].Remaining.Equal(decimal.New(10, 0)), "L1 remaining %s", lots[1].Remaining)
	require.Len(t, ws, 2)
	require.Equal(t, int64(2), ws[1].Version)
}
