package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/civicloop/civicloop/org"
)

// OrgStore is the practice network kept in the database file (tables
// org_*). Each mutating method is one request to the writer: it checks
// what depends on other rows, changes them and appends its org.Change,
// all in the shared transaction. Reads use the read pool.
type OrgStore struct {
	db *DB
}

var _ org.Store = (*OrgStore)(nil)

// Org returns the org store of db.
func (db *DB) Org() *OrgStore { return db.org }

// Times in org tables are nanoseconds: org keeps the clock's full
// precision.
func nanoArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

func nanoCol(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.Unix(0, v.Int64).UTC()
}

// subtreeUpper is the exclusive upper bound of the paths in the subtree
// whose root has path p ("/a/b/" -> "/a/b0"; '0' follows '/').
func subtreeUpper(p string) string { return p[:len(p)-1] + "0" }

// tally is a delta of the counted parts of a roll-up, in the column order
// of tallyCols.
type tally [9]int64

const tallyCols = `centres, institutes, stations, points, corps, detachments, specialty, volunteers, pairings`

var tallySet = `centres = centres + ?, institutes = institutes + ?, stations = stations + ?,
	points = points + ?, corps = corps + ?, detachments = detachments + ?, specialty = specialty + ?,
	volunteers = volunteers + ?, pairings = pairings + ?`

func nodeTally(k org.Kind) tally {
	var t tally
	t[k.Level()] = 1
	return t
}

func teamTally(tier org.Tier) tally {
	var t tally
	switch tier {
	case org.Corps:
		t[4] = 1
	case org.Detachment:
		t[5] = 1
	case org.Specialty:
		t[6] = 1
	}
	return t
}

var (
	volTally  = tally{7: 1}
	pairTally = tally{8: 1}
)

func (t tally) times(sign int64) tally {
	for i := range t {
		t[i] *= sign
	}
	return t
}

type nodeRow struct {
	org.Node
	createdChange int64
}

const nodeCols = `id, kind, name, parent, path, status, created, updated, created_change`

func scanNode(r rowScanner) (nodeRow, error) {
	var (
		n                nodeRow
		id, parent       string
		kind, status     string
		created, updated sql.NullInt64
	)
	if err := r.Scan(&id, &kind, &n.Name, &parent, &n.Path, &status, &created, &updated, &n.createdChange); err != nil {
		return nodeRow{}, err
	}
	n.ID, n.Parent, n.Kind, n.Status = org.NodeID(id), org.NodeID(parent), org.Kind(kind), org.Status(status)
	n.Created, n.Updated = nanoCol(created), nanoCol(updated)
	return n, nil
}

const teamCols = `id, name, tier, parent, anchor, area, skills, capacity, leader, status, version, created, updated`

func scanTeam(r rowScanner) (org.Team, error) {
	var (
		t                              org.Team
		id, tier, parent, anchor, area string
		skills, leader, status         string
		created, updated               sql.NullInt64
	)
	if err := r.Scan(&id, &t.Name, &tier, &parent, &anchor, &area, &skills, &t.Capacity, &leader, &status,
		&t.Version, &created, &updated); err != nil {
		return org.Team{}, err
	}
	t.ID, t.Tier, t.Parent = org.TeamID(id), org.Tier(tier), org.TeamID(parent)
	t.Anchor, t.Area, t.Leader, t.Status = org.NodeID(anchor), org.NodeID(area), org.VolunteerID(leader), org.Status(status)
	t.Created, t.Updated = nanoCol(created), nanoCol(updated)
	if err := json.Unmarshal([]byte(skills), &t.Skills); err != nil {
		return org.Team{}, fmt.Errorf("%w: skills column: %v", ErrCorrupt, err)
	}
	return t, nil
}

func skillsArg(s []string) string {
	if s == nil {
		return "null"
	}
	b, _ := json.Marshal(s) // a []string always marshals
	return string(b)
}

const volunteerCols = `id, name, contact, home, status, doc_hash, version, created, updated`

func scanVolunteer(r rowScanner) (org.Volunteer, error) {
	var (
		v                org.Volunteer
		id, home, status string
		doc              sql.NullString
		created, updated sql.NullInt64
	)
	if err := r.Scan(&id, &v.Name, &v.Contact, &home, &status, &doc, &v.Version, &created, &updated); err != nil {
		return org.Volunteer{}, err
	}
	v.ID, v.Home, v.Status, v.DocumentHash = org.VolunteerID(id), org.NodeID(home), org.VolunteerStatus(status), doc.String
	v.Created, v.Updated = nanoCol(created), nanoCol(updated)
	return v, nil
}

