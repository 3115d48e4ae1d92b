package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/civicloop/civicloop/org"
)

// checkTeam checks a new team's references; staged holds teams of the same
// bulk load that are not stored yet.
func checkTeam(tx *wtx, t org.Team, staged map[org.TeamID]org.Team) (anchor nodeRow, err error) {
	if dup, err := exists(tx, `SELECT 1 FROM org_teams WHERE id = ?`, string(t.ID)); err != nil || dup {
		if err == nil {
			err = fmt.Errorf("field id: team %q already exists: %w", t.ID, org.ErrDuplicate)
		}
		return nodeRow{}, err
	}
	if _, dup := staged[t.ID]; dup {
		return nodeRow{}, fmt.Errorf("field id: team %q listed twice: %w", t.ID, org.ErrDuplicate)
	}
	if !t.Tier.Valid() {
		return nodeRow{}, fmt.Errorf("field tier: unknown tier %q: %w", t.Tier, org.ErrInvalid)
	}
	if anchor, err = activeNode(tx, "anchor", t.Anchor); err != nil {
		return nodeRow{}, err
	}
	if _, err = activeNode(tx, "area", t.Area); err != nil {
		return nodeRow{}, err
	}
	if t.Parent != "" {
		p, ok := staged[t.Parent]
		if !ok {
			if p, err = getTeam(tx, t.Parent); err != nil {
				return nodeRow{}, fmt.Errorf("field parent: %w", err)
			}
		}
		if p.Status != org.Active {
			return nodeRow{}, fmt.Errorf("field parent: team %q is retired: %w", t.Parent, org.ErrRetired)
		}
	}
	return anchor, nil
}

