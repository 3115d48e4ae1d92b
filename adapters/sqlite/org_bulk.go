package sqlite

import (
	"context"
	"fmt"

	"github.com/civicloop/civicloop/org"
)

// Load implements org.BulkStore. Everything runs in one request, so a
// failure anywhere rolls the whole load back.
func (s *OrgStore) Load(ctx context.Context, b *org.Bulk, c org.Change) error {
	return s.write(ctx, "load", func(tx *wtx) error {
		seq, err := record(tx, c)
		if err != nil {
			return err
		}
		for k, n := range b.Nodes {
			stored, err := insertNode(tx, n, seq)
			if err != nil {
				return fmt.Errorf("nodes[%d] %q: %w", k, n.ID, err)
			}
			if stored.Status == org.Active {
				if err := addUp(tx, stored.Path, nodeTally(stored.Kind)); err != nil {
					return err
				}
			}
		}
		return loadRest(tx, b, c)
	})
}

// loadRest checks everything but the nodes first, as the memory store
// does, then inserts it.
func loadRest(tx *wtx, b *org.Bulk, c org.Change) error {
	vols := map[org.VolunteerID]org.Volunteer{}
	docs := map[string]bool{}
	homes := make([]nodeRow, len(b.Volunteers))
	for k, v := range b.Volunteers {
		h, err := checkVolunteer(tx, v)
		if err == nil && vols[v.ID].ID != "" {
			err = fmt.Errorf("field id: volunteer %q listed twice: %w", v.ID, org.ErrDuplicate)
		}
		if err == nil && v.DocumentHash != "" && docs[v.DocumentHash] {
			err = fmt.Errorf("field document: listed twice: %w", org.ErrDuplicate)
		}
		if err != nil {
			return fmt.Errorf("volunteers[%d] %q: %w", k, v.ID, err)
		}
		homes[k], vols[v.ID], docs[v.DocumentHash] = h, v, true
	}
	teams := map[org.TeamID]org.Team{}
	anchors := make([]nodeRow, len(b.Teams))
	for k, t := range b.Teams {
		a, err := checkTeam(tx, t, teams)
		if err != nil {
			return fmt.Errorf("teams[%d] %q: %w", k, t.ID, err)
		}
		anchors[k], teams[t.ID] = a, t
	}
	members := map[[2]string]bool{}
	leaders := map[org.TeamID]bool{}
	for k, m := range b.Memberships {
		key := [2]string{string(m.Team), string(m.Volunteer)}
		err := checkMembership(tx, m, teams, vols)
		if err == nil && members[key] {
			err = fmt.Errorf("listed twice: %w", org.ErrDuplicate)
		}
		if err == nil && m.Role == org.Leader && leaders[m.Team] {
			err = fmt.Errorf("team %q already has a leader: %w", m.Team, org.ErrDuplicate)
		}
		if err != nil {
			return fmt.Errorf("memberships[%d] %q in %q: %w", k, m.Volunteer, m.Team, err)
		}
		members[key] = true
		if m.Role == org.Leader {
			leaders[m.Team] = true
		}
	}
	pairNodes := make([]nodeRow, len(b.Pairings))
	for k, p := range b.Pairings {
		n, err := checkPairing(tx, p, b.Pairings[:k])
		if err != nil {
			return fmt.Errorf("pairings[%d] %q: %w", k, p.ID, err)
		}
		pairNodes[k] = n
	}
	for k, v := range b.Volunteers {
		if err := insertVolunteer(tx, v, homes[k]); err != nil {
			return err
		}
		cv := c
		cv.Volunteer = v.ID
		if _, err := record(tx, cv); err != nil {
			return err
		}
	}
	for k, t := range b.Teams {
		if err := insertTeam(tx, t, anchors[k]); err != nil {
			return err
		}
		ct := c
		ct.Team = t.ID
		if _, err := record(tx, ct); err != nil {
			return err
		}
	}
	for _, m := range b.Memberships {
		if err := insertMembership(tx, m); err != nil {
			return err
		}
		cm := c
		cm.Team, cm.Volunteer = m.Team, m.Volunteer
		if _, err := record(tx, cm); err != nil {
			return err
		}
	}
	for k, p := range b.Pairings {
		if err := insertPairing(tx, p, pairNodes[k]); err != nil {
			return err
		}
		cp := c
		cp.Pairing, cp.Node = p.ID, p.Node
		if _, err := record(tx, cp); err != nil {
			return err
		}
	}
	return nil
}
