package pointstest

import (
	"testing"
	"time"

	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/points"
	"github.com/stretchr/testify/require"
)

// settleReviewCases are review cases for SettleRedemption's edge paths.
func settleReviewCases() []Case {
	return []Case{
		{Name: "SettleLatePostOfAHoldPlacedOnTime", Run: func(t *testing.T, e *Env) {
			// The hold reaches the ledger on time; the post does not (the
			// ledger is down when the item is handed over, and stays
			// down, or the post waits behind another refused op of V1,
			// past the hold's grace). The ledger refuses the post for
			// good and expires the hold; the store spent the 5 points.
			e.Confirmed(Input("V1", 0, 120)) // 20 points
			it := e.Item("5", 5, nil)
			red, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.NoError(t, err, "the hold is placed")
			e.LStore.Fail.Store(true)
			_, err = e.Svc.Fulfil(e.Ctx, Admin("S1"), red.ID, red.PickupCode)
			require.ErrorIs(t, err, points.ErrLedger)
			e.LStore.Fail.Store(false)
			e.Clock.Set(red.Deadline.Add(31 * 24 * time.Hour))
			_, err = e.Ledger.ExpireHolds(e.Ctx, e.Clock.Now())
			require.NoError(t, err)
			_, err = e.Svc.Sync(e.Ctx)
			require.Error(t, err, "the ledger refuses the late post, for good")
			tr, err := e.Ledger.TransferByID(e.Ctx, ledger.TransferID("post:"+red.ID))
			require.NoError(t, err)
			require.Equal(t, ledger.StatusRefused, tr.Status)

			_, err = e.Svc.SettleRedemption(e.Ctx, Admin("S1"), red.ID, "post reached the ledger after the hold's grace")
			require.NoError(t, err, "the operator has no other way to clear the refused post")
			requireSettled(t, e, "15")
		}},
		{Name: "SettleHoldRefusedForLackOfFunds", Run: func(t *testing.T, e *Env) {
			// The ledger and the store disagree: V1's ledger account has 2
			// of his 20 points; the hold of 5 is refused for lack of
			// funds, not lateness.
			e.Confirmed(Input("V1", 0, 120)) // 20 points
			sink := ledger.AccountID("review/sink")
			_, err := e.Ledger.OpenAccount(e.Ctx, ledger.AccountSpec{ID: sink, Asset: points.PointsAsset, NoFloor: true})
			require.NoError(t, err)
			_, err = e.Ledger.Transfer(e.Ctx, ledger.TransferRequest{ID: "review:drain",
				Postings: ledger.Move(points.PointsAsset, points.VolunteerAccount("V1", points.PointsAsset), sink, Dec("18"))})
			require.NoError(t, err)
			it := e.Item("5", 5, nil)
			red, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.ErrorIs(t, err, ledger.ErrInsufficientFunds)
			_, err = e.Svc.Fulfil(e.Ctx, Admin("S1"), red.ID, red.PickupCode)
			require.ErrorIs(t, err, points.ErrLedger)
			tr, err := e.Ledger.TransferByID(e.Ctx, ledger.TransferID("hold:"+red.ID))
			require.NoError(t, err)
			require.Equal(t, ledger.StatusRefused, tr.Status)

			before := stateOf(t, e, red.ID)
			_, err = e.Svc.SettleRedemption(e.Ctx, Admin("S1"), red.ID, "stuck")
			// Either refused with nothing changed, or settled for good;
			// never a settle op the ledger refuses for good, pending
			// forever, with the refused hold and post already dropped.
			if err != nil {
				_, err2 := e.Svc.SettleRedemption(e.Ctx, Admin("S1"), red.ID, "again")
				_, err3 := e.Svc.Sync(e.Ctx)
				t.Logf("first: %v\nagain: %v\nsync: %v\npending: %v", err, err2, err3, stateOf(t, e, red.ID).Pending)
				require.ErrorIs(t, err, points.ErrState)
				require.Equal(t, before, stateOf(t, e, red.ID), "nothing changed")
				return
			}
			requireSettled(t, e, "15")
		}},
	}
}
