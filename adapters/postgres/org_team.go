package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/civicloop/civicloop/org"
)

const teamCols = "id, name, tier, parent, anchor, area, skills, capacity, leader, retired, version, created, updated"

var tierIndex = map[org.Tier]int{org.Corps: 0, org.Detachment: 1, org.Specialty: 2}

func teamTally(t org.Tier) tally {
	var d tally
	d.teams[tierIndex[t]] = 1
	return d
}

func scanTeam(row pgx.Row) (org.Team, error) {
	var t org.Team
	var id, tier, parent, anchor, area, leader string
	var capacity int64
	var retired bool
	var created, updated pgtype.Timestamptz
	if err := row.Scan(&id, &t.Name, &tier, &parent, &anchor, &area, &t.Skills, &capacity, &leader, &retired, &t.Version, &created, &updated); err != nil {
		return t, err
	}
	t.ID, t.Tier, t.Parent, t.Anchor, t.Area, t.Leader = org.TeamID(id), org.Tier(tier), org.TeamID(parent), org.NodeID(anchor), org.NodeID(area), org.VolunteerID(leader)
	t.Capacity = int(capacity)
	t.Status = org.Active
	if retired {
		t.Status = org.Retired
	}
	if len(t.Skills) == 0 {
		t.Skills = nil
	}
	t.Created, t.Updated = timeOf(created), timeOf(updated)
	return t, nil
}

func (s *OrgStore) team(ctx context.Context, q queryer, id org.TeamID) (org.Team, error) {
	rows, err := q.Query(ctx, s.db.q("SELECT "+teamCols+" FROM {s}.org_teams WHERE id = $1"), string(id))
	if err != nil {
		return org.Team{}, err
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (org.Team, error) { return scanTeam(r) })
	if err != nil {
		return org.Team{}, err
	}
	if len(ts) == 0 {
		return org.Team{}, fmt.Errorf("team %q: %w", id, org.ErrNotFound)
	}
	return ts[0], nil
}

// checkTeam checks a new team against the stored rows and returns its
// anchor's path.
func (t *orgTx) checkTeam(tm org.Team) (string, error) {
	if old, err := t.s.team(t.ctx, t.tx, tm.ID); err == nil {
		if landedCreate(t.ctx, old, tm) {
			return "", errLanded
		}
		return "", fmt.Errorf("field id: team %q already exists: %w", tm.ID, org.ErrDuplicate)
	} else if !errors.Is(err, org.ErrNotFound) {
		return "", err
	}
	if _, ok := tierIndex[tm.Tier]; !ok {
		return "", fmt.Errorf("field tier: unknown tier %q: %w", tm.Tier, org.ErrInvalid)
	}
	var anchorPath string
	for _, f := range []struct {
		name string
		id   org.NodeID
	}{{"anchor", tm.Anchor}, {"area", tm.Area}} {
		n, err := t.s.node(t.ctx, t.tx, f.id)
		if err != nil {
			return "", fmt.Errorf("field %s: %w", f.name, err)
		}
		if n.Status == org.Retired {
			return "", fmt.Errorf("field %s: node %q is retired: %w", f.name, f.id, org.ErrRetired)
		}
		if f.name == "anchor" {
			anchorPath = n.Path
		}
	}
	if tm.Parent != "" {
		p, err := t.s.team(t.ctx, t.tx, tm.Parent)
		if err != nil {
			return "", fmt.Errorf("field parent: %w", err)
		}
		if p.Status != org.Active {
			return "", fmt.Errorf("field parent: team %q is retired: %w", tm.Parent, org.ErrRetired)
		}
	}
	return anchorPath, nil
}

// insertTeam checks and inserts a team and counts it (when active) at its
// anchor and up.
func (t *orgTx) insertTeam(tm org.Team) error {
	anchorPath, err := t.checkTeam(tm)
	if err != nil {
		return err
	}
	skills := tm.Skills
	if skills == nil {
		skills = []string{}
	}
	if _, err := t.tx.Exec(t.ctx, t.s.db.q("INSERT INTO {s}.org_teams ("+teamCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '', $9, $10, $11, $12)"),
		string(tm.ID), tm.Name, string(tm.Tier), string(tm.Parent), string(tm.Anchor), string(tm.Area), skills, int64(tm.Capacity),
		tm.Status == org.Retired, tm.Version, tstz(tm.Created), tstz(tm.Updated)); err != nil {
		return err
	}
	if tm.Status == org.Retired {
		return nil
	}
	return t.addUp(anchorPath, teamTally(tm.Tier))
}

