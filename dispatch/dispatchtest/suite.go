// Package dispatchtest is the conformance suite every dispatch.Store runs,
// and a small fixture (network, clock, actors) for tests and benchmarks.
//
//	func TestDispatchConformance(t *testing.T) {
//		dispatchtest.Run(t, func(t *testing.T) dispatch.Store { return memory.NewDispatchStore() })
//	}
//
// Each subtest gets a fresh store from newStore. The suite drives the store
// through the public dispatch.Service and reads it back through the Store
// interface only.
package dispatchtest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
	"github.com/stretchr/testify/require"
)

type test struct {
	name string
	fn   func(t *testing.T, f *Fixture)
}

// Run runs the conformance suite against stores made by newStore.
func Run(t *testing.T, newStore func(t *testing.T) dispatch.Store) {
	var all []test
	all = append(all, menuTests()...)
	all = append(all, orderTests()...)
	all = append(all, transitionTests()...)
	all = append(all, routeTests()...)
	all = append(all, deadlineTests()...)
	all = append(all, relayTests()...)
	all = append(all, feedTests()...)
	all = append(all, storeTests()...)
	for _, tc := range all {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, NewFixture(t, newStore(t), nil))
		})
	}
	for _, row := range dispatch.Transitions() {
		if row.Trigger == dispatch.TriggerOrder {
			continue
		}
		t.Run(fmt.Sprintf("table/%s/%s/%s", row.From, row.Trigger, row.To), func(t *testing.T) {
			testRow(t, func() *Fixture { return NewFixture(t, newStore(t), nil) }, row)
		})
	}
	t.Run("rapid/state-machine", func(t *testing.T) { testStateMachine(t, newStore) })
}

// snapshot is what a refused command must leave untouched.
type snapshot struct {
	order   dispatch.Order
	history []dispatch.HistoryEntry
	events  []dispatch.Event
}

func (f *Fixture) snap(t *testing.T, id dispatch.OrderID) snapshot {
	t.Helper()
	ctx := context.Background()
	o, err := f.Store.Order(ctx, id)
	require.NoError(t, err)
	h, err := f.Store.History(ctx, id)
	require.NoError(t, err)
	ev, err := f.Store.Events(ctx, 0, 1000)
	require.NoError(t, err)
	return snapshot{o, h, ev}
}

// refused fires c as a, requires an error matching want whose message
// names field, and requires that nothing changed.
func (f *Fixture) refused(t *testing.T, a org.Actor, c dispatch.Command, want error, field string) {
	t.Helper()
	before := f.snap(t, c.Order)
	_, err := f.Service.Fire(context.Background(), a, c)
	require.ErrorIs(t, err, want)
	if field != "" {
		require.Contains(t, err.Error(), "field "+field)
	}
	require.Equal(t, before, f.snap(t, c.Order), "a refused command changed the store")
}

func isAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
