package dispatch

import (
	"slices"
	"strings"
	"time"

	"github.com/civicloop/civicloop/org"
	"github.com/shopspring/decimal"
)

// OrderID identifies an order.
type OrderID string

// Mode is how an order reaches a team.
type Mode string

const (
	// ModeDesk: the desk or its matcher assigns a team (派单).
	ModeDesk Mode = "desk"
	// ModePool: the order is published and teams claim it (抢单).
	ModePool Mode = "pool"
)

// Participant is a volunteer who served on an order and the hours he served.
type Participant struct {
	Volunteer org.VolunteerID
	// Hours of actual service, positive, at most two decimals and at most
	// 24 per order.
	Hours decimal.Decimal
}

// Completion is the team's report of a delivered service.
type Completion struct {
	// Report describes what was done; required.
	Report string
	// Participants lists who served and for how long; at least one, no
	// volunteer twice.
	Participants []Participant
	// Photos are references (URLs, object keys) to photos kept elsewhere.
	Photos []string
}

// Evaluation is the resident's verdict on a completed order (评单).
type Evaluation struct {
	// Score from 1 (very unsatisfied) to 5 (very satisfied).
	Score int
	// Comment is free text; may be empty.
	Comment string
	// Consent allows the desk to showcase the order (晒单).
	Consent bool
}

// Extension is a team's request for a later complete-by (延期).
type Extension struct {
	Until  time.Time
	Reason string
	At     time.Time
}

// Order is one service ordered by a resident and its way through the loop.
type Order struct {
	ID OrderID
	// Item is the menu item as it was when ordered.
	Item MenuItem
	// Resident is the ID of the resident who ordered; he alone may evaluate.
	Resident string
	// Node is where the service is needed (usually a station).
	Node org.NodeID
	// Fields are the values the resident filled in, sorted by name.
	Fields []FieldValue

	State State
	Mode  Mode
	// Team is the team currently (or last) responsible.
	Team org.TeamID
	// Version counts committed transitions; it is 1 after ordering.
	Version uint64
	// Returns counts how often the order was returned.
	Returns int
	// Urges counts overdue notices.
	Urges int
	// ReturnedBy lists the teams that returned the order, oldest first;
	// routing passes them over.
	ReturnedBy []org.TeamID

	// Deadlines. A zero time means no such deadline is running. AcceptBy
	// runs only while Dispatched, CompleteBy only while Accepted or
	// InService, EvaluateBy only while Completed.
	AcceptBy   time.Time
	CompleteBy time.Time
	EvaluateBy time.Time
	// UrgedFor is the complete-by the timer last urged for, so a sweep
	// urges once per deadline.
	UrgedFor time.Time
	// Pending is an extension request awaiting approval.
	Pending *Extension

	Completion *Completion
	Evaluation *Evaluation

	// Milestones, for statistics. Zero until they happen; the first
	// occurrence is kept.
	OrderedAt    time.Time
	RoutedAt     time.Time // first dispatched or published
	AcceptedAt   time.Time // first accepted or claimed by a team
	CompletedAt  time.Time
	EvaluatedAt  time.Time
	ShowcasedAt  time.Time
	UpdatedAt    time.Time
	ForceAssigns int
	// ServingSince is when the current team last took the order on
	// (accepted, claimed, forced, reopened) or started serving; the
	// service period reported to points runs from it to completion.
	ServingSince time.Time
}

// FieldValue is the value a resident gave for one field of a menu item.
type FieldValue struct {
	Name  string
	Value string
}

// Field returns the value given for the named field.
func (o Order) Field(name string) (string, bool) {
	i, ok := slices.BinarySearchFunc(o.Fields, name, func(f FieldValue, n string) int { return strings.Compare(f.Name, n) })
	if !ok {
		return "", false
	}
	return o.Fields[i].Value, true
}

// Public returns the coarse status shown on public screens.
func (o Order) Public() PublicStatus { return o.State.Public() }

// Clone returns a deep copy that shares no map, slice or pointer with o.
func (o Order) Clone() Order {
	o.Item = o.Item.Clone()
	o.Fields = slices.Clone(o.Fields)
	o.ReturnedBy = slices.Clone(o.ReturnedBy)
	if o.Pending != nil {
		p := *o.Pending
		o.Pending = &p
	}
	if o.Completion != nil {
		c := *o.Completion
		c.Participants = slices.Clone(c.Participants)
		c.Photos = slices.Clone(c.Photos)
		o.Completion = &c
	}
	if o.Evaluation != nil {
		e := *o.Evaluation
		o.Evaluation = &e
	}
	return o
}

// HistoryEntry records one committed transition of an order.
type HistoryEntry struct {
	// Version is the order's version after the transition.
	Version uint64
	Actor   org.Actor
	Trigger Trigger
	From    State
	To      State
	At      time.Time
	Reason  string
	// Team is the team responsible after the transition.
	Team org.TeamID
}

// Event is an entry of the change feed (outbox), written in the same store
// write as the transition it reports. Relays read the feed in Seq order.
type Event struct {
	// Seq is the feed position, assigned by the store: strictly increasing,
	// starting at 1, without reuse.
	Seq     uint64
	Order   OrderID
	Version uint64
	Trigger Trigger
	From    State
	To      State
	At      time.Time
	Actor   org.Actor
	Team    org.TeamID
	Node    org.NodeID
	// Item is the service code and Category its category.
	Item     ItemCode
	Category string
	// Completion is set on TriggerComplete and TriggerEvaluate events.
	Completion *Completion
	// Since is the order's ServingSince, set on TriggerComplete events.
	Since time.Time
	// Evaluation is set on TriggerEvaluate events.
	Evaluation *Evaluation
}

// Clone returns a deep copy that shares no slice or pointer with e.
func (e Event) Clone() Event {
	if e.Completion != nil {
		c := *e.Completion
		c.Participants = slices.Clone(c.Participants)
		c.Photos = slices.Clone(c.Photos)
		e.Completion = &c
	}
	if e.Evaluation != nil {
		v := *e.Evaluation
		e.Evaluation = &v
	}
	return e
}
