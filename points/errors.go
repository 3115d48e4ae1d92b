package points

import "errors"

// Sentinel errors of package points. Every error returned by this package and
// by a conforming Store wraps one of them (possibly together with a sentinel of
// package ledger or org); match them with errors.Is, never by message text.
// Messages name the field and the reason. A refused command changes nothing.
var (
	// ErrInvalid reports input that breaks a field rule: an empty ID or name,
	// a negative travel time, an unknown category or period, a malformed
	// scheme.
	ErrInvalid = errors.New("points: invalid input")

	// ErrInvalidHours reports service hours that are not positive, exceed the
	// per-activity cap, or have more than two decimal places.
	ErrInvalidHours = errors.New("points: invalid hours")

	// ErrInvalidTime reports times that contradict each other: a sign-out
	// before the sign-in, an activity that ends before it starts, a validity
	// window that closes before it opens.
	ErrInvalidTime = errors.New("points: invalid time")

	// ErrInvalidAmount reports a points amount (a price, a rate, a penalty)
	// that is not positive or has more than two decimal places.
	ErrInvalidAmount = errors.New("points: invalid amount")

	// ErrNotFound reports an unknown record, objection, item, redemption,
	// certificate or award.
	ErrNotFound = errors.New("points: not found")

	// ErrUnknownVolunteer reports a volunteer the directory does not know.
	ErrUnknownVolunteer = errors.New("points: unknown volunteer")

	// ErrVolunteerInactive reports a volunteer who is retired or suspended
	// and may therefore not be recorded, rewarded or redeem.
	ErrVolunteerInactive = errors.New("points: volunteer not active")

	// ErrDuplicate reports an ID, a source key or a certificate number a
	// Store already holds, or a participant listed twice in a group.
	ErrDuplicate = errors.New("points: duplicate")

	// ErrOverlap reports a record whose sign-in to sign-out overlaps another
	// live record of the same volunteer, or a record with entered hours that
	// repeats an activity (same name and start) already recorded for him.
	ErrOverlap = errors.New("points: overlapping record")

	// ErrConflict reports a concurrent change (a stale version seen by a
	// Store write; the service retries such writes a few times before it
	// returns this error), or an idempotency key (source key, bonus or
	// penalty key) used again with different input.
	ErrConflict = errors.New("points: conflict")

	// ErrForbidden reports that the actor may not perform the command: the
	// policy refused, the actor is the volunteer himself, or the actor's unit
	// did not organise the activity (谁组织谁记录). The message gives the
	// reason; a policy refusal also wraps org.ErrForbidden.
	ErrForbidden = errors.New("points: forbidden")

	// ErrState reports a command that does not fit the object's state:
	// confirming a reversed record, objecting twice, fulfilling a cancelled
	// redemption.
	ErrState = errors.New("points: wrong state")

	// ErrInsufficientPoints reports a redemption or spend over the
	// volunteer's available points.
	ErrInsufficientPoints = errors.New("points: insufficient points")

	// ErrOutOfStock reports a redemption of an item whose stock is used up.
	ErrOutOfStock = errors.New("points: out of stock")

	// ErrLimit reports a redemption beyond the item's per-person limit for
	// its period.
	ErrLimit = errors.New("points: per-person limit reached")

	// ErrLevel reports a redemption by a volunteer below the item's minimum
	// star level.
	ErrLevel = errors.New("points: star level too low")

	// ErrUnavailable reports an item outside its validity window: not yet
	// valid, or expired.
	ErrUnavailable = errors.New("points: item not available")

	// ErrPickupCode reports a fulfilment with a pickup code that does not
	// match the redemption's.
	ErrPickupCode = errors.New("points: wrong pickup code")

	// ErrLedger reports that the ledger refused or failed an operation the
	// points store had already committed. The operation stays pending and
	// Service.Sync applies it again; the error also wraps the ledger's.
	ErrLedger = errors.New("points: ledger operation pending")
)

func isNotFound(err error) bool  { return errors.Is(err, ErrNotFound) }
func isDuplicate(err error) bool { return errors.Is(err, ErrDuplicate) }
