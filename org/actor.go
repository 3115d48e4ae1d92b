package org

import "context"

// NodeID identifies a node of the practice network (centre, institute,
// station or practice point).
type NodeID string

// TeamID identifies a volunteer team (general corps, detachment or specialty
// team).
type TeamID string

// VolunteerID identifies a volunteer by the unified volunteer number.
type VolunteerID string

// Role is the capacity in which an Actor acts.
type Role string

// The roles the default policy knows. Users may define more roles and a
// Policy that understands them.
const (
	// RoleAdmin administers a node and acts within its subtree.
	RoleAdmin Role = "admin"
	// RoleDesk is the dispatch desk (一体化调度) of a node; it acts within
	// the node's subtree like an administrator for dispatch commands.
	RoleDesk Role = "desk"
	// RoleTeamLeader leads one team and acts for it.
	RoleTeamLeader Role = "team_leader"
	// RoleVolunteer is a registered volunteer acting for himself.
	RoleVolunteer Role = "volunteer"
	// RoleResident is a resident (群众) ordering services for himself.
	RoleResident Role = "resident"
	// RoleSystem is the library itself (deadline sweeps, relays).
	RoleSystem Role = "system"
)

// Actor is who performs a command: an identity, the role it acts in and the
// node (for admins and desks) or team (for team leaders) that scopes it.
// Every mutating command of every domain package takes an Actor and asks a
// Policy before it changes anything.
type Actor struct {
	// ID is the principal's identifier (a user ID, a volunteer number, a
	// resident's account); it is recorded in every history entry.
	ID string
	// Role is the capacity in which the principal acts.
	Role Role
	// Scope is the node an admin or desk administers; empty otherwise.
	Scope NodeID
	// Team is the team a team leader leads; empty otherwise.
	Team TeamID
}

// Action names what an actor wants to do, e.g. "org.node.create" or
// "dispatch.accept". Packages define their own action names.
type Action string

// Target is what an action touches. Fields that do not apply stay empty.
type Target struct {
	// Node is the node the action takes place at or changes.
	Node NodeID
	// Team is the team the action is taken for.
	Team TeamID
	// Owner is the principal that owns the object acted upon (a resident's
	// own order, a volunteer's own record).
	Owner string
}

// Policy decides whether an actor may perform an action on a target.
// Authorize returns nil to allow, or an error wrapping ErrForbidden whose
// message gives the reason. Implementations must be safe for concurrent use.
type Policy interface {
	Authorize(ctx context.Context, a Actor, act Action, t Target) error
}
