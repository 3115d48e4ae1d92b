package points

import (
	"fmt"
	"time"

	"github.com/civicloop/civicloop/org"
	"github.com/shopspring/decimal"
)

// RecordStatus is the state of a service record.
type RecordStatus string

// Record statuses. A record goes draft → confirmed; a confirmed record found
// wrong after an objection becomes reversed and a compensating record takes
// its place. Nothing is ever edited or deleted.
const (
	// RecordDraft records are entered but not yet confirmed; they earn nothing.
	RecordDraft RecordStatus = "draft"
	// RecordConfirmed records are confirmed by the organiser; their hours
	// and points are on the ledger.
	RecordConfirmed RecordStatus = "confirmed"
	// RecordReversed records were confirmed and later reversed by a
	// compensating record; their hours and points were taken back.
	RecordReversed RecordStatus = "reversed"
)

// Activity is the service activity a record belongs to, as 《志愿服务记录与
// 证明出具办法（试行）》 asks: name, category, time, place and content.
type Activity struct {
	// Name of the activity, e.g. "重阳节敬老助老".
	Name string
	// Category selects the points rate (see Rule.Rates), e.g. "elderly".
	Category string
	// Place where the service was given.
	Place string
	// Content describes the service.
	Content string
	// Start and End bound the activity; End is after Start.
	Start time.Time
	End   time.Time
	// HardToStaff marks a service that is hard to staff; rules may multiply
	// its points.
	HardToStaff bool
}

// RecordInput is what an organiser enters for one volunteer.
type RecordInput struct {
	// Volunteer who served.
	Volunteer org.VolunteerID
	// Activity served in.
	Activity Activity
	// Organiser is the organising unit (谁组织谁记录): only an actor of this
	// node records and confirms.
	Organiser org.NodeID
	// Team is the organising team, if any.
	Team org.TeamID
	// SignIn and SignOut give the time actually served. When both are zero,
	// Hours must be given instead.
	SignIn  time.Time
	SignOut time.Time
	// Travel is the travel time inside [SignIn, SignOut], excluded from the
	// hours.
	Travel time.Duration
	// EnteredHours are entered by the organiser when there is no sign-in;
	// at most two decimal places; rounded by the scheme's rule like computed
	// hours.
	EnteredHours decimal.Decimal
	// Training, Honours and Evaluation are optional free text kept with the
	// record (培训、表彰奖励、服务评价).
	Training   string
	Honours    string
	Evaluation string
}

// Record is a service record (志愿服务记录).
type Record struct {
	ID string
	RecordInput
	// Hours is the service time credited, after travel, rounding and cap.
	Hours decimal.Decimal
	// HoursNote explains how Hours was computed.
	HoursNote string
	Status    RecordStatus
	// SourceKey is the idempotency key of a record created from another
	// package (e.g. "dispatch:order-7:V1"); empty otherwise.
	SourceKey string
	// Corrects is the ID of the record this compensating record replaces.
	Corrects string
	// CorrectedBy is the ID of the record that replaced this one.
	CorrectedBy string
	RecordedBy  string
	RecordedAt  time.Time
	ConfirmedBy string
	ConfirmedAt time.Time
	// Award is the ID of the award the confirmation produced.
	Award string
	// Version increases by one with every change.
	Version int64
}

// Live reports whether the record counts (draft or confirmed, not reversed).
func (r Record) Live() bool { return r.Status == RecordDraft || r.Status == RecordConfirmed }

// Interval returns the time the record occupies for overlap checks: the
// sign-in to sign-out span when given, else the activity's span.
func (r RecordInput) Interval() (time.Time, time.Time) {
	if !r.SignIn.IsZero() {
		return r.SignIn, r.SignOut
	}
	return r.Activity.Start, r.Activity.End
}

// At returns the time the record is booked at (for caps and periods).
func (r RecordInput) At() time.Time {
	start, _ := r.Interval()
	return start
}

// Validate checks the fields that do not depend on a scheme.
func (in RecordInput) Validate() error {
	if in.Volunteer == "" {
		return fmt.Errorf("points: record: field volunteer: must not be empty: %w", ErrInvalid)
	}
	if in.Organiser == "" {
		return fmt.Errorf("points: record: field organiser: must not be empty: %w", ErrInvalid)
	}
	if err := in.Activity.validate(); err != nil {
		return err
	}
	if in.Travel < 0 {
		return fmt.Errorf("points: record: field travel: %s is negative: %w", in.Travel, ErrInvalid)
	}
	switch {
	case in.SignIn.IsZero() && in.SignOut.IsZero():
		if in.EnteredHours.Sign() <= 0 {
			return fmt.Errorf("points: record: field hours: %s must be positive when there is no sign-in: %w", in.EnteredHours, ErrInvalidHours)
		}
		if !in.EnteredHours.Equal(in.EnteredHours.Truncate(2)) {
			return fmt.Errorf("points: record: field hours: %s has more than 2 decimal places: %w", in.EnteredHours, ErrInvalidHours)
		}
	case in.SignIn.IsZero():
		return fmt.Errorf("points: record: field sign_in: missing while sign_out is set: %w", ErrInvalidTime)
	case in.SignOut.IsZero():
		return fmt.Errorf("points: record: field sign_out: missing while sign_in is set: %w", ErrInvalidTime)
	case !in.SignOut.After(in.SignIn):
		return fmt.Errorf("points: record: field sign_out: %s is not after sign_in %s: %w",
			in.SignOut.Format(time.RFC3339), in.SignIn.Format(time.RFC3339), ErrInvalidTime)
	case !in.EnteredHours.IsZero():
		return fmt.Errorf("points: record: field hours: give either hours or sign-in/sign-out, not both: %w", ErrInvalidHours)
	}
	return nil
}

func (a Activity) validate() error {
	switch {
	case a.Name == "":
		return fmt.Errorf("points: record: field activity.name: must not be empty: %w", ErrInvalid)
	case a.Category == "":
		return fmt.Errorf("points: record: field activity.category: must not be empty: %w", ErrInvalid)
	case a.Start.IsZero():
		return fmt.Errorf("points: record: field activity.start: must be set: %w", ErrInvalidTime)
	case !a.End.After(a.Start):
		return fmt.Errorf("points: record: field activity.end: %s is not after start %s: %w",
			a.End.Format(time.RFC3339), a.Start.Format(time.RFC3339), ErrInvalidTime)
	}
	return nil
}

// overlaps reports whether two half-open intervals share time.
func overlaps(aStart, aEnd, bStart, bEnd time.Time) bool {
	return aStart.Before(bEnd) && bStart.Before(aEnd)
}