// CreateTeam inserts a team.
func (s *OrgStore) CreateTeam(ctx context.Context, tm org.Team, c org.Change) error {
	return s.write(ctx, "create team", func(t *orgTx) error {
		if err := t.insertTeam(tm); err != nil {
			return err
		}
		return t.record(c)
	})
}

// UpdateTeam replaces name, skills and capacity on a version match.
func (s *OrgStore) UpdateTeam(ctx context.Context, tm org.Team, c org.Change) (org.Team, error) {
	var out org.Team
	err := s.write(ctx, "update team", func(t *orgTx) error {
		cur, err := s.team(ctx, t.tx, tm.ID)
		if err != nil {
			return err
		}
		if cur.Version != tm.Version {
			return fmt.Errorf("team %q: version %d, stored %d: %w", tm.ID, tm.Version, cur.Version, org.ErrConflict)
		}
		skills := tm.Skills
		if skills == nil {
			skills = []string{}
		}
		if _, err := t.tx.Exec(ctx, s.db.q("UPDATE {s}.org_teams SET name = $2, skills = $3, capacity = $4, version = version + 1, updated = $5 WHERE id = $1"),
			string(tm.ID), tm.Name, skills, int64(tm.Capacity), tstz(c.At)); err != nil {
			return err
		}
		if err := t.record(c); err != nil {
			return err
		}
		out, err = s.team(ctx, t.tx, tm.ID)
		return err
	})
	return out, err
}

// SetTeamStatus retires or reactivates a team.
func (s *OrgStore) SetTeamStatus(ctx context.Context, id org.TeamID, st org.Status, c org.Change) (org.Team, error) {
	if st != org.Active && st != org.Retired {
		return org.Team{}, fmt.Errorf("field status: unknown status %q: %w", st, org.ErrInvalid)
	}
	var out org.Team
	err := s.write(ctx, "set team status", func(t *orgTx) error {
		cur, err := s.team(ctx, t.tx, id)
		if err != nil {
			return err
		}
		if cur.Status == st {
			return fmt.Errorf("team %q is already %s: %w", id, st, org.ErrInvalid)
		}
		sign := int64(1)
		if st == org.Retired {
			sign = -1
			var child string
			err := t.tx.QueryRow(ctx, s.db.q("SELECT id FROM {s}.org_teams WHERE parent = $1 AND NOT retired ORDER BY id LIMIT 1"), string(id)).Scan(&child)
			if err == nil {
				return fmt.Errorf("team %q has active child team %q: %w", id, child, org.ErrInUse)
			} else if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		} else {
			if cur.Parent != "" {
				p, err := s.team(ctx, t.tx, cur.Parent)
				if err != nil {
					return err
				}
				if p.Status != org.Active {
					return fmt.Errorf("parent team %q is retired: %w", cur.Parent, org.ErrRetired)
				}
			}
			for _, nid := range []org.NodeID{cur.Anchor, cur.Area} {
				n, err := s.node(ctx, t.tx, nid)
				if err != nil {
					return err
				}
				if n.Status == org.Retired {
					return fmt.Errorf("anchor %q or area %q is retired: %w", cur.Anchor, cur.Area, org.ErrRetired)
				}
			}
		}
		if _, err := t.tx.Exec(ctx, s.db.q("UPDATE {s}.org_teams SET retired = $2, version = version + 1, updated = $3 WHERE id = $1"),
			string(id), st == org.Retired, tstz(c.At)); err != nil {
			return err
		}
		anchor, err := s.node(ctx, t.tx, cur.Anchor)
		if err != nil {
			return err
		}
		if err := t.addUp(anchor.Path, teamTally(cur.Tier).scaled(sign)); err != nil {
			return err
		}
		if err := t.record(c); err != nil {
			return err
		}
		out, err = s.team(ctx, t.tx, id)
		return err
	})
	return out, err
}

