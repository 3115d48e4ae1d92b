package org

import (
	"context"
	"fmt"
)

func (s *Service) checkSkills(skills []string) error {
	for i, k := range skills {
		if err := checkCode(fmt.Sprintf("skills[%d]", i), k); err != nil {
			return err
		}
		if s.skills != nil && !s.skills[k] {
			return fmt.Errorf("field skills[%d]: %q is not in the skill list: %w", i, k, ErrInvalid)
		}
	}
	return nil
}

func (s *Service) validateNewTeam(in *NewTeam) error {
	if err := checkCode("id", string(in.ID)); err != nil {
		return err
	}
	if err := checkName("name", in.Name); err != nil {
		return err
	}
	if !in.Tier.Valid() {
		return fmt.Errorf("field tier: unknown tier %q: %w", in.Tier, ErrInvalid)
	}
	if in.Parent != "" {
		if err := checkCode("parent", string(in.Parent)); err != nil {
			return err
		}
	}
	if in.Tier == Corps && in.Parent != "" {
		return fmt.Errorf("field parent: a corps has no parent team: %w", ErrTier)
	}
	if in.Tier != Corps && in.Parent == "" {
		return fmt.Errorf("field parent: a %s needs a parent team: %w", in.Tier, ErrTier)
	}
	if err := checkCode("anchor", string(in.Anchor)); err != nil {
		return err
	}
	if in.Area == "" {
		in.Area = in.Anchor
	}
	if err := checkCode("area", string(in.Area)); err != nil {
		return err
	}
	if err := s.checkSkills(in.Skills); err != nil {
		return err
	}
	if in.Capacity < 0 {
		return fmt.Errorf("field capacity: %d is negative: %w", in.Capacity, ErrInvalid)
	}
	return nil
}

// checkTeamPlace applies the team area rules against the store: anchor and
// area exist and are active; a corps's or detachment's area lies within its
// anchor; a team's anchor and area lie within its parent team's area; the
// parent has the right tier and is active.
func (s *Service) checkTeamPlace(ctx context.Context, in NewTeam) error {
	for _, f := range []struct {
		name string
		id   NodeID
	}{{"anchor", in.Anchor}, {"area", in.Area}} {
		n, err := s.store.Node(ctx, f.id)
		if err != nil {
			return fmt.Errorf("field %s: %w", f.name, err)
		}
		if n.Status != Active {
			return fmt.Errorf("field %s: node %q is retired: %w", f.name, f.id, ErrRetired)
		}
	}
	if in.Tier != Specialty {
		ok, err := s.store.Within(ctx, in.Anchor, in.Area)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("field area: a %s serves within its anchor %q, area %q is outside: %w", in.Tier, in.Anchor, in.Area, ErrOutOfArea)
		}
	}
	if in.Parent == "" {
		return nil
	}
	p, err := s.store.Team(ctx, in.Parent)
	if err != nil {
		return fmt.Errorf("field parent: %w", err)
	}
	if err := CheckTeamParent(in.Tier, p.Tier); err != nil {
		return err
	}
	if p.Status != Active {
		return fmt.Errorf("field parent: team %q is retired: %w", p.ID, ErrRetired)
	}
	for _, f := range []struct {
		name string
		id   NodeID
	}{{"anchor", in.Anchor}, {"area", in.Area}} {
		ok, err := s.store.Within(ctx, p.Area, f.id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("field %s: %q is outside parent team %q's area %q: %w", f.name, f.id, p.ID, p.Area, ErrOutOfArea)
		}
	}
	return nil
}

// CreateTeam adds a team. Policy: ActCreateTeam on the anchor node and on
// the area node (Target.Team stays empty: under the DefaultPolicy a team
// leader does not found teams). Errors: ErrInvalid, ErrTier, ErrOutOfArea,
// ErrNotFound, ErrRetired, ErrDuplicate, ErrForbidden.
func (s *Service) CreateTeam(ctx context.Context, a Actor, in NewTeam) (Team, error) {
	if err := s.validateNewTeam(&in); err != nil {
		return Team{}, fmt.Errorf("org: create team %q: %w", in.ID, err)
	}
	if err := s.authorize(ctx, a, ActCreateTeam, Target{Node: in.Anchor}); err != nil {
		return Team{}, err
	}
	if in.Area != in.Anchor {
		if err := s.authorize(ctx, a, ActCreateTeam, Target{Node: in.Area}); err != nil {
			return Team{}, err
		}
	}
	if err := s.checkTeamPlace(ctx, in); err != nil {
		return Team{}, fmt.Errorf("org: create team %q: %w", in.ID, err)
	}
	now := s.now()
	t := Team{ID: in.ID, Name: in.Name, Tier: in.Tier, Parent: in.Parent, Anchor: in.Anchor, Area: in.Area,
		Skills: normSkills(in.Skills), Capacity: in.Capacity, Status: Active, Version: 1, Created: now, Updated: now}
	c := s.change(a, ActCreateTeam, now)
	c.Team = t.ID
	c.Detail = fmt.Sprintf("created %s %q at %s serving %s", t.Tier, t.Name, t.Anchor, t.Area)
	if err := s.store.CreateTeam(ctx, t, c); err != nil {
		return Team{}, fmt.Errorf("org: create team %q: %w", in.ID, err)
	}
	return t, nil
}

