package points

import (
	"time"

	"github.com/civicloop/civicloop/org"
	"github.com/shopspring/decimal"
)

// AwardKind classifies an award.
type AwardKind string

// Award kinds.
const (
	// AwardService is the hours and points of a confirmed record.
	AwardService AwardKind = "service"
	// AwardReversal takes back a reversed record's hours and points.
	AwardReversal AwardKind = "reversal"
	// AwardBonus is a bonus (e.g. for a five-star evaluation).
	AwardBonus AwardKind = "bonus"
	// AwardPenalty is a deduction (e.g. a no-show).
	AwardPenalty AwardKind = "penalty"
)

// Award is one change of a volunteer's hours and points with the rule and
// the arithmetic that produced it; the statement of a volunteer is the list
// of his awards.
type Award struct {
	// ID is derived from the source: "rec:<record>" for a service award,
	// "rev:<record>" for a reversal, "bonus:<key>", "penalty:<key>". It is
	// also the ledger transfer ID and, for a positive award, the lot ID.
	ID        string
	Volunteer org.VolunteerID
	Kind      AwardKind
	// Record is the service record concerned, if any.
	Record string
	// RuleID is the earning rule applied, if any.
	RuleID string
	// Hours credited (negative for a reversal).
	Hours decimal.Decimal
	// Points credited (negative for a reversal or a penalty); the sum of
	// Lines.
	Points decimal.Decimal
	Lines  []Line
	// At is the time the award is booked at (the activity's time for
	// service awards), which decides the cap periods.
	At time.Time
	// Node is the organising unit credited in roll-ups.
	Node      org.NodeID
	CreatedBy string
	CreatedAt time.Time
}

// LevelChange records a change of a volunteer's star level.
type LevelChange struct {
	Volunteer org.VolunteerID
	From, To  int
	// Hours after the change.
	Hours decimal.Decimal
	// Cause is the award that changed the hours.
	Cause string
	At    time.Time
}

// ObjectionStatus is the state of an objection.
type ObjectionStatus string

// Objection statuses.
const (
	ObjectionOpen      ObjectionStatus = "open"
	ObjectionCorrected ObjectionStatus = "corrected"
	ObjectionRejected  ObjectionStatus = "rejected"
)

// Objection is a volunteer's objection to a confirmed record and its trail.
type Objection struct {
	ID        string
	Record    string
	Volunteer org.VolunteerID
	Reason    string
	Status    ObjectionStatus
	// Trail lists every step: raised, corrected or rejected, with actor and
	// time.
	Trail []ObjectionStep
	// Correction is the compensating record, when corrected.
	Correction string
	Version    int64
}

// ObjectionStep is one entry of an objection's trail.
type ObjectionStep struct {
	Status ObjectionStatus
	Actor  string
	Note   string
	At     time.Time
}

// Period is the span a per-person limit counts over.
type Period string

// Limit periods.
const (
	PeriodDay   Period = "day"
	PeriodWeek  Period = "week"
	PeriodMonth Period = "month"
	PeriodYear  Period = "year"
	PeriodEver  Period = "ever"
)

// Item is a catalogue item (礼遇): a gift in stock or an unlimited
// privilege, funded by its owning node.
type Item struct {
	ID    string
	Owner org.NodeID
	Name  string
	// Description is free text shown to volunteers.
	Description string
	// Price in points, positive, at most 2 decimals.
	Price decimal.Decimal
	// Unlimited items (privileges such as free entry) have no stock.
	Unlimited bool
	// Stock is what is left to reserve; never negative.
	Stock int64
	// MinLevel is the star level needed, 0 for everyone.
	MinLevel int
	// Limit is how many redemptions one volunteer may hold or have fulfilled
	// per LimitPeriod; 0 means no limit.
	Limit       int
	LimitPeriod Period
	// ValidFrom and ValidUntil bound when the item may be redeemed; a zero
	// ValidUntil means open-ended.
	ValidFrom  time.Time
	ValidUntil time.Time
	// PickupWindow is how long a redemption waits for fulfilment before it
	// expires; default 7 days.
	PickupWindow time.Duration
	CreatedBy    string
	CreatedAt    time.Time
	Version      int64
}

// RedemptionStatus is the state of a redemption.
type RedemptionStatus string

// Redemption statuses.
const (
	// RedemptionHeld redemptions hold the points and one unit of stock.
	RedemptionHeld RedemptionStatus = "held"
	// RedemptionFulfilled redemptions were picked up; the points are spent.
	RedemptionFulfilled RedemptionStatus = "fulfilled"
	// RedemptionCancelled and RedemptionExpired redemptions released the
	// points and the stock.
	RedemptionCancelled RedemptionStatus = "cancelled"
	RedemptionExpired   RedemptionStatus = "expired"
)

// Redemption is a volunteer's redemption of one unit of an item.
type Redemption struct {
	ID        string
	Item      string
	Owner     org.NodeID
	Volunteer org.VolunteerID
	Price     decimal.Decimal
	Status    RedemptionStatus
	// Allocations are the lots the held points come from.
	Allocations []Allocation
	// PickupCode must be shown to fulfil.
	PickupCode string
	HeldAt     time.Time
	Deadline   time.Time
	ClosedAt   time.Time
	ClosedBy   string
	Version    int64
}

// Open reports whether the redemption still holds points and stock.
func (r Redemption) Open() bool { return r.Status == RedemptionHeld }
