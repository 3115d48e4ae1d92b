package org

import "errors"

// Sentinel errors of package org. They are returned wrapped, with a message
// naming the field and the reason; match them with errors.Is. Stores return
// the same sentinels, so a caller never needs to know which adapter it talks
// to.
var (
	// ErrInvalid reports input that breaks a field rule: an empty or
	// malformed ID, a missing name, a negative capacity, an unknown kind.
	ErrInvalid = errors.New("org: invalid input")

	// ErrNotFound reports that a node, team, volunteer, membership or
	// pairing named in a request does not exist.
	ErrNotFound = errors.New("org: not found")

	// ErrDuplicate reports that an ID, volunteer number, identity document,
	// membership or overlapping pairing already exists.
	ErrDuplicate = errors.New("org: duplicate")

	// ErrTier reports a tier rule broken: a node whose parent is not of the
	// tier directly above, or a team whose parent team is of the wrong tier.
	ErrTier = errors.New("org: wrong tier")

	// ErrCycle reports a move that would put a node below itself.
	ErrCycle = errors.New("org: cycle")

	// ErrRetired reports that a node, team or volunteer the command needs
	// active (a parent, an anchor, a member) is retired or suspended.
	ErrRetired = errors.New("org: retired")

	// ErrInUse reports a retirement refused because active children, teams
	// or child teams still depend on the object.
	ErrInUse = errors.New("org: in use")

	// ErrOutOfArea reports an object outside the area it must lie in: a
	// volunteer whose home is outside the team's served area, a team area
	// outside its parent team's area.
	ErrOutOfArea = errors.New("org: outside area")

	// ErrForbidden reports that the Policy refused the actor; the message
	// gives the reason. Refusals are recorded (see AuditStore).
	ErrForbidden = errors.New("org: forbidden")

	// ErrConflict reports a concurrent change (a stale Version) or an
	// idempotency key reused with different content.
	ErrConflict = errors.New("org: conflict")
)
