package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/civicloop/civicloop/org"
)

var pairTally = tally{pairings: 1}

func (s *OrgStore) checkPairing(p org.Pairing) (int32, error) {
	if _, dup := s.pairings[p.ID]; dup {
		return -1, fmt.Errorf("field id: pairing %q already exists: %w", p.ID, org.ErrDuplicate)
	}
	n, err := s.lookup(p.Node)
	if err != nil {
		return -1, fmt.Errorf("field node: %w", err)
	}
	if s.nodes[n].retired {
		return -1, fmt.Errorf("field node: node %q is retired: %w", p.Node, org.ErrRetired)
	}
	for _, id := range s.byUnit[p.Unit] {
		if q := s.pairings[id].p; q.Node == p.Node && q.Overlaps(p) {
			return -1, fmt.Errorf("field start: overlaps pairing %q of unit %q with %q: %w", q.ID, p.Unit, p.Node, org.ErrDuplicate)
		}
	}
	return n, nil
}

func (s *OrgStore) insertPairing(p org.Pairing, n int32) {
	s.pairings[p.ID] = &pairRec{p: p, node: n}
	s.byUnit[p.Unit] = append(s.byUnit[p.Unit], p.ID)
	s.byNode[n] = append(s.byNode[n], p.ID)
	s.addUp(n, pairTally, 1)
}

// CreatePairing implements org.PairingStore.
func (s *OrgStore) CreatePairing(ctx context.Context, p org.Pairing, c org.Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.checkPairing(p)
	if err != nil {
		return err
	}
	s.insertPairing(p, n)
	s.record(c, true)
	return nil
}

// EndPairing implements org.PairingStore.
func (s *OrgStore) EndPairing(ctx context.Context, id string, end time.Time, c org.Change) (org.Pairing, error) {
	if err := ctx.Err(); err != nil {
		return org.Pairing{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.pairings[id]
	if !ok {
		return org.Pairing{}, fmt.Errorf("pairing %q: %w", id, org.ErrNotFound)
	}
	// The service checked end against the pairing it read; check again
	// under the lock so that a stale call cannot move a committed end
	// later (and the pairing into an overlap).
	if err := r.p.CheckEnd(end); err != nil {
		return org.Pairing{}, fmt.Errorf("pairing %q: %w", id, err)
	}
	r.p.End = end
	s.record(c, true)
	return r.p, nil
}

// Pairing implements org.PairingStore.
func (s *OrgStore) Pairing(ctx context.Context, id string) (org.Pairing, error) {
	if err := ctx.Err(); err != nil {
		return org.Pairing{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.pairings[id]
	if !ok {
		return org.Pairing{}, fmt.Errorf("pairing %q: %w", id, org.ErrNotFound)
	}
	return r.p, nil
}

// Pairings implements org.PairingStore.
func (s *OrgStore) Pairings(ctx context.Context, q org.PairingQuery) ([]org.Pairing, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	root := int32(-1)
	if q.Node != "" {
		var err error
		if root, err = s.lookup(q.Node); err != nil {
			return nil, err
		}
	}
	out := []org.Pairing{}
	keep := func(r *pairRec) {
		if (q.Unit == "" || r.p.Unit == q.Unit) && (root < 0 || s.within(root, r.node)) {
			out = append(out, r.p)
		}
	}
	switch {
	case q.Unit != "":
		for _, id := range s.byUnit[q.Unit] {
			keep(s.pairings[id])
		}
	case root >= 0:
		for _, n := range s.subtreeNodes(root) {
			for _, id := range s.byNode[n] {
				keep(s.pairings[id])
			}
		}
	default:
		for _, r := range s.pairings {
			keep(r)
		}
	}
	slices.SortFunc(out, func(a, b org.Pairing) int {
		return cmp.Or(a.Start.Compare(b.Start), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}
