package dispatch

import (
	"fmt"
	"slices"
	"strings"

	"github.com/civicloop/civicloop/org"
)

// State is where an order stands in the five-order loop (五单闭环).
type State string

// The states of an order. The zero State is the start, before the order
// exists.
const (
	// Ordered: a resident has ordered (点单); the desk decides.
	Ordered State = "ordered"
	// Rejected: the centre refused the order. Terminal.
	Rejected State = "rejected"
	// Published: the order waits in the pool for a team to claim it (抢单).
	Published State = "published"
	// Dispatched: the order is assigned to a team that has not yet
	// accepted it (派单).
	Dispatched State = "dispatched"
	// Accepted: the team has accepted the order (接单).
	Accepted State = "accepted"
	// InService: the team is serving.
	InService State = "in_service"
	// Returned: the team gave the order back (退单); the desk dispatches
	// again or the centre forces an assignment.
	Returned State = "returned"
	// Completed: the team reported the service done; the resident may
	// evaluate.
	Completed State = "completed"
	// Evaluated: the resident scored the service (评单).
	Evaluated State = "evaluated"
	// Showcased: the order is in the public feed (晒单).
	Showcased State = "showcased"
	// Hidden: a showcased order withdrawn from the feed. Terminal.
	Hidden State = "hidden"
	// Cancelled: the resident or the centre cancelled the order. Terminal.
	Cancelled State = "cancelled"
	// Closed: the evaluation window passed without an evaluation; the order
	// is closed unrated. Terminal.
	Closed State = "closed"
)

// Trigger is a command that moves an order from one state to another.
type Trigger string

// The triggers of the transition table.
const (
	TriggerOrder            Trigger = "order"             // 点单: a resident orders a menu item
	TriggerReject           Trigger = "reject"            // the centre refuses the order
	TriggerDispatch         Trigger = "dispatch"          // 派单: the desk (or its matcher) assigns a team
	TriggerPublish          Trigger = "publish"           // the desk puts the order in the pool (抢单)
	TriggerClaim            Trigger = "claim"             // a team takes a published order; first valid claim wins
	TriggerAccept           Trigger = "accept"            // 接单: the dispatched team accepts
	TriggerReturn           Trigger = "return"            // 退单: the team gives the order back, or the accept deadline passed
	TriggerForceAssign      Trigger = "force_assign"      // the centre makes a team responsible for a returned order
	TriggerReassign         Trigger = "reassign"          // 改派: the desk moves the order to another team
	TriggerRequestExtension Trigger = "request_extension" // 延期: the team asks for a later complete-by
	TriggerApprove          Trigger = "approve"           // the desk approves the pending extension
	TriggerUrge             Trigger = "urge"              // 催办: the desk or the timer sends an overdue notice
	TriggerStart            Trigger = "start"             // the team starts serving
	TriggerComplete         Trigger = "complete"          // the team reports the service done
	TriggerEvaluate         Trigger = "evaluate"          // 评单: the resident scores the service
	TriggerClose            Trigger = "close"             // the evaluate-by deadline passed: closed unrated
	TriggerReopen           Trigger = "reopen"            // the desk reopens an unsatisfying order
	TriggerShowcase         Trigger = "showcase"          // 晒单: the desk publishes the order, with consent
	TriggerHide             Trigger = "hide"              // an administrator withdraws a showcased order
	TriggerCancel           Trigger = "cancel"            // the resident (before acceptance) or the centre cancels
)

// Transition is one row of the transition table: in state From, Trigger
// fired by an actor in one of Roles moves the order to To.
type Transition struct {
	From    State
	Trigger Trigger
	To      State
	// Roles lists the roles that may fire the trigger in this state. The
	// Policy is asked in addition.
	Roles []org.Role
	// ReasonRequired refuses the trigger without a reason.
	ReasonRequired bool
}

var (
	resident = []org.Role{org.RoleResident}
	admin    = []org.Role{org.RoleAdmin}
	desk     = []org.Role{org.RoleDesk}
	leader   = []org.Role{org.RoleTeamLeader}
	system   = []org.Role{org.RoleSystem}
)

