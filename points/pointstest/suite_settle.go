package pointstest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
	"github.com/stretchr/testify/require"
)

// stuck makes the state SettleRedemption is for. V1 earns 20 points; the
// ledger goes down; he redeems an item of 5 and closeIt closes the
// redemption (or leaves it held) while the ledger is still down; the
// ledger comes back after the hold's deadline and its 30 days of grace,
// and Sync has it refuse the hold, for good.
func stuck(t *testing.T, e *Env, closeIt func(red points.Redemption) points.Redemption) points.Redemption {
	t.Helper()
	e.Confirmed(Input("V1", 0, 120)) // 20 points
	it := e.Item("5", 5, nil)
	e.LStore.Fail.Store(true)
	red, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
	require.ErrorIs(t, err, points.ErrLedger)
	red = closeIt(red)
	e.LStore.Fail.Store(false)
	e.Clock.Set(red.Deadline.Add(31 * 24 * time.Hour))
	_, err = e.Svc.Sync(e.Ctx)
	require.ErrorIs(t, err, ledger.ErrInvalid, "the ledger refuses the late hold")
	require.ErrorContains(t, err, "hold:"+red.ID)
	tr, err := e.Ledger.TransferByID(e.Ctx, ledger.TransferID("hold:"+red.ID))
	require.NoError(t, err)
	require.Equal(t, ledger.StatusRefused, tr.Status)
	return red
}

// fulfilWhileDown fulfils a redemption while the ledger is down.
func fulfilWhileDown(t *testing.T, e *Env) func(points.Redemption) points.Redemption {
	return func(red points.Redemption) points.Redemption {
		t.Helper()
		_, err := e.Svc.Fulfil(e.Ctx, Admin("S1"), red.ID, red.PickupCode)
		require.ErrorIs(t, err, points.ErrLedger, "stored; the hold and post stay pending")
		red, err = e.Svc.Redemption(e.Ctx, red.ID)
		require.NoError(t, err)
		require.Equal(t, points.RedemptionFulfilled, red.Status)
		return red
	}
}

// cancelWhileDown cancels a redemption while the ledger is down.
func cancelWhileDown(t *testing.T, e *Env) func(points.Redemption) points.Redemption {
	return func(red points.Redemption) points.Redemption {
		t.Helper()
		_, err := e.Svc.Cancel(e.Ctx, Vol("V1"), red.ID, "changed my mind")
		require.ErrorIs(t, err, points.ErrLedger)
		red, err = e.Svc.Redemption(e.Ctx, red.ID)
		require.NoError(t, err)
		require.Equal(t, points.RedemptionCancelled, red.Status)
		return red
	}
}

// expireWhileDown lets a redemption expire while the ledger is down.
func expireWhileDown(t *testing.T, e *Env) func(points.Redemption) points.Redemption {
	return func(red points.Redemption) points.Redemption {
		t.Helper()
		e.Clock.Set(red.Deadline)
		_, err := e.Svc.ExpireRedemptions(e.Ctx, red.Deadline)
		require.ErrorIs(t, err, points.ErrLedger)
		red, err = e.Svc.Redemption(e.Ctx, red.ID)
		require.NoError(t, err)
		require.Equal(t, points.RedemptionExpired, red.Status)
		return red
	}
}

// keepHeld leaves a redemption held.
func keepHeld(red points.Redemption) points.Redemption { return red }

// settleState is what a settlement may change, to compare before and after.
type settleState struct {
	Pending       []string
	Balance       string
	Available     string
	StoreAvail    string
	Redeemed      string
	Redemption    points.Redemption
	SettleInBook  bool
	SettlePrinc   string
	RefusalsCount int
}

func stateOf(t *testing.T, e *Env, red string) settleState {
	t.Helper()
	var st settleState
	ops, err := e.Store.PendingOps(e.Ctx, 1000)
	require.NoError(t, err)
	for _, op := range ops {
		st.Pending = append(st.Pending, op.ID)
	}
	bal, avail := e.Balance("V1", points.PointsAsset)
	st.Balance, st.Available = bal.String(), avail.String()
	w, lots, err := e.Svc.Wallet(e.Ctx, "V1")
	require.NoError(t, err)
	st.StoreAvail = points.Available(w, lots).String()
	st.Redeemed = "0"
	acct, err := e.Ledger.Account(e.Ctx, points.SchemeAccount(points.Redeemed, points.PointsAsset))
	if !errors.Is(err, ledger.ErrAccountNotFound) {
		require.NoError(t, err)
		st.Redeemed = acct.Balance.String()
	}
	st.Redemption, err = e.Svc.Redemption(e.Ctx, red)
	require.NoError(t, err)
	tr, err := e.Ledger.TransferByID(e.Ctx, ledger.TransferID("settle:"+red))
	if !errors.Is(err, ledger.ErrTransferNotFound) {
		require.NoError(t, err)
		st.SettleInBook, st.SettlePrinc = true, tr.Principal
	}
	rs, err := e.Svc.Refusals(e.Ctx, 0, 1000)
	require.NoError(t, err)
	st.RefusalsCount = len(rs)
	return st
}

