package memory

import (
	"context"
	"fmt"

	"github.com/civicloop/civicloop/org"
	"github.com/shopspring/decimal"
)

// minor converts a validated counter to hundredths.
func minor(field string, d decimal.Decimal) (int64, error) {
	m := d.Shift(org.CounterScale)
	if !m.Equal(m.Truncate(0)) || m.Abs().GreaterThan(decimal.New(1, 17)) {
		return 0, fmt.Errorf("field %s: %s is not a whole number of hundredths in range: %w", field, d, org.ErrInvalid)
	}
	return m.IntPart(), nil
}

func ctrDelta(c org.Counters) ([5]int64, error) {
	var d [5]int64
	var err error
	if d[0], err = minor("hours", c.Hours); err != nil {
		return d, err
	}
	if d[1], err = minor("points", c.Points); err != nil {
		return d, err
	}
	d[2], d[3], d[4] = c.Orders, c.Completed, c.Activities
	return d, nil
}

func (s *OrgStore) addCtrUp(i int32, d [5]int64, sign int64) {
	for ; i >= 0; i = s.up[i] {
		r := &s.nodes[i]
		if r.ctr == nil {
			r.ctr = &ctrRec{}
		}
		for k := range d {
			r.ctr.sub[k] += sign * d[k]
		}
	}
}

// Rollup implements org.RollupStore.
func (s *OrgStore) Rollup(ctx context.Context, node org.NodeID) (org.Rollup, error) {
	if err := ctx.Err(); err != nil {
		return org.Rollup{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, err := s.lookup(node)
	if err != nil {
		return org.Rollup{}, err
	}
	r := &s.nodes[i]
	t := r.sub
	out := org.Rollup{Node: node,
		Centres: int(t.nodes[0]), Institutes: int(t.nodes[1]), Stations: int(t.nodes[2]), Points: int(t.nodes[3]),
		Corps: int(t.teams[0]), Detachments: int(t.teams[1]), Specialty: int(t.teams[2]),
		Volunteers: int(t.vols), Pairings: int(t.pairings)}
	if c := r.ctr; c != nil {
		out.Counters = org.Counters{Hours: decimal.New(c.sub[0], -org.CounterScale), Points: decimal.New(c.sub[1], -org.CounterScale),
			Orders: c.sub[2], Completed: c.sub[3], Activities: c.sub[4]}
	}
	return out, nil
}

// AddCounters implements org.RollupStore.
func (s *OrgStore) AddCounters(ctx context.Context, a org.CounterAdd) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	d, err := ctrDelta(a.Delta)
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.counterKeys[a.Key]; ok {
		if prev.node != a.Node || prev.delta != d {
			return false, fmt.Errorf("key %q was used for node %q with another delta: %w", a.Key, prev.node, org.ErrConflict)
		}
		return false, nil
	}
	i, err := s.lookup(a.Node)
	if err != nil {
		return false, err
	}
	r := &s.nodes[i]
	var oh, op int64
	if r.ctr != nil {
		oh, op = r.ctr.ownHours, r.ctr.ownPoints
	}
	if oh+d[0] < 0 || op+d[1] < 0 {
		return false, fmt.Errorf("node %q: own hours or points would fall below zero: %w", a.Node, org.ErrInvalid)
	}
	s.addCtrUp(i, d, 1)
	r.ctr.ownHours += d[0]
	r.ctr.ownPoints += d[1]
	s.counterKeys[a.Key] = counterAdd{node: a.Node, delta: d}
	return true, nil
}
