package org

import (
	"context"
	"time"
)

// Store keeps the practice network. It is the union of several small
// interfaces so that an adapter (or a test double) can be read one concern
// at a time. The conformance suite org/orgtest states by test what every
// implementation must do; a behaviour it does not test is not promised.
//
// Rules common to every method:
//
//   - ctx is honoured: a method called with a cancelled context returns
//     ctx.Err() (possibly wrapped) and changes nothing. Stores never keep
//     ctx after returning.
//   - Errors are the sentinels of errors.go, possibly wrapped; a store never
//     expects callers to compare message text. Any other error is an
//     infrastructure failure.
//   - Each mutating method is atomic: on error nothing changed.
//   - Mutating methods take the Change to record; the store assigns its Seq
//     and writes it in the same transaction as the change.
//   - Returned slices and structs belong to the caller; the store keeps no
//     reference to them, nor to the arguments it was given.
//   - The service validates field rules and tier rules before calling; the
//     store enforces what depends on other rows at the moment of the write
//     (existence, uniqueness, statuses, cycles) so that concurrent commands
//     cannot break the tree.
//   - Implementations are safe for concurrent use.
//
// # Shape for SQL
//
// Ancestry is a materialised path (Node.Path, "/c/i/s/"): a subtree is the
// index range path >= root.Path AND path < root.Path + "\xff" (or LIKE
// 'root/%'), so subtree pages, volunteer pages and team queries are index
// range scans; Within is a prefix test of two paths. Moving a node rewrites
// the prefix of every path in its subtree in one statement inside one
// transaction. Roll-ups are kept materialised per node as subtree totals:
// every write adds its delta to the node and all its ancestors (O(depth)
// rows, found from the path), so reading one is a primary-key lookup.
type Store interface {
	NodeStore
	TeamStore
	VolunteerStore
	PairingStore
	RollupStore
	AuditStore
	BulkStore
}

// NodeStore keeps the nodes of the tree.
type NodeStore interface {
	// CreateNode inserts n (Path filled by the service, Status Active) and
	// counts it in its own and its ancestors' roll-ups. Errors:
	// ErrDuplicate if n.ID exists; ErrNotFound if n.Parent does not exist;
	// ErrRetired if the parent is retired; ErrTier if the tier rule fails.
	CreateNode(ctx context.Context, n Node, c Change) error

	// RenameNode sets the node's Name and Updated (= c.At) and returns the
	// node as stored. Errors: ErrNotFound.
	RenameNode(ctx context.Context, id NodeID, name string, c Change) (Node, error)

	// MoveNode hangs node id below parent, rewriting the Path of the node
	// and of its whole subtree, and moving the node's subtree totals from
	// the old ancestors' roll-ups to the new ones, all at once. It returns
	// the moved node. Errors, checked in this order: ErrNotFound if either
	// node is missing; ErrCycle if parent is id or lies in id's subtree;
	// ErrRetired if parent is retired; ErrTier if the tier rule fails (the
	// service checked it already; stores check again so that the tree stays
	// valid whoever calls).
	MoveNode(ctx context.Context, id, parent NodeID, c Change) (Node, error)

	// RetireNode marks an active node retired and removes it from its
	// ancestors' node counts. Errors: ErrNotFound; ErrRetired if already
	// retired; ErrInUse if the node has an active child, or an active team
	// is anchored at it or serves it as area.
	RetireNode(ctx context.Context, id NodeID, c Change) (Node, error)

	// ReactivateNode marks a retired node active again. Errors: ErrNotFound;
	// ErrInvalid if it is already active; ErrRetired if its parent is
	// retired.
	ReactivateNode(ctx context.Context, id NodeID, c Change) (Node, error)

	// Node returns one node. Errors: ErrNotFound.
	Node(ctx context.Context, id NodeID) (Node, error)

	// Ancestors returns the ancestors of id, root first, without id itself;
	// empty (not nil) for a root. Errors: ErrNotFound.
	Ancestors(ctx context.Context, id NodeID) ([]Node, error)

	// Within reports whether node lies in the subtree rooted at scope (a
	// node is within itself). Cost O(depth) or better. Errors: ErrNotFound
	// if either node is missing.
	Within(ctx context.Context, scope, node NodeID) (bool, error)

	// Subtree returns a page of the subtree rooted at root (root included),
	// in Path order, filtered by q.Kinds and q.IncludeRetired; q.Limit is
	// already normalised by the service to 1..MaxLimit. Path order is byte
	// order (SQL: COLLATE "C" or BINARY, never a locale collation). Next is
	// the Path of the page's last node when more follow, empty otherwise;
	// a page starts after q.After. Errors: ErrNotFound if root is missing;
	// ErrInvalid for a cursor outside root's subtree.
	Subtree(ctx context.Context, root NodeID, q SubtreeQuery) (NodePage, error)
}