// requireSettled checks that nothing is pending, Sync has nothing to do,
// the ledger agrees with the store on V1's points and its audit is clean.
func requireSettled(t *testing.T, e *Env, points_ string) {
	t.Helper()
	n, err := e.Svc.Sync(e.Ctx)
	require.NoError(t, err, "Sync reports nothing")
	require.Zero(t, n)
	ops, err := e.Store.PendingOps(e.Ctx, 10)
	require.NoError(t, err)
	require.Empty(t, ops, "nothing pending")
	bal, avail := e.Balance("V1", points.PointsAsset)
	RequireDec(t, points_, bal, "ledger points")
	RequireDec(t, points_, avail, "ledger points available (nothing held)")
	w, lots, err := e.Svc.Wallet(e.Ctx, "V1")
	require.NoError(t, err)
	RequireDec(t, points_, points.Available(w, lots), "store points")
	_, err = e.Ledger.Audit(e.Ctx)
	require.NoError(t, err, "the ledger's invariants hold")
}

// failingAcks is a points store whose AckOps fails, as if the process died
// before it acknowledged.
type failingAcks struct{ points.Store }

func (failingAcks) AckOps(context.Context, []string) error { return errCrash }

func settleCases() []Case {
	return []Case{
		{Name: "SettleFulfilledRedemptionTheLedgerRefused", Run: func(t *testing.T, e *Env) {
			later, err := e.Svc.RecordService(e.Ctx, Admin("S1"), Input("V1", 1, 60))
			require.NoError(t, err)
			red := stuck(t, e, fulfilWhileDown(t, e))
			_, err = e.Svc.Confirm(e.Ctx, Admin("S1"), later.ID)
			require.ErrorIs(t, err, points.ErrLedger, "the refused hold holds V1's later ops back")
			_, err = e.Svc.Sync(e.Ctx)
			require.ErrorIs(t, err, ledger.ErrInvalid)
			bal, _ := e.Balance("V1", points.PointsAsset)
			RequireDec(t, "20", bal, "the ledger never spent the 5 points, nor got the later 10")

			s, err := e.Svc.SettleRedemption(e.Ctx, Admin("S1"), red.ID, "hold reached the ledger after its grace")
			require.NoError(t, err)
			require.Equal(t, red, s.Redemption, "the redemption is not changed")
			require.Equal(t, ledger.TransferID("settle:"+red.ID), s.Transfer)
			RequireDec(t, "5", s.Points, "settled points")
			require.Equal(t, []string{"hold:" + red.ID, "post:" + red.ID}, s.Dropped)
			requireSettled(t, e, "25")
			tr, err := e.Ledger.TransferByID(e.Ctx, s.Transfer)
			require.NoError(t, err)
			require.Equal(t, ledger.StatusPosted, tr.Status)
			require.Equal(t, "admin-S1", tr.Principal, "the ledger records who settled")
			require.True(t, tr.EffectiveAt.Equal(red.ClosedAt), "effective when the points were spent")
			st := stateOf(t, e, red.ID)
			RequireDec(t, "5", Dec(st.Redeemed), "redeemed account")
			_, err = e.Ledger.TransferByID(e.Ctx, ledger.TransferID("post:"+red.ID))
			require.ErrorIs(t, err, ledger.ErrTransferNotFound, "the settled post never reaches the ledger")
		}},
		{Name: "SettleCancelledRedemptionMovesNothing", Run: func(t *testing.T, e *Env) {
			settleReleased(t, e, cancelWhileDown(t, e), "void:")
		}},
		{Name: "SettleExpiredRedemptionMovesNothing", Run: func(t *testing.T, e *Env) {
			settleReleased(t, e, expireWhileDown(t, e), "void:")
		}},
		{Name: "SettleRefusesOtherStates", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 120)) // 20 points
			it := e.Item("5", 5, nil)
			// Applied in full: the ledger posted the hold.
			done, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.NoError(t, err)
			done, err = e.Svc.Fulfil(e.Ctx, Admin("S1"), done.ID, done.PickupCode)
			require.NoError(t, err)
			before := stateOf(t, e, done.ID)
			_, err = e.Svc.SettleRedemption(e.Ctx, Admin("S1"), done.ID, "by mistake")
			require.ErrorIs(t, err, points.ErrState)
			require.ErrorContains(t, err, "field hold")
			require.ErrorContains(t, err, "not refused")
			require.Equal(t, before, stateOf(t, e, done.ID), "nothing changed")

			// Not in the ledger yet: Sync has not run since it came back.
			e.LStore.Fail.Store(true)
			late, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.ErrorIs(t, err, points.ErrLedger)
			_, err = e.Svc.Fulfil(e.Ctx, Admin("S1"), late.ID, late.PickupCode)
			require.ErrorIs(t, err, points.ErrLedger)
			e.LStore.Fail.Store(false)
			before = stateOf(t, e, late.ID)
			require.Equal(t, []string{"hold:" + late.ID, "post:" + late.ID}, before.Pending)
			_, err = e.Svc.SettleRedemption(e.Ctx, Admin("S1"), late.ID, "too early")
			require.ErrorIs(t, err, points.ErrState)
			require.ErrorContains(t, err, "Sync")
			require.Equal(t, before, stateOf(t, e, late.ID), "nothing changed")
			_, err = e.Svc.Sync(e.Ctx)
			require.NoError(t, err)
			e.RequireBalances("V1", "2", "10")
		}},
		{Name: "SettleRefusesAHeldRedemption", Run: func(t *testing.T, e *Env) {
			red := stuck(t, e, keepHeld)
			before := stateOf(t, e, red.ID)
			_, err := e.Svc.SettleRedemption(e.Ctx, Admin("S1"), red.ID, "stuck")
			require.ErrorIs(t, err, points.ErrState)
			require.ErrorContains(t, err, "field status")
			require.ErrorContains(t, err, "fulfil or cancel")
			require.Equal(t, before, stateOf(t, e, red.ID), "nothing changed")
			// As told: cancel (the ledger refuses the void too), then settle.
			_, err = e.Svc.Cancel(e.Ctx, Admin("S1"), red.ID, "never picked up")
			require.ErrorIs(t, err, points.ErrLedger)
			_, err = e.Svc.SettleRedemption(e.Ctx, Admin("S1"), red.ID, "stuck")
			require.NoError(t, err)
			requireSettled(t, e, "20")
		}},
		{Name: "SettleRefusesUnknownUnauthorisedOrUnexplained", Run: func(t *testing.T, e *Env) {
			red := stuck(t, e, fulfilWhileDown(t, e))
			before := stateOf(t, e, red.ID)
			_, err := e.Svc.SettleRedemption(e.Ctx, Admin("S1"), "nope", "stuck")
			require.ErrorIs(t, err, points.ErrNotFound)
			require.ErrorContains(t, err, "field id")
			_, err = e.Svc.SettleRedemption(e.Ctx, Admin("S1"), red.ID, "")
			require.ErrorIs(t, err, points.ErrInvalid)
			require.ErrorContains(t, err, "field reason")
			require.Equal(t, before, stateOf(t, e, red.ID), "nothing changed")
			for _, a := range []org.Actor{Admin("S2"), Vol("V1"), Vol("V2"), {ID: "V1", Role: org.RoleAdmin, Scope: "S1"}} {
				_, err = e.Svc.SettleRedemption(e.Ctx, a, red.ID, "stuck")
				require.ErrorIs(t, err, points.ErrForbidden, a.ID)
			}
			after := stateOf(t, e, red.ID)
			require.Equal(t, before.RefusalsCount+4, after.RefusalsCount, "the refusals are recorded")
			rs, err := e.Svc.Refusals(e.Ctx, 0, 1000)
			require.NoError(t, err)
			require.Equal(t, points.ActSettle, rs[len(rs)-1].Action)
			after.RefusalsCount = before.RefusalsCount
			require.Equal(t, before, after, "nothing else changed")
			// An admin above the owning node may settle.
			_, err = e.Svc.SettleRedemption(e.Ctx, Admin("I1"), red.ID, "stuck")
			require.NoError(t, err)
			requireSettled(t, e, "15")
		}},
		{Name: "SettleTwiceChangesNothing", Run: func(t *testing.T, e *Env) {
			red := stuck(t, e, fulfilWhileDown(t, e))
			first, err := e.Svc.SettleRedemption(e.Ctx, Admin("S1"), red.ID, "stuck")
			require.NoError(t, err)
			before := stateOf(t, e, red.ID)
			again, err := e.Svc.SettleRedemption(e.Ctx, System, red.ID, "again")
			require.NoError(t, err)
			require.Equal(t, first, again)
			require.Equal(t, before, stateOf(t, e, red.ID), "nothing changed")
			require.Equal(t, "admin-S1", before.SettlePrinc)
			requireSettled(t, e, "15")
		}},
		{Name: "SettleFinishesAfterTheLedgerFailed", Run: func(t *testing.T, e *Env) {
			red := stuck(t, e, fulfilWhileDown(t, e))
			e.LStore.Fail.Store(true)
			_, err := e.Svc.SettleRedemption(e.Ctx, Admin("S1"), red.ID, "stuck")
			require.ErrorIs(t, err, points.ErrLedger)
			e.LStore.Fail.Store(false)
			st := stateOf(t, e, red.ID)
			require.Equal(t, []string{"settle:" + red.ID}, st.Pending, "stored; the refused ops are dropped")
			require.False(t, st.SettleInBook)
			RequireDec(t, "20", Dec(st.Balance), "not moved yet")
			_, err = e.Svc.SettleRedemption(e.Ctx, System, red.ID, "again")
			require.NoError(t, err)
			requireSettled(t, e, "15")
			require.Equal(t, "admin-S1", stateOf(t, e, red.ID).SettlePrinc, "the stored op is applied")
		}},
		{Name: "SyncFinishesASettlementTheLedgerFailed", Run: func(t *testing.T, e *Env) {
			red := stuck(t, e, fulfilWhileDown(t, e))
			e.LStore.Fail.Store(true)
			_, err := e.Svc.SettleRedemption(e.Ctx, Admin("S1"), red.ID, "stuck")
			require.ErrorIs(t, err, points.ErrLedger)
			e.LStore.Fail.Store(false)
			n, err := e.Svc.Sync(e.Ctx)
			require.NoError(t, err)
			require.Equal(t, 1, n, "the settle op")
			requireSettled(t, e, "15")
			_, err = e.Svc.SettleRedemption(e.Ctx, Admin("S1"), red.ID, "again")
			require.NoError(t, err)
			requireSettled(t, e, "15")
		}},
		{Name: "SettleFinishesAfterACrashBeforeTheAcknowledgement", Run: func(t *testing.T, e *Env) {
			red := stuck(t, e, fulfilWhileDown(t, e))
			_, err := e.Over(failingAcks{e.Store}).SettleRedemption(e.Ctx, Admin("S1"), red.ID, "stuck")
			require.ErrorIs(t, err, points.ErrLedger)
			st := stateOf(t, e, red.ID)
			require.Equal(t, []string{"hold:" + red.ID, "post:" + red.ID, "settle:" + red.ID}, st.Pending)
			// Unfinished, the settlement stays visible: Sync reports the
			// refused hold and holds the settle op back behind it.
			n, err := e.Svc.Sync(e.Ctx)
			require.ErrorIs(t, err, ledger.ErrInvalid)
			require.Zero(t, n)
			require.Equal(t, st, stateOf(t, e, red.ID))
			_, err = e.Svc.SettleRedemption(e.Ctx, System, red.ID, "again")
			require.NoError(t, err)
			requireSettled(t, e, "15")
			require.Equal(t, "admin-S1", stateOf(t, e, red.ID).SettlePrinc, "the stored op is applied")
		}},
	}
}

// settleReleased settles a redemption closed by closeIt (cancelled or
// expired): nothing moves, and the hold and void leave the outbox.
func settleReleased(t *testing.T, e *Env, closeIt func(points.Redemption) points.Redemption, closing string) {
	red := stuck(t, e, closeIt)
	s, err := e.Svc.SettleRedemption(e.Ctx, System, red.ID, "hold reached the ledger after its grace")
	require.NoError(t, err)
	require.Equal(t, red, s.Redemption)
	require.Empty(t, s.Transfer, "nothing to move")
	RequireDec(t, "0", s.Points, "settled points")
	require.Equal(t, []string{"hold:" + red.ID, closing + red.ID}, s.Dropped)
	requireSettled(t, e, "20")
	st := stateOf(t, e, red.ID)
	require.False(t, st.SettleInBook)
	RequireDec(t, "0", Dec(st.Redeemed), "redeemed account: nothing was ever spent")
	again, err := e.Svc.SettleRedemption(e.Ctx, Admin("S1"), red.ID, "again")
	require.NoError(t, err)
	require.Equal(t, s, again)
	require.Equal(t, st, stateOf(t, e, red.ID), "settling twice changes nothing")
}
