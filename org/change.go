package org

import "time"

// Action names of the org package, passed to the Policy and recorded in
// every Change.
const (
	ActCreateNode     Action = "org.node.create"
	ActRenameNode     Action = "org.node.rename"
	ActMoveNode       Action = "org.node.move"
	ActRetireNode     Action = "org.node.retire"
	ActReactivateNode Action = "org.node.reactivate"

	ActCreateTeam     Action = "org.team.create"
	ActUpdateTeam     Action = "org.team.update"
	ActRetireTeam     Action = "org.team.retire"
	ActReactivateTeam Action = "org.team.reactivate"
	ActAddMember      Action = "org.team.member.add"
	ActRemoveMember   Action = "org.team.member.remove"

	ActRegisterVolunteer Action = "org.volunteer.register"
	ActUpdateVolunteer   Action = "org.volunteer.update"
	ActSetVolunteer      Action = "org.volunteer.status"

	ActCreatePairing Action = "org.pairing.create"
	ActEndPairing    Action = "org.pairing.end"

	ActImport Action = "org.import"
)

// Change is one entry of the change log: who did what to which object, and
// when. Every mutating command writes exactly one Change in the same store
// call as the change itself (a bulk Load writes one per created object).
type Change struct {
	// Seq is assigned by the store, increasing in the order entries were
	// written. The creation entries one BulkStore.Load writes for its nodes
	// may share one Seq.
	Seq int64
	// Action is what was done.
	Action Action
	// Node, Team, Volunteer and Pairing name the object changed; the
	// fields that do not apply stay empty.
	Node      NodeID
	Team      TeamID
	Volunteer VolunteerID
	Pairing   string
	// Actor is who did it.
	Actor Actor
	// At is when, from Options.Now.
	At time.Time
	// Detail is a short human-readable description ("moved from /a/b/ to
	// /a/c/", "renamed to 西城所").
	Detail string
}

// ChangeQuery selects change-log entries about one object; exactly one of
// Node, Team, Volunteer and Pairing is set.
type ChangeQuery struct {
	Node      NodeID
	Team      TeamID
	Volunteer VolunteerID
	Pairing   string
	// After returns entries with Seq greater than After.
	After int64
	// Limit is the page size (see DefaultLimit, MaxLimit).
	Limit int
}

// Refusal records a command the Policy refused.
type Refusal struct {
	// Seq is assigned by the store: strictly increasing.
	Seq    int64
	Actor  Actor
	Action Action
	Target Target
	// Reason is the policy's error message.
	Reason string
	At     time.Time
}