// TeamStore keeps teams and memberships.
type TeamStore interface {
	// CreateTeam inserts t (Status Active, Version 1, Leader empty).
	// Errors: ErrDuplicate if t.ID exists; ErrNotFound if t.Parent,
	// t.Anchor or t.Area does not exist; ErrRetired if any of them is
	// retired.
	CreateTeam(ctx context.Context, t Team, c Change) error

	// UpdateTeam replaces Name, Skills and Capacity of the team with those
	// of t if the stored Version equals t.Version, increments the Version,
	// sets Updated = c.At and returns the stored team. Errors: ErrNotFound;
	// ErrConflict on a stale version.
	UpdateTeam(ctx context.Context, t Team, c Change) (Team, error)

	// SetTeamStatus retires or reactivates a team and updates the roll-ups
	// of its anchor's ancestors. Errors: ErrNotFound; ErrInvalid if it
	// already has that status; ErrInUse when retiring a team with active
	// child teams; ErrRetired when reactivating a team whose parent team,
	// anchor or area is retired.
	SetTeamStatus(ctx context.Context, id TeamID, s Status, c Change) (Team, error)

	// Team returns one team. Errors: ErrNotFound.
	Team(ctx context.Context, id TeamID) (Team, error)

	// Teams returns a page of teams anchored in q.Node's subtree, ordered
	// by ID. Errors: ErrNotFound if q.Node is missing.
	Teams(ctx context.Context, q TeamQuery) (TeamPage, error)

	// TeamsServing returns the active teams that offer skill and whose Area
	// contains node (Area is node or one of its ancestors), nearest area
	// first, then by ID. Empty (not nil) if none. Cost O(depth + result).
	// Errors: ErrNotFound if node is missing.
	TeamsServing(ctx context.Context, node NodeID, skill string) ([]Team, error)

	// AddMembership adds m. A Leader membership also sets the team's
	// Leader. Errors: ErrNotFound for a missing team or volunteer;
	// ErrRetired if the team is retired or the volunteer not active;
	// ErrDuplicate if the volunteer is already a member, or m.Role is
	// Leader and the team already has a leader; ErrOutOfArea if the
	// volunteer's stored home lies outside the team's Area (checked inside
	// the write, against the home as it is then).
	AddMembership(ctx context.Context, m Membership, c Change) error

	// RemoveMembership removes the volunteer from the team, clearing the
	// team's Leader if he led it. Errors: ErrNotFound if there is no such
	// membership.
	RemoveMembership(ctx context.Context, team TeamID, v VolunteerID, c Change) error

	// Members returns the team's memberships ordered by volunteer ID.
	// Errors: ErrNotFound if the team is missing.
	Members(ctx context.Context, team TeamID) ([]Membership, error)

	// Memberships returns the volunteer's memberships ordered by team ID.
	// Errors: ErrNotFound if the volunteer is missing.
	Memberships(ctx context.Context, v VolunteerID) ([]Membership, error)
}

// VolunteerStore keeps volunteers.
type VolunteerStore interface {
	// CreateVolunteer inserts v (Version 1). Errors: ErrDuplicate if v.ID
	// exists or v.DocumentHash is non-empty and already registered;
	// ErrNotFound if v.Home does not exist; ErrRetired if it is retired.
	CreateVolunteer(ctx context.Context, v Volunteer, c Change) error

	// UpdateVolunteer replaces Name, Contact, Home and Status with those of
	// v if the stored Version equals v.Version, increments Version, sets
	// Updated = c.At, moves the volunteer between roll-ups as needed and
	// returns the stored volunteer. Errors: ErrNotFound (volunteer or new
	// home); ErrRetired if the new home is retired; ErrConflict on a stale
	// version; ErrOutOfArea if the home changes to a node outside the Area
	// of a team the volunteer belongs to (all his memberships as stored at
	// the write, whatever the team's status).
	UpdateVolunteer(ctx context.Context, v Volunteer, c Change) (Volunteer, error)

	// Volunteer returns one volunteer. Errors: ErrNotFound.
	Volunteer(ctx context.Context, id VolunteerID) (Volunteer, error)

	// VolunteerByDocument returns the volunteer registered with the given
	// document hash. Errors: ErrNotFound.
	VolunteerByDocument(ctx context.Context, hash string) (Volunteer, error)

	// Volunteers returns a page of the volunteers (any status) whose home
	// lies in root's subtree, ordered by ID; Next is the last ID returned
	// when more follow. Errors: ErrNotFound if root is missing.
	Volunteers(ctx context.Context, root NodeID, p Page) (VolunteerPage, error)
}

