package pointstest

import (
	"testing"

	"github.com/civicloop/civicloop/points"
	"github.com/stretchr/testify/require"
)

// limitCases check the Store's paged lists against their contract: at
// most limit rows, so none for a limit of 0.
func limitCases() []Case {
	return []Case{
		{Name: "StoreListsReturnNothingForAZeroLimit", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 120)) // 20 points, expiring after a year
			it := e.Item("5", 5, nil)
			e.LStore.Fail.Store(true)
			red, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.ErrorIs(t, err, points.ErrLedger, "the hold stays pending")
			e.LStore.Fail.Store(false)
			_, err = e.Svc.SettleRedemption(e.Ctx, Vol("V1"), red.ID, "mine")
			require.ErrorIs(t, err, points.ErrForbidden, "a refusal is recorded")
			late := Start.Add(2 * year)

			ops, err := e.Store.PendingOps(e.Ctx, 1)
			require.NoError(t, err)
			require.Len(t, ops, 1)
			rs, err := e.Store.Refusals(e.Ctx, 0, 1)
			require.NoError(t, err)
			require.Len(t, rs, 1)
			lots, err := e.Store.DueLots(e.Ctx, late, 1)
			require.NoError(t, err)
			require.Len(t, lots, 1)
			reds, err := e.Store.DueRedemptions(e.Ctx, late, 1)
			require.NoError(t, err)
			require.Len(t, reds, 1)

			ops, err = e.Store.PendingOps(e.Ctx, 0)
			require.NoError(t, err)
			require.Empty(t, ops, "pending ops")
			rs, err = e.Store.Refusals(e.Ctx, 0, 0)
			require.NoError(t, err)
			require.Empty(t, rs, "refusals")
			lots, err = e.Store.DueLots(e.Ctx, late, 0)
			require.NoError(t, err)
			require.Empty(t, lots, "due lots")
			reds, err = e.Store.DueRedemptions(e.Ctx, late, 0)
			require.NoError(t, err)
			require.Empty(t, reds, "due redemptions")
			if ds, ok := e.Store.(points.DueWalletsStore); ok {
				lots, ws, err := ds.DueLotsWallets(e.Ctx, late, 0)
				require.NoError(t, err)
				require.Empty(t, lots, "due lots with wallets")
				require.Empty(t, ws, "their wallets")
			}
		}},
	}
}