func docArg(h string) any {
	if h == "" {
		return nil
	}
	return h
}

const pairingCols = `id, unit, unit_name, unit_kind, node, start_at, end_at, created`

func scanPairing(r rowScanner) (org.Pairing, error) {
	var (
		p                   org.Pairing
		kind, node          string
		start, end, created sql.NullInt64
	)
	if err := r.Scan(&p.ID, &p.Unit, &p.UnitName, &kind, &node, &start, &end, &created); err != nil {
		return org.Pairing{}, err
	}
	p.UnitKind, p.Node = org.UnitKind(kind), org.NodeID(node)
	p.Start, p.End, p.Created = nanoCol(start), nanoCol(end), nanoCol(created)
	return p, nil
}

const memberCols = `team, volunteer, role, since`

func scanMember(r rowScanner) (org.Membership, error) {
	var (
		m                     org.Membership
		team, volunteer, role string
		since                 sql.NullInt64
	)
	if err := r.Scan(&team, &volunteer, &role, &since); err != nil {
		return org.Membership{}, err
	}
	m.Team, m.Volunteer, m.Role, m.Since = org.TeamID(team), org.VolunteerID(volunteer), org.MemberRole(role), nanoCol(since)
	return m, nil
}

func notFound(what, id string) error {
	return fmt.Errorf("%s %q: %w", what, id, org.ErrNotFound)
}

