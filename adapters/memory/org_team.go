package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/civicloop/civicloop/org"
)

var tierCode = map[org.Tier]int{org.Corps: 0, org.Detachment: 1, org.Specialty: 2}

func teamTally(t org.Tier) tally {
	var d tally
	d.teams[tierCode[t]] = 1
	return d
}

func (s *OrgStore) lookupTeam(id org.TeamID) (int32, error) {
	i, ok := s.teamIdx[id]
	if !ok {
		return -1, fmt.Errorf("team %q: %w", id, org.ErrNotFound)
	}
	return i, nil
}

func (s *OrgStore) team(i int32) org.Team {
	t := s.teams[i].t
	t.Skills = slices.Clone(t.Skills)
	return t
}

// checkTeam resolves a new team's references; callers hold the lock.
func (s *OrgStore) checkTeam(t org.Team) (teamRec, error) {
	if _, dup := s.teamIdx[t.ID]; dup {
		return teamRec{}, fmt.Errorf("field id: team %q already exists: %w", t.ID, org.ErrDuplicate)
	}
	if _, ok := tierCode[t.Tier]; !ok {
		return teamRec{}, fmt.Errorf("field tier: unknown tier %q: %w", t.Tier, org.ErrInvalid)
	}
	rec := teamRec{t: t, parent: -1}
	var err error
	for _, f := range []struct {
		name string
		id   org.NodeID
		dst  *int32
	}{{"anchor", t.Anchor, &rec.anchor}, {"area", t.Area, &rec.area}} {
		if *f.dst, err = s.lookup(f.id); err != nil {
			return teamRec{}, fmt.Errorf("field %s: %w", f.name, err)
		}
		if s.nodes[*f.dst].retired {
			return teamRec{}, fmt.Errorf("field %s: node %q is retired: %w", f.name, f.id, org.ErrRetired)
		}
	}
	if t.Parent != "" {
		if rec.parent, err = s.lookupTeam(t.Parent); err != nil {
			return teamRec{}, fmt.Errorf("field parent: %w", err)
		}
		if s.teams[rec.parent].t.Status != org.Active {
			return teamRec{}, fmt.Errorf("field parent: team %q is retired: %w", t.Parent, org.ErrRetired)
		}
	}
	return rec, nil
}

// insertTeam adds a checked team with its indexes and roll-ups.
func (s *OrgStore) insertTeam(rec teamRec) {
	rec.t.Skills = slices.Clone(rec.t.Skills)
	rec.t.Leader = ""
	i := int32(len(s.teams))
	s.teams = append(s.teams, rec)
	s.teamIdx[rec.t.ID] = i
	s.anchorTeams[rec.anchor] = append(s.anchorTeams[rec.anchor], i)
	s.areaTeams[rec.area] = append(s.areaTeams[rec.area], i)
	if rec.parent >= 0 {
		s.childTeams[rec.parent] = append(s.childTeams[rec.parent], i)
	}
	for _, sk := range rec.t.Skills {
		s.addServing(rec.area, sk, i)
	}
	if rec.t.Status == org.Active {
		s.addUp(rec.anchor, teamTally(rec.t.Tier), 1)
	}
}

func (s *OrgStore) addServing(area int32, skill string, t int32) {
	byArea := s.serving[skill]
	if byArea == nil {
		byArea = map[int32][]int32{}
		s.serving[skill] = byArea
	}
	l := byArea[area]
	id := s.teams[t].t.ID
	p, _ := slices.BinarySearchFunc(l, id, func(x int32, id org.TeamID) int { return strings.Compare(string(s.teams[x].t.ID), string(id)) })
	byArea[area] = slices.Insert(l, p, t)
}

func (s *OrgStore) removeServing(area int32, skill string, t int32) {
	byArea := s.serving[skill]
	l := byArea[area]
	if p := slices.Index(l, t); p >= 0 {
		l = slices.Delete(l, p, p+1)
	}
	if len(l) == 0 {
		delete(byArea, area)
	} else {
		byArea[area] = l
	}
}

// CreateTeam implements org.TeamStore.
func (s *OrgStore) CreateTeam(ctx context.Context, t org.Team, c org.Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.checkTeam(t)
	if err != nil {
		return err
	}
	s.insertTeam(rec)
	s.record(c, true)
	return nil
}

