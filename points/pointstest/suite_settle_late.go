package pointstest

import (
	"testing"
	"time"

	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/points"
	"github.com/stretchr/testify/require"
)

// placedThenLate places V1's hold of 5 points (of 20) on time, closes the
// redemption with closeIt while the ledger is down, and brings the ledger
// back after the hold's deadline and its 30 days of grace; with expire,
// the ledger's own sweep expires the hold first.
func placedThenLate(t *testing.T, e *Env, closeIt func(points.Redemption) points.Redemption, expire bool) points.Redemption {
	t.Helper()
	e.Confirmed(Input("V1", 0, 120)) // 20 points
	it := e.Item("5", 5, nil)
	red, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
	require.NoError(t, err, "the hold is placed")
	e.LStore.Fail.Store(true)
	red = closeIt(red)
	e.LStore.Fail.Store(false)
	e.Clock.Set(red.Deadline.Add(31 * 24 * time.Hour))
	if expire {
		n, err := e.Ledger.ExpireHolds(e.Ctx, e.Clock.Now())
		require.NoError(t, err)
		require.Equal(t, 1, n)
	}
	return red
}

// settleLateCases are the cases of a redemption whose hold the ledger
// placed on time and whose post or void reached it too late.
func settleLateCases() []Case {
	return []Case{
		{Name: "SettleLatePostOfAHoldStillPending", Run: func(t *testing.T, e *Env) {
			// No sweep ran: the ledger still holds the points, past the
			// hold's due time, and refuses the post as expired.
			red := placedThenLate(t, e, fulfilWhileDown(t, e), false)
			_, err := e.Svc.Sync(e.Ctx)
			require.ErrorIs(t, err, ledger.ErrHoldExpired)
			hold, err := e.Ledger.TransferByID(e.Ctx, ledger.TransferID("hold:"+red.ID))
			require.NoError(t, err)
			require.Equal(t, ledger.StatusPending, hold.Status)

			// Crash before the acknowledgement: the void and settle ops
			// are stored, nothing is applied, Sync still reports the post.
			_, err = e.Over(failingAcks{e.Store}).SettleRedemption(e.Ctx, Admin("S1"), red.ID, "post after the grace")
			require.ErrorIs(t, err, points.ErrLedger)
			st := stateOf(t, e, red.ID)
			require.Equal(t, []string{"post:" + red.ID, "void:" + red.ID, "settle:" + red.ID}, st.Pending)
			require.False(t, st.SettleInBook)
			bal, avail := e.Balance("V1", points.PointsAsset)
			RequireDec(t, "20", bal, "nothing moved")
			RequireDec(t, "15", avail, "the ledger still holds 5")
			_, err = e.Svc.Sync(e.Ctx)
			require.ErrorIs(t, err, ledger.ErrHoldExpired)
			require.Equal(t, st, stateOf(t, e, red.ID))

			s, err := e.Svc.SettleRedemption(e.Ctx, System, red.ID, "again")
			require.NoError(t, err)
			require.Equal(t, red, s.Redemption)
			require.Equal(t, ledger.TransferID("settle:"+red.ID), s.Transfer)
			RequireDec(t, "5", s.Points, "settled points")
			require.Equal(t, []string{"post:" + red.ID}, s.Dropped, "the hold was applied, not refused")
			requireSettled(t, e, "15")
			hold, err = e.Ledger.TransferByID(e.Ctx, ledger.TransferID("hold:"+red.ID))
			require.NoError(t, err)
			require.Equal(t, ledger.StatusVoided, hold.Status)
			require.Equal(t, ledger.TransferID("void:"+red.ID), hold.ResolvedBy)
			st = stateOf(t, e, red.ID)
			RequireDec(t, "5", Dec(st.Redeemed), "redeemed account")
			require.Equal(t, "admin-S1", st.SettlePrinc, "the op stored first is applied")

			again, err := e.Svc.SettleRedemption(e.Ctx, Admin("S1"), red.ID, "again")
			require.NoError(t, err)
			require.Equal(t, s, again)
			require.Equal(t, st, stateOf(t, e, red.ID), "settling twice changes nothing")
		}},
		{Name: "SettleLatePostOfAnExpiredHoldTwice", Run: func(t *testing.T, e *Env) {
			red := placedThenLate(t, e, fulfilWhileDown(t, e), true)
			_, err := e.Svc.Sync(e.Ctx)
			require.ErrorIs(t, err, ledger.ErrNotPending)
			s, err := e.Svc.SettleRedemption(e.Ctx, Admin("S1"), red.ID, "post after the grace")
			require.NoError(t, err)
			require.Equal(t, []string{"post:" + red.ID}, s.Dropped)
			requireSettled(t, e, "15")
			_, err = e.Ledger.TransferByID(e.Ctx, ledger.TransferID("void:"+red.ID))
			require.ErrorIs(t, err, ledger.ErrTransferNotFound, "an expired hold needs no void")
			st := stateOf(t, e, red.ID)
			again, err := e.Svc.SettleRedemption(e.Ctx, System, red.ID, "again")
			require.NoError(t, err)
			require.Equal(t, s, again)
			require.Equal(t, st, stateOf(t, e, red.ID), "settling twice changes nothing")
		}},
		{Name: "SettleRefusesAPostTheLedgerHasNotSeen", Run: func(t *testing.T, e *Env) {
			red := placedThenLate(t, e, fulfilWhileDown(t, e), true)
			before := stateOf(t, e, red.ID)
			require.Equal(t, []string{"post:" + red.ID}, before.Pending)
			_, err := e.Svc.SettleRedemption(e.Ctx, Admin("S1"), red.ID, "too early")
			require.ErrorIs(t, err, points.ErrState)
			require.ErrorContains(t, err, "field post")
			require.ErrorContains(t, err, "Sync")
			require.Equal(t, before, stateOf(t, e, red.ID), "nothing changed")
		}},
		{Name: "SettleRefusesAHoldVoidedOutsidePoints", Run: func(t *testing.T, e *Env) {
			// Someone voided the hold in the ledger directly: the post is
			// refused as not pending, but not for lateness.
			red := placedThenLate(t, e, fulfilWhileDown(t, e), false)
			_, err := e.Ledger.Void(e.Ctx, ledger.VoidRequest{ID: "by-hand", Hold: ledger.TransferID("hold:" + red.ID)})
			require.NoError(t, err)
			_, err = e.Svc.Sync(e.Ctx)
			require.ErrorIs(t, err, ledger.ErrNotPending)
			before := stateOf(t, e, red.ID)
			_, err = e.Svc.SettleRedemption(e.Ctx, Admin("S1"), red.ID, "stuck")
			require.ErrorIs(t, err, points.ErrState)
			require.ErrorContains(t, err, "field hold")
			require.Equal(t, before, stateOf(t, e, red.ID), "nothing changed")
		}},
		{Name: "SettleCancelledRedemptionWhoseHoldTheLedgerExpired", Run: func(t *testing.T, e *Env) {
			red := placedThenLate(t, e, cancelWhileDown(t, e), true)
			before := stateOf(t, e, red.ID)
			_, err := e.Svc.SettleRedemption(e.Ctx, Admin("S1"), red.ID, "too early")
			require.ErrorIs(t, err, points.ErrState, "the void has not reached the ledger")
			require.ErrorContains(t, err, "field void")
			require.Equal(t, before, stateOf(t, e, red.ID), "nothing changed")
			// The ledger refuses the void of the expired hold; points
			// counts it done.
			_, err = e.Svc.Sync(e.Ctx)
			require.NoError(t, err)
			tr, err := e.Ledger.TransferByID(e.Ctx, ledger.TransferID("void:"+red.ID))
			require.NoError(t, err)
			require.Equal(t, ledger.StatusRefused, tr.Status)
			s, err := e.Svc.SettleRedemption(e.Ctx, Admin("S1"), red.ID, "void after the grace")
			require.NoError(t, err)
			require.Empty(t, s.Transfer)
			RequireDec(t, "0", s.Points, "settled points")
			require.Equal(t, []string{"void:" + red.ID}, s.Dropped)
			requireSettled(t, e, "20")
			st := stateOf(t, e, red.ID)
			require.False(t, st.SettleInBook)
			RequireDec(t, "0", Dec(st.Redeemed), "redeemed account")
			again, err := e.Svc.SettleRedemption(e.Ctx, System, red.ID, "again")
			require.NoError(t, err)
			require.Equal(t, s, again)
			require.Equal(t, st, stateOf(t, e, red.ID))
		}},
	}
}