// Team returns one team.
func (s *OrgStore) Team(ctx context.Context, id org.TeamID) (org.Team, error) {
	t, err := s.team(ctx, s.db.pool, id)
	return t, orgErr(err)
}

// Teams returns a page of the teams anchored in q.Node's subtree, by ID.
func (s *OrgStore) Teams(ctx context.Context, q org.TeamQuery) (org.TeamPage, error) {
	root, err := s.node(ctx, s.db.pool, q.Node)
	if err != nil {
		return org.TeamPage{}, orgErr(err)
	}
	tiers := make([]string, len(q.Tiers))
	for i, t := range q.Tiers {
		tiers[i] = string(t)
	}
	lim := max(q.Limit, 1)
	rows, err := s.db.pool.Query(ctx, s.db.q(`SELECT t.`+strings.ReplaceAll(teamCols, ", ", ", t.")+` FROM {s}.org_teams t JOIN {s}.org_nodes n ON n.id = t.anchor
		WHERE n.path >= $1 AND n.path < $2 AND t.id > $3 AND (cardinality($4::text[]) = 0 OR t.tier = ANY($4)) AND ($5 OR NOT t.retired)
		ORDER BY t.id LIMIT $6`), root.Path, pathEnd(root.Path), q.After, tiers, q.IncludeRetired, lim+1)
	if err != nil {
		return org.TeamPage{}, orgErr(err)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (org.Team, error) { return scanTeam(r) })
	if err != nil {
		return org.TeamPage{}, orgErr(err)
	}
	page := org.TeamPage{Teams: ts}
	if page.Teams == nil {
		page.Teams = []org.Team{}
	}
	if len(ts) > lim {
		page.Teams = ts[:lim]
		page.Next = string(ts[lim-1].ID)
	}
	return page, nil
}

// TeamsServing returns the active teams with skill whose area contains
// node, nearest area first, then by ID.
func (s *OrgStore) TeamsServing(ctx context.Context, node org.NodeID, skill string) ([]org.Team, error) {
	n, err := s.node(ctx, s.db.pool, node)
	if err != nil {
		return nil, orgErr(err)
	}
	areas := pathStrings(n.Path)
	rows, err := s.db.pool.Query(ctx, s.db.q(`SELECT `+teamCols+` FROM {s}.org_teams
		WHERE area = ANY($1) AND NOT retired AND $2 = ANY(skills) ORDER BY id`), areas, skill)
	if err != nil {
		return nil, orgErr(err)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (org.Team, error) { return scanTeam(r) })
	if err != nil {
		return nil, orgErr(err)
	}
	depth := map[org.NodeID]int{}
	for i, a := range areas {
		depth[org.NodeID(a)] = i
	}
	slices.SortStableFunc(ts, func(a, b org.Team) int { return depth[b.Area] - depth[a.Area] })
	if ts == nil {
		ts = []org.Team{}
	}
	return ts, nil
}

