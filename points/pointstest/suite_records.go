package pointstest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
	"github.com/stretchr/testify/require"
)

// requireNoRecords checks that a refused command left no record.
func requireNoRecords(t *testing.T, e *Env, v org.VolunteerID) {
	t.Helper()
	recs, err := e.Svc.Records(e.Ctx, v, Day(-400), Day(400))
	require.NoError(t, err)
	require.Empty(t, recs)
	w, _, err := e.Svc.Wallet(e.Ctx, v)
	require.NoError(t, err)
	require.Zero(t, w.Version)
}

func recordCases() []Case {
	return []Case{
		{Name: "CategoryWithoutRateRefused", Edit: func(o *points.Options) { delete(o.Scheme.Rules[1].Rates, "*") }, Run: func(t *testing.T, e *Env) {
			in := Input("V1", 0, 60)
			in.Activity.Category = "sports"
			_, err := e.Svc.RecordService(e.Ctx, Admin("S1"), in)
			require.ErrorIs(t, err, points.ErrInvalid)
			require.ErrorContains(t, err, "field activity.category")
			recs, err := e.Store.Records(e.Ctx, "V1", Day(-1), Day(2))
			require.NoError(t, err)
			require.Empty(t, recs, "nothing stored")
			e.Confirmed(Input("V1", 0, 60)) // elderly has a rate
			e.RequireBalances("V1", "1", "10")
		}},
		{Name: "RecordDraftComputesHours", Run: func(t *testing.T, e *Env) {
			in := Input("V1", 0, 230) // 3 h 50 min
			in.Travel = 20 * time.Minute
			rec, err := e.Svc.RecordService(e.Ctx, Admin("S1"), in)
			require.NoError(t, err)
			require.Equal(t, points.RecordDraft, rec.Status)
			RequireDec(t, "3.5", rec.Hours, "3 h 30 min rounds down to 3.5 h")
			require.NotEmpty(t, rec.HoursNote)
			got, err := e.Svc.Record(e.Ctx, rec.ID)
			require.NoError(t, err)
			require.Equal(t, rec.ID, got.ID)
			e.RequireBalances("V1", "0", "0")
		}},
		{Name: "HoursRoundingTable", Run: func(t *testing.T, e *Env) {
			for i, tc := range []struct {
				minutes int
				travel  time.Duration
				want    string
			}{{60, 0, "1"}, {89, 0, "1"}, {90, 0, "1.5"}, {119, 0, "1.5"}, {150, 30 * time.Minute, "2"}, {600, 0, "8"}} {
				in := Input("V1", i, tc.minutes)
				in.Travel = tc.travel
				rec, err := e.Svc.RecordService(e.Ctx, Admin("S1"), in)
				require.NoError(t, err)
				RequireDec(t, tc.want, rec.Hours, "hours")
			}
		}},
		{Name: "EnteredHoursOverCapRefused", Run: func(t *testing.T, e *Env) {
			in := Input("V1", 0, 60)
			in.SignIn, in.SignOut, in.EnteredHours = time.Time{}, time.Time{}, Dec("9")
			_, err := e.Svc.RecordService(e.Ctx, Admin("S1"), in)
			require.ErrorIs(t, err, points.ErrInvalidHours)
			require.ErrorContains(t, err, "hours")
			requireNoRecords(t, e, "V1")
		}},
		{Name: "NonPositiveHoursRefused", Run: func(t *testing.T, e *Env) {
			for _, h := range []string{"0", "-1", "0.25"} {
				in := Input("V1", 0, 60)
				in.SignIn, in.SignOut, in.EnteredHours = time.Time{}, time.Time{}, Dec(h)
				_, err := e.Svc.RecordService(e.Ctx, Admin("S1"), in)
				require.ErrorIs(t, err, points.ErrInvalidHours, h)
			}
			in := Input("V1", 0, 20) // 20 minutes round down to 0
			_, err := e.Svc.RecordService(e.Ctx, Admin("S1"), in)
			require.ErrorIs(t, err, points.ErrInvalidHours)
			requireNoRecords(t, e, "V1")
		}},
		{Name: "SignOutBeforeSignInRefused", Run: func(t *testing.T, e *Env) {
			in := Input("V1", 0, 60)
			in.SignIn, in.SignOut = in.SignOut, in.SignIn
			_, err := e.Svc.RecordService(e.Ctx, Admin("S1"), in)
			require.ErrorIs(t, err, points.ErrInvalidTime)
			require.ErrorContains(t, err, "sign_out")
			requireNoRecords(t, e, "V1")
		}},
		{Name: "TravelLongerThanServiceRefused", Run: func(t *testing.T, e *Env) {
			in := Input("V1", 0, 60)
			in.Travel = 2 * time.Hour
			_, err := e.Svc.RecordService(e.Ctx, Admin("S1"), in)
			require.ErrorIs(t, err, points.ErrInvalidHours)
			require.ErrorContains(t, err, "travel")
			requireNoRecords(t, e, "V1")
		}},
		{Name: "MissingFieldsRefused", Run: func(t *testing.T, e *Env) {
			for field, edit := range map[string]func(*points.RecordInput){
				"activity.name":     func(in *points.RecordInput) { in.Activity.Name = "" },
				"activity.category": func(in *points.RecordInput) { in.Activity.Category = "" },
				"organiser":         func(in *points.RecordInput) { in.Organiser = "" },
				"volunteer":         func(in *points.RecordInput) { in.Volunteer = "" },
			} {
				in := Input("V1", 0, 60)
				edit(&in)
				_, err := e.Svc.RecordService(e.Ctx, Admin("S1"), in)
				require.ErrorIs(t, err, points.ErrInvalid, field)
				require.ErrorContains(t, err, field)
			}
			requireNoRecords(t, e, "V1")
		}},
		{Name: "UnknownVolunteerRefused", Run: func(t *testing.T, e *Env) {
			_, err := e.Svc.RecordService(e.Ctx, Admin("S1"), Input("NOBODY", 0, 60))
			require.ErrorIs(t, err, points.ErrUnknownVolunteer)
			require.ErrorContains(t, err, "volunteer")
			requireNoRecords(t, e, "NOBODY")
		}},
		{Name: "RetiredVolunteerRefused", Run: func(t *testing.T, e *Env) {
			_, err := e.Svc.RecordService(e.Ctx, Admin("S1"), Input("V0", 0, 60))
			require.ErrorIs(t, err, points.ErrVolunteerInactive)
			require.ErrorContains(t, err, "field volunteer")
			requireNoRecords(t, e, "V0")
		}},
		{Name: "VolunteerCannotRecordOrConfirmOwn", Run: func(t *testing.T, e *Env) {
			_, err := e.Svc.RecordService(e.Ctx, Vol("V1"), Input("V1", 0, 60))
			require.ErrorIs(t, err, points.ErrForbidden)
			rec, err := e.Svc.RecordService(e.Ctx, Admin("S1"), Input("V1", 0, 60))
			require.NoError(t, err)
			self := org.Actor{ID: "V1", Role: org.RoleAdmin, Scope: "S1"} // V1 also administers S1
			_, err = e.Svc.Confirm(e.Ctx, self, rec.ID)
			require.ErrorIs(t, err, points.ErrForbidden)
			_, err = e.Svc.Confirm(e.Ctx, Vol("V1"), rec.ID)
			require.ErrorIs(t, err, points.ErrForbidden)
			got, err := e.Svc.Record(e.Ctx, rec.ID)
			require.NoError(t, err)
			require.Equal(t, points.RecordDraft, got.Status)
			e.RequireBalances("V1", "0", "0")
		}},
		{Name: "OnlyOrganisingUnitRecordsAndConfirms", Run: func(t *testing.T, e *Env) {
			_, err := e.Svc.RecordService(e.Ctx, Admin("S2"), Input("V1", 0, 60))
			require.ErrorIs(t, err, points.ErrForbidden)
			rec, err := e.Svc.RecordService(e.Ctx, Admin("S1"), Input("V1", 0, 60))
			require.NoError(t, err)
			for _, n := range []org.NodeID{"S2", "I1", "C1"} {
				_, err = e.Svc.Confirm(e.Ctx, Admin(n), rec.ID)
				require.ErrorIs(t, err, points.ErrForbidden, n)
				require.ErrorContains(t, err, "organis")
			}
			e.RequireBalances("V1", "0", "0")
		}},
		{Name: "RefusalsAreRecorded", Run: func(t *testing.T, e *Env) {
			rec, err := e.Svc.RecordService(e.Ctx, Admin("S1"), Input("V1", 0, 60))
			require.NoError(t, err)
			_, err = e.Svc.Confirm(e.Ctx, Admin("S2"), rec.ID)
			require.ErrorIs(t, err, points.ErrForbidden)
			_, err = e.Svc.PutItem(e.Ctx, org.Actor{ID: "x", Role: org.RoleAdmin, Scope: "S2"}, points.Item{Owner: "S1", Name: "书", Price: Dec("1")})
			require.ErrorIs(t, err, points.ErrForbidden)
			require.ErrorIs(t, err, org.ErrForbidden, "a policy refusal keeps the policy's sentinel")
			rs, err := e.Svc.Refusals(e.Ctx, 0, 10)
			require.NoError(t, err)
			require.Len(t, rs, 2)
			require.Equal(t, points.ActConfirm, rs[0].Action)
			require.Equal(t, "admin-S2", rs[0].Actor.ID)
			require.Equal(t, org.NodeID("S1"), rs[0].Target.Node)
			require.Contains(t, rs[0].Reason, "did not organise")
			require.Less(t, rs[0].Seq, rs[1].Seq)
			rs, err = e.Svc.Refusals(e.Ctx, rs[0].Seq, 10)
			require.NoError(t, err)
			require.Len(t, rs, 1)
			require.Equal(t, points.ActItem, rs[0].Action)
		}},
		{Name: "ConfirmPostsHoursAndPointsInOneTransfer", Run: func(t *testing.T, e *Env) {
			rec := e.Confirmed(Input("V1", 0, 210)) // 3.5 h × 10
			require.Equal(t, points.RecordConfirmed, rec.Status)
			require.Equal(t, "admin-S1", rec.ConfirmedBy)
			e.RequireBalances("V1", "3.5", "35")
			tr, err := e.Ledger.TransferByID(e.Ctx, ledger.TransferID("rec:"+rec.ID))
			require.NoError(t, err)
			require.Len(t, tr.Postings, 4, "hours and points legs in one transfer")
			aw, err := e.Svc.Award(e.Ctx, rec.Award)
			require.NoError(t, err)
			require.Equal(t, "R2026", aw.RuleID)
			RequireDec(t, "35", aw.Points, "award")
		}},
		{Name: "ConfirmTwiceChangesNothing", Run: func(t *testing.T, e *Env) {
			rec := e.Confirmed(Input("V1", 0, 120))
			again, err := e.Svc.Confirm(e.Ctx, Admin("S1"), rec.ID)
			require.NoError(t, err)
			require.Equal(t, rec.Award, again.Award)
			require.Equal(t, rec.Version, again.Version)
			e.RequireBalances("V1", "2", "20")
			aws, err := e.Svc.Statement(e.Ctx, "V1", Day(-1), Day(10))
			require.NoError(t, err)
			require.Len(t, aws, 1)
		}},
		{Name: "ConfirmRetryHealsLedgerCrash", Run: func(t *testing.T, e *Env) {
			rec, err := e.Svc.RecordService(e.Ctx, Admin("S1"), Input("V1", 0, 120))
			require.NoError(t, err)
			e.LStore.Fail.Store(true)
			_, err = e.Svc.Confirm(e.Ctx, Admin("S1"), rec.ID)
			require.ErrorIs(t, err, points.ErrLedger)
			e.LStore.Fail.Store(false)
			e.RequireBalances("V1", "0", "0")
			ops, err := e.Store.PendingOps(e.Ctx, 10)
			require.NoError(t, err)
			require.Len(t, ops, 1)
			_, err = e.Svc.Confirm(e.Ctx, Admin("S1"), rec.ID)
			require.NoError(t, err)
			e.RequireBalances("V1", "2", "20")
			ops, err = e.Store.PendingOps(e.Ctx, 10)
			require.NoError(t, err)
			require.Empty(t, ops)
		}},
		{Name: "LaterOpsWaitForEarlierPendingOps", Run: func(t *testing.T, e *Env) {
			// The award of a confirmation stays pending (the ledger was
			// down); the redemption it pays for must not reach the ledger
			// before it, or the ledger refuses the hold for good.
			rec, err := e.Svc.RecordService(e.Ctx, Admin("S1"), Input("V1", 0, 120))
			require.NoError(t, err)
			e.LStore.Fail.Store(true)
			_, err = e.Svc.Confirm(e.Ctx, Admin("S1"), rec.ID)
			require.ErrorIs(t, err, points.ErrLedger)
			e.LStore.Fail.Store(false)
			it := e.Item("5", 5, nil)
			red, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.NoError(t, err, "the pending award goes first")
			n, err := e.Svc.Sync(e.Ctx)
			require.NoError(t, err)
			require.Zero(t, n, "nothing left pending")
			e.RequireBalances("V1", "2", "20")
			_, avail := e.Balance("V1", points.PointsAsset)
			RequireDec(t, "15", avail, "5 held")
			_, err = e.Svc.Fulfil(e.Ctx, Admin("S1"), red.ID, red.PickupCode)
			require.NoError(t, err)
			e.RequireBalances("V1", "2", "15")
		}},
		{Name: "SyncGoesOnPastARefusedOp", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 120)) // V1: 20 points
			r2, err := e.Svc.RecordService(e.Ctx, Admin("S1"), Input("V2", 0, 60))
			require.NoError(t, err)
			it := e.Item("5", 5, nil)
			e.LStore.Fail.Store(true)
			red, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.ErrorIs(t, err, points.ErrLedger)
			_, err = e.Svc.Confirm(e.Ctx, Admin("S1"), r2.ID)
			require.ErrorIs(t, err, points.ErrLedger)
			e.LStore.Fail.Store(false)
			// The ledger is back after the hold's deadline and its grace:
			// it refuses the hold, and keeps the refusal.
			e.Clock.Set(red.Deadline.Add(31 * 24 * time.Hour))
			n, err := e.Svc.Sync(e.Ctx)
			require.ErrorIs(t, err, ledger.ErrInvalid)
			require.ErrorContains(t, err, "hold:"+red.ID)
			require.Equal(t, 1, n, "V2's award is applied all the same")
			e.RequireBalances("V2", "1", "10")
			n, err = e.Svc.Sync(e.Ctx)
			require.ErrorIs(t, err, ledger.ErrInvalid, "the refusal stays; Sync reports it")
			require.Zero(t, n)
		}},
		{Name: "SyncAppliesPendingOpsOnce", Run: func(t *testing.T, e *Env) {
			e.LStore.Fail.Store(true)
			_, err := e.Svc.RecordGroup(e.Ctx, Admin("S1"), group(true, "V1", "V2"))
			require.ErrorIs(t, err, points.ErrLedger)
			e.LStore.Fail.Store(false)
			n, err := e.Svc.Sync(e.Ctx)
			require.NoError(t, err)
			require.Equal(t, 2, n)
			n, err = e.Svc.Sync(e.Ctx)
			require.NoError(t, err)
			require.Zero(t, n)
			e.RequireBalances("V1", "2", "20")
			e.RequireBalances("V2", "2", "20")
		}},
		{Name: "OverlappingRecordRefused", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 120))
			in := Input("V1", 0, 60)
			in.SignIn, in.SignOut = in.SignIn.Add(90*time.Minute), in.SignOut.Add(90*time.Minute)
			_, err := e.Svc.RecordService(e.Ctx, Admin("S1"), in)
			require.ErrorIs(t, err, points.ErrOverlap)
			in.SignIn, in.SignOut = in.SignIn.Add(30*time.Minute), in.SignOut.Add(30*time.Minute) // starts at the end
			_, err = e.Svc.RecordService(e.Ctx, Admin("S1"), in)
			require.NoError(t, err, "adjacent records do not overlap")
			_, err = e.Svc.RecordService(e.Ctx, Admin("S1"), Input("V2", 0, 120))
			require.NoError(t, err, "another volunteer at the same time")
		}},
		{Name: "EnteredHoursRecordNotRepeated", Run: func(t *testing.T, e *Env) {
			in := Input("V1", 0, 600)
			in.SignIn, in.SignOut, in.EnteredHours = time.Time{}, time.Time{}, Dec("2")
			_, err := e.Svc.RecordService(e.Ctx, Admin("S1"), in)
			require.NoError(t, err)
			_, err = e.Svc.RecordService(e.Ctx, Admin("S1"), in)
			require.ErrorIs(t, err, points.ErrOverlap, "the same activity twice")
			require.ErrorContains(t, err, "activity")
			other := in
			other.Activity.Name = "another order in the same span"
			_, err = e.Svc.RecordService(e.Ctx, Admin("S1"), other)
			require.NoError(t, err, "actual times unknown: no time overlap is assumed")
		}},
		{Name: "GroupRecordingAllOrNone", Run: func(t *testing.T, e *Env) {
			_, err := e.Svc.RecordGroup(e.Ctx, Admin("S1"), group(true, "V1", "V2", "V0"))
			require.ErrorIs(t, err, points.ErrVolunteerInactive)
			require.ErrorContains(t, err, "participants[2]")
			requireNoRecords(t, e, "V1")
			requireNoRecords(t, e, "V2")
			e.Confirmed(Input("V3", 0, 60))
			_, err = e.Svc.RecordGroup(e.Ctx, Admin("S1"), group(false, "V1", "V3"))
			require.ErrorIs(t, err, points.ErrOverlap)
			requireNoRecords(t, e, "V1")
			_, err = e.Svc.RecordGroup(e.Ctx, Admin("S1"), group(false, "V1", "V1"))
			require.ErrorIs(t, err, points.ErrDuplicate)
			requireNoRecords(t, e, "V1")
		}},
		{Name: "GroupRecordingConfirmsEach", Run: func(t *testing.T, e *Env) {
			g := group(true, "V1", "V2", "V3")
			g.Participants[1].SignOut = g.Participants[1].SignOut.Add(time.Hour)
			recs, err := e.Svc.RecordGroup(e.Ctx, Admin("S1"), g)
			require.NoError(t, err)
			require.Len(t, recs, 3)
			for _, r := range recs {
				require.Equal(t, points.RecordConfirmed, r.Status)
			}
			e.RequireBalances("V1", "2", "20")
			e.RequireBalances("V2", "3", "30")
			e.RequireBalances("V3", "2", "20")
		}},
		{Name: "RecordFromSourceIdempotent", Run: func(t *testing.T, e *Env) {
			in := Input("V1", 0, 120)
			a, err := e.Svc.RecordFromSource(e.Ctx, System, "dispatch:O1:V1", in, true)
			require.NoError(t, err)
			require.Equal(t, points.RecordConfirmed, a.Status)
			b, err := e.Svc.RecordFromSource(e.Ctx, System, "dispatch:O1:V1", in, true)
			require.NoError(t, err)
			require.Equal(t, a.ID, b.ID)
			e.RequireBalances("V1", "2", "20")
			other := in
			other.SignOut = other.SignOut.Add(time.Hour)
			_, err = e.Svc.RecordFromSource(e.Ctx, System, "dispatch:O1:V1", other, true)
			require.ErrorIs(t, err, points.ErrConflict)
			d, err := e.Svc.RecordFromSource(e.Ctx, System, "dispatch:O2:V2", Input("V2", 0, 60), false)
			require.NoError(t, err)
			require.Equal(t, points.RecordDraft, d.Status)
			c, err := e.Svc.RecordFromSource(e.Ctx, System, "dispatch:O2:V2", Input("V2", 0, 60), true)
			require.NoError(t, err)
			require.Equal(t, d.ID, c.ID)
			require.Equal(t, points.RecordConfirmed, c.Status)
			e.RequireBalances("V2", "1", "10")
		}},
		{Name: "ConcurrentConfirmAndSourceReplaysAwardOnce", Run: func(t *testing.T, e *Env) {
			rec, err := e.Svc.RecordService(e.Ctx, Admin("S1"), Input("V1", 0, 120))
			require.NoError(t, err)
			var wg sync.WaitGroup
			errs := make([]error, 16)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if i%2 == 0 {
						_, errs[i] = e.Svc.Confirm(e.Ctx, Admin("S1"), rec.ID)
					} else {
						_, errs[i] = e.Svc.RecordFromSource(e.Ctx, System, "dispatch:O9:V2", Input("V2", 0, 60), true)
					}
				}()
			}
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}
			e.RequireBalances("V1", "2", "20")
			e.RequireBalances("V2", "1", "10")
			recs, err := e.Svc.Records(e.Ctx, "V2", Day(-1), Day(1))
			require.NoError(t, err)
			require.Len(t, recs, 1, "one record per source key")
		}},
		{Name: "CancelledContextChangesNothing", Run: func(t *testing.T, e *Env) {
			ctx, cancel := context.WithCancel(e.Ctx)
			cancel()
			_, err := e.Svc.RecordService(ctx, Admin("S1"), Input("V1", 0, 60))
			require.Error(t, err)
			require.True(t, errors.Is(err, context.Canceled))
			requireNoRecords(t, e, "V1")
		}},
	}
}

// group is one activity on day 0 for the volunteers, 2 h each.
func group(confirm bool, vs ...org.VolunteerID) points.Group {
	in := Input("", 0, 120)
	g := points.Group{Activity: in.Activity, Organiser: "S1", Confirm: confirm}
	for _, v := range vs {
		g.Participants = append(g.Participants, points.Participant{Volunteer: v, SignIn: in.SignIn, SignOut: in.SignOut})
	}
	return g
}