func insertTeam(tx *wtx, t org.Team, anchor nodeRow) error {
	if t.Status == "" {
		t.Status = org.Active
	}
	_, err := tx.exec(`INSERT INTO org_teams (`+teamCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?)`,
		string(t.ID), t.Name, string(t.Tier), string(t.Parent), string(t.Anchor), string(t.Area),
		skillsArg(t.Skills), t.Capacity, string(t.Status), t.Version, nanoArg(t.Created), nanoArg(t.Updated))
	if err != nil {
		return translateAs(err, org.ErrDuplicate)
	}
	if err := setSkills(tx, t.ID, t.Area, t.Skills); err != nil {
		return err
	}
	if t.Status == org.Active {
		return addUp(tx, anchor.Path, teamTally(t.Tier))
	}
	return nil
}

// setSkills replaces the team's rows in org_team_skills.
func setSkills(tx *wtx, id org.TeamID, area org.NodeID, skills []string) error {
	if _, err := tx.exec(`DELETE FROM org_team_skills WHERE team = ? AND area = ?`, string(id), string(area)); err != nil {
		return err
	}
	for _, sk := range skills {
		if _, err := tx.exec(`INSERT OR IGNORE INTO org_team_skills (skill, area, team) VALUES (?, ?, ?)`, sk, string(area), string(id)); err != nil {
			return err
		}
	}
	return nil
}

// CreateTeam implements org.TeamStore.
func (s *OrgStore) CreateTeam(ctx context.Context, t org.Team, c org.Change) error {
	return s.write(ctx, "create team "+string(t.ID), func(tx *wtx) error {
		anchor, err := checkTeam(tx, t, nil)
		if err != nil {
			return err
		}
		if err := insertTeam(tx, t, anchor); err != nil {
			return err
		}
		_, err = record(tx, c)
		return err
	})
}

// UpdateTeam implements org.TeamStore.
func (s *OrgStore) UpdateTeam(ctx context.Context, t org.Team, c org.Change) (org.Team, error) {
	var out org.Team
	err := s.write(ctx, "update team "+string(t.ID), func(tx *wtx) error {
		cur, err := getTeam(tx, t.ID)
		if err != nil {
			return err
		}
		if cur.Version != t.Version {
			return fmt.Errorf("team %q: version %d, stored %d: %w", t.ID, t.Version, cur.Version, org.ErrConflict)
		}
		cur.Name, cur.Skills, cur.Capacity = t.Name, t.Skills, t.Capacity
		cur.Version++
		cur.Updated = c.At
		_, err = tx.exec(`UPDATE org_teams SET name = ?, skills = ?, capacity = ?, version = ?, updated = ? WHERE id = ?`,
			cur.Name, skillsArg(cur.Skills), cur.Capacity, cur.Version, nanoArg(c.At), string(t.ID))
		if err != nil {
			return err
		}
		if err := setSkills(tx, t.ID, cur.Area, cur.Skills); err != nil {
			return err
		}
		if _, err := record(tx, c); err != nil {
			return err
		}
		out = cur
		return nil
	})
	if err != nil {
		return org.Team{}, err
	}
	return out, nil
}

// SetTeamStatus implements org.TeamStore.
func (s *OrgStore) SetTeamStatus(ctx context.Context, id org.TeamID, st org.Status, c org.Change) (org.Team, error) {
	if st != org.Active && st != org.Retired {
		return org.Team{}, fmt.Errorf("sqlite: org: team %q: field status: unknown status %q: %w", id, st, org.ErrInvalid)
	}
	var out org.Team
	err := s.write(ctx, "set team status "+string(id), func(tx *wtx) error {
		t, err := getTeam(tx, id)
		if err != nil {
			return err
		}
		if t.Status == st {
			return fmt.Errorf("team %q is already %s: %w", id, st, org.ErrInvalid)
		}
		sign := int64(1)
		if st == org.Retired {
			sign = -1
			var child string
			err := tx.queryRow(`SELECT id FROM org_teams WHERE parent = ? AND status = 'active' ORDER BY id LIMIT 1`, string(id)).Scan(&child)
			if err == nil {
				return fmt.Errorf("team %q has active child team %q: %w", id, child, org.ErrInUse)
			} else if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		} else if err := checkReactivateTeam(tx, t); err != nil {
			return err
		}
		anchor, err := getNode(tx, t.Anchor)
		if err != nil {
			return err
		}
		t.Status, t.Updated = st, c.At
		t.Version++
		if _, err := tx.exec(`UPDATE org_teams SET status = ?, version = ?, updated = ? WHERE id = ?`,
			string(st), t.Version, nanoArg(c.At), string(id)); err != nil {
			return err
		}
		if err := addUp(tx, anchor.Path, teamTally(t.Tier).times(sign)); err != nil {
			return err
		}
		if _, err := record(tx, c); err != nil {
			return err
		}
		out = t
		return nil
	})
	if err != nil {
		return org.Team{}, err
	}
	return out, nil
}

func checkReactivateTeam(tx *wtx, t org.Team) error {
	if t.Parent != "" {
		p, err := getTeam(tx, t.Parent)
		if err != nil {
			return err
		}
		if p.Status != org.Active {
			return fmt.Errorf("parent team %q is retired: %w", t.Parent, org.ErrRetired)
		}
	}
	for _, id := range []org.NodeID{t.Anchor, t.Area} {
		n, err := getNode(tx, id)
		if err != nil {
			return err
		}
		if n.Status != org.Active {
			return fmt.Errorf("anchor %q or area %q is retired: %w", t.Anchor, t.Area, org.ErrRetired)
		}
	}
	return nil
}

// Team implements org.TeamStore.
func (s *OrgStore) Team(ctx context.Context, id org.TeamID) (_ org.Team, err error) {
	defer s.db.settled(ctx, &err) // no caller sees a commit before it is durable
	t, err := scanTeam(s.db.reader().QueryRowContext(ctx, `SELECT `+teamCols+` FROM org_teams WHERE id = ?`, string(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return org.Team{}, fmt.Errorf("sqlite: org: %w", notFound("team", string(id)))
	}
	if err != nil {
		return org.Team{}, fmt.Errorf("sqlite: org: team %q: %w", id, translate(err))
	}
	return t, nil
}

// Teams implements org.TeamStore.
func (s *OrgStore) Teams(ctx context.Context, q org.TeamQuery) (org.TeamPage, error) {
	page := org.TeamPage{Teams: []org.Team{}}
	err := s.read(ctx, "teams of "+string(q.Node), func(tx reader) error {
		r, err := readNode(ctx, tx, q.Node)
		if err != nil {
			return err
		}
		lim := max(q.Limit, 1)
		query := `SELECT t.` + strings.ReplaceAll(teamCols, ", ", ", t.") + ` FROM org_teams t JOIN org_nodes n ON n.id = t.anchor
			WHERE n.path >= ? AND n.path < ? AND t.id > ?`
		args := []any{r.Path, subtreeUpper(r.Path), q.After}
		if !q.IncludeRetired {
			query += ` AND t.status = 'active'`
		}
		if len(q.Tiers) > 0 {
			tiers, _ := json.Marshal(q.Tiers)
			query += ` AND t.tier IN (SELECT value FROM json_each(?))`
			args = append(args, string(tiers))
		}
		teams, more, err := queryPage(ctx, tx, lim, scanTeam, query+` ORDER BY t.id LIMIT ?`, append(args, lim+1)...)
		if err != nil {
			return err
		}
		page.Teams = append(page.Teams, teams...)
		if more {
			page.Next = string(teams[lim-1].ID)
		}
		return nil
	})
	if err != nil {
		return org.TeamPage{}, err
	}
	return page, nil
}

// TeamsServing implements org.TeamStore.
func (s *OrgStore) TeamsServing(ctx context.Context, node org.NodeID, skill string) ([]org.Team, error) {
	out := []org.Team{}
	err := s.read(ctx, "teams serving "+string(node), func(tx reader) error {
		n, err := readNode(ctx, tx, node)
		if err != nil {
			return err
		}
		ids := org.PathIDs(n.Path)
		for i := len(ids) - 1; i >= 0; i-- { // nearest area first
			rows, err := tx.QueryContext(ctx, `SELECT t.`+strings.ReplaceAll(teamCols, ", ", ", t.")+`
				FROM org_team_skills k JOIN org_teams t ON t.id = k.team
				WHERE k.skill = ? AND k.area = ? AND t.status = 'active' ORDER BY t.id`, skill, string(ids[i]))
			if err != nil {
				return err
			}
			for rows.Next() {
				t, err := scanTeam(rows)
				if err != nil {
					rows.Close()
					return err
				}
				out = append(out, t)
			}
			if err := rows.Close(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkMembership checks m against the stored team and volunteer, or the
// staged ones of a bulk load.
func checkMembership(tx *wtx, m org.Membership, teams map[org.TeamID]org.Team, vols map[org.VolunteerID]org.Volunteer) error {
	t, staged := teams[m.Team]
	if !staged {
		var err error
		if t, err = getTeam(tx, m.Team); err != nil {
			return err
		}
		dup, err := exists(tx, `SELECT 1 FROM org_members WHERE team = ? AND volunteer = ?`, string(m.Team), string(m.Volunteer))
		if err != nil {
			return err
		}
		if dup {
			return fmt.Errorf("volunteer %q is already in team %q: %w", m.Volunteer, m.Team, org.ErrDuplicate)
		}
	}
	v, staged := vols[m.Volunteer]
	if !staged {
		var err error
		if v, err = getVolunteer(tx, m.Volunteer); err != nil {
			return err
		}
	}
	if t.Status != org.Active {
		return fmt.Errorf("team %q is retired: %w", m.Team, org.ErrRetired)
	}
	if v.Status != org.VolunteerActive {
		return fmt.Errorf("volunteer %q is %s: %w", m.Volunteer, v.Status, org.ErrRetired)
	}
	if m.Role == org.Leader && t.Leader != "" {
		return fmt.Errorf("team %q already has leader %q: %w", m.Team, t.Leader, org.ErrDuplicate)
	}
	return checkHomeIn(tx, t, v)
}

// checkHomeIn refuses a member whose home lies outside the team's area.
// The service checked the home it read; this check runs in the write, on
// the home stored now (or staged in a bulk load, whose nodes are in
// already), so a home moved in between is not missed.
func checkHomeIn(tx *wtx, t org.Team, v org.Volunteer) error {
	area, err := getNode(tx, t.Area)
	if err != nil {
		return fmt.Errorf("team %q: field area: %w", t.ID, err)
	}
	home, err := getNode(tx, v.Home)
	if err != nil {
		return fmt.Errorf("volunteer %q: field home: %w", v.ID, err)
	}
	if !strings.HasPrefix(home.Path, area.Path) {
		return fmt.Errorf("field volunteer: home %q is outside the area %q of team %q: %w", v.Home, t.Area, t.ID, org.ErrOutOfArea)
	}
	return nil
}

func insertMembership(tx *wtx, m org.Membership) error {
	_, err := tx.exec(`INSERT INTO org_members (`+memberCols+`) VALUES (?, ?, ?, ?)`,
		string(m.Team), string(m.Volunteer), string(m.Role), nanoArg(m.Since))
	if err != nil {
		return translateAs(err, org.ErrDuplicate)
	}
	if m.Role == org.Leader {
		_, err = tx.exec(`UPDATE org_teams SET leader = ? WHERE id = ?`, string(m.Volunteer), string(m.Team))
	}
	return err
}

// AddMembership implements org.TeamStore.
func (s *OrgStore) AddMembership(ctx context.Context, m org.Membership, c org.Change) error {
	return s.write(ctx, fmt.Sprintf("add %q to team %q", m.Volunteer, m.Team), func(tx *wtx) error {
		if err := checkMembership(tx, m, nil, nil); err != nil {
			return err
		}
		if err := insertMembership(tx, m); err != nil {
			return err
		}
		_, err := record(tx, c)
		return err
	})
}

// RemoveMembership implements org.TeamStore.
func (s *OrgStore) RemoveMembership(ctx context.Context, team org.TeamID, v org.VolunteerID, c org.Change) error {
	return s.write(ctx, fmt.Sprintf("remove %q from team %q", v, team), func(tx *wtx) error {
		m, err := scanMember(tx.queryRow(`SELECT `+memberCols+` FROM org_members WHERE team = ? AND volunteer = ?`, string(team), string(v)))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("volunteer %q is not in team %q: %w", v, team, org.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := tx.exec(`DELETE FROM org_members WHERE team = ? AND volunteer = ?`, string(team), string(v)); err != nil {
			return err
		}
		if m.Role == org.Leader {
			if _, err := tx.exec(`UPDATE org_teams SET leader = '' WHERE id = ?`, string(team)); err != nil {
				return err
			}
		}
		_, err = record(tx, c)
		return err
	})
}

func (s *OrgStore) memberships(ctx context.Context, op, existsQuery, what, id, query string) ([]org.Membership, error) {
	out := []org.Membership{}
	err := s.read(ctx, op, func(tx reader) error {
		var one int
		if err := tx.QueryRowContext(ctx, existsQuery, id).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return notFound(what, id)
		} else if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, query, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMember(rows)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Members implements org.TeamStore.
func (s *OrgStore) Members(ctx context.Context, team org.TeamID) ([]org.Membership, error) {
	return s.memberships(ctx, "members of "+string(team), `SELECT 1 FROM org_teams WHERE id = ?`, "team", string(team),
		`SELECT `+memberCols+` FROM org_members WHERE team = ? ORDER BY volunteer`)
}

// Memberships implements org.TeamStore.
func (s *OrgStore) Memberships(ctx context.Context, v org.VolunteerID) ([]org.Membership, error) {
	return s.memberships(ctx, "memberships of "+string(v), `SELECT 1 FROM org_volunteers WHERE id = ?`, "volunteer", string(v),
		`SELECT `+memberCols+` FROM org_members WHERE volunteer = ? ORDER BY team`)
}
