package memory

import (
	"context"
	"fmt"
	"slices"

	"github.com/civicloop/civicloop/org"
)

// Load implements org.BulkStore. Nodes are inserted first and taken out
// again if anything in b is refused; the other objects are checked against
// the store and b before any of them is written.
func (s *OrgStore) Load(ctx context.Context, b *org.Bulk, c org.Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idx.beginWrite()
	defer s.idx.endWrite()
	base := int32(len(s.nodes))
	if err := s.loadNodes(b.Nodes); err != nil {
		s.dropNodes(base)
		return err
	}
	vols, err := s.checkBulk(b)
	if err != nil {
		s.dropNodes(base)
		return err
	}
	pos := s.record(c, false)
	for i := base; i < int32(len(s.nodes)); i++ {
		s.nodes[i].created = pos
		if !s.nodes[i].retired {
			s.addUp(i, nodeTally(s.nodes[i].kind), 1)
		}
	}
	for k, v := range b.Volunteers {
		s.insertVolunteer(v, vols[k])
		cv := c
		cv.Volunteer = v.ID
		s.record(cv, true)
	}
	for _, t := range b.Teams {
		rec, _ := s.checkTeam(t) // checked by checkBulk, in this order
		s.insertTeam(rec)
		ct := c
		ct.Team = t.ID
		s.record(ct, true)
	}
	for _, m := range b.Memberships {
		s.insertMembership(s.teamIdx[m.Team], m)
		cm := c
		cm.Team, cm.Volunteer = m.Team, m.Volunteer
		s.record(cm, true)
	}
	for _, p := range b.Pairings {
		i, _ := s.idx.get(p.Node)
		s.insertPairing(p, i)
		cp := c
		cp.Pairing, cp.Node = p.ID, p.Node
		s.record(cp, true)
	}
	return nil
}

func (s *OrgStore) loadNodes(ns []org.Node) error {
	if len(ns) == 0 {
		return nil
	}
	s.nodes = slices.Grow(s.nodes, len(ns))
	s.up = slices.Grow(s.up, len(ns))
	s.idx.reserve(len(ns))
	for k, n := range ns {
		if _, err := s.insertNode(n); err != nil {
			return fmt.Errorf("nodes[%d] %q: %w", k, n.ID, err)
		}
	}
	return nil
}

// dropNodes takes out the nodes from index base on.
func (s *OrgStore) dropNodes(base int32) {
	for i := int32(len(s.nodes)) - 1; i >= base; i-- {
		if p := s.up[i]; p >= 0 && p < base {
			s.unlinkChild(p, i)
		}
	}
	clear(s.nodes[base:])
	s.nodes = s.nodes[:base]
	s.up = s.up[:base]
	// The index has no delete: rebuild it from the nodes that stay.
	s.idx.reset(int(base))
	for i := range base {
		path, depth := s.ancestry(i)
		s.idx.put(s.nodes[i].id, path, depth)
	}
}

