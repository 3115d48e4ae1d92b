package org

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// CounterScale is the number of decimal places of Counters.Hours and
// Counters.Points. Stores may keep both as integer minor units (hundredths).
const CounterScale = 2

// Counters are the additive quantities other packages (points, dispatch)
// roll up per node through Service.AddCounters. A delta may be negative (a
// correction); a node's own totals never fall below zero.
type Counters struct {
	// Hours of confirmed service, scale CounterScale.
	Hours decimal.Decimal
	// Points awarded, scale CounterScale.
	Points decimal.Decimal
	// Orders placed (点单) at the node.
	Orders int64
	// Completed orders.
	Completed int64
	// Activities held.
	Activities int64
}

// IsZero reports whether every counter is zero.
func (c Counters) IsZero() bool {
	return c.Hours.IsZero() && c.Points.IsZero() && c.Orders == 0 && c.Completed == 0 && c.Activities == 0
}

// Add returns c + d.
func (c Counters) Add(d Counters) Counters {
	return Counters{
		Hours:      c.Hours.Add(d.Hours),
		Points:     c.Points.Add(d.Points),
		Orders:     c.Orders + d.Orders,
		Completed:  c.Completed + d.Completed,
		Activities: c.Activities + d.Activities,
	}
}

// Equal reports whether c and d hold the same values.
func (c Counters) Equal(d Counters) bool {
	return c.Hours.Equal(d.Hours) && c.Points.Equal(d.Points) &&
		c.Orders == d.Orders && c.Completed == d.Completed && c.Activities == d.Activities
}

// maxCounter bounds Hours and Points so that their minor units fit an
// int64 with room for sums.
var maxCounter = decimal.New(1, 15)

// Validate checks that Hours and Points have at most CounterScale decimal
// places and lie within ±10^15.
func (c Counters) Validate() error {
	for _, f := range []struct {
		name string
		v    decimal.Decimal
	}{{"hours", c.Hours}, {"points", c.Points}} {
		if f.v.Exponent() < -CounterScale && !f.v.Equal(f.v.Truncate(CounterScale)) {
			return fmt.Errorf("field %s: %s has more than %d decimal places: %w", f.name, f.v, CounterScale, ErrInvalid)
		}
		if f.v.Abs().GreaterThanOrEqual(maxCounter) {
			return fmt.Errorf("field %s: %s is out of range: %w", f.name, f.v, ErrInvalid)
		}
	}
	return nil
}

// Rollup is the summary of a subtree: its active nodes by kind, its active
// teams by tier (anchored in the subtree), its active volunteers (by home
// node), its pairings (all recorded, ended ones included) and the sum of
// the counters added at its nodes (retired nodes included).
type Rollup struct {
	// Node is the subtree's root.
	Node NodeID

	// Centres, Institutes, Stations and Points count the active nodes of
	// each kind, the root included. Points counts practice points (实践点),
	// not the points of Counters.Points.
	Centres    int
	Institutes int
	Stations   int
	Points     int

	// Corps, Detachments and Specialty count active teams anchored in the
	// subtree.
	Corps       int
	Detachments int
	Specialty   int

	// Volunteers counts active volunteers whose home is in the subtree.
	Volunteers int
	// Pairings counts every pairing recorded with a node of the subtree.
	Pairings int

	// Counters sums what AddCounters added at the subtree's nodes.
	Counters Counters
}

// NodesOf returns the number of active nodes of kind k.
func (r Rollup) NodesOf(k Kind) int {
	switch k {
	case Centre:
		return r.Centres
	case Institute:
		return r.Institutes
	case Station:
		return r.Stations
	case Point:
		return r.Points
	}
	return 0
}

// TeamsOf returns the number of active teams of tier t.
func (r Rollup) TeamsOf(t Tier) int {
	switch t {
	case Corps:
		return r.Corps
	case Detachment:
		return r.Detachments
	case Specialty:
		return r.Specialty
	}
	return 0
}

// CounterAdd is one idempotent addition to a node's counters, as handed to
// RollupStore.AddCounters.
type CounterAdd struct {
	// Key is the caller's idempotency key, derived from the source (e.g.
	// "points:record:R123"); a replay with the same key is ignored.
	Key   string
	Node  NodeID
	Delta Counters
	At    time.Time
}

// CounterSink is the small interface other packages depend on to feed
// roll-ups; *Service implements it.
type CounterSink interface {
	AddCounters(ctx context.Context, key string, node NodeID, delta Counters) error
}
