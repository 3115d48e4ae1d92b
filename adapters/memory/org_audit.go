package memory

import (
	"context"
	"fmt"

	"github.com/civicloop/civicloop/org"
)

// Changes implements org.AuditStore. A node's creating entry is kept by
// position in the node record (a bulk Load shares one entry among all the
// nodes it creates); later entries are indexed by object.
func (s *OrgStore) Changes(ctx context.Context, q org.ChangeQuery) ([]org.Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	keys := changeKeys(org.Change{Node: q.Node, Team: q.Team, Volunteer: q.Volunteer, Pairing: q.Pairing})
	if len(keys) != 1 {
		return nil, fmt.Errorf("changes: exactly one object must be named, got %d: %w", len(keys), org.ErrInvalid)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	lim := max(q.Limit, 1)
	out := []org.Change{}
	if q.Node != "" {
		if i, ok := s.idx.get(q.Node); ok {
			c := s.changes[s.nodes[i].created]
			c.Node = q.Node
			if c.Seq > q.After {
				out = append(out, c)
			}
		}
	}
	for _, pos := range s.changeIdx[keys[0]] {
		if len(out) == lim {
			break
		}
		if c := s.changes[pos]; c.Seq > q.After {
			out = append(out, c)
		}
	}
	return out, nil
}

// RecordRefusal implements org.AuditStore.
func (s *OrgStore) RecordRefusal(ctx context.Context, r org.Refusal) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	r.Seq = s.seq
	s.refusals = append(s.refusals, r)
	return r.Seq, nil
}

// Refusals implements org.AuditStore.
func (s *OrgStore) Refusals(ctx context.Context, after int64, limit int) ([]org.Refusal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []org.Refusal{}
	for _, r := range s.refusals {
		if r.Seq > after && len(out) < max(limit, 1) {
			out = append(out, r)
		}
	}
	return out, nil
}