// UpdateTeam changes a team's name, skills or capacity. Policy:
// ActUpdateTeam with Target{Node: anchor, Team: id}, so the team's leader
// may update his own team. Errors: ErrInvalid, ErrNotFound, ErrConflict
// (concurrent update), ErrForbidden.
func (s *Service) UpdateTeam(ctx context.Context, a Actor, id TeamID, u TeamUpdate) (Team, error) {
	if u.Name != nil {
		if err := checkName("name", *u.Name); err != nil {
			return Team{}, fmt.Errorf("org: update team %q: %w", id, err)
		}
	}
	if u.Skills != nil {
		if err := s.checkSkills(u.Skills); err != nil {
			return Team{}, fmt.Errorf("org: update team %q: %w", id, err)
		}
	}
	if u.Capacity != nil && *u.Capacity < 0 {
		return Team{}, fmt.Errorf("org: update team %q: field capacity: %d is negative: %w", id, *u.Capacity, ErrInvalid)
	}
	t, err := s.store.Team(ctx, id)
	if err != nil {
		return Team{}, fmt.Errorf("org: update team %q: %w", id, err)
	}
	if err := s.authorize(ctx, a, ActUpdateTeam, Target{Node: t.Anchor, Team: id}); err != nil {
		return Team{}, err
	}
	if u.Name != nil {
		t.Name = *u.Name
	}
	if u.Skills != nil {
		t.Skills = normSkills(u.Skills)
	}
	if u.Capacity != nil {
		t.Capacity = *u.Capacity
	}
	c := s.change(a, ActUpdateTeam, s.now())
	c.Team = id
	c.Detail = fmt.Sprintf("name %q, skills %v, capacity %d", t.Name, t.Skills, t.Capacity)
	out, err := s.store.UpdateTeam(ctx, t, c)
	if err != nil {
		return Team{}, fmt.Errorf("org: update team %q: %w", id, err)
	}
	return out, nil
}

// RetireTeam retires a team; refused (ErrInUse) while it has active child
// teams. Policy: ActRetireTeam on Target{Node: anchor, Team: id}. Errors:
// ErrNotFound, ErrInvalid (already retired), ErrInUse, ErrForbidden.
func (s *Service) RetireTeam(ctx context.Context, a Actor, id TeamID, reason string) (Team, error) {
	return s.setTeamStatus(ctx, a, id, Retired, ActRetireTeam, "retired: "+reason)
}

// ReactivateTeam reactivates a retired team whose parent team, anchor and
// area are active. Policy: ActReactivateTeam on Target{Node: anchor, Team:
// id}. Errors: ErrNotFound, ErrInvalid, ErrRetired, ErrForbidden.
func (s *Service) ReactivateTeam(ctx context.Context, a Actor, id TeamID) (Team, error) {
	return s.setTeamStatus(ctx, a, id, Active, ActReactivateTeam, "reactivated")
}

func (s *Service) setTeamStatus(ctx context.Context, a Actor, id TeamID, st Status, act Action, detail string) (Team, error) {
	t, err := s.store.Team(ctx, id)
	if err != nil {
		return Team{}, fmt.Errorf("org: %s %q: %w", act, id, err)
	}
	if err := s.authorize(ctx, a, act, Target{Node: t.Anchor, Team: id}); err != nil {
		return Team{}, err
	}
	c := s.change(a, act, s.now())
	c.Team = id
	c.Detail = detail
	out, err := s.store.SetTeamStatus(ctx, id, st, c)
	if err != nil {
		return Team{}, fmt.Errorf("org: %s %q: %w", act, id, err)
	}
	return out, nil
}

// Team returns a team (tier, anchor, area, capacity, skills, leader).
// Errors: ErrNotFound.
func (s *Service) Team(ctx context.Context, id TeamID) (Team, error) {
	t, err := s.store.Team(ctx, id)
	if err != nil {
		return Team{}, fmt.Errorf("org: team %q: %w", id, err)
	}
	return t, nil
}

// Teams returns a page of teams anchored in a subtree, ordered by ID.
func (s *Service) Teams(ctx context.Context, q TeamQuery) (TeamPage, error) {
	for i, t := range q.Tiers {
		if !t.Valid() {
			return TeamPage{}, fmt.Errorf("org: teams: field tiers[%d]: unknown tier %q: %w", i, t, ErrInvalid)
		}
	}
	q.Limit = limit(q.Limit)
	p, err := s.store.Teams(ctx, q)
	if err != nil {
		return TeamPage{}, fmt.Errorf("org: teams in %q: %w", q.Node, err)
	}
	return p, nil
}

