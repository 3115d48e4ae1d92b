package pointstest

import (
	"fmt"
	"testing"
	"time"

	"github.com/civicloop/civicloop/points"
	"github.com/stretchr/testify/require"
)

// raceCases put a write between the reads of another operation (see
// Interleave), as a second process would: the operation must see the
// write, or conflict and run again, never act on what it read before.
func raceCases() []Case {
	var cs []Case
	// The redemption lands after the sweep's first read of the due lots
	// (before it reads the wallets), then after its second; and, with a
	// store that reads due lots and wallets in one snapshot, after that.
	for _, at := range []int{1, 2} {
		cs = append(cs, Case{Name: fmt.Sprintf("ExpiryRacingRedemptionAtRead%d", at), Run: func(t *testing.T, e *Env) {
			expiryRace(t, e, func(w *Interleave) points.Store { return w }, at)
		}})
	}
	cs = append(cs, Case{Name: "ExpiryRacingRedemptionAfterSnapshot", Run: func(t *testing.T, e *Env) {
		if _, ok := e.Store.(points.DueWalletsStore); !ok {
			t.Skip("the store has no DueWalletsStore capability")
		}
		expiryRace(t, e, func(w *Interleave) points.Store { return InterleaveSnapshot{w} }, 1)
	}})
	cs = append(cs,
		Case{Name: "OverlappingRecordsRacingOneIsRefused", Run: func(t *testing.T, e *Env) {
			w := &Interleave{Store: e.Store, Read: "Records", At: 1, Hook: func() {
				_, err := e.Svc.RecordService(e.Ctx, Admin("S1"), Input("V1", 0, 120)) // 10:00–12:00
				require.NoError(t, err)
			}}
			in := Input("V1", 0, 60)
			shift := 30 * time.Minute // 10:30–11:30
			in.Activity.Start, in.Activity.End = in.Activity.Start.Add(shift), in.Activity.End.Add(shift)
			in.SignIn, in.SignOut = in.SignIn.Add(shift), in.SignOut.Add(shift)
			_, err := e.Over(w).RecordService(e.Ctx, Admin("S1"), in)
			require.ErrorIs(t, err, points.ErrOverlap)
			require.True(t, w.Fired, "the other record was stored during the check")
			recs, err := e.Store.Records(e.Ctx, "V1", Day(-1), Day(2))
			require.NoError(t, err)
			require.Len(t, recs, 1, "only the first record is stored")
		}},
		Case{Name: "RedemptionRacingLimitCutIsRefused", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 300)) // 50 points
			it := e.Item("5", 10, func(it *points.Item) { it.Limit, it.LimitPeriod = 3, points.PeriodMonth })
			// Right after this redemption's first read of the item, the
			// limit is cut to 1 and another redemption takes that one.
			w := &Interleave{Store: e.Store, Read: "Item", At: 1, Hook: func() {
				cut := it
				cut.Limit = 1
				_, err := e.Svc.PutItem(e.Ctx, Admin("S1"), cut)
				require.NoError(t, err)
				_, err = e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
				require.NoError(t, err)
			}}
			_, err := e.Over(w).Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.ErrorIs(t, err, points.ErrLimit)
			require.True(t, w.Fired, "the cut and the other redemption ran in between")
			reds, err := e.Store.Redemptions(e.Ctx, "V1", it.ID, Day(-30))
			require.NoError(t, err)
			require.Len(t, reds, 1, "one redemption under a limit of one")
			requireStock(t, e, it.ID, 9)
		}},
		Case{Name: "ObjectionsRacingOnlyOneIsOpen", Run: func(t *testing.T, e *Env) {
			rec := e.Confirmed(Input("V1", 0, 60))
			w := &Interleave{Store: e.Store, Read: "Objections", At: 1, Hook: func() {
				_, err := e.Svc.Object(e.Ctx, Vol("V1"), rec.ID, "the hours are short")
				require.NoError(t, err)
			}}
			_, err := e.Over(w).Object(e.Ctx, Vol("V1"), rec.ID, "the hours are short, again")
			require.ErrorIs(t, err, points.ErrState)
			require.True(t, w.Fired, "the other objection was raised during the check")
			objs, err := e.Store.Objections(e.Ctx, rec.ID)
			require.NoError(t, err)
			require.Len(t, objs, 1, "one open objection")
		}},
	)
	return cs
}

// expiryRace runs an expiry sweep over wrap(w), where w redeems 10 of the
// volunteer's 20 points right after the at-th read of the due lots: the
// sweep must expire only the 10 left, and the 10 held must expire once,
// when the redemption is cancelled.
func expiryRace(t *testing.T, e *Env, wrap func(*Interleave) points.Store, at int) {
	rec := e.Confirmed(Input("V1", 0, 120)) // 2 hours, 20 points
	it := e.Item("10", 5, func(it *points.Item) { it.PickupWindow = 2 * year })
	e.Clock.Set(Start.Add(year - time.Hour))
	var red points.Redemption
	w := &Interleave{Store: e.Store, Read: "DueLots", At: at, Hook: func() {
		var err error
		red, err = e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
		require.NoError(t, err)
	}}
	rep, err := e.Over(wrap(w)).ExpireLots(e.Ctx, Start.Add(year))
	require.NoError(t, err)
	require.True(t, w.Fired, "the redemption ran in the sweep")
	RequireDec(t, "10", rep.Points, "only what the redemption left expires")
	lot, err := e.Store.Lot(e.Ctx, rec.Award)
	require.NoError(t, err)
	RequireDec(t, "0", lot.Remaining, "remaining")
	RequireDec(t, "10", lot.Expired, "expired")
	n, err := e.Svc.Sync(e.Ctx)
	require.NoError(t, err, "no ledger op is stuck")
	require.Zero(t, n, "nothing was left pending")
	e.RequireBalances("V1", "2", "10")
	_, avail := e.Balance("V1", points.PointsAsset)
	RequireDec(t, "0", avail, "the other 10 are held")

	// The held points come back to the expired lot and expire in the next
	// sweep: in all, the lot expires its 20 points once.
	_, err = e.Svc.Cancel(e.Ctx, Vol("V1"), red.ID, "changed my mind")
	require.NoError(t, err)
	rep, err = e.Svc.ExpireLots(e.Ctx, Start.Add(year))
	require.NoError(t, err)
	RequireDec(t, "10", rep.Points, "the released points")
	lot, err = e.Store.Lot(e.Ctx, rec.Award)
	require.NoError(t, err)
	RequireDec(t, "20", lot.Amount, "amount")
	RequireDec(t, "20", lot.Expired, "expired in all")
	RequireDec(t, "0", lot.Remaining, "remaining")
	e.RequireBalances("V1", "2", "0")
	n, err = e.Svc.Sync(e.Ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}
