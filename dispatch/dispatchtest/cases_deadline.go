package dispatchtest

import (
	"context"
	"testing"
	"time"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
	"github.com/stretchr/testify/require"
)

func deadlineTests() []test {
	ctx := context.Background()
	return []test{
		{"deadline/set-from-item", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Dispatched)
			require.Equal(t, Start.Add(2*time.Hour), o.AcceptBy)
			require.Equal(t, Start.Add(2*time.Hour), o.Due())
			o = f.Fire(t, f.Leaders[TeamS1], dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerAccept})
			require.True(t, o.AcceptBy.IsZero())
			require.Equal(t, Start.Add(48*time.Hour), o.CompleteBy)
			o = f.Fire(t, f.Leaders[TeamS1], dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerComplete, Completion: Completion()})
			require.True(t, o.CompleteBy.IsZero())
			require.Equal(t, Start.Add(72*time.Hour), o.EvaluateBy)
		}},
		{"sweep/accept-by-returns", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Dispatched)
			res, err := f.Service.Sweep(ctx, Start.Add(2*time.Hour-time.Second))
			require.NoError(t, err)
			require.Equal(t, dispatch.SweepResult{}, res, "nothing is due yet")
			now := Start.Add(2 * time.Hour)
			res, err = f.Service.Sweep(ctx, now)
			require.NoError(t, err)
			require.Equal(t, dispatch.SweepResult{Returned: 1}, res)
			got, err := f.Store.Order(ctx, o.ID)
			require.NoError(t, err)
			require.Equal(t, dispatch.Returned, got.State)
			require.Equal(t, 1, got.Returns)
			h, err := f.Store.History(ctx, o.ID)
			require.NoError(t, err)
			last := h[len(h)-1]
			require.Equal(t, org.RoleSystem, last.Actor.Role)
			require.Equal(t, now, last.At)
			require.NotEmpty(t, last.Reason)
			res, err = f.Service.Sweep(ctx, now.Add(time.Hour))
			require.NoError(t, err)
			require.Equal(t, dispatch.SweepResult{}, res, "sweep is idempotent")
			h2, err := f.Store.History(ctx, o.ID)
			require.NoError(t, err)
			require.Equal(t, h, h2)
		}},
		{"sweep/auto-return-ignores-cap", func(t *testing.T, f *Fixture) {
			o := f.Place(t, NodeS1)
			for range 4 {
				o = f.Fire(t, f.Desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerDispatch, Team: TeamS1})
				f.Clock.Advance(3 * time.Hour)
				_, err := f.Service.Sweep(ctx, f.Clock.Now())
				require.NoError(t, err)
				o, _ = f.Store.Order(ctx, o.ID)
				require.Equal(t, dispatch.Returned, o.State)
			}
			require.Equal(t, 4, o.Returns)
		}},
		{"sweep/complete-by-urges-once-per-deadline", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Accepted)
			due := o.CompleteBy
			for range 2 {
				_, err := f.Service.Sweep(ctx, due.Add(time.Minute))
				require.NoError(t, err)
			}
			got, err := f.Store.Order(ctx, o.ID)
			require.NoError(t, err)
			require.Equal(t, 1, got.Urges)
			require.Equal(t, dispatch.Accepted, got.State)
			require.Equal(t, due, got.UrgedFor)
			require.True(t, got.Due().IsZero())
			// A desk-approved extension gives a new deadline, urged again
			// when it passes.
			// The fixture clock still stands before the deadline.
			f.Fire(t, f.Leaders[TeamS1], dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerRequestExtension, Reason: "snow", Until: due.Add(24 * time.Hour)})
			got = f.Fire(t, f.Desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerApprove})
			require.Equal(t, due.Add(24*time.Hour), got.Due())
			res, err := f.Service.Sweep(ctx, due.Add(25*time.Hour))
			require.NoError(t, err)
			require.Equal(t, dispatch.SweepResult{Urged: 1}, res)
		}},
		{"sweep/evaluate-by-closes-unrated", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Completed)
			res, err := f.Service.Sweep(ctx, o.EvaluateBy)
			require.NoError(t, err)
			require.Equal(t, dispatch.SweepResult{Closed: 1}, res)
			got, err := f.Store.Order(ctx, o.ID)
			require.NoError(t, err)
			require.Equal(t, dispatch.Closed, got.State)
			require.Nil(t, got.Evaluation)
			require.Equal(t, dispatch.StatusClosed, got.Public())
			res, err = f.Service.Sweep(ctx, o.EvaluateBy.Add(time.Hour))
			require.NoError(t, err)
			require.Equal(t, dispatch.SweepResult{}, res)
		}},
		{"sweep/many-orders-in-due-order", func(t *testing.T, f *Fixture) {
			f.Tree.SetTeam(org.Team{ID: TeamS1, Anchor: NodeS1, Skills: []string{"elder"}, Capacity: 5000})
			var ids []dispatch.OrderID
			for range 1500 { // more than one Due page
				o := f.Place(t, NodeS1)
				o = f.Fire(t, f.Desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerDispatch, Team: TeamS1})
				ids = append(ids, o.ID)
				f.Clock.Advance(time.Second)
			}
			due, err := f.Store.Due(ctx, Start.Add(2*time.Hour+time.Second), 10)
			require.NoError(t, err)
			require.Len(t, due, 2)
			require.Equal(t, ids[:2], []dispatch.OrderID{due[0].ID, due[1].ID})
			res, err := f.Service.Sweep(ctx, Start.Add(3*time.Hour))
			require.NoError(t, err)
			require.Equal(t, 1500, res.Returned)
			due, err = f.Store.Due(ctx, Start.Add(100*time.Hour), 10)
			require.NoError(t, err)
			require.Empty(t, due)
		}},
		{"store/due-is-a-read", func(t *testing.T, f *Fixture) {
			a := f.Drive(t, dispatch.Dispatched)
			f.Clock.Advance(time.Minute)
			b := f.Drive(t, dispatch.Completed)
			ids := func(now time.Time, limit int) []dispatch.OrderID {
				due, err := f.Store.Due(ctx, now, limit)
				require.NoError(t, err)
				out := []dispatch.OrderID{}
				for _, o := range due {
					out = append(out, o.ID)
				}
				return out
			}
			require.Empty(t, ids(Start.Add(time.Hour), 10))
			for range 3 { // asking again returns the same: Due changes nothing
				require.Equal(t, []dispatch.OrderID{a.ID}, ids(a.AcceptBy, 10))
			}
			require.Equal(t, []dispatch.OrderID{a.ID, b.ID}, ids(b.EvaluateBy, 10))
			require.Equal(t, []dispatch.OrderID{a.ID}, ids(b.EvaluateBy, 1))
			// After a transition the old deadline is gone and the new one is
			// indexed.
			a = f.Fire(t, f.Leaders[TeamS1], dispatch.Command{Order: a.ID, Trigger: dispatch.TriggerAccept})
			require.Empty(t, ids(a.CompleteBy.Add(-time.Second), 10))
			require.Equal(t, []dispatch.OrderID{a.ID}, ids(a.CompleteBy, 10))
		}},
		{"sweep/system-cannot-fire-early", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Dispatched)
			f.refused(t, f.System, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerReturn, Reason: "x"}, dispatch.ErrDeadline, "accept by")
			o = f.Drive(t, dispatch.Completed)
			f.refused(t, f.System, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerClose}, dispatch.ErrDeadline, "evaluate by")
		}},
	}
}
