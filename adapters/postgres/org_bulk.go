package postgres

import (
	"context"
	"fmt"

	"github.com/civicloop/civicloop/org"
)

// Load inserts everything in b in one transaction, in the order nodes,
// volunteers, teams, memberships, pairings, each checked against what is
// stored and what came before it in b (an ID listed twice is therefore a
// duplicate of itself). Every created object's history starts with c.
func (s *OrgStore) Load(ctx context.Context, b *org.Bulk, c org.Change) error {
	return s.write(ctx, "load", func(t *orgTx) error {
		rec := func(set func(*org.Change)) error {
			cc := c
			cc.Node, cc.Team, cc.Volunteer, cc.Pairing = "", "", "", ""
			set(&cc)
			return t.record(cc)
		}
		for k, n := range b.Nodes {
			if err := t.insertNode(n); err != nil {
				return fmt.Errorf("nodes[%d] %q: %w", k, n.ID, err)
			}
			if err := rec(func(cc *org.Change) { cc.Node = n.ID }); err != nil {
				return err
			}
		}
		for k, v := range b.Volunteers {
			if err := t.insertVolunteer(v); err != nil {
				return fmt.Errorf("volunteers[%d] %q: %w", k, v.ID, err)
			}
			if err := rec(func(cc *org.Change) { cc.Volunteer = v.ID }); err != nil {
				return err
			}
		}
		for k, tm := range b.Teams {
			if err := t.insertTeam(tm); err != nil {
				return fmt.Errorf("teams[%d] %q: %w", k, tm.ID, err)
			}
			if err := rec(func(cc *org.Change) { cc.Team = tm.ID }); err != nil {
				return err
			}
		}
		for k, m := range b.Memberships {
			if err := t.insertMembership(m); err != nil {
				return fmt.Errorf("memberships[%d] %q in %q: %w", k, m.Volunteer, m.Team, err)
			}
			if err := rec(func(cc *org.Change) { cc.Team, cc.Volunteer = m.Team, m.Volunteer }); err != nil {
				return err
			}
		}
		for k, p := range b.Pairings {
			if err := t.insertPairing(p); err != nil {
				return fmt.Errorf("pairings[%d] %q: %w", k, p.ID, err)
			}
			if err := rec(func(cc *org.Change) { cc.Pairing, cc.Node = p.ID, p.Node }); err != nil {
				return err
			}
		}
		return nil
	})
}
