package org

import (
	"fmt"
	"time"
)

// UnitKind is the kind of a civilised unit paired with a node.
type UnitKind string

// Unit kinds.
const (
	// CivilisedUnit is a 文明单位.
	CivilisedUnit UnitKind = "civilised_unit"
	// CivilisedCampus is a 文明校园.
	CivilisedCampus UnitKind = "civilised_campus"
	// OtherUnit is any other unit, e.g. a member of the centre's joint
	// conference (联席会议成员单位).
	OtherUnit UnitKind = "other"
)

// Valid reports whether k is a known unit kind.
func (k UnitKind) Valid() bool {
	return k == CivilisedUnit || k == CivilisedCampus || k == OtherUnit
}

// Pairing is a civilised unit paired with an institute or a station for a
// period (结对共建).
type Pairing struct {
	// ID identifies the pairing; generated when empty on creation.
	ID string
	// Unit is the unit's code (same rules as Node.ID); UnitName its name.
	Unit     string
	UnitName string
	UnitKind UnitKind
	// Node is the institute or station paired with.
	Node NodeID
	// Start is the first day; End the day after the last (exclusive); a
	// zero End means open-ended. Both are dates at UTC midnight.
	Start time.Time
	End   time.Time
	// Created is when the pairing was recorded.
	Created time.Time
}

// Overlaps reports whether the periods of p and q intersect.
func (p Pairing) Overlaps(q Pairing) bool {
	return (p.End.IsZero() || q.Start.Before(p.End)) && (q.End.IsZero() || p.Start.Before(q.End))
}

// CheckEnd reports whether end may become p's end: it must be after the
// start and, when p has an end already, not after it, so that a period
// only shrinks and ending a pairing cannot make it overlap another. The
// service checks it against the pairing it read and every store again
// inside its write. It returns an error wrapping ErrInvalid.
func (p Pairing) CheckEnd(end time.Time) error {
	if end.IsZero() || !end.After(p.Start) {
		return fmt.Errorf("field end: %s is not after start %s: %w", end.Format(time.DateOnly), p.Start.Format(time.DateOnly), ErrInvalid)
	}
	if !p.End.IsZero() && end.After(p.End) {
		return fmt.Errorf("field end: %s is after the current end %s: %w", end.Format(time.DateOnly), p.End.Format(time.DateOnly), ErrInvalid)
	}
	return nil
}

// ActiveAt reports whether the pairing is in force at t.
func (p Pairing) ActiveAt(t time.Time) bool {
	return !t.Before(p.Start) && (p.End.IsZero() || t.Before(p.End))
}

// PairingQuery selects pairings by unit, by node, or both.
type PairingQuery struct {
	// Unit keeps pairings of this unit; empty keeps all units.
	Unit string
	// Node keeps pairings with nodes in this subtree; empty keeps all.
	Node NodeID
}
