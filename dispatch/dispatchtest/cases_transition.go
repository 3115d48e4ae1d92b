package dispatchtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

func transitionTests() []test {
	ctx := context.Background()
	cmd := func(o dispatch.Order, tr dispatch.Trigger) dispatch.Command {
		return dispatch.Command{Order: o.ID, Trigger: tr, Reason: "because"}
	}
	return []test{
		{"loop/desk-mode", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Showcased)
			require.Equal(t, dispatch.Showcased, o.State)
			require.Equal(t, dispatch.StatusClosed, o.Public())
			require.Equal(t, uint64(6), o.Version)
			h, err := f.Store.History(ctx, o.ID)
			require.NoError(t, err)
			var trail []dispatch.Trigger
			for i, e := range h {
				require.Equal(t, uint64(i+1), e.Version)
				trail = append(trail, e.Trigger)
			}
			require.Equal(t, []dispatch.Trigger{dispatch.TriggerOrder, dispatch.TriggerDispatch, dispatch.TriggerAccept,
				dispatch.TriggerComplete, dispatch.TriggerEvaluate, dispatch.TriggerShowcase}, trail)
			loads, err := f.Store.Loads(ctx, []org.TeamID{TeamS1})
			require.NoError(t, err)
			require.Equal(t, 0, loads[0].Active, "a showcased order still holds capacity")
		}},
		{"loop/pool-mode", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Published)
			require.Equal(t, dispatch.ModePool, o.Mode)
			o = f.Fire(t, f.Leaders[TeamI1], cmd(o, dispatch.TriggerClaim))
			require.Equal(t, dispatch.Accepted, o.State)
			require.Equal(t, TeamI1, o.Team)
			require.Equal(t, f.Clock.Now(), o.AcceptedAt)
			require.Equal(t, f.Clock.Now().Add(48*time.Hour), o.CompleteBy)
		}},
		{"transition/not-allowed-in-state", func(t *testing.T, f *Fixture) {
			f.Tree.SetTeam(org.Team{ID: TeamS1, Anchor: NodeS1, Skills: []string{"elder"}, Capacity: 100})
			for _, s := range dispatch.States() {
				o := f.Drive(t, s)
				for _, tr := range dispatch.Triggers() {
					if tr == dispatch.TriggerOrder || dispatch.Allows(s, tr) {
						continue
					}
					f.refused(t, f.Admin, cmd(o, tr), dispatch.ErrTransition, "trigger")
				}
			}
		}},
		{"auth/other-resident", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Completed)
			c := cmd(o, dispatch.TriggerEvaluate)
			c.Evaluation = &dispatch.Evaluation{Score: 1}
			f.refused(t, f.Other, c, dispatch.ErrForbidden, "actor")
			o2 := f.Place(t, NodeS2)
			f.refused(t, f.Other, cmd(o2, dispatch.TriggerCancel), dispatch.ErrForbidden, "actor")
		}},
		{"auth/leader-of-another-team", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Dispatched)
			f.refused(t, f.Leaders[TeamI1], cmd(o, dispatch.TriggerAccept), dispatch.ErrForbidden, "actor")
			f.refused(t, f.Leaders[TeamI1], cmd(o, dispatch.TriggerReturn), dispatch.ErrForbidden, "actor")
		}},
		{"auth/policy-scope", func(t *testing.T, f *Fixture) {
			o := f.Place(t, NodeS1)
			deskI2 := org.Actor{ID: "desk-i2", Role: org.RoleDesk, Scope: NodeI2}
			c := cmd(o, dispatch.TriggerDispatch)
			c.Team = TeamS1
			f.refused(t, deskI2, c, dispatch.ErrForbidden, "actor")
			f.refused(t, f.AdminI2, cmd(o, dispatch.TriggerReject), dispatch.ErrForbidden, "actor")
			_, err := f.Service.Fire(ctx, f.AdminI2, cmd(o, dispatch.TriggerReject))
			require.ErrorIs(t, err, org.ErrForbidden)
		}},
		{"version/stale", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Dispatched)
			c := cmd(o, dispatch.TriggerAccept)
			c.Version = o.Version - 1
			f.refused(t, f.Leaders[TeamS1], c, dispatch.ErrConflict, "version")
			c.Version = o.Version
			f.Fire(t, f.Leaders[TeamS1], c)
			c2 := cmd(o, dispatch.TriggerStart)
			c2.Version = o.Version
			f.refused(t, f.Leaders[TeamS1], c2, dispatch.ErrConflict, "version")
		}},
		{"version/store-refuses-stale-commit", func(t *testing.T, f *Fixture) {
			o := f.Place(t, NodeS1)
			next := o.Clone()
			next.State, next.Version = dispatch.Published, 2
			entry := dispatch.HistoryEntry{Version: 2, Actor: f.Desk, Trigger: dispatch.TriggerPublish, From: dispatch.Ordered, To: dispatch.Published, At: Start}
			ev := dispatch.Event{Seq: 99, Order: o.ID, Version: 2, Trigger: dispatch.TriggerPublish}
			seq, err := f.Store.Commit(ctx, dispatch.Commit{Order: next, Expected: 1, Entry: entry, Event: ev})
			require.NoError(t, err)
			require.Equal(t, uint64(2), seq, "the event after the order's first; the given Seq is ignored")
			_, err = f.Store.Commit(ctx, dispatch.Commit{Order: next, Expected: 1, Entry: entry, Event: ev})
			require.ErrorIs(t, err, dispatch.ErrConflict)
			bad := next
			bad.Version = 5
			_, err = f.Store.Commit(ctx, dispatch.Commit{Order: bad, Expected: 2, Entry: entry})
			require.ErrorIs(t, err, dispatch.ErrInvalid)
			all, err := f.Store.Events(ctx, 0, 10)
			require.NoError(t, err)
			require.Len(t, all, 2)
			require.Equal(t, uint64(2), all[1].Seq)
			h, err := f.Store.History(ctx, o.ID)
			require.NoError(t, err)
			require.Len(t, h, 2)
		}},
		{"return/capped", func(t *testing.T, f *Fixture) {
			o := f.Place(t, NodeS1)
			lead := f.Leaders[TeamS1]
			for i := range 3 {
				d := cmd(o, dispatch.TriggerDispatch)
				d.Team = TeamS1
				o = f.Fire(t, f.Desk, d)
				o = f.Fire(t, lead, cmd(o, dispatch.TriggerReturn))
				require.Equal(t, i+1, o.Returns)
			}
			d := cmd(o, dispatch.TriggerDispatch)
			d.Team = TeamS1
			o = f.Fire(t, f.Desk, d)
			f.refused(t, lead, cmd(o, dispatch.TriggerReturn), dispatch.ErrReturnLimit, "returns")
		}},
		{"complete/invalid-reports", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.InService)
			cases := []struct {
				name  string
				edit  func(*dispatch.Completion)
				field string
			}{
				{"no report", func(c *dispatch.Completion) { c.Report = "" }, "report"},
				{"no participants", func(c *dispatch.Completion) { c.Participants = nil }, "participants"},
				{"empty volunteer", func(c *dispatch.Completion) { c.Participants[1].Volunteer = "" }, "participants[1].volunteer"},
				{"volunteer twice", func(c *dispatch.Completion) { c.Participants[1].Volunteer = "V-001" }, "participants[1].volunteer"},
				{"zero hours", func(c *dispatch.Completion) { c.Participants[0].Hours = decimal.Zero }, "participants[0].hours"},
				{"negative hours", func(c *dispatch.Completion) { c.Participants[0].Hours = decimal.NewFromInt(-1) }, "participants[0].hours"},
				{"over a day", func(c *dispatch.Completion) { c.Participants[0].Hours = decimal.NewFromInt(25) }, "participants[0].hours"},
				{"three decimals", func(c *dispatch.Completion) { c.Participants[0].Hours = decimal.RequireFromString("1.125") }, "participants[0].hours"},
				{"blank photo", func(c *dispatch.Completion) { c.Photos = []string{""} }, "photos[0]"},
			}
			for _, tc := range cases {
				c := cmd(o, dispatch.TriggerComplete)
				c.Completion = Completion()
				tc.edit(c.Completion)
				f.refused(t, f.Leaders[TeamS1], c, dispatch.ErrInvalid, tc.field)
			}
			f.refused(t, f.Leaders[TeamS1], cmd(o, dispatch.TriggerComplete), dispatch.ErrInvalid, "completion")
		}},
		{"evaluate/score-range", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Completed)
			for _, score := range []int{-1, 0, 6, 100} {
				c := cmd(o, dispatch.TriggerEvaluate)
				c.Evaluation = &dispatch.Evaluation{Score: score}
				f.refused(t, f.Resident, c, dispatch.ErrInvalid, "score")
			}
			f.refused(t, f.Resident, cmd(o, dispatch.TriggerEvaluate), dispatch.ErrInvalid, "evaluation")
			for _, score := range []int{1, 5} {
				c := cmd(o, dispatch.TriggerEvaluate)
				c.Evaluation = &dispatch.Evaluation{Score: score}
				_, err := f.Service.Fire(ctx, f.Resident, c)
				if score == 1 {
					require.NoError(t, err)
				} else {
					require.ErrorIs(t, err, dispatch.ErrTransition, "evaluated twice")
				}
			}
		}},
		{"showcase/needs-consent", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Completed)
			c := cmd(o, dispatch.TriggerEvaluate)
			c.Evaluation = &dispatch.Evaluation{Score: 5, Comment: "fine", Consent: false}
			o = f.Fire(t, f.Resident, c)
			f.refused(t, f.Desk, cmd(o, dispatch.TriggerShowcase), dispatch.ErrConsent, "evaluation.consent")
		}},
		{"capacity/full-team", func(t *testing.T, f *Fixture) {
			for range 2 {
				f.Drive(t, dispatch.Accepted) // T-S1 has capacity 2
			}
			o := f.Place(t, NodeS1)
			c := cmd(o, dispatch.TriggerDispatch)
			c.Team = TeamS1
			f.refused(t, f.Desk, c, dispatch.ErrCapacity, "")
			loads, err := f.Store.Loads(ctx, []org.TeamID{TeamS1, "unknown"})
			require.NoError(t, err)
			require.Equal(t, []dispatch.Load{{Team: TeamS1, Active: 2, LastAssigned: loads[0].LastAssigned}, {Team: "unknown"}}, loads)
			require.NotZero(t, loads[0].LastAssigned)
		}},
		{"capacity/concurrent-claims", func(t *testing.T, f *Fixture) {
			var ids []dispatch.OrderID
			for range 8 {
				ids = append(ids, f.Drive(t, dispatch.Published).ID)
			}
			var wg sync.WaitGroup
			errs := make([]error, len(ids))
			for i, id := range ids {
				wg.Go(func() {
					_, errs[i] = f.Service.Fire(ctx, f.Leaders[TeamS1], dispatch.Command{Order: id, Trigger: dispatch.TriggerClaim})
				})
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				if err == nil {
					won++
				} else {
					require.ErrorIs(t, err, dispatch.ErrCapacity)
				}
			}
			require.Equal(t, 2, won, "capacity is 2")
			loads, err := f.Store.Loads(ctx, []org.TeamID{TeamS1})
			require.NoError(t, err)
			require.Equal(t, 2, loads[0].Active)
		}},
		{"claim/first-valid-claim-wins", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Published)
			teams := []org.TeamID{TeamS1, TeamI1, TeamC}
			errs := make([]error, len(teams))
			var wg sync.WaitGroup
			for i, team := range teams {
				wg.Go(func() {
					_, errs[i] = f.Service.Fire(ctx, f.Leaders[team], dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerClaim})
				})
			}
			wg.Wait()
			won := -1
			for i, err := range errs {
				if err == nil {
					require.Equal(t, -1, won, "two claims won")
					won = i
				} else {
					require.True(t, isAny(err, dispatch.ErrConflict, dispatch.ErrTransition), "%v", err)
				}
			}
			require.NotEqual(t, -1, won)
			got, err := f.Store.Order(ctx, o.ID)
			require.NoError(t, err)
			require.Equal(t, teams[won], got.Team)
			require.Equal(t, uint64(3), got.Version)
		}},
		{"claim/team-must-serve", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Published)
			f.refused(t, f.Leaders[TeamH], cmd(o, dispatch.TriggerClaim), dispatch.ErrOutOfArea, "team")
			f.refused(t, org.Actor{ID: "x", Role: org.RoleTeamLeader}, cmd(o, dispatch.TriggerClaim), dispatch.ErrInvalid, "actor.team")
		}},
		{"dispatch/team-must-serve", func(t *testing.T, f *Fixture) {
			o := f.Place(t, NodeS2)
			for _, team := range []org.TeamID{TeamS1, TeamH, "T-404"} { // S1 only serves S1; H lacks the skill
				c := cmd(o, dispatch.TriggerDispatch)
				c.Team = team
				_, err := f.Service.Fire(ctx, f.Desk, c)
				require.True(t, isAny(err, dispatch.ErrOutOfArea, dispatch.ErrNotFound), "%v", err)
				require.Contains(t, err.Error(), "field team")
			}
			f.Tree.SetTeam(org.Team{ID: TeamI1, Anchor: NodeI1, Skills: []string{"elder"}, Capacity: 2, Status: org.Retired})
			c := cmd(o, dispatch.TriggerDispatch)
			c.Team = TeamI1
			f.refused(t, f.Desk, c, dispatch.ErrOutOfArea, "team")
		}},
		{"reassign/moves-and-restarts-accept-by", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Accepted)
			c := cmd(o, dispatch.TriggerReassign)
			c.Team = TeamS1
			f.refused(t, f.Desk, c, dispatch.ErrInvalid, "team")
			f.refused(t, f.Desk, cmd(o, dispatch.TriggerReassign), dispatch.ErrInvalid, "team")
			f.Clock.Advance(time.Hour)
			c.Team = TeamC
			o = f.Fire(t, f.Desk, c)
			require.Equal(t, dispatch.Dispatched, o.State)
			require.Equal(t, TeamC, o.Team)
			require.Equal(t, f.Clock.Now().Add(2*time.Hour), o.AcceptBy)
			require.True(t, o.CompleteBy.IsZero())
			loads, err := f.Store.Loads(ctx, []org.TeamID{TeamS1, TeamC})
			require.NoError(t, err)
			require.Equal(t, 0, loads[0].Active)
			require.Equal(t, 1, loads[1].Active)
		}},
		{"extension/request-and-approve", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Accepted)
			lead := f.Leaders[TeamS1]
			due := o.CompleteBy
			c := cmd(o, dispatch.TriggerRequestExtension)
			c.Until = due
			f.refused(t, lead, c, dispatch.ErrDeadline, "until")
			f.refused(t, f.Desk, cmd(o, dispatch.TriggerApprove), dispatch.ErrInvalid, "pending")
			c.Until = due.Add(24 * time.Hour)
			o = f.Fire(t, lead, c)
			require.NotNil(t, o.Pending)
			require.Equal(t, due, o.CompleteBy, "a request alone moves nothing")
			o = f.Fire(t, f.Desk, cmd(o, dispatch.TriggerApprove))
			require.Nil(t, o.Pending)
			require.Equal(t, due.Add(24*time.Hour), o.CompleteBy)
			f.Clock.Advance(73 * time.Hour)
			c.Until = o.CompleteBy.Add(time.Hour)
			f.refused(t, lead, c, dispatch.ErrDeadline, "complete by")
		}},
		{"extension/approve-after-deadline", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Accepted)
			c := cmd(o, dispatch.TriggerRequestExtension)
			c.Until = o.CompleteBy.Add(time.Hour)
			o = f.Fire(t, f.Leaders[TeamS1], c)
			f.Clock.Advance(49 * time.Hour)
			f.refused(t, f.Desk, cmd(o, dispatch.TriggerApprove), dispatch.ErrDeadline, "complete by")
		}},
		{"urge/desk-records", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.InService)
			o = f.Fire(t, f.Desk, cmd(o, dispatch.TriggerUrge))
			o = f.Fire(t, f.Desk, cmd(o, dispatch.TriggerUrge))
			require.Equal(t, 2, o.Urges)
			require.Equal(t, dispatch.InService, o.State)
			h, err := f.Store.History(ctx, o.ID)
			require.NoError(t, err)
			require.Equal(t, dispatch.TriggerUrge, h[len(h)-1].Trigger)
			require.Equal(t, f.Desk, h[len(h)-1].Actor)
		}},
		{"reopen/same-or-other-team", func(t *testing.T, f *Fixture) {
			satisfied := f.Drive(t, dispatch.Evaluated) // scored 5
			f.refused(t, f.Desk, cmd(satisfied, dispatch.TriggerReopen), dispatch.ErrInvalid, "evaluation.score")
			unsatisfied := func() dispatch.Order {
				o := f.Drive(t, dispatch.Completed)
				c := cmd(o, dispatch.TriggerEvaluate)
				c.Evaluation = &dispatch.Evaluation{Score: 3}
				return f.Fire(t, f.Resident, c)
			}
			o := f.Fire(t, f.Desk, cmd(unsatisfied(), dispatch.TriggerReopen))
			require.Equal(t, dispatch.Accepted, o.State)
			require.Equal(t, TeamS1, o.Team)
			require.Nil(t, o.Evaluation)
			require.Nil(t, o.Completion)
			o2 := unsatisfied()
			c := cmd(o2, dispatch.TriggerReopen)
			c.Team = TeamI1
			o2 = f.Fire(t, f.Desk, c)
			require.Equal(t, dispatch.Dispatched, o2.State)
			require.Equal(t, TeamI1, o2.Team)
		}},
		{"reopen/same-team-past-capacity", func(t *testing.T, f *Fixture) {
			unsatisfied := func(score int) dispatch.Order {
				o := f.Drive(t, dispatch.Completed)
				c := cmd(o, dispatch.TriggerEvaluate)
				c.Evaluation = &dispatch.Evaluation{Score: score}
				return f.Fire(t, f.Resident, c)
			}
			o, o2 := unsatisfied(2), unsatisfied(1)
			f.Drive(t, dispatch.Accepted)
			f.Drive(t, dispatch.Accepted) // T-S1 is now full (capacity 2)
			full := f.Place(t, NodeS1)
			fc := cmd(full, dispatch.TriggerDispatch)
			fc.Team = TeamS1
			f.refused(t, f.Desk, fc, dispatch.ErrCapacity, "")
			// Another team takes new work only within its capacity.
			f.Tree.SetTeam(org.Team{ID: TeamI1, Tier: org.Detachment, Anchor: NodeI1, Skills: []string{"elder"}, Capacity: 0})
			other := cmd(o, dispatch.TriggerReopen)
			other.Team = TeamI1
			f.refused(t, f.Desk, other, dispatch.ErrCapacity, "")
			// The team that delivered it takes its rework back, full or not.
			o = f.Fire(t, f.Desk, cmd(o, dispatch.TriggerReopen))
			require.Equal(t, dispatch.Accepted, o.State)
			require.Equal(t, TeamS1, o.Team)
			loads, err := f.Store.Loads(ctx, []org.TeamID{TeamS1})
			require.NoError(t, err)
			require.Equal(t, 3, loads[0].Active)
			// A team that no longer serves does not.
			f.Tree.SetTeam(org.Team{ID: TeamS1, Tier: org.Specialty, Anchor: NodeS1, Skills: []string{"elder"}, Capacity: 2, Status: org.Retired})
			f.refused(t, f.Desk, cmd(o2, dispatch.TriggerReopen), dispatch.ErrOutOfArea, "team")
		}},
		{"cancel/resident-before-acceptance-only", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Accepted)
			f.refused(t, f.Resident, cmd(o, dispatch.TriggerCancel), dispatch.ErrForbidden, "actor")
			o = f.Fire(t, f.Admin, cmd(o, dispatch.TriggerCancel))
			require.Equal(t, dispatch.Cancelled, o.State)
			require.True(t, o.State.Terminal())
			loads, err := f.Store.Loads(ctx, []org.TeamID{TeamS1})
			require.NoError(t, err)
			require.Equal(t, 0, loads[0].Active, "cancelling frees capacity")
		}},
		{"status/public", func(t *testing.T, f *Fixture) {
			f.Tree.SetTeam(org.Team{ID: TeamS1, Anchor: NodeS1, Skills: []string{"elder"}, Capacity: 100})
			open := map[dispatch.State]bool{dispatch.Ordered: true, dispatch.Published: true, dispatch.Dispatched: true,
				dispatch.Accepted: true, dispatch.InService: true, dispatch.Returned: true}
			for _, s := range dispatch.States() {
				o := f.Drive(t, s)
				want := dispatch.StatusClosed
				if open[s] {
					want = dispatch.StatusOpen
				}
				require.Equal(t, want, o.Public(), "state %s", s)
			}
		}},
	}
}
