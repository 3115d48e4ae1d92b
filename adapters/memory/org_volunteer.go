package memory

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/civicloop/civicloop/org"
)

var volTally = tally{vols: 1}

func (s *OrgStore) checkVolunteer(v org.Volunteer) (int32, error) {
	if _, dup := s.vols[v.ID]; dup {
		return -1, fmt.Errorf("field id: volunteer %q already exists: %w", v.ID, org.ErrDuplicate)
	}
	if v.DocumentHash != "" {
		if other, dup := s.docs[v.DocumentHash]; dup {
			return -1, fmt.Errorf("field document: already registered (volunteer %q): %w", other, org.ErrDuplicate)
		}
	}
	h, err := s.lookup(v.Home)
	if err != nil {
		return -1, fmt.Errorf("field home: %w", err)
	}
	if s.nodes[h].retired {
		return -1, fmt.Errorf("field home: node %q is retired: %w", v.Home, org.ErrRetired)
	}
	return h, nil
}

func (s *OrgStore) insertVolunteer(v org.Volunteer, home int32) {
	s.vols[v.ID] = &volRec{v: v, home: home}
	if v.DocumentHash != "" {
		s.docs[v.DocumentHash] = v.ID
	}
	s.homeVols[home] = append(s.homeVols[home], v.ID)
	if v.Status == org.VolunteerActive {
		s.addUp(home, volTally, 1)
	}
}

// CreateVolunteer implements org.VolunteerStore.
func (s *OrgStore) CreateVolunteer(ctx context.Context, v org.Volunteer, c org.Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h, err := s.checkVolunteer(v)
	if err != nil {
		return err
	}
	s.insertVolunteer(v, h)
	s.record(c, true)
	return nil
}

// UpdateVolunteer implements org.VolunteerStore.
func (s *OrgStore) UpdateVolunteer(ctx context.Context, v org.Volunteer, c org.Change) (org.Volunteer, error) {
	if err := ctx.Err(); err != nil {
		return org.Volunteer{}, err
	}
	if !v.Status.Valid() {
		return org.Volunteer{}, fmt.Errorf("field status: unknown status %q: %w", v.Status, org.ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.vols[v.ID]
	if !ok {
		return org.Volunteer{}, fmt.Errorf("volunteer %q: %w", v.ID, org.ErrNotFound)
	}
	if r.v.Version != v.Version {
		return org.Volunteer{}, fmt.Errorf("volunteer %q: version %d, stored %d: %w", v.ID, v.Version, r.v.Version, org.ErrConflict)
	}
	h := r.home
	if v.Home != r.v.Home {
		var err error
		if h, err = s.lookup(v.Home); err != nil {
			return org.Volunteer{}, fmt.Errorf("field home: %w", err)
		}
		if s.nodes[h].retired {
			return org.Volunteer{}, fmt.Errorf("field home: node %q is retired: %w", v.Home, org.ErrRetired)
		}
		// The new home must lie in the area of every team he belongs to,
		// checked under the lock: a membership added since the service
		// read them is seen.
		teams := slices.Sorted(maps.Keys(s.volTeams[v.ID]))
		for _, t := range teams {
			tr := s.teams[s.teamIdx[t]]
			if !s.within(tr.area, h) {
				return org.Volunteer{}, fmt.Errorf("field home: %q is outside the area %q of team %q: %w", v.Home, tr.t.Area, t, org.ErrOutOfArea)
			}
		}
	}
	if r.v.Status == org.VolunteerActive {
		s.addUp(r.home, volTally, -1)
	}
	if h != r.home {
		l := s.homeVols[r.home]
		if k := slices.Index(l, v.ID); k >= 0 {
			s.homeVols[r.home] = slices.Delete(l, k, k+1)
		}
		s.homeVols[h] = append(s.homeVols[h], v.ID)
	}
	r.v.Name, r.v.Contact, r.v.Home, r.v.Status = v.Name, v.Contact, v.Home, v.Status
	r.home = h
	r.v.Version++
	r.v.Updated = c.At
	if r.v.Status == org.VolunteerActive {
		s.addUp(h, volTally, 1)
	}
	s.record(c, true)
	return r.v, nil
}

// Volunteer implements org.VolunteerStore.
func (s *OrgStore) Volunteer(ctx context.Context, id org.VolunteerID) (org.Volunteer, error) {
	if err := ctx.Err(); err != nil {
		return org.Volunteer{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.vols[id]
	if !ok {
		return org.Volunteer{}, fmt.Errorf("volunteer %q: %w", id, org.ErrNotFound)
	}
	return r.v, nil
}

// VolunteerByDocument implements org.VolunteerStore.
func (s *OrgStore) VolunteerByDocument(ctx context.Context, hash string) (org.Volunteer, error) {
	if err := ctx.Err(); err != nil {
		return org.Volunteer{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.docs[hash]
	if !ok || hash == "" {
		return org.Volunteer{}, fmt.Errorf("volunteer with that document: %w", org.ErrNotFound)
	}
	return s.vols[id].v, nil
}

// Volunteers implements org.VolunteerStore.
func (s *OrgStore) Volunteers(ctx context.Context, root org.NodeID, p org.Page) (org.VolunteerPage, error) {
	if err := ctx.Err(); err != nil {
		return org.VolunteerPage{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, err := s.lookup(root)
	if err != nil {
		return org.VolunteerPage{}, err
	}
	var ids []org.VolunteerID
	for _, n := range s.subtreeNodes(i) {
		for _, v := range s.homeVols[n] {
			if string(v) > p.After {
				ids = append(ids, v)
			}
		}
	}
	slices.SortFunc(ids, func(a, b org.VolunteerID) int { return strings.Compare(string(a), string(b)) })
	page := org.VolunteerPage{Volunteers: []org.Volunteer{}}
	lim := max(p.Limit, 1)
	for k, id := range ids {
		if k == lim {
			page.Next = string(page.Volunteers[lim-1].ID)
			break
		}
		page.Volunteers = append(page.Volunteers, s.vols[id].v)
	}
	return page, nil
}