// PairingStore keeps pairings of civilised units with nodes.
type PairingStore interface {
	// CreatePairing inserts p. Errors: ErrDuplicate if p.ID exists or a
	// pairing of the same unit with the same node overlaps p's period;
	// ErrNotFound if p.Node does not exist; ErrRetired if it is retired.
	CreatePairing(ctx context.Context, p Pairing, c Change) error

	// EndPairing sets the pairing's End and returns it. The caller has
	// checked Pairing.CheckEnd against the pairing it read; the store
	// checks it again against the stored pairing inside the write, so that
	// the period only shrinks and cannot create an overlap even when
	// another EndPairing committed in between. Errors: ErrNotFound;
	// ErrInvalid if end is not after Start or is after the stored End.
	EndPairing(ctx context.Context, id string, end time.Time, c Change) (Pairing, error)

	// Pairing returns one pairing. Errors: ErrNotFound.
	Pairing(ctx context.Context, id string) (Pairing, error)

	// Pairings returns every pairing matching q, ordered by Start then ID.
	// Errors: ErrNotFound if q.Node is set and missing.
	Pairings(ctx context.Context, q PairingQuery) ([]Pairing, error)
}

// RollupStore keeps per-node subtree totals.
type RollupStore interface {
	// Rollup returns the subtree totals of node. Cost O(1) or O(depth).
	// Errors: ErrNotFound.
	Rollup(ctx context.Context, node NodeID) (Rollup, error)

	// AddCounters adds a.Delta to a.Node's counters and to the subtree
	// totals of all its ancestors, once per a.Key: it returns applied ==
	// true the first time, and false with no change for a replay with the
	// same key, node and delta. Errors: ErrNotFound if the node is
	// missing; ErrConflict if the key was used with another node or delta;
	// ErrInvalid if the node's own Hours or Points would fall below zero.
	AddCounters(ctx context.Context, a CounterAdd) (applied bool, err error)
}

// AuditStore keeps the change log and the refusals.
type AuditStore interface {
	// Changes returns the change-log entries about one object (the fields
	// of q), oldest first, with Seq > q.After, at most q.Limit (already
	// normalised). Errors: ErrInvalid if not exactly one object is named.
	// An unknown object has an empty history (no error).
	Changes(ctx context.Context, q ChangeQuery) ([]Change, error)

	// RecordRefusal appends r to the refusal log and returns its Seq.
	RecordRefusal(ctx context.Context, r Refusal) (int64, error)

	// Refusals returns refusals with Seq > after, oldest first, at most
	// limit (already normalised).
	Refusals(ctx context.Context, after int64, limit int) ([]Refusal, error)
}

// Bulk is a batch of new objects for BulkStore.Load. Nodes come parents
// first, teams parent teams first; Path, Status, Version and times are
// filled by the service.
type Bulk struct {
	Nodes       []Node
	Teams       []Team
	Volunteers  []Volunteer
	Memberships []Membership
	Pairings    []Pairing
}

// BulkStore creates many objects in one call, for imports and large
// builds.
type BulkStore interface {
	// Load inserts everything in b at once, or nothing. References (node
	// parents, team parents, anchors, areas, homes, membership teams and
	// volunteers, pairing nodes) must exist in the store or earlier in b.
	// Each created object's history starts with c (its object field set).
	// Errors: ErrDuplicate for an ID (or document hash, or overlapping
	// pairing) already present or listed twice; ErrNotFound for a missing
	// reference; ErrRetired for a retired one; ErrTier for a node breaking
	// the tier rule; ErrOutOfArea for a membership whose volunteer's home
	// (as stored, or as in b) lies outside its team's Area. The store keeps
	// none of b's slices.
	Load(ctx context.Context, b *Bulk, c Change) error
}