// checkBulk checks b's teams, volunteers, memberships and pairings against
// the store (with b's nodes already in) and against each other. It returns
// the volunteers' home indexes.
func (s *OrgStore) checkBulk(b *org.Bulk) ([]int32, error) {
	homes := make([]int32, len(b.Volunteers))
	vols := map[org.VolunteerID]org.Volunteer{}
	docs := map[string]bool{}
	for k, v := range b.Volunteers {
		h, err := s.checkVolunteer(v)
		if err == nil && vols[v.ID].ID != "" {
			err = fmt.Errorf("field id: volunteer %q listed twice: %w", v.ID, org.ErrDuplicate)
		}
		if err == nil && v.DocumentHash != "" && docs[v.DocumentHash] {
			err = fmt.Errorf("field document: listed twice: %w", org.ErrDuplicate)
		}
		if err != nil {
			return nil, fmt.Errorf("volunteers[%d] %q: %w", k, v.ID, err)
		}
		homes[k], vols[v.ID], docs[v.DocumentHash] = h, v, true
	}
	teams := map[org.TeamID]org.Team{}
	for k, t := range b.Teams {
		err := s.checkBulkTeam(t, teams)
		if err != nil {
			return nil, fmt.Errorf("teams[%d] %q: %w", k, t.ID, err)
		}
		teams[t.ID] = t
	}
	members := map[[2]string]bool{}
	leaders := map[org.TeamID]bool{}
	for k, m := range b.Memberships {
		if err := s.checkBulkMember(m, teams, vols, members, leaders); err != nil {
			return nil, fmt.Errorf("memberships[%d] %q in %q: %w", k, m.Volunteer, m.Team, err)
		}
	}
	pairIDs := map[string]bool{}
	pairs := map[[2]string][]org.Pairing{} // by unit and node
	for k, p := range b.Pairings {
		_, err := s.checkPairing(p)
		if err == nil && pairIDs[p.ID] {
			err = fmt.Errorf("field id: pairing %q listed twice: %w", p.ID, org.ErrDuplicate)
		}
		key := [2]string{p.Unit, string(p.Node)}
		for _, q := range pairs[key] {
			if err == nil && q.Overlaps(p) {
				err = fmt.Errorf("field start: overlaps pairing %q: %w", q.ID, org.ErrDuplicate)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("pairings[%d] %q: %w", k, p.ID, err)
		}
		pairIDs[p.ID] = true
		pairs[key] = append(pairs[key], p)
	}
	return homes, nil
}

func (s *OrgStore) checkBulkTeam(t org.Team, staged map[org.TeamID]org.Team) error {
	if _, dup := staged[t.ID]; dup {
		return fmt.Errorf("field id: team %q listed twice: %w", t.ID, org.ErrDuplicate)
	}
	p, ok := staged[t.Parent]
	if t.Parent == "" || !ok {
		_, err := s.checkTeam(t)
		return err
	}
	// The parent is staged: check the rest with the parent left out.
	t.Parent = ""
	if _, err := s.checkTeam(t); err != nil {
		return err
	}
	if p.Status != org.Active {
		return fmt.Errorf("field parent: team %q is retired: %w", p.ID, org.ErrRetired)
	}
	return nil
}

func (s *OrgStore) checkBulkMember(m org.Membership, teams map[org.TeamID]org.Team, vols map[org.VolunteerID]org.Volunteer,
	members map[[2]string]bool, leaders map[org.TeamID]bool) error {
	key := [2]string{string(m.Team), string(m.Volunteer)}
	if members[key] {
		return fmt.Errorf("listed twice: %w", org.ErrDuplicate)
	}
	members[key] = true
	t, staged := teams[m.Team]
	if !staged {
		ti, err := s.lookupTeam(m.Team)
		if err != nil {
			return err
		}
		t = s.teams[ti].t
		if _, dup := s.members[m.Team][m.Volunteer]; dup {
			return fmt.Errorf("already a member: %w", org.ErrDuplicate)
		}
	}
	if t.Status != org.Active {
		return fmt.Errorf("team %q is retired: %w", m.Team, org.ErrRetired)
	}
	v, ok := vols[m.Volunteer]
	if !ok {
		r, found := s.vols[m.Volunteer]
		if !found {
			return fmt.Errorf("volunteer %q: %w", m.Volunteer, org.ErrNotFound)
		}
		v = r.v
	}
	if v.Status != org.VolunteerActive {
		return fmt.Errorf("volunteer %q is %s: %w", m.Volunteer, v.Status, org.ErrRetired)
	}
	if m.Role == org.Leader {
		if leaders[m.Team] || t.Leader != "" {
			return fmt.Errorf("team %q already has a leader: %w", m.Team, org.ErrDuplicate)
		}
		leaders[m.Team] = true
	}
	// b's nodes are in already, so staged areas and homes resolve; a
	// stored volunteer's home is the one stored now, not the one the
	// importer read.
	area, err := s.lookup(t.Area)
	if err != nil {
		return fmt.Errorf("team %q: field area: %w", m.Team, err)
	}
	h, err := s.lookup(v.Home)
	if err != nil {
		return fmt.Errorf("volunteer %q: field home: %w", m.Volunteer, err)
	}
	return s.checkHomeIn(teamRec{t: t, area: area}, v.Home, h)
}
