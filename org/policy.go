package org

import (
	"context"
	"fmt"
	"strings"
)

// Scoper answers whether a node lies within a scope; *Service implements
// it, and so does every Store.
type Scoper interface {
	Within(ctx context.Context, scope, node NodeID) (bool, error)
}

// DefaultPolicy is the policy used when Options.Policy is nil. Its rules,
// tried in order:
//
//  1. RoleSystem may do anything (the embedding application decides who
//     may act as the system).
//  2. RoleAdmin with Scope S may act on a target whose Node lies within S's
//     subtree (S itself included).
//  3. RoleDesk with Scope S may do the same, except org structure actions
//     (Action prefix "org."): a dispatch desk does not edit the network.
//  4. RoleTeamLeader may act when Target.Team is non-empty and equals
//     Actor.Team, and, when the policy has Leaders, the team's leader is
//     the volunteer VolunteerID(Actor.ID): a leader who was replaced, or an
//     actor merely claiming the team, is refused.
//  5. RoleVolunteer and RoleResident may act when Target.Owner is non-empty
//     and equals Actor.ID.
//
// Anything else is refused with an error wrapping ErrForbidden whose
// message gives the reason. An admin or desk target without a node, or
// with a node that does not exist, is refused. DefaultPolicy does not
// record refusals: the service that asked does (see Service.authorize).
type DefaultPolicy struct {
	// Tree answers Within questions; required.
	Tree Scoper
	// Leaders, when set, confirms that a team leader actor leads the
	// target team; when nil the Actor's Team is trusted as given (the
	// embedding application vouches for it). A *Service can serve as both
	// Tree and Leaders.
	Leaders LeaderChecker
}

// LeaderChecker answers whether a volunteer leads a team; *Service
// implements it.
type LeaderChecker interface {
	IsLeader(ctx context.Context, team TeamID, v VolunteerID) (bool, error)
}

// NewDefaultPolicy returns the default policy over tree, without Leaders
// (as is the policy a Service makes for itself when Options.Policy is nil).
func NewDefaultPolicy(tree Scoper) *DefaultPolicy { return &DefaultPolicy{Tree: tree} }

// Authorize implements Policy.
func (p *DefaultPolicy) Authorize(ctx context.Context, a Actor, act Action, t Target) error {
	if a.ID == "" {
		return fmt.Errorf("%s: actor has no ID: %w", act, ErrForbidden)
	}
	switch a.Role {
	case RoleSystem:
		return nil
	case RoleAdmin, RoleDesk:
		if a.Role == RoleDesk && strings.HasPrefix(string(act), "org.") {
			return fmt.Errorf("%s: actor %q: a desk does not change the network: %w", act, a.ID, ErrForbidden)
		}
		if a.Scope == "" {
			return fmt.Errorf("%s: actor %q: %s without a scope node: %w", act, a.ID, a.Role, ErrForbidden)
		}
		if t.Node == "" {
			return fmt.Errorf("%s: actor %q: target has no node to check against scope %q: %w", act, a.ID, a.Scope, ErrForbidden)
		}
		ok, err := p.Tree.Within(ctx, a.Scope, t.Node)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%s: actor %q: scope %q or node %q unknown (%v): %w", act, a.ID, a.Scope, t.Node, err, ErrForbidden)
		}
		if !ok {
			return fmt.Errorf("%s: actor %q: node %q is outside scope %q: %w", act, a.ID, t.Node, a.Scope, ErrForbidden)
		}
		return nil
	case RoleTeamLeader:
		if a.Team == "" || t.Team != a.Team {
			return fmt.Errorf("%s: actor %q: leader of team %q may not act for team %q: %w", act, a.ID, a.Team, t.Team, ErrForbidden)
		}
		if p.Leaders == nil {
			return nil
		}
		lead, err := p.Leaders.IsLeader(ctx, t.Team, VolunteerID(a.ID))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%s: actor %q: team %q unknown (%v): %w", act, a.ID, t.Team, err, ErrForbidden)
		}
		if !lead {
			return fmt.Errorf("%s: actor %q: does not lead team %q: %w", act, a.ID, t.Team, ErrForbidden)
		}
		return nil
	case RoleVolunteer, RoleResident:
		if t.Owner == "" || t.Owner != a.ID {
			return fmt.Errorf("%s: actor %q: %s may act only on his own, target owned by %q: %w", act, a.ID, a.Role, t.Owner, ErrForbidden)
		}
		return nil
	}
	return fmt.Errorf("%s: actor %q: role %q is not allowed: %w", act, a.ID, a.Role, ErrForbidden)
}
