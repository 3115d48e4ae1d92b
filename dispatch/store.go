package dispatch

import (
	"context"
	"time"

	"github.com/civicloop/civicloop/org"
)

// Store keeps the menu, the orders with their history, the change feed and
// the relays' positions. The conformance suite dispatch/dispatchtest states
// by test what every implementation must do; a behaviour it does not test is
// not promised.
//
// Rules common to every method:
//
//   - ctx is honoured: a method called with a cancelled context returns
//     ctx.Err() (possibly wrapped) and changes nothing. Stores never keep
//     ctx after returning.
//   - Errors are the sentinels of errors.go, possibly wrapped. Any other
//     error is an infrastructure failure.
//   - Each mutating method is atomic: on error nothing changed.
//   - Returned values belong to the caller: the store keeps no reference to
//     them, nor to the arguments it was given (deep copies, or rows read
//     afresh).
//   - The service validates the transition (table, roles, policy, guards)
//     before calling; the store enforces what depends on other writers at
//     the moment of the write: the expected version and team capacity.
//   - Implementations are safe for concurrent use.
type Store interface {
	// SaveMenuItem writes item. With expected == 0 it creates the item
	// (item.Version is 1) and returns ErrDuplicate if the code exists;
	// otherwise it replaces the stored item if its Version equals expected
	// (item.Version is expected+1), returning ErrNotFound if there is none
	// and ErrConflict if the stored version differs.
	SaveMenuItem(ctx context.Context, item MenuItem, expected uint64) error

	// MenuItem returns the item with the given code. Errors: ErrNotFound.
	MenuItem(ctx context.Context, code ItemCode) (MenuItem, error)

	// Menu returns up to limit items (1..1000) whose code is greater than
	// after, ordered by code; retired items included. Empty, not nil, at
	// the end.
	Menu(ctx context.Context, after ItemCode, limit int) ([]MenuItem, error)

	// Commit writes one transition atomically: the order, its history entry
	// and its change-feed event, or nothing. It assigns the event a Seq
	// strictly greater than any earlier one (ignoring c.Event.Seq) and
	// returns it. Errors: ErrInvalid when c.Order.Version or
	// c.Entry.Version is not c.Expected+1; ErrDuplicate when c.Expected is
	// 0 and the order exists; ErrNotFound when c.Expected > 0 and the order
	// does not exist; ErrConflict when the stored version is not
	// c.Expected; ErrCapacity when the capacity check (see Commit) fails.
	Commit(ctx context.Context, c Commit) (uint64, error)

	// Order returns the order with the given ID. Errors: ErrNotFound.
	Order(ctx context.Context, id OrderID) (Order, error)

	// History returns the order's history entries in version order (first
	// entry has Version 1). Errors: ErrNotFound if the order does not exist.
	History(ctx context.Context, id OrderID) ([]HistoryEntry, error)

	// Orders returns up to limit orders (1..1000) whose ID is greater than
	// after, ordered by ID. Empty, not nil, at the end.
	Orders(ctx context.Context, after OrderID, limit int) ([]Order, error)

	// Due returns up to limit orders whose Order.Due() is set and not after
	// now, earliest due first, then by ID. Empty, not nil, if none. It is
	// a read: calling it again without commits in between returns the
	// same orders.
	Due(ctx context.Context, now time.Time, limit int) ([]Order, error)

	// Loads returns, for each team in teams and in the same order, how many
	// orders it holds in an active state (State.Active) and the feed
	// sequence of the commit that last assigned it an order (0 if never).
	// Unknown teams have zero load.
	Loads(ctx context.Context, teams []org.TeamID) ([]Load, error)

	// Events returns up to limit events (1..1000) of the change feed with
	// Seq greater than after, in Seq order. Empty, not nil, at the end.
	Events(ctx context.Context, after uint64, limit int) ([]Event, error)

	// Position returns the last acknowledged feed position of the named
	// relay; 0 if it never acknowledged.
	Position(ctx context.Context, relay string) (uint64, error)

	// Ack records seq as the named relay's position. Positions only move
	// forward: acknowledging a seq at or below the stored position changes
	// nothing and is not an error. Errors: ErrInvalid if seq is beyond the
	// last event's Seq.
	Ack(ctx context.Context, relay string, seq uint64) error

	// Showcase returns up to limit orders (1..1000) in state Showcased,
	// newest ShowcasedAt first, then by ID descending, strictly after the
	// cursor in that order (the zero cursor starts at the newest). Hidden
	// orders are not returned.
	Showcase(ctx context.Context, after FeedCursor, limit int) ([]Order, error)
}

// DueSharer is an optional extension of Store, for stores that keep orders
// in memory and never modify what they stored in place. Sweep uses it
// instead of Store.Due when the store provides it, to save a deep copy of
// every due order.
type DueSharer interface {
	// DueShared is Store.Due, with the same orders in the same order and
	// the same errors, except that it appends them to buf[:0] (buf may be
	// nil) and that the orders may share memory (slices, pointers) with
	// the store: the caller must not modify anything they reference, only
	// replace it in its own copy of an Order.
	DueShared(ctx context.Context, now time.Time, limit int, buf []Order) ([]Order, error)
}

// Commit is one transition written by Store.Commit.
type Commit struct {
	// Order is the order after the transition; Order.Version must be
	// Expected+1. Order.Item, the menu item snapshot, is written when the
	// order is created and kept as it is by every later commit.
	Order Order
	// Expected is the version the transition was decided on; 0 creates the
	// order.
	Expected uint64
	// Entry is appended to the order's history; Entry.Version equals
	// Order.Version.
	Entry HistoryEntry
	// Event is appended to the change feed.
	Event Event
	// CheckCapacity asks the store to check Capacity, the capacity of
	// Order.Team: the commit fails with ErrCapacity if, counting this
	// order, the team would hold more active orders than Capacity. The
	// count and the write are one atomic step, so concurrent commits never
	// overfill a team.
	CheckCapacity bool
	Capacity      int
	// Assigned marks a commit that gives Order.Team the order (dispatch,
	// claim, reassignment, forced assignment): the team's last-assigned
	// sequence becomes the Seq of the commit's event.
	Assigned bool
}

// Load is a team's current load, as used by routing.
type Load struct {
	Team org.TeamID
	// Active counts the team's orders in an active state.
	Active int
	// LastAssigned is the feed Seq of the last commit that assigned the
	// team an order; 0 if never.
	LastAssigned uint64
}

// FeedCursor is a position in the showcase feed.
type FeedCursor struct {
	At time.Time
	ID OrderID
}
