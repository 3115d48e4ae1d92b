package dispatchtest

import (
	"context"
	"errors"
	"testing"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// ackFails is a store whose Ack fails: the relay dies after the sink
// applied an event and before its position was written.
type ackFails struct{ dispatch.Store }

var errCrash = errors.New("dispatchtest: simulated crash")

func (ackFails) Ack(context.Context, string, uint64) error { return errCrash }

func relayTests() []test {
	ctx := context.Background()
	newRelay := func(t *testing.T, s dispatch.Store, sink *Sink, name string) *dispatch.Relay {
		t.Helper()
		r, err := dispatch.NewRelay(s, sink, &dispatch.RelayOptions{Name: name, Batch: 3})
		require.NoError(t, err)
		return r
	}
	// exact checks the sink holds each participant of each completed order
	// exactly once: 3.5 hours per order.
	exact := func(t *testing.T, f *Fixture, sink *Sink, orders ...dispatch.Order) {
		t.Helper()
		require.Len(t, sink.Records, 2*len(orders))
		require.True(t, decimal.NewFromFloat(3.5).Mul(decimal.NewFromInt(int64(len(orders)))).Equal(sink.Hours()), "hours %s", sink.Hours())
		for _, o := range orders {
			got, err := f.Store.Order(ctx, o.ID)
			require.NoError(t, err)
			for _, p := range got.Completion.Participants {
				rec, ok := sink.Records[dispatch.RecordKey(o.ID, got.Version, p.Volunteer)]
				require.True(t, ok, "no record for %s/%s", o.ID, p.Volunteer)
				require.True(t, p.Hours.Equal(rec.Hours))
				require.Equal(t, TeamS1, rec.Team)
				require.Equal(t, f.Leaders[TeamS1].ID, rec.ConfirmedBy)
				require.Equal(t, NodeS1, rec.Node)
			}
		}
	}
	atEnd := func(t *testing.T, f *Fixture, name string) {
		t.Helper()
		pos, err := f.Store.Position(ctx, name)
		require.NoError(t, err)
		ev, err := f.Store.Events(ctx, pos, 10)
		require.NoError(t, err)
		require.Empty(t, ev, "relay did not reach the end of the feed")
	}
	return []test{
		{"relay/records-each-participant", func(t *testing.T, f *Fixture) {
			o1, o2 := f.Drive(t, dispatch.Completed), f.Drive(t, dispatch.Completed)
			sink := NewSink()
			n, err := newRelay(t, f.Store, sink, "points").Drain(ctx)
			require.NoError(t, err)
			require.Equal(t, 8, n) // order, dispatch, accept, complete
			exact(t, f, sink, o1, o2)
			atEnd(t, f, "points")
			n, err = newRelay(t, f.Store, sink, "points").Drain(ctx)
			require.NoError(t, err)
			require.Zero(t, n)
		}},
		{"relay/replay-from-start-doubles-nothing", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Completed)
			sink := NewSink()
			_, err := newRelay(t, f.Store, sink, "a").Drain(ctx)
			require.NoError(t, err)
			_, err = newRelay(t, f.Store, sink, "b").Drain(ctx) // a second relay replays all
			require.NoError(t, err)
			require.Equal(t, 4, sink.Calls)
			exact(t, f, sink, o)
		}},
		{"relay/crash-before-ack", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Completed)
			sink := NewSink()
			_, err := newRelay(t, ackFails{f.Store}, sink, "points").Drain(ctx)
			require.ErrorIs(t, err, errCrash)
			pos, err := f.Store.Position(ctx, "points")
			require.NoError(t, err)
			require.Zero(t, pos)
			// Resume with a working store: the sink sees the repeat, the
			// effect stays exactly once.
			_, err = newRelay(t, f.Store, sink, "points").Drain(ctx)
			require.NoError(t, err)
			exact(t, f, sink, o)
			atEnd(t, f, "points")
		}},
		{"relay/killed-between-participants", func(t *testing.T, f *Fixture) {
			o1, o2 := f.Drive(t, dispatch.Completed), f.Drive(t, dispatch.Completed)
			sink := NewSink()
			crashed := false
			sink.After = func(_ context.Context, key string) error {
				if !crashed && key == dispatch.RecordKey(o2.ID, o2.Version, "V-001") {
					crashed = true
					panic("killed")
				}
				return nil
			}
			r := newRelay(t, f.Store, sink, "points")
			require.Panics(t, func() { _, _ = r.Drain(ctx) })
			require.Len(t, sink.Records, 3, "killed after o1's two records and o2's first")
			_, err := newRelay(t, f.Store, sink, "points").Drain(ctx)
			require.NoError(t, err)
			exact(t, f, sink, o1, o2)
		}},
		{"relay/context-cancelled-after-sink", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Completed)
			sink := NewSink()
			cctx, cancel := context.WithCancel(ctx)
			sink.After = func(context.Context, string) error { cancel(); return nil }
			_, err := newRelay(t, f.Store, sink, "points").Drain(cctx)
			require.ErrorIs(t, err, context.Canceled)
			sink.After = nil
			_, err = newRelay(t, f.Store, sink, "points").Drain(ctx)
			require.NoError(t, err)
			exact(t, f, sink, o)
		}},
		{"relay/sink-error-blocks-feed", func(t *testing.T, f *Fixture) {
			f.Drive(t, dispatch.Completed)
			sink := NewSink()
			boom := errors.New("points down")
			sink.After = func(context.Context, string) error { return boom }
			n, err := newRelay(t, f.Store, sink, "points").Drain(ctx)
			require.ErrorIs(t, err, boom)
			require.Equal(t, 3, n, "the three events before the completion are acknowledged")
			pos, err := f.Store.Position(ctx, "points")
			require.NoError(t, err)
			require.Equal(t, uint64(3), pos)
		}},
		{"relay/bonus-on-five-stars", func(t *testing.T, f *Fixture) {
			five := f.Drive(t, dispatch.Evaluated) // scored 5
			four := f.Drive(t, dispatch.Completed)
			f.Fire(t, f.Resident, dispatch.Command{Order: four.ID, Trigger: dispatch.TriggerEvaluate, Evaluation: &dispatch.Evaluation{Score: 4}})
			sink := NewSink()
			_, err := newRelay(t, f.Store, sink, "points").Drain(ctx)
			require.NoError(t, err)
			require.Len(t, sink.Bonuses, 2)
			b, ok := sink.Bonuses[dispatch.BonusKey(five.ID, five.Version, "V-002")]
			require.True(t, ok)
			require.Equal(t, 5, b.Score)
			_, err = dispatch.NewRelay(f.Store, sink, &dispatch.RelayOptions{BonusScore: 6})
			require.ErrorIs(t, err, dispatch.ErrInvalid)
		}},
		{"relay/reopened-order-records-second-service", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Completed)
			o = f.Fire(t, f.Resident, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerEvaluate, Evaluation: &dispatch.Evaluation{Score: 1}})
			o = f.Fire(t, f.Desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerReopen, Reason: "stove still broken"})
			o = f.Fire(t, f.Leaders[TeamS1], dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerComplete, Completion: Completion()})
			sink := NewSink()
			_, err := newRelay(t, f.Store, sink, "points").Drain(ctx)
			require.NoError(t, err)
			require.Len(t, sink.Records, 4)
			require.True(t, decimal.NewFromInt(7).Equal(sink.Hours()))
		}},
	}
}
