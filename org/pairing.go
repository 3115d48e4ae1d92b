package org

import "time"

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
