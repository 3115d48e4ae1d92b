package dispatch

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/civicloop/civicloop/org"
)

// OrderRequest is what a resident fills in to order a menu item (点单).
type OrderRequest struct {
	// ID is the new order's ID; empty draws one from Options.NewID. A
	// caller-chosen ID makes a retried request fail with ErrDuplicate
	// instead of ordering twice.
	ID OrderID
	// Item is the menu item's service code.
	Item ItemCode
	// Node is where the service is needed; it must lie in the item's area.
	Node org.NodeID
	// Fields are the values of the item's fields, by name.
	Fields map[string]string
}

// PlaceOrder records a resident's order (点单). The actor must be a
// resident; he becomes the order's Resident. Errors: ErrInvalid (a missing
// node, a required field missing or ill-typed, an unknown field),
// ErrNotFound (unknown menu item or node), ErrRetired (retired item),
// ErrOutOfArea (node outside the item's area), ErrForbidden, ErrDuplicate.
func (s *Service) PlaceOrder(ctx context.Context, a org.Actor, req OrderRequest) (Order, error) {
	row, _ := lookup("", TriggerOrder, Ordered)
	what := orderOf(req.Item)
	if !slices.Contains(row.Roles, a.Role) {
		return Order{}, s.forbidden(ctx, a, what, fmt.Sprintf("role %q may not order", a.Role), nil)
	}
	if blank(a.ID) {
		return Order{}, s.forbidden(ctx, a, what, "actor has no ID", nil)
	}
	if req.Item == "" {
		return Order{}, fmt.Errorf("dispatch: %s: field item: empty: %w", what, ErrInvalid)
	}
	if req.Node == "" {
		return Order{}, fmt.Errorf("dispatch: %s: field node: empty: %w", what, ErrInvalid)
	}
	item, err := s.store.MenuItem(ctx, req.Item)
	if err != nil {
		return Order{}, fmt.Errorf("dispatch: %s: field item: unknown menu item: %w", what, err)
	}
	if item.Retired {
		return Order{}, fmt.Errorf("dispatch: %s: field item: retired: %w", what, ErrRetired)
	}
	if err := item.checkValues(req.Fields); err != nil {
		return Order{}, err
	}
	in, err := s.dir.Within(ctx, item.ServedArea(), req.Node)
	if err != nil {
		return Order{}, fmt.Errorf("dispatch: %s: field node: %w", what, mapOrgErr(err))
	}
	if !in {
		return Order{}, fmt.Errorf("dispatch: %s: field node: %q is outside the item's area %q: %w", what, req.Node, item.ServedArea(), ErrOutOfArea)
	}
	if err := s.policy.Authorize(ctx, a, "dispatch.order", org.Target{Node: req.Node, Owner: a.ID}); err != nil {
		return Order{}, s.forbidden(ctx, a, what, "refused by policy", err)
	}
	now := s.now()
	id := req.ID
	if id == "" {
		id = OrderID(s.opts.NewID())
	}
	o := Order{
		ID: id, Item: item, Resident: a.ID, Node: req.Node, Fields: make([]FieldValue, 0, len(req.Fields)),
		State: Ordered, Version: 1, OrderedAt: now, UpdatedAt: now,
	}
	for name, v := range req.Fields {
		o.Fields = append(o.Fields, FieldValue{Name: name, Value: v})
	}
	slices.SortFunc(o.Fields, func(x, y FieldValue) int { return strings.Compare(x.Name, y.Name) })
	entry := HistoryEntry{Version: 1, Actor: a, Trigger: TriggerOrder, To: Ordered, At: now}
	if _, err := s.store.Commit(ctx, Commit{Order: o, Entry: entry, Event: eventOf(&o, &entry)}); err != nil {
		return Order{}, fmt.Errorf("dispatch: %s: %w", what, err)
	}
	return o, nil // the store kept its own copy
}

// Command fires one trigger on an existing order. Only the fields the
// trigger uses are read.
type Command struct {
	// Order is the order's ID.
	Order OrderID
	// Version is the order version the caller decided on; a different
	// stored version fails with ErrConflict. Zero means "the current one"
	// (the store still refuses a concurrent change).
	Version uint64
	// Trigger is what to do.
	Trigger Trigger
	// Reason explains the command; required where the table says so
	// (reject, return, force assign, extension request, reopen, hide,
	// cancel).
	Reason string
	// Team is the team for Dispatch (empty: routing chooses), Reassign,
	// ForceAssign and Reopen (empty or the current team: back to it as
	// Accepted; another team: Dispatched to it).
	Team org.TeamID
	// Until is the requested complete-by of RequestExtension.
	Until time.Time
	// Completion is the report of Complete.
	Completion *Completion
	// Evaluation is the verdict of Evaluate.
	Evaluation *Evaluation
}