// insertMembership checks and inserts m; a leader also becomes the team's
// leader.
func (t *orgTx) insertMembership(m org.Membership) error {
	tm, err := t.s.team(t.ctx, t.tx, m.Team)
	if err != nil {
		return err
	}
	v, err := t.s.volunteer(t.ctx, t.tx, m.Volunteer)
	if err != nil {
		return err
	}
	if tm.Status != org.Active {
		return fmt.Errorf("team %q is retired: %w", m.Team, org.ErrRetired)
	}
	if v.Status != org.VolunteerActive {
		return fmt.Errorf("volunteer %q is %s: %w", m.Volunteer, v.Status, org.ErrRetired)
	}
	var one int
	err = t.tx.QueryRow(t.ctx, t.s.db.q("SELECT 1 FROM {s}.org_members WHERE team = $1 AND volunteer = $2"), string(m.Team), string(m.Volunteer)).Scan(&one)
	if err == nil {
		return fmt.Errorf("volunteer %q is already in team %q: %w", m.Volunteer, m.Team, org.ErrDuplicate)
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if m.Role == org.Leader && tm.Leader != "" {
		return fmt.Errorf("team %q already has leader %q: %w", m.Team, tm.Leader, org.ErrDuplicate)
	}
	if err := t.checkHomeIn(tm, v); err != nil {
		return err
	}
	if _, err := t.tx.Exec(t.ctx, t.s.db.q("INSERT INTO {s}.org_members (team, volunteer, role, since) VALUES ($1, $2, $3, $4)"),
		string(m.Team), string(m.Volunteer), string(m.Role), tstz(m.Since)); err != nil {
		return err
	}
	if m.Role != org.Leader {
		return nil
	}
	_, err = t.tx.Exec(t.ctx, t.s.db.q("UPDATE {s}.org_teams SET leader = $2 WHERE id = $1"), string(m.Team), string(m.Volunteer))
	return err
}

// checkHomeIn refuses a member whose home lies outside the team's area.
// The service checked the home it read; this check runs under the org
// lock, on the home stored now (in a bulk load, b's nodes and volunteers
// are in already), so a home moved in between is not missed.
func (t *orgTx) checkHomeIn(tm org.Team, v org.Volunteer) error {
	area, err := t.s.node(t.ctx, t.tx, tm.Area)
	if err != nil {
		return fmt.Errorf("team %q: field area: %w", tm.ID, err)
	}
	home, err := t.s.node(t.ctx, t.tx, v.Home)
	if err != nil {
		return fmt.Errorf("volunteer %q: field home: %w", v.ID, err)
	}
	if !strings.HasPrefix(home.Path, area.Path) {
		return fmt.Errorf("field volunteer: home %q is outside the area %q of team %q: %w", v.Home, tm.Area, tm.ID, org.ErrOutOfArea)
	}
	return nil
}

// AddMembership adds m.
func (s *OrgStore) AddMembership(ctx context.Context, m org.Membership, c org.Change) error {
	return s.write(ctx, "add membership", func(t *orgTx) error {
		if err := t.insertMembership(m); err != nil {
			return err
		}
		return t.record(c)
	})
}

// RemoveMembership removes the volunteer from the team.
func (s *OrgStore) RemoveMembership(ctx context.Context, team org.TeamID, v org.VolunteerID, c org.Change) error {
	return s.write(ctx, "remove membership", func(t *orgTx) error {
		var role string
		err := t.tx.QueryRow(ctx, s.db.q("DELETE FROM {s}.org_members WHERE team = $1 AND volunteer = $2 RETURNING role"), string(team), string(v)).Scan(&role)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("volunteer %q is not in team %q: %w", v, team, org.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if org.MemberRole(role) == org.Leader {
			if _, err := t.tx.Exec(ctx, s.db.q("UPDATE {s}.org_teams SET leader = '' WHERE id = $1"), string(team)); err != nil {
				return err
			}
		}
		return t.record(c)
	})
}

func scanMembership(row pgx.CollectableRow) (org.Membership, error) {
	var m org.Membership
	var team, vol, role string
	var since pgtype.Timestamptz
	err := row.Scan(&team, &vol, &role, &since)
	m.Team, m.Volunteer, m.Role, m.Since = org.TeamID(team), org.VolunteerID(vol), org.MemberRole(role), timeOf(since)
	return m, err
}

// Members returns the team's memberships by volunteer ID.
func (s *OrgStore) Members(ctx context.Context, team org.TeamID) ([]org.Membership, error) {
	if _, err := s.team(ctx, s.db.pool, team); err != nil {
		return nil, orgErr(err)
	}
	return s.memberships(ctx, "team = $1 ORDER BY volunteer", string(team))
}

// Memberships returns the volunteer's memberships by team ID.
func (s *OrgStore) Memberships(ctx context.Context, v org.VolunteerID) ([]org.Membership, error) {
	if _, err := s.volunteer(ctx, s.db.pool, v); err != nil {
		return nil, orgErr(err)
	}
	return s.memberships(ctx, "volunteer = $1 ORDER BY team", string(v))
}

// memberships returns the memberships matching where (a condition on $1
// with its ORDER BY), never nil.
func (s *OrgStore) memberships(ctx context.Context, where, arg string) ([]org.Membership, error) {
	rows, err := s.db.pool.Query(ctx, s.db.q("SELECT team, volunteer, role, since FROM {s}.org_members WHERE "+where), arg)
	if err != nil {
		return nil, orgErr(err)
	}
	out, err := pgx.CollectRows(rows, scanMembership)
	if out == nil && err == nil {
		out = []org.Membership{}
	}
	return out, orgErr(err)
}
