package org

import (
	"context"
	"fmt"
)

// Rollup returns the subtree totals of a node in O(1) or O(depth): node
// counts by kind, team counts by tier, volunteers, pairings and counters.
// Errors: ErrNotFound.
func (s *Service) Rollup(ctx context.Context, node NodeID) (Rollup, error) {
	r, err := s.store.Rollup(ctx, node)
	if err != nil {
		return Rollup{}, fmt.Errorf("org: rollup of %q: %w", node, err)
	}
	return r, nil
}

// AddCounters adds delta to node's counters and to every ancestor's
// roll-up, once per key: a replay with the same key, node and delta is
// ignored (nil error), so feeds may be replayed. It takes no Actor: it is
// fed by other packages' commands that have already been authorised.
// Errors: ErrInvalid (empty key, zero delta, too many decimals, own totals
// below zero), ErrNotFound, ErrConflict (key reused with other content).
func (s *Service) AddCounters(ctx context.Context, key string, node NodeID, delta Counters) error {
	if key == "" || len(key) > 200 {
		return fmt.Errorf("org: add counters at %q: field key: must be 1 to 200 bytes: %w", node, ErrInvalid)
	}
	if delta.IsZero() {
		return fmt.Errorf("org: add counters %q at %q: field delta: all zero: %w", key, node, ErrInvalid)
	}
	if err := delta.Validate(); err != nil {
		return fmt.Errorf("org: add counters %q at %q: %w", key, node, err)
	}
	if _, err := s.store.AddCounters(ctx, CounterAdd{Key: key, Node: node, Delta: delta, At: s.now()}); err != nil {
		return fmt.Errorf("org: add counters %q at %q: %w", key, node, err)
	}
	return nil
}

var _ CounterSink = (*Service)(nil)
var _ Scoper = (*Service)(nil)