// Fire applies one command to an order and returns the order after it.
// The trigger must be allowed in the order's state by the transition
// table; the actor's role must be one of the row's roles, a resident must
// be the order's resident, a team leader must lead the order's team (for
// Claim: a team that serves the order); then the Policy is asked (action
// "dispatch."+trigger, target the order's node, team and resident), then
// the trigger's guards run. On success the new order, its history entry
// and a change-feed event are written in one store write.
//
// Errors: ErrInvalid (missing reason, bad completion, score outside 1–5,
// ...), ErrNotFound, ErrTransition, ErrForbidden, ErrConflict (stale
// Version or concurrent change), ErrCapacity, ErrOutOfArea,
// ErrNoCandidate, ErrReturnLimit, ErrDeadline, ErrConsent. A refused
// command changes nothing.
func (s *Service) Fire(ctx context.Context, a org.Actor, c Command) (Order, error) {
	if c.Order == "" {
		return Order{}, fmt.Errorf("dispatch: %s: field order: empty: %w", c.Trigger, ErrInvalid)
	}
	o, err := s.store.Order(ctx, c.Order)
	if err != nil {
		return Order{}, fmt.Errorf("dispatch: %s order %q: field order: %w", c.Trigger, c.Order, err)
	}
	return s.apply(ctx, a, &o, c, s.now())
}

// apply decides c on the order o as read, at time now, and commits.
func (s *Service) apply(ctx context.Context, a org.Actor, o *Order, c Command, now time.Time) (Order, error) {
	what := subject{c.Trigger, o.ID}
	if c.Version != 0 && c.Version != o.Version {
		return Order{}, fmt.Errorf("dispatch: %s: field version: stale: %d given, order is at %d: %w", what, c.Version, o.Version, ErrConflict)
	}
	to := State("")
	if c.Trigger == TriggerReopen {
		to = Accepted
		if c.Team != "" && c.Team != o.Team {
			to = Dispatched
		}
	}
	row, ok := lookup(o.State, c.Trigger, to)
	if !ok {
		// Only a failed lookup asks whether the trigger exists at all: a
		// row found is a known trigger, and never TriggerOrder (whose row
		// starts from the empty state, which no order is in).
		if _, known := actions[c.Trigger]; c.Trigger == TriggerOrder || !known {
			return Order{}, fmt.Errorf("dispatch: %s: field trigger: unknown trigger %q: %w", what, c.Trigger, ErrInvalid)
		}
		return Order{}, fmt.Errorf("dispatch: %s: field trigger: %s is not allowed in state %s: %w", what, c.Trigger, o.State, ErrTransition)
	}
	if !slices.Contains(row.Roles, a.Role) {
		return Order{}, s.forbidden(ctx, a, what, fmt.Sprintf("role %q may not %s in state %s", a.Role, row.Trigger, row.From), nil)
	}
	if row.ReasonRequired && blank(c.Reason) {
		return Order{}, fmt.Errorf("dispatch: %s: field reason: required: %w", what, ErrInvalid)
	}
	team, err := s.targetTeam(ctx, a, o, c)
	if err != nil {
		return Order{}, err
	}
	if err := s.authorize(ctx, a, row, o, team, what); err != nil {
		return Order{}, err
	}
	// o is the caller's own copy (read from the store or handed over by
	// Sweep); next may share its slices because guards replace, never
	// mutate, them. next is built in place in the commit: an Order is
	// large, and each copy of it costs.
	commit := Commit{Expected: o.Version, Order: *o}
	next := &commit.Order
	next.ReturnedBy = slices.Clip(next.ReturnedBy)
	next.State = row.To
	next.Version = o.Version + 1
	next.UpdatedAt = now
	if err := s.guard(ctx, a, next, o, c, team, now, &commit, what); err != nil {
		return Order{}, err
	}
	clearDeadlines(next)
	commit.Entry = HistoryEntry{Version: next.Version, Actor: a, Trigger: c.Trigger, From: o.State, To: next.State, At: now, Reason: c.Reason, Team: next.Team}
	commit.Event = eventOf(next, &commit.Entry)
	if _, err := s.store.Commit(ctx, commit); err != nil {
		return Order{}, fmt.Errorf("dispatch: %s: %w", what, err)
	}
	return *next, nil // the store kept its own copy
}