// table is the transition table: the one place that says which trigger may
// move an order from which state to which, and who may fire it. Everything
// else (the service, the Mermaid diagram, the tests) reads it.
var table = []Transition{
	{"", TriggerOrder, Ordered, resident, false},
	{Ordered, TriggerReject, Rejected, admin, true},
	{Ordered, TriggerDispatch, Dispatched, roles(desk, system), false},
	{Returned, TriggerDispatch, Dispatched, roles(desk, system), false},
	{Ordered, TriggerPublish, Published, desk, false},
	{Returned, TriggerPublish, Published, desk, false},
	{Published, TriggerClaim, Accepted, leader, false},
	{Dispatched, TriggerAccept, Accepted, leader, false},
	{Dispatched, TriggerReturn, Returned, roles(leader, system), true},
	{Accepted, TriggerReturn, Returned, leader, true},
	{Returned, TriggerForceAssign, Accepted, admin, true},
	{Dispatched, TriggerReassign, Dispatched, desk, false},
	{Accepted, TriggerReassign, Dispatched, desk, false},
	{Accepted, TriggerRequestExtension, Accepted, leader, true},
	{InService, TriggerRequestExtension, InService, leader, true},
	{Accepted, TriggerApprove, Accepted, desk, false},
	{InService, TriggerApprove, InService, desk, false},
	{Accepted, TriggerUrge, Accepted, roles(desk, system), false},
	{InService, TriggerUrge, InService, roles(desk, system), false},
	{Accepted, TriggerStart, InService, leader, false},
	{Accepted, TriggerComplete, Completed, leader, false},
	{InService, TriggerComplete, Completed, leader, false},
	{Completed, TriggerEvaluate, Evaluated, resident, false},
	{Completed, TriggerClose, Closed, system, false},
	{Evaluated, TriggerReopen, Accepted, desk, true},
	{Evaluated, TriggerReopen, Dispatched, desk, true},
	{Evaluated, TriggerShowcase, Showcased, desk, false},
	{Showcased, TriggerHide, Hidden, admin, true},
	{Ordered, TriggerCancel, Cancelled, roles(resident, admin), true},
	{Published, TriggerCancel, Cancelled, roles(resident, admin), true},
	{Dispatched, TriggerCancel, Cancelled, roles(resident, admin), true},
	{Returned, TriggerCancel, Cancelled, roles(resident, admin), true},
	{Accepted, TriggerCancel, Cancelled, admin, true},
	{InService, TriggerCancel, Cancelled, admin, true},
}

func roles(sets ...[]org.Role) []org.Role { return slices.Concat(sets...) }

// Transitions returns a copy of the transition table, in its fixed order.
func Transitions() []Transition {
	out := slices.Clone(table)
	for i := range out {
		out[i].Roles = slices.Clone(out[i].Roles)
	}
	return out
}

// States returns every state, in the order they first appear in the table.
func States() []State {
	var out []State
	for _, t := range table {
		for _, s := range []State{t.From, t.To} {
			if s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// Triggers returns every trigger, in the order they first appear in the
// table.
func Triggers() []Trigger {
	var out []Trigger
	for _, t := range table {
		if !slices.Contains(out, t.Trigger) {
			out = append(out, t.Trigger)
		}
	}
	return out
}

// lookup returns the row for (from, trigger, to); to may be empty when the
// trigger has a single target from that state.
func lookup(from State, tr Trigger, to State) (Transition, bool) {
	for _, i := range rowsFrom[edge{from, tr}] {
		if t := table[i]; to == "" || t.To == to {
			return t, true
		}
	}
	return Transition{}, false
}

// edge is a (state, trigger) pair of the table.
type edge struct {
	from State
	tr   Trigger
}

// rowsFrom indexes the table: the positions of the rows of each (state,
// trigger), in table order. It is derived from table once, so that a
// command finds its row without scanning the table.
var rowsFrom = func() map[edge][]int {
	m := map[edge][]int{}
	for i, t := range table {
		k := edge{t.From, t.Trigger}
		m[k] = append(m[k], i)
	}
	return m
}()

// Allows reports whether the table has a row from state from on trigger tr.
func Allows(from State, tr Trigger) bool {
	_, ok := lookup(from, tr, "")
	return ok
}

// Terminal reports whether no trigger leads out of s.
func (s State) Terminal() bool {
	for _, t := range table {
		if t.From == s {
			return false
		}
	}
	return true
}

// Active reports whether an order in state s occupies its team's capacity:
// dispatched, accepted or in service.
func (s State) Active() bool {
	return s == Dispatched || s == Accepted || s == InService
}

// PublicStatus is the coarse status shown on public screens (一云三屏).
type PublicStatus string

const (
	// StatusOpen: the service is still to be delivered.
	StatusOpen PublicStatus = "open"
	// StatusClosed: delivered, refused or cancelled.
	StatusClosed PublicStatus = "closed"
)

// Public returns the coarse public status of s: open from ordering until
// completion, closed afterwards and for refused or cancelled orders.
func (s State) Public() PublicStatus {
	switch s {
	case Ordered, Published, Dispatched, Accepted, InService, Returned:
		return StatusOpen
	}
	return StatusClosed
}

// Mermaid renders the transition table as a Mermaid state diagram: one
// edge per row, labelled with the trigger and the roles allowed, and an end
// edge from each terminal state.
func Mermaid() string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	for _, t := range table {
		from := string(t.From)
		if from == "" {
			from = "[*]"
		}
		names := make([]string, len(t.Roles))
		for i, r := range t.Roles {
			names[i] = string(r)
		}
		fmt.Fprintf(&b, "    %s --> %s: %s (%s)\n", from, t.To, t.Trigger, strings.Join(names, ", "))
	}
	for _, s := range States() {
		if s.Terminal() {
			fmt.Fprintf(&b, "    %s --> [*]\n", s)
		}
	}
	return b.String()
}
