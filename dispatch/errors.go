package dispatch

import "errors"

// Sentinel errors of package dispatch. They are returned wrapped, with a
// message naming the order, the field and the reason; match them with
// errors.Is. Stores return the same sentinels, so a caller never needs to
// know which adapter it talks to. A command refused with any of them has
// changed nothing.
var (
	// ErrInvalid reports input that breaks a field rule: an empty ID, a
	// malformed menu item, a missing or ill-typed required field, a missing
	// reason, a report without participants, hours that are not positive.
	ErrInvalid = errors.New("dispatch: invalid input")

	// ErrNotFound reports that an order, menu item or team named in a
	// request does not exist.
	ErrNotFound = errors.New("dispatch: not found")

	// ErrDuplicate reports that an order or menu item with the same ID
	// already exists.
	ErrDuplicate = errors.New("dispatch: duplicate")

	// ErrRetired reports an order for a menu item that has been retired.
	ErrRetired = errors.New("dispatch: menu item retired")

	// ErrTransition reports a trigger that the transition table does not
	// allow in the order's current state.
	ErrTransition = errors.New("dispatch: trigger not allowed in state")

	// ErrForbidden reports an actor whose role the transition table does not
	// allow for the trigger, who is not the order's resident or team, or
	// whom the Policy refused. Errors wrapping it also wrap org.ErrForbidden.
	ErrForbidden = errors.New("dispatch: forbidden")

	// ErrConflict reports a stale version: the order changed since the
	// caller read it. Re-read the order and decide again.
	ErrConflict = errors.New("dispatch: conflict")

	// ErrCapacity reports a team that already has as many active orders
	// (dispatched, accepted or in service) as its capacity allows.
	ErrCapacity = errors.New("dispatch: team at capacity")

	// ErrOutOfArea reports a team that does not serve the order's node or
	// lacks the menu item's skill (category).
	ErrOutOfArea = errors.New("dispatch: team does not serve order")

	// ErrNoCandidate reports that routing found no team that serves the
	// order's node, has the skill and has free capacity.
	ErrNoCandidate = errors.New("dispatch: no candidate team")

	// ErrReturnLimit reports a Return refused because the order has been
	// returned as many times as Options.MaxReturns allows.
	ErrReturnLimit = errors.New("dispatch: return limit reached")

	// ErrDeadline reports a command that must come before a deadline (an
	// extension request or its approval) arriving after it, or an extension
	// that does not move the deadline later.
	ErrDeadline = errors.New("dispatch: deadline")

	// ErrConsent reports a Showcase for an order whose resident has not
	// consented to publication.
	ErrConsent = errors.New("dispatch: no consent to showcase")
)
