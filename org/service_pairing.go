package org

import (
	"context"
	"fmt"
	"time"
)

// NewPairing is the input to Service.CreatePairing.
type NewPairing struct {
	// ID is optional; Options.NewID fills it when empty.
	ID       string
	Unit     string
	UnitName string
	UnitKind UnitKind
	Node     NodeID
	// Start is required; End is optional (zero: open-ended). Both are cut
	// to the UTC date.
	Start time.Time
	End   time.Time
}

func day(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Validate checks the fields of a NewPairing that need no store.
func (in NewPairing) Validate() error {
	if in.ID != "" {
		if err := checkCode("id", in.ID); err != nil {
			return err
		}
	}
	if err := checkCode("unit", in.Unit); err != nil {
		return err
	}
	if err := checkName("unit_name", in.UnitName); err != nil {
		return err
	}
	if !in.UnitKind.Valid() {
		return fmt.Errorf("field unit_kind: unknown kind %q: %w", in.UnitKind, ErrInvalid)
	}
	if err := checkCode("node", string(in.Node)); err != nil {
		return err
	}
	if in.Start.IsZero() {
		return fmt.Errorf("field start: missing: %w", ErrInvalid)
	}
	if !in.End.IsZero() && !day(in.End).After(day(in.Start)) {
		return fmt.Errorf("field end: %s is not after start %s: %w", day(in.End).Format(time.DateOnly), day(in.Start).Format(time.DateOnly), ErrInvalid)
	}
	return nil
}

// CreatePairing pairs a civilised unit with an institute or a station for
// a period. A pairing of the same unit with the same node whose period
// overlaps is refused. Policy: ActCreatePairing on the node. Errors:
// ErrInvalid, ErrTier (node is a centre or a point), ErrNotFound,
// ErrRetired, ErrDuplicate, ErrForbidden.
func (s *Service) CreatePairing(ctx context.Context, a Actor, in NewPairing) (Pairing, error) {
	if err := in.Validate(); err != nil {
		return Pairing{}, fmt.Errorf("org: create pairing %q-%q: %w", in.Unit, in.Node, err)
	}
	if err := s.authorize(ctx, a, ActCreatePairing, Target{Node: in.Node}); err != nil {
		return Pairing{}, err
	}
	n, err := s.store.Node(ctx, in.Node)
	if err != nil {
		return Pairing{}, fmt.Errorf("org: create pairing %q-%q: field node: %w", in.Unit, in.Node, err)
	}
	if n.Kind != Institute && n.Kind != Station {
		return Pairing{}, fmt.Errorf("org: create pairing %q-%q: field node: a unit pairs with an institute or a station, not a %s: %w", in.Unit, in.Node, n.Kind, ErrTier)
	}
	if in.ID == "" {
		in.ID = s.newID()
	}
	now := s.now()
	p := Pairing{ID: in.ID, Unit: in.Unit, UnitName: in.UnitName, UnitKind: in.UnitKind, Node: in.Node,
		Start: day(in.Start), End: day(in.End), Created: now}
	c := s.change(a, ActCreatePairing, now)
	c.Pairing, c.Node = p.ID, p.Node
	c.Detail = fmt.Sprintf("%s %q paired with %s from %s", p.UnitKind, p.UnitName, p.Node, p.Start.Format(time.DateOnly))
	if err := s.store.CreatePairing(ctx, p, c); err != nil {
		return Pairing{}, fmt.Errorf("org: create pairing %q-%q: %w", in.Unit, in.Node, err)
	}
	return p, nil
}

// EndPairing ends a pairing on the given date (exclusive): the end must be
// after the start and not after an earlier end (Pairing.CheckEnd; the
// store checks again in its write, so a concurrent EndPairing cannot be
// undone by a stale one). Policy: ActEndPairing on the node. Errors:
// ErrInvalid, ErrNotFound, ErrForbidden.
func (s *Service) EndPairing(ctx context.Context, a Actor, id string, end time.Time) (Pairing, error) {
	p, err := s.store.Pairing(ctx, id)
	if err != nil {
		return Pairing{}, fmt.Errorf("org: end pairing %q: %w", id, err)
	}
	if err := s.authorize(ctx, a, ActEndPairing, Target{Node: p.Node}); err != nil {
		return Pairing{}, err
	}
	end = day(end)
	if err := p.CheckEnd(end); err != nil {
		return Pairing{}, fmt.Errorf("org: end pairing %q: %w", id, err)
	}
	c := s.change(a, ActEndPairing, s.now())
	c.Pairing, c.Node = id, p.Node
	c.Detail = "ends " + end.Format(time.DateOnly)
	out, err := s.store.EndPairing(ctx, id, end, c)
	if err != nil {
		return Pairing{}, fmt.Errorf("org: end pairing %q: %w", id, err)
	}
	return out, nil
}

// Pairing returns one pairing. Errors: ErrNotFound.
func (s *Service) Pairing(ctx context.Context, id string) (Pairing, error) {
	p, err := s.store.Pairing(ctx, id)
	if err != nil {
		return Pairing{}, fmt.Errorf("org: pairing %q: %w", id, err)
	}
	return p, nil
}

// Pairings returns the pairings of a unit, of a subtree, or both, ordered
// by start date then ID. Errors: ErrNotFound (node).
func (s *Service) Pairings(ctx context.Context, q PairingQuery) ([]Pairing, error) {
	ps, err := s.store.Pairings(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("org: pairings: %w", err)
	}
	return ps, nil
}
