package dispatchtest

import (
	"context"
	"testing"
	"time"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

func feedTests() []test {
	ctx := context.Background()
	return []test{
		{"feed/newest-first-paged-hidden-excluded", func(t *testing.T, f *Fixture) {
			f.Tree.SetTeam(org.Team{ID: TeamS1, Anchor: NodeS1, Skills: []string{"elder"}, Capacity: 100})
			var ids []dispatch.OrderID
			for range 5 {
				ids = append(ids, f.Drive(t, dispatch.Showcased).ID)
				f.Clock.Advance(time.Minute)
			}
			f.Fire(t, f.Admin, dispatch.Command{Order: ids[3], Trigger: dispatch.TriggerHide, Reason: "complaint"})
			f.Drive(t, dispatch.Evaluated) // not showcased
			page, err := f.Service.Feed(ctx, dispatch.FeedCursor{}, 2)
			require.NoError(t, err)
			require.Equal(t, []dispatch.OrderID{ids[4], ids[2]}, feedIDs(page))
			require.NotZero(t, page.Next)
			e := page.Entries[0]
			require.Equal(t, "Meal delivery for the elderly", e.Service)
			require.Equal(t, NodeS1, e.Station)
			require.Equal(t, TeamS1, e.Team)
			require.Equal(t, 5, e.Score)
			require.Equal(t, "Warm and on time", e.Comment)
			require.Equal(t, Completion().Report, e.Report)
			page, err = f.Service.Feed(ctx, page.Next, 2)
			require.NoError(t, err)
			require.Equal(t, []dispatch.OrderID{ids[1], ids[0]}, feedIDs(page))
			require.Zero(t, page.Next)
		}},
		{"feed/same-time-ordered-by-id", func(t *testing.T, f *Fixture) {
			f.Tree.SetTeam(org.Team{ID: TeamS1, Anchor: NodeS1, Skills: []string{"elder"}, Capacity: 100})
			a, b := f.Drive(t, dispatch.Showcased), f.Drive(t, dispatch.Showcased)
			page, err := f.Service.Feed(ctx, dispatch.FeedCursor{}, 1)
			require.NoError(t, err)
			require.Equal(t, []dispatch.OrderID{b.ID}, feedIDs(page))
			page, err = f.Service.Feed(ctx, page.Next, 1)
			require.NoError(t, err)
			require.Equal(t, []dispatch.OrderID{a.ID}, feedIDs(page))
		}},
		{"stats/per-node", func(t *testing.T, f *Fixture) {
			f.Tree.SetTeam(org.Team{ID: TeamS1, Anchor: NodeS1, Skills: []string{"elder"}, Capacity: 100})
			f.Tree.SetTeam(org.Team{ID: TeamI1, Anchor: NodeI1, Skills: []string{"elder"}, Capacity: 100})
			lead := f.Leaders[TeamS1]
			// o1: accepted after 1h, completed after 3h, scored 5.
			o1 := f.Place(t, NodeS1)
			f.Fire(t, f.Desk, dispatch.Command{Order: o1.ID, Trigger: dispatch.TriggerDispatch, Team: TeamS1})
			f.Clock.Advance(time.Hour)
			f.Fire(t, lead, dispatch.Command{Order: o1.ID, Trigger: dispatch.TriggerAccept})
			f.Clock.Advance(2 * time.Hour)
			f.Fire(t, lead, dispatch.Command{Order: o1.ID, Trigger: dispatch.TriggerComplete, Completion: Completion()})
			f.Fire(t, f.Resident, dispatch.Command{Order: o1.ID, Trigger: dispatch.TriggerEvaluate, Evaluation: &dispatch.Evaluation{Score: 5}})
			// o2: ordered at 3h, accepted at once, completed after 1h, scored 2.
			o2 := f.Place(t, NodeS1)
			f.Fire(t, f.Desk, dispatch.Command{Order: o2.ID, Trigger: dispatch.TriggerDispatch, Team: TeamS1})
			f.Fire(t, lead, dispatch.Command{Order: o2.ID, Trigger: dispatch.TriggerAccept})
			f.Clock.Advance(time.Hour)
			f.Fire(t, lead, dispatch.Command{Order: o2.ID, Trigger: dispatch.TriggerComplete, Completion: Completion()})
			f.Fire(t, f.Resident, dispatch.Command{Order: o2.ID, Trigger: dispatch.TriggerEvaluate, Evaluation: &dispatch.Evaluation{Score: 2}})
			// o3: dispatched, never accepted; o4: never routed; o5 at S3.
			o3 := f.Place(t, NodeS2)
			f.Fire(t, f.Desk, dispatch.Command{Order: o3.ID, Trigger: dispatch.TriggerDispatch, Team: TeamI1})
			f.Place(t, NodeS1)
			f.Place(t, NodeS3)

			st, err := f.Service.Stats(ctx, NodeI1, time.Time{}, time.Time{})
			require.NoError(t, err)
			require.Equal(t, dispatch.NodeStats{
				Node: NodeI1, Orders: 4, Routed: 3, Responded: 2, Completed: 2, Evaluated: 2, Satisfied: 1,
				MeanAcceptance: 30 * time.Minute, MeanCompletion: 2 * time.Hour,
				ResponseRate: st.ResponseRate, SatisfactionRate: st.SatisfactionRate,
			}, st)
			require.Equal(t, "0.6667", st.ResponseRate.String())
			require.True(t, decimal.RequireFromString("0.5").Equal(st.SatisfactionRate))

			st, err = f.Service.Stats(ctx, NodeC, Start.Add(time.Hour), time.Time{})
			require.NoError(t, err)
			require.Equal(t, 4, st.Orders, "o1 was ordered before the window")
			st, err = f.Service.Stats(ctx, NodeS3, time.Time{}, time.Time{})
			require.NoError(t, err)
			require.Equal(t, 1, st.Orders)
			require.True(t, st.ResponseRate.IsZero())
			_, err = f.Service.Stats(ctx, "nowhere", time.Time{}, time.Time{})
			require.ErrorIs(t, err, dispatch.ErrNotFound)
		}},
	}
}

func feedIDs(p dispatch.FeedPage) []dispatch.OrderID {
	var out []dispatch.OrderID
	for _, e := range p.Entries {
		out = append(out, e.Order)
	}
	return out
}

func storeTests() []test {
	ctx := context.Background()
	return []test{
		{"store/feed-sequence", func(t *testing.T, f *Fixture) {
			f.Drive(t, dispatch.Showcased)
			f.Drive(t, dispatch.Cancelled)
			ev, err := f.Store.Events(ctx, 0, 1000)
			require.NoError(t, err)
			require.Len(t, ev, 8) // six for the showcased order, two for the cancelled
			for i, e := range ev {
				require.Equal(t, uint64(i+1), e.Seq)
			}
			page, err := f.Store.Events(ctx, 3, 2)
			require.NoError(t, err)
			require.Equal(t, ev[3:5], page)
			page, err = f.Store.Events(ctx, 8, 10)
			require.NoError(t, err)
			require.NotNil(t, page)
			require.Empty(t, page)
			require.NotNil(t, ev[3].Completion, "the complete event carries the report")
			require.Equal(t, dispatch.TriggerComplete, ev[3].Trigger)
		}},
		{"store/item-snapshot-fixed-at-creation", func(t *testing.T, f *Fixture) {
			o := f.Place(t, NodeS1)
			next := o.Clone()
			next.State, next.Version = dispatch.Published, 2
			next.Item.Name = "changed"
			next.Item.Fields[3].Choices[0] = "changed"
			entry := dispatch.HistoryEntry{Version: 2, Actor: f.Desk, Trigger: dispatch.TriggerPublish, From: dispatch.Ordered, To: dispatch.Published, At: Start}
			_, err := f.Store.Commit(ctx, dispatch.Commit{Order: next, Expected: 1, Entry: entry})
			require.NoError(t, err)
			got, err := f.Store.Order(ctx, o.ID)
			require.NoError(t, err)
			require.Equal(t, dispatch.Published, got.State)
			require.Equal(t, o.Item, got.Item)
		}},
		{"store/ack-moves-forward-only", func(t *testing.T, f *Fixture) {
			f.Drive(t, dispatch.Accepted)
			require.NoError(t, f.Store.Ack(ctx, "r", 2))
			require.NoError(t, f.Store.Ack(ctx, "r", 1))
			pos, err := f.Store.Position(ctx, "r")
			require.NoError(t, err)
			require.Equal(t, uint64(2), pos)
			require.ErrorIs(t, f.Store.Ack(ctx, "r", 99), dispatch.ErrInvalid)
			pos, err = f.Store.Position(ctx, "other")
			require.NoError(t, err)
			require.Zero(t, pos)
		}},
		{"store/orders-paged-by-id", func(t *testing.T, f *Fixture) {
			for range 5 {
				f.Place(t, NodeS2)
			}
			page, err := f.Store.Orders(ctx, "", 3)
			require.NoError(t, err)
			require.Len(t, page, 3)
			rest, err := f.Store.Orders(ctx, page[2].ID, 3)
			require.NoError(t, err)
			require.Len(t, rest, 2)
			require.Less(t, page[2].ID, rest[0].ID)
		}},
		{"store/cancelled-context", func(t *testing.T, f *Fixture) {
			o := f.Place(t, NodeS1)
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			before := f.snap(t, o.ID)
			_, err := f.Service.Fire(cctx, f.Desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerPublish})
			require.ErrorIs(t, err, context.Canceled)
			next := o.Clone()
			next.Version = 2
			_, err = f.Store.Commit(cctx, dispatch.Commit{Order: next, Expected: 1, Entry: dispatch.HistoryEntry{Version: 2}})
			require.ErrorIs(t, err, context.Canceled)
			require.Equal(t, before, f.snap(t, o.ID))
			_, err = f.Store.Order(cctx, o.ID)
			require.ErrorIs(t, err, context.Canceled)
		}},
	}
}