func getNode(tx *wtx, id org.NodeID) (nodeRow, error) {
	n, err := scanNode(tx.queryRow(`SELECT `+nodeCols+` FROM org_nodes WHERE id = ?`, string(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return nodeRow{}, notFound("node", string(id))
	}
	return n, err
}

// activeNode loads a node that a new object refers to in field.
func activeNode(tx *wtx, field string, id org.NodeID) (nodeRow, error) {
	n, err := getNode(tx, id)
	if err != nil {
		return nodeRow{}, fmt.Errorf("field %s: %w", field, err)
	}
	if n.Status != org.Active {
		return nodeRow{}, fmt.Errorf("field %s: node %q is retired: %w", field, id, org.ErrRetired)
	}
	return n, nil
}

func getTeam(tx *wtx, id org.TeamID) (org.Team, error) {
	t, err := scanTeam(tx.queryRow(`SELECT `+teamCols+` FROM org_teams WHERE id = ?`, string(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return org.Team{}, notFound("team", string(id))
	}
	return t, err
}

func getVolunteer(tx *wtx, id org.VolunteerID) (org.Volunteer, error) {
	v, err := scanVolunteer(tx.queryRow(`SELECT `+volunteerCols+` FROM org_volunteers WHERE id = ?`, string(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return org.Volunteer{}, notFound("volunteer", string(id))
	}
	return v, err
}

func exists(tx *wtx, query string, args ...any) (bool, error) {
	var one int
	err := tx.queryRow(query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// pathIDsArg is the JSON array of the IDs on path, for "id IN
// (SELECT value FROM json_each(?))".
func pathIDsArg(path string) string {
	b, _ := json.Marshal(org.PathIDs(path)) // IDs are strings
	return string(b)
}

// addUp adds d to the subtree totals of the node with path and of all its
// ancestors.
func addUp(tx *wtx, path string, d tally) error {
	args := make([]any, 0, len(d)+1)
	for _, v := range d {
		args = append(args, v)
	}
	args = append(args, pathIDsArg(path))
	_, err := tx.exec(`UPDATE org_nodes SET `+tallySet+` WHERE id IN (SELECT value FROM json_each(?))`, args...)
	return err
}

// addCountersUp adds counter deltas (hours, points, orders, completed,
// activities) to the subtree sums of the node with path and its ancestors.
func addCountersUp(tx *wtx, path string, d [5]int64) error {
	_, err := tx.exec(`UPDATE org_nodes SET sub_hours = sub_hours + ?, sub_points = sub_points + ?,
		sub_orders = sub_orders + ?, sub_completed = sub_completed + ?, sub_activities = sub_activities + ?
		WHERE id IN (SELECT value FROM json_each(?))`, d[0], d[1], d[2], d[3], d[4], pathIDsArg(path))
	return err
}

// record appends c to the change log under the next sequence number.
func record(tx *wtx, c org.Change) (int64, error) {
	seq, err := nextOrgSeq(tx)
	if err != nil {
		return 0, err
	}
	actor, err := json.Marshal(c.Actor)
	if err != nil {
		return 0, err
	}
	_, err = tx.exec(`INSERT INTO org_changes (seq, action, node, team, volunteer, pairing, actor, at, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, seq, string(c.Action), string(c.Node), string(c.Team),
		string(c.Volunteer), c.Pairing, string(actor), nanoArg(c.At), c.Detail)
	return seq, err
}

func nextOrgSeq(tx *wtx) (int64, error) {
	var seq int64
	err := tx.queryRow(`UPDATE org_seq SET value = value + 1 WHERE id = 1 RETURNING value`).Scan(&seq)
	return seq, err
}

// orgWrite runs fn as one write and names the operation in its error.
func (s *OrgStore) write(ctx context.Context, op string, fn func(tx *wtx) error) error {
	if err := s.db.w.do(ctx, fn); err != nil {
		return fmt.Errorf("sqlite: org: %s: %w", op, err)
	}
	return nil
}

// CreateNode implements org.NodeStore.
func (s *OrgStore) CreateNode(ctx context.Context, n org.Node, c org.Change) error {
	return s.write(ctx, "create node "+string(n.ID), func(tx *wtx) error {
		c.Node = n.ID
		seq, err := record(tx, c)
		if err != nil {
			return err
		}
		n, err := insertNode(tx, n, seq)
		if err != nil {
			return err
		}
		return addUp(tx, n.Path, nodeTally(n.Kind))
	})
}

// insertNode checks and inserts one node without touching roll-ups. It
// returns the node as stored (its Path from the parent's).
func insertNode(tx *wtx, n org.Node, createdChange int64) (org.Node, error) {
	if dup, err := exists(tx, `SELECT 1 FROM org_nodes WHERE id = ?`, string(n.ID)); err != nil || dup {
		if err == nil {
			err = fmt.Errorf("field id: node %q already exists: %w", n.ID, org.ErrDuplicate)
		}
		return org.Node{}, err
	}
	if !n.Kind.Valid() {
		return org.Node{}, fmt.Errorf("field kind: unknown kind %q: %w", n.Kind, org.ErrInvalid)
	}
	var parentKind org.Kind
	parentPath := ""
	if n.Parent != "" {
		p, err := activeNode(tx, "parent", n.Parent)
		if err != nil {
			return org.Node{}, err
		}
		parentKind, parentPath = p.Kind, p.Path
	}
	if err := org.CheckParent(n.Kind, parentKind); err != nil {
		return org.Node{}, err
	}
	n.Path = org.PathOf(parentPath, n.ID)
	if n.Status == "" {
		n.Status = org.Active
	}
	_, err := tx.exec(`INSERT INTO org_nodes (`+nodeCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		string(n.ID), string(n.Kind), n.Name, string(n.Parent), n.Path, string(n.Status),
		nanoArg(n.Created), nanoArg(n.Updated), createdChange)
	return n, translateAs(err, org.ErrDuplicate)
}

// RenameNode implements org.NodeStore.
func (s *OrgStore) RenameNode(ctx context.Context, id org.NodeID, name string, c org.Change) (org.Node, error) {
	var out org.Node
	err := s.write(ctx, "rename node "+string(id), func(tx *wtx) error {
		n, err := getNode(tx, id)
		if err != nil {
			return err
		}
		n.Name, n.Updated = name, c.At
		if _, err := tx.exec(`UPDATE org_nodes SET name = ?, updated = ? WHERE id = ?`, name, nanoArg(c.At), string(id)); err != nil {
			return err
		}
		_, err = record(tx, c)
		out = n.Node
		return err
	})
	return out, err
}

// MoveNode implements org.NodeStore.
func (s *OrgStore) MoveNode(ctx context.Context, id, parent org.NodeID, c org.Change) (org.Node, error) {
	var out org.Node
	err := s.write(ctx, "move node "+string(id), func(tx *wtx) error {
		n, err := getNode(tx, id)
		if err != nil {
			return err
		}
		p, err := getNode(tx, parent)
		if err != nil {
			return fmt.Errorf("field parent: %w", err)
		}
		if strings.HasPrefix(p.Path, n.Path) {
			return fmt.Errorf("field parent: %q lies within %q: %w", parent, id, org.ErrCycle)
		}
		if p.Status != org.Active {
			return fmt.Errorf("field parent: node %q is retired: %w", parent, org.ErrRetired)
		}
		if err := org.CheckParent(n.Kind, p.Kind); err != nil {
			return err
		}
		if n.Parent == "" {
			return fmt.Errorf("field id: %q is a root: %w", id, org.ErrTier)
		}
		if err := moveTotals(tx, n.Node, p.Path); err != nil {
			return err
		}
		newPath := org.PathOf(p.Path, id)
		_, err = tx.exec(`UPDATE org_nodes SET path = ? || substr(path, ?) WHERE path >= ? AND path < ?`,
			newPath, len(n.Path)+1, n.Path, subtreeUpper(n.Path))
		if err != nil {
			return err
		}
		if _, err := tx.exec(`UPDATE org_nodes SET parent = ?, updated = ? WHERE id = ?`, string(parent), nanoArg(c.At), string(id)); err != nil {
			return err
		}
		if _, err = record(tx, c); err != nil {
			return err
		}
		n.Parent, n.Path, n.Updated = parent, newPath, c.At
		out = n.Node
		return nil
	})
	return out, err
}

// moveTotals moves the subtree totals of node n from its old ancestors to
// the ancestors on newParentPath.
func moveTotals(tx *wtx, n org.Node, newParentPath string) error {
	var (
		t tally
		k [5]int64
	)
	err := tx.queryRow(`SELECT `+tallyCols+`, sub_hours, sub_points, sub_orders, sub_completed, sub_activities
		FROM org_nodes WHERE id = ?`, string(n.ID)).Scan(&t[0], &t[1], &t[2], &t[3], &t[4], &t[5], &t[6], &t[7], &t[8],
		&k[0], &k[1], &k[2], &k[3], &k[4])
	if err != nil {
		return err
	}
	oldParentPath := n.Path[:len(n.Path)-len(n.ID)-1]
	neg := k
	for i := range neg {
		neg[i] = -neg[i]
	}
	if err := addUp(tx, oldParentPath, t.times(-1)); err != nil {
		return err
	}
	if err := addUp(tx, newParentPath, t); err != nil {
		return err
	}
	if err := addCountersUp(tx, oldParentPath, neg); err != nil {
		return err
	}
	return addCountersUp(tx, newParentPath, k)
}

// RetireNode implements org.NodeStore.
func (s *OrgStore) RetireNode(ctx context.Context, id org.NodeID, c org.Change) (org.Node, error) {
	var out org.Node
	err := s.write(ctx, "retire node "+string(id), func(tx *wtx) error {
		n, err := getNode(tx, id)
		if err != nil {
			return err
		}
		if n.Status == org.Retired {
			return fmt.Errorf("node %q is already retired: %w", id, org.ErrRetired)
		}
		var child string
		err = tx.queryRow(`SELECT id FROM org_nodes WHERE parent = ? AND status = 'active' ORDER BY id LIMIT 1`, string(id)).Scan(&child)
		if err == nil {
			return fmt.Errorf("node %q has active child %q: %w", id, child, org.ErrInUse)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var team string
		err = tx.queryRow(`SELECT id FROM org_teams WHERE (anchor = ? OR area = ?) AND status = 'active' ORDER BY id LIMIT 1`,
			string(id), string(id)).Scan(&team)
		if err == nil {
			return fmt.Errorf("node %q has active team %q: %w", id, team, org.ErrInUse)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		out, err = setNodeStatus(tx, n.Node, org.Retired, c)
		return err
	})
	return out, err
}

// ReactivateNode implements org.NodeStore.
func (s *OrgStore) ReactivateNode(ctx context.Context, id org.NodeID, c org.Change) (org.Node, error) {
	var out org.Node
	err := s.write(ctx, "reactivate node "+string(id), func(tx *wtx) error {
		n, err := getNode(tx, id)
		if err != nil {
			return err
		}
		if n.Status == org.Active {
			return fmt.Errorf("node %q is already active: %w", id, org.ErrInvalid)
		}
		if n.Parent != "" {
			p, err := getNode(tx, n.Parent)
			if err != nil {
				return err
			}
			if p.Status != org.Active {
				return fmt.Errorf("parent %q is retired: %w", n.Parent, org.ErrRetired)
			}
		}
		out, err = setNodeStatus(tx, n.Node, org.Active, c)
		return err
	})
	return out, err
}

func setNodeStatus(tx *wtx, n org.Node, st org.Status, c org.Change) (org.Node, error) {
	if _, err := tx.exec(`UPDATE org_nodes SET status = ?, updated = ? WHERE id = ?`, string(st), nanoArg(c.At), string(n.ID)); err != nil {
		return org.Node{}, err
	}
	sign := int64(1)
	if st == org.Retired {
		sign = -1
	}
	if err := addUp(tx, n.Path, nodeTally(n.Kind).times(sign)); err != nil {
		return org.Node{}, err
	}
	if _, err := record(tx, c); err != nil {
		return org.Node{}, err
	}
	n.Status, n.Updated = st, c.At
	return n, nil
}

// readNode loads a node through the read pool.
func readNode(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id org.NodeID) (nodeRow, error) {
	n, err := scanNode(q.QueryRowContext(ctx, `SELECT `+nodeCols+` FROM org_nodes WHERE id = ?`, string(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return nodeRow{}, notFound("node", string(id))
	}
	return n, translate(err)
}

// read runs fn in one read transaction and names op in its error.
func (s *OrgStore) read(ctx context.Context, op string, fn func(tx reader) error) error {
	if err := s.db.readTx(ctx, fn); err != nil {
		return fmt.Errorf("sqlite: org: %s: %w", op, translate(err))
	}
	return nil
}

// Node implements org.NodeStore.
func (s *OrgStore) Node(ctx context.Context, id org.NodeID) (_ org.Node, err error) {
	defer s.db.settled(ctx, &err) // no caller sees a commit before it is durable
	n, err := readNode(ctx, s.db.reader(), id)
	if err != nil {
		return org.Node{}, fmt.Errorf("sqlite: org: %w", err)
	}
	return n.Node, nil
}

// Ancestors implements org.NodeStore.
func (s *OrgStore) Ancestors(ctx context.Context, id org.NodeID) ([]org.Node, error) {
	out := []org.Node{}
	err := s.read(ctx, "ancestors of "+string(id), func(tx reader) error {
		n, err := readNode(ctx, tx, id)
		if err != nil {
			return err
		}
		ids := org.PathIDs(n.Path)
		for _, a := range ids[:len(ids)-1] {
			an, err := readNode(ctx, tx, a)
			if err != nil {
				return err
			}
			out = append(out, an.Node)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Within implements org.NodeStore.
func (s *OrgStore) Within(ctx context.Context, scope, node org.NodeID) (bool, error) {
	var in bool
	err := s.read(ctx, "within", func(tx reader) error {
		sc, err := readNode(ctx, tx, scope)
		if err != nil {
			return fmt.Errorf("scope: %w", err)
		}
		n, err := readNode(ctx, tx, node)
		if err != nil {
			return err
		}
		in = strings.HasPrefix(n.Path, sc.Path)
		return nil
	})
	return in, err
}

// queryPage runs a page query that asks for lim+1 rows and scans at most lim
// of them; more reports that the extra row exists, so another page follows.
func queryPage[T any](ctx context.Context, tx reader, lim int, scan func(rowScanner) (T, error), query string, args ...any) (items []T, more bool, err error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	for rows.Next() {
		if len(items) == lim {
			return items, true, nil
		}
		v, err := scan(rows)
		if err != nil {
			return nil, false, err
		}
		items = append(items, v)
	}
	return items, false, rows.Err()
}

// Subtree implements org.NodeStore.
func (s *OrgStore) Subtree(ctx context.Context, root org.NodeID, q org.SubtreeQuery) (org.NodePage, error) {
	page := org.NodePage{Nodes: []org.Node{}}
	err := s.read(ctx, "subtree of "+string(root), func(tx reader) error {
		r, err := readNode(ctx, tx, root)
		if err != nil {
			return err
		}
		if q.After != "" && !strings.HasPrefix(q.After, r.Path) {
			return fmt.Errorf("field after: cursor %q is not within %q: %w", q.After, r.Path, org.ErrInvalid)
		}
		lim := max(q.Limit, 1)
		query := `SELECT ` + nodeCols + ` FROM org_nodes WHERE path >= ? AND path < ? AND path > ?`
		args := []any{r.Path, subtreeUpper(r.Path), q.After}
		if !q.IncludeRetired {
			query += ` AND status = 'active'`
		}
		if len(q.Kinds) > 0 {
			kinds, _ := json.Marshal(q.Kinds)
			query += ` AND kind IN (SELECT value FROM json_each(?))`
			args = append(args, string(kinds))
		}
		nodes, more, err := queryPage(ctx, tx, lim, func(r rowScanner) (org.Node, error) {
			n, err := scanNode(r)
			return n.Node, err
		}, query+` ORDER BY path LIMIT ?`, append(args, lim+1)...)
		if err != nil {
			return err
		}
		page.Nodes = append(page.Nodes, nodes...)
		if more {
			page.Next = nodes[lim-1].Path
		}
		return nil
	})
	if err != nil {
		return org.NodePage{}, err
	}
	return page, nil
}
