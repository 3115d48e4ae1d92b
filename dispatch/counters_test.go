package dispatch_test

import (
	"context"
	"errors"
	"testing"

	"github.com/civicloop/civicloop/adapters/memory"
	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/dispatch/dispatchtest"
	"github.com/civicloop/civicloop/org"
	"github.com/stretchr/testify/require"
)

// counterSink is an org.CounterSink idempotent by key, like org's, that can
// be told to fail.
type counterSink struct {
	applied map[string]bool
	totals  map[org.NodeID]org.Counters
	calls   int
	fail    error
}

func (c *counterSink) AddCounters(_ context.Context, key string, node org.NodeID, d org.Counters) error {
	c.calls++
	if c.fail != nil {
		return c.fail
	}
	if c.applied[key] {
		return nil
	}
	c.applied[key] = true
	c.totals[node] = c.totals[node].Add(d)
	return nil
}

type noRecords struct{}

func (noRecords) RecordService(context.Context, string, dispatch.ServiceRecord) error { return nil }
func (noRecords) AwardBonus(context.Context, string, dispatch.Bonus) error            { return nil }

// TestRelayFeedsCounters checks that the relay counts each order once when
// placed and once when completed, across a reopened and again completed
// order, a relay killed before its acknowledgement and a failing sink.
func TestRelayFeedsCounters(t *testing.T) {
	ctx := context.Background()
	store := &crashingAck{Store: memory.NewDispatchStore(), crashOn: map[uint64]bool{}}
	f := dispatchtest.NewFixture(t, store, nil)
	sink := &counterSink{applied: map[string]bool{}, totals: map[org.NodeID]org.Counters{}}
	relay, err := dispatch.NewRelay(store, noRecords{}, &dispatch.RelayOptions{Name: "counters", Counters: sink})
	require.NoError(t, err)

	o := f.Drive(t, dispatch.Completed)
	c := dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerEvaluate, Evaluation: &dispatch.Evaluation{Score: 2}}
	o = f.Fire(t, f.Resident, c)
	o = f.Fire(t, f.Desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerReopen, Reason: "stove still broken"})
	o = f.Fire(t, f.Leaders[dispatchtest.TeamS1], dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerComplete, Completion: dispatchtest.Completion()})
	f.Place(t, dispatchtest.NodeS2) // placed, never completed

	sink.fail = errors.New("org down")
	_, err = relay.Drain(ctx)
	require.ErrorIs(t, err, sink.fail)
	pos, err := store.Position(ctx, "counters")
	require.NoError(t, err)
	require.Zero(t, pos, "an event the sink refused stays unacknowledged")
	sink.fail = nil

	store.crashOn[1] = true // dies after counting the first order
	_, err = relay.Drain(ctx)
	require.ErrorIs(t, err, errKilled)
	_, err = relay.Drain(ctx)
	require.NoError(t, err)

	require.Equal(t, int64(1), sink.totals[dispatchtest.NodeS1].Orders)
	require.Equal(t, int64(1), sink.totals[dispatchtest.NodeS1].Completed, "a reopened order completed twice is one completed order")
	require.Equal(t, int64(1), sink.totals[dispatchtest.NodeS2].Orders)
	require.Zero(t, sink.totals[dispatchtest.NodeS2].Completed)
	require.True(t, sink.applied[dispatch.OrderedKey(o.ID)])
	require.True(t, sink.applied[dispatch.CompletedKey(o.ID)])
}

// TestRelayWithoutCounters checks that a relay without Counters feeds
// none.
func TestRelayWithoutCounters(t *testing.T) {
	store := memory.NewDispatchStore()
	f := dispatchtest.NewFixture(t, store, nil)
	f.Drive(t, dispatch.Completed)
	relay, err := dispatch.NewRelay(store, noRecords{}, nil)
	require.NoError(t, err)
	n, err := relay.Drain(context.Background())
	require.NoError(t, err)
	require.Equal(t, 4, n)
}

var _ org.CounterSink = (*org.Service)(nil)