// targetTeam returns the team the command concerns: the order's team, the
// claiming team, or for Dispatch without a team the one routing picks.
func (s *Service) targetTeam(ctx context.Context, a org.Actor, o *Order, c Command) (org.TeamID, error) {
	switch c.Trigger {
	case TriggerClaim:
		if a.Team == "" {
			return "", fmt.Errorf("dispatch: claim order %q: field actor.team: empty: %w", o.ID, ErrInvalid)
		}
		return a.Team, nil
	case TriggerDispatch:
		if c.Team != "" {
			return c.Team, nil
		}
		if !Allows(o.State, TriggerDispatch) {
			return "", nil // the table check reports it
		}
		var first Candidate
		if tm, ok := s.matcher.(*TeamMatcher); ok {
			// Only the first candidate matters: the default matcher finds
			// it without sorting them all.
			best, found, err := tm.best(ctx, o)
			if err != nil {
				return "", err
			}
			if found {
				first = best
			}
		} else {
			cands, err := s.matcher.Match(ctx, *o)
			if err != nil {
				return "", err
			}
			if len(cands) > 0 {
				first = cands[0]
			}
		}
		if !first.Kept {
			return "", fmt.Errorf("dispatch: dispatch order %q: field team: no team serves node %q with skill %q and free capacity: %w", o.ID, o.Node, o.Item.Category, ErrNoCandidate)
		}
		return first.Team, nil
	case TriggerReassign, TriggerForceAssign:
		if c.Team == "" {
			return "", fmt.Errorf("dispatch: %s order %q: field team: required: %w", c.Trigger, o.ID, ErrInvalid)
		}
		return c.Team, nil
	case TriggerReopen:
		if c.Team != "" {
			return c.Team, nil
		}
	}
	return o.Team, nil
}

// authorize checks the actor (whose role the table allows) against the
// order's resident and team, and asks the policy.
func (s *Service) authorize(ctx context.Context, a org.Actor, row Transition, o *Order, team org.TeamID, what subject) error {
	switch a.Role {
	case org.RoleResident:
		if a.ID != o.Resident {
			return s.forbidden(ctx, a, what, fmt.Sprintf("%q is not the order's resident", a.ID), nil)
		}
	case org.RoleTeamLeader:
		if a.Team == "" || a.Team != team {
			return s.forbidden(ctx, a, what, fmt.Sprintf("%q does not lead team %q", a.ID, team), nil)
		}
	}
	err := s.policy.Authorize(ctx, a, actionOf(row.Trigger), org.Target{Node: o.Node, Team: team, Owner: o.Resident})
	if err != nil {
		return s.forbidden(ctx, a, what, "refused by policy", err)
	}
	return nil
}

// eventOf builds the change-feed event of a committed transition.
func eventOf(o *Order, e *HistoryEntry) Event {
	ev := Event{
		Order: o.ID, Version: o.Version, Trigger: e.Trigger, From: e.From, To: e.To, At: e.At,
		Actor: e.Actor, Team: o.Team, Node: o.Node, Item: o.Item.Code, Category: o.Item.Category,
	}
	if e.Trigger == TriggerComplete || e.Trigger == TriggerEvaluate {
		ev.Completion = o.Completion
	}
	if e.Trigger == TriggerComplete {
		ev.Since = o.ServingSince
	}
	if e.Trigger == TriggerEvaluate {
		ev.Evaluation = o.Evaluation
	}
	return ev // shares o's pointers; the store copies what it keeps
}

// subject names a command in messages; it is formatted only when a message
// is built, so the successful path pays nothing for it.
type subject struct {
	trigger Trigger
	order   OrderID
}

func (s subject) String() string { return fmt.Sprintf("%s order %q", s.trigger, s.order) }

// orderOf names a PlaceOrder command in messages, formatted only when a
// message is built.
type orderOf ItemCode

func (o orderOf) String() string { return fmt.Sprintf("order %q", ItemCode(o)) }

// actions holds the policy action of each trigger, "dispatch."+trigger,
// built once so that authorizing a command allocates nothing.
var actions = func() map[Trigger]org.Action {
	m := make(map[Trigger]org.Action, len(table))
	for _, t := range table {
		m[t.Trigger] = org.Action("dispatch." + string(t.Trigger))
	}
	return m
}()

// actionOf returns the policy action of trigger tr.
func actionOf(tr Trigger) org.Action {
	if a, ok := actions[tr]; ok {
		return a
	}
	return org.Action("dispatch." + string(tr))
}