// UpdateTeam implements org.TeamStore.
func (s *OrgStore) UpdateTeam(ctx context.Context, t org.Team, c org.Change) (org.Team, error) {
	if err := ctx.Err(); err != nil {
		return org.Team{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i, err := s.lookupTeam(t.ID)
	if err != nil {
		return org.Team{}, err
	}
	r := &s.teams[i]
	if r.t.Version != t.Version {
		return org.Team{}, fmt.Errorf("team %q: version %d, stored %d: %w", t.ID, t.Version, r.t.Version, org.ErrConflict)
	}
	for _, sk := range r.t.Skills {
		s.removeServing(r.area, sk, i)
	}
	r.t.Name, r.t.Skills, r.t.Capacity = t.Name, slices.Clone(t.Skills), t.Capacity
	for _, sk := range r.t.Skills {
		s.addServing(r.area, sk, i)
	}
	r.t.Version++
	r.t.Updated = c.At
	s.record(c, true)
	return s.team(i), nil
}

// SetTeamStatus implements org.TeamStore.
func (s *OrgStore) SetTeamStatus(ctx context.Context, id org.TeamID, st org.Status, c org.Change) (org.Team, error) {
	if err := ctx.Err(); err != nil {
		return org.Team{}, err
	}
	if st != org.Active && st != org.Retired {
		return org.Team{}, fmt.Errorf("field status: unknown status %q: %w", st, org.ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i, err := s.lookupTeam(id)
	if err != nil {
		return org.Team{}, err
	}
	r := &s.teams[i]
	if r.t.Status == st {
		return org.Team{}, fmt.Errorf("team %q is already %s: %w", id, st, org.ErrInvalid)
	}
	sign := int32(1)
	if st == org.Retired {
		sign = -1
		for _, ch := range s.childTeams[i] {
			if s.teams[ch].t.Status == org.Active {
				return org.Team{}, fmt.Errorf("team %q has active child team %q: %w", id, s.teams[ch].t.ID, org.ErrInUse)
			}
		}
	} else {
		if r.parent >= 0 && s.teams[r.parent].t.Status != org.Active {
			return org.Team{}, fmt.Errorf("parent team %q is retired: %w", r.t.Parent, org.ErrRetired)
		}
		if s.nodes[r.anchor].retired || s.nodes[r.area].retired {
			return org.Team{}, fmt.Errorf("anchor %q or area %q is retired: %w", r.t.Anchor, r.t.Area, org.ErrRetired)
		}
	}
	r.t.Status = st
	r.t.Version++
	r.t.Updated = c.At
	s.addUp(r.anchor, teamTally(r.t.Tier), sign)
	s.record(c, true)
	return s.team(i), nil
}

// Team implements org.TeamStore.
func (s *OrgStore) Team(ctx context.Context, id org.TeamID) (org.Team, error) {
	if err := ctx.Err(); err != nil {
		return org.Team{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, err := s.lookupTeam(id)
	if err != nil {
		return org.Team{}, err
	}
	return s.team(i), nil
}

// subtreeNodes lists root and its descendants; callers hold the lock.
func (s *OrgStore) subtreeNodes(root int32) []int32 {
	out := []int32{root}
	for k := 0; k < len(out); k++ {
		out = append(out, s.nodes[out[k]].children...)
	}
	return out
}

// Teams implements org.TeamStore.
func (s *OrgStore) Teams(ctx context.Context, q org.TeamQuery) (org.TeamPage, error) {
	if err := ctx.Err(); err != nil {
		return org.TeamPage{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	root, err := s.lookup(q.Node)
	if err != nil {
		return org.TeamPage{}, err
	}
	var ids []int32
	for _, n := range s.subtreeNodes(root) {
		for _, t := range s.anchorTeams[n] {
			r := &s.teams[t]
			if (q.IncludeRetired || r.t.Status == org.Active) && (len(q.Tiers) == 0 || slices.Contains(q.Tiers, r.t.Tier)) && string(r.t.ID) > q.After {
				ids = append(ids, t)
			}
		}
	}
	slices.SortFunc(ids, func(a, b int32) int { return strings.Compare(string(s.teams[a].t.ID), string(s.teams[b].t.ID)) })
	page := org.TeamPage{Teams: []org.Team{}}
	lim := max(q.Limit, 1)
	for k, t := range ids {
		if k == lim {
			page.Next = string(page.Teams[lim-1].ID)
			break
		}
		page.Teams = append(page.Teams, s.team(t))
	}
	return page, nil
}

// TeamsServing implements org.TeamStore.
func (s *OrgStore) TeamsServing(ctx context.Context, node org.NodeID, skill string) ([]org.Team, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, err := s.lookup(node)
	if err != nil {
		return nil, err
	}
	out := []org.Team{}
	byArea := s.serving[skill]
	if byArea == nil {
		return out, nil
	}
	for j := i; j >= 0; j = s.up[j] {
		for _, t := range byArea[j] {
			if s.teams[t].t.Status == org.Active {
				out = append(out, s.team(t))
			}
		}
	}
	return out, nil
}

func (s *OrgStore) checkMembership(m org.Membership) (int32, error) {
	ti, err := s.lookupTeam(m.Team)
	if err != nil {
		return -1, err
	}
	v, ok := s.vols[m.Volunteer]
	if !ok {
		return -1, fmt.Errorf("volunteer %q: %w", m.Volunteer, org.ErrNotFound)
	}
	if s.teams[ti].t.Status != org.Active {
		return -1, fmt.Errorf("team %q is retired: %w", m.Team, org.ErrRetired)
	}
	if v.v.Status != org.VolunteerActive {
		return -1, fmt.Errorf("volunteer %q is %s: %w", m.Volunteer, v.v.Status, org.ErrRetired)
	}
	if _, dup := s.members[m.Team][m.Volunteer]; dup {
		return -1, fmt.Errorf("volunteer %q is already in team %q: %w", m.Volunteer, m.Team, org.ErrDuplicate)
	}
	if m.Role == org.Leader && s.teams[ti].t.Leader != "" {
		return -1, fmt.Errorf("team %q already has leader %q: %w", m.Team, s.teams[ti].t.Leader, org.ErrDuplicate)
	}
	if err := s.checkHomeIn(s.teams[ti], v.v.Home, v.home); err != nil {
		return -1, err
	}
	return ti, nil
}

// checkHomeIn refuses a member whose home (ID and index) lies outside the
// team's area; callers hold the lock. The service checked the home it
// read; this check runs under the same lock as the write, so a home moved
// in between is not missed.
func (s *OrgStore) checkHomeIn(t teamRec, home org.NodeID, h int32) error {
	if !s.within(t.area, h) {
		return fmt.Errorf("field volunteer: home %q is outside the area %q of team %q: %w", home, t.t.Area, t.t.ID, org.ErrOutOfArea)
	}
	return nil
}

func (s *OrgStore) insertMembership(ti int32, m org.Membership) {
	if s.members[m.Team] == nil {
		s.members[m.Team] = map[org.VolunteerID]org.Membership{}
	}
	s.members[m.Team][m.Volunteer] = m
	if s.volTeams[m.Volunteer] == nil {
		s.volTeams[m.Volunteer] = map[org.TeamID]bool{}
	}
	s.volTeams[m.Volunteer][m.Team] = true
	if m.Role == org.Leader {
		s.teams[ti].t.Leader = m.Volunteer
	}
}

// AddMembership implements org.TeamStore.
func (s *OrgStore) AddMembership(ctx context.Context, m org.Membership, c org.Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ti, err := s.checkMembership(m)
	if err != nil {
		return err
	}
	s.insertMembership(ti, m)
	s.record(c, true)
	return nil
}

// RemoveMembership implements org.TeamStore.
func (s *OrgStore) RemoveMembership(ctx context.Context, team org.TeamID, v org.VolunteerID, c org.Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.members[team][v]
	if !ok {
		return fmt.Errorf("volunteer %q is not in team %q: %w", v, team, org.ErrNotFound)
	}
	delete(s.members[team], v)
	delete(s.volTeams[v], team)
	if m.Role == org.Leader {
		s.teams[s.teamIdx[team]].t.Leader = ""
	}
	s.record(c, true)
	return nil
}

// Members implements org.TeamStore.
func (s *OrgStore) Members(ctx context.Context, team org.TeamID) ([]org.Membership, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, err := s.lookupTeam(team); err != nil {
		return nil, err
	}
	out := []org.Membership{}
	for _, m := range s.members[team] {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b org.Membership) int { return strings.Compare(string(a.Volunteer), string(b.Volunteer)) })
	return out, nil
}

// Memberships implements org.TeamStore.
func (s *OrgStore) Memberships(ctx context.Context, v org.VolunteerID) ([]org.Membership, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.vols[v]; !ok {
		return nil, fmt.Errorf("volunteer %q: %w", v, org.ErrNotFound)
	}
	out := []org.Membership{}
	for t := range s.volTeams[v] {
		out = append(out, s.members[t][v])
	}
	slices.SortFunc(out, func(a, b org.Membership) int { return strings.Compare(string(a.Team), string(b.Team)) })
	return out, nil
}