// TeamsServing returns the active teams offering skill whose area contains
// node, nearest area first, then by ID: the candidates dispatch routes an
// order at node to. Errors: ErrNotFound (node).
func (s *Service) TeamsServing(ctx context.Context, node NodeID, skill string) ([]Team, error) {
	ts, err := s.store.TeamsServing(ctx, node, skill)
	if err != nil {
		return nil, fmt.Errorf("org: teams serving %q for %q: %w", node, skill, err)
	}
	return ts, nil
}

// AddMember makes an active volunteer a member (or the leader) of an
// active team. The volunteer's home must lie within the team's area.
// Policy: ActAddMember on Target{Node: anchor, Team: team}. Errors:
// ErrInvalid, ErrNotFound, ErrRetired, ErrOutOfArea, ErrDuplicate,
// ErrForbidden.
func (s *Service) AddMember(ctx context.Context, a Actor, team TeamID, v VolunteerID, role MemberRole) (Membership, error) {
	if role != Member && role != Leader {
		return Membership{}, fmt.Errorf("org: add member %q to %q: field role: unknown role %q: %w", v, team, role, ErrInvalid)
	}
	t, err := s.store.Team(ctx, team)
	if err != nil {
		return Membership{}, fmt.Errorf("org: add member %q: field team: %w", v, err)
	}
	if err := s.authorize(ctx, a, ActAddMember, Target{Node: t.Anchor, Team: team}); err != nil {
		return Membership{}, err
	}
	vol, err := s.store.Volunteer(ctx, v)
	if err != nil {
		return Membership{}, fmt.Errorf("org: add member %q to %q: field volunteer: %w", v, team, err)
	}
	ok, err := s.store.Within(ctx, t.Area, vol.Home)
	if err != nil {
		return Membership{}, fmt.Errorf("org: add member %q to %q: %w", v, team, err)
	}
	if !ok {
		return Membership{}, fmt.Errorf("org: add member %q to %q: field volunteer: home %q is outside the team's area %q: %w", v, team, vol.Home, t.Area, ErrOutOfArea)
	}
	now := s.now()
	m := Membership{Team: team, Volunteer: v, Role: role, Since: now}
	c := s.change(a, ActAddMember, now)
	c.Team, c.Volunteer = team, v
	c.Detail = fmt.Sprintf("%s joined as %s", v, role)
	if err := s.store.AddMembership(ctx, m, c); err != nil {
		return Membership{}, fmt.Errorf("org: add member %q to %q: %w", v, team, err)
	}
	return m, nil
}

// RemoveMember ends a membership. Policy: ActRemoveMember on Target{Node:
// anchor, Team: team}. Errors: ErrNotFound, ErrForbidden.
func (s *Service) RemoveMember(ctx context.Context, a Actor, team TeamID, v VolunteerID) error {
	t, err := s.store.Team(ctx, team)
	if err != nil {
		return fmt.Errorf("org: remove member %q: field team: %w", v, err)
	}
	if err := s.authorize(ctx, a, ActRemoveMember, Target{Node: t.Anchor, Team: team}); err != nil {
		return err
	}
	c := s.change(a, ActRemoveMember, s.now())
	c.Team, c.Volunteer = team, v
	c.Detail = fmt.Sprintf("%s left", v)
	if err := s.store.RemoveMembership(ctx, team, v, c); err != nil {
		return fmt.Errorf("org: remove member %q from %q: %w", v, team, err)
	}
	return nil
}

// Members returns a team's memberships ordered by volunteer ID.
func (s *Service) Members(ctx context.Context, team TeamID) ([]Membership, error) {
	ms, err := s.store.Members(ctx, team)
	if err != nil {
		return nil, fmt.Errorf("org: members of %q: %w", team, err)
	}
	return ms, nil
}

// Memberships returns a volunteer's memberships ordered by team ID.
func (s *Service) Memberships(ctx context.Context, v VolunteerID) ([]Membership, error) {
	ms, err := s.store.Memberships(ctx, v)
	if err != nil {
		return nil, fmt.Errorf("org: memberships of %q: %w", v, err)
	}
	return ms, nil
}

// IsLeader reports whether volunteer v leads team. It makes *Service a
// LeaderChecker: a DefaultPolicy with Leaders set asks it before letting a
// team-leader actor act for a team.
func (s *Service) IsLeader(ctx context.Context, team TeamID, v VolunteerID) (bool, error) {
	t, err := s.Team(ctx, team)
	if err != nil {
		return false, err
	}
	return t.Leader != "" && t.Leader == v, nil
}
