package org

import (
	"fmt"
	"slices"
	"time"
)

// Tier is the tier of a volunteer team in the "1822"-style team system.
type Tier string

// The three team tiers, from the top down.
const (
	// Corps is a general corps, 志愿服务总队; it has no parent team.
	Corps Tier = "corps"
	// Detachment is a standing detachment, 常备支队; it belongs to exactly
	// one corps and serves only within its anchor's subtree.
	Detachment Tier = "detachment"
	// Specialty is a specialty team, 特色志愿服务队; its parent is a corps
	// or a detachment, and it may serve an area beyond its anchor's subtree
	// (across institutes) as long as the area lies within its parent's.
	Specialty Tier = "specialty"
)

// Valid reports whether t is one of the three tiers.
func (t Tier) Valid() bool { return t == Corps || t == Detachment || t == Specialty }

// CheckTeamParent applies the team tier rule: a corps has no parent team, a
// detachment's parent is a corps, a specialty team's parent is a corps or a
// detachment. parent is empty when the team has no parent. It returns an
// error wrapping ErrTier or ErrInvalid.
func CheckTeamParent(child, parent Tier) error {
	switch child {
	case Corps:
		if parent != "" {
			return fmt.Errorf("field parent: a corps has no parent team, got a %s: %w", parent, ErrTier)
		}
	case Detachment:
		if parent != Corps {
			return fmt.Errorf("field parent: a detachment belongs to a corps, got %q: %w", parent, ErrTier)
		}
	case Specialty:
		if parent != Corps && parent != Detachment {
			return fmt.Errorf("field parent: a specialty team belongs to a corps or a detachment, got %q: %w", parent, ErrTier)
		}
	default:
		return fmt.Errorf("field tier: unknown tier %q: %w", child, ErrInvalid)
	}
	return nil
}

// Team is a volunteer team anchored at a node.
type Team struct {
	// ID is the team's code (same character rules as Node.ID).
	ID TeamID
	// Name is the display name, e.g. "金农先锋志愿服务队".
	Name string
	// Tier is corps, detachment or specialty; it never changes.
	Tier Tier
	// Parent is the parent team: empty for a corps.
	Parent TeamID
	// Anchor is the node the team is based at.
	Anchor NodeID
	// Area is the root of the subtree the team serves. A corps's or a
	// detachment's area lies within its anchor's subtree; every team's area
	// lies within its parent team's area.
	Area NodeID
	// Skills are the service categories the team offers, codes from a list
	// the user supplies (Options.Skills); sorted, without duplicates.
	Skills []string
	// Capacity is how many orders the team can carry at the same time.
	Capacity int
	// Leader is the volunteer holding the leader membership; empty if none.
	Leader VolunteerID
	// Status is Active or Retired.
	Status Status
	// Version increases by one with every change; updates carry the version
	// they read (optimistic concurrency).
	Version int64
	// Created and Updated are the times of the first and the latest change.
	Created time.Time
	Updated time.Time
}

// HasSkill reports whether the team offers the skill.
func (t Team) HasSkill(skill string) bool {
	_, ok := slices.BinarySearch(t.Skills, skill)
	return ok
}

// NewTeam is the input to Service.CreateTeam.
type NewTeam struct {
	ID     TeamID
	Name   string
	Tier   Tier
	Parent TeamID
	Anchor NodeID
	// Area defaults to Anchor.
	Area     NodeID
	Skills   []string
	Capacity int
}

// TeamUpdate changes a team; nil fields stay as they are. A team's tier,
// parent, anchor and area do not change (retire it and create another), so
// that the area rules between teams cannot break.
type TeamUpdate struct {
	Name *string
	// Skills replaces the skills when non-nil.
	Skills   []string
	Capacity *int
}

// TeamQuery selects a page of teams anchored in a subtree.
type TeamQuery struct {
	// Node is the subtree root; the anchors of the returned teams lie in it.
	Node NodeID
	// Tiers keeps only teams of these tiers; empty keeps all.
	Tiers []Tier
	// IncludeRetired also returns retired teams.
	IncludeRetired bool
	// After is the Next cursor of the previous page.
	After string
	// Limit is the page size (see DefaultLimit, MaxLimit).
	Limit int
}

// TeamPage is one page of teams ordered by ID.
type TeamPage struct {
	Teams []Team
	// Next is the cursor for the following page; empty on the last page.
	Next string
}

// MemberRole is a volunteer's role in a team.
type MemberRole string

// Membership roles.
const (
	// Member is an ordinary team member.
	Member MemberRole = "member"
	// Leader leads the team; a team has at most one.
	Leader MemberRole = "leader"
)

// Membership ties a volunteer to a team in a role.
type Membership struct {
	Team      TeamID
	Volunteer VolunteerID
	Role      MemberRole
	Since     time.Time
}

// normSkills returns skills sorted and without duplicates.
func normSkills(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
