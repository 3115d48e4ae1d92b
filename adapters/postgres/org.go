package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"

	"github.com/civicloop/civicloop/org"
)

// OrgStore is the org.Store on PostgreSQL. Get it from DB.Org.
//
// Org writes are administrative and rare next to ledger traffic, so each
// one runs in a transaction that first takes the single row of org_lock
// FOR UPDATE: writes are serialised across every process sharing the
// schema, which keeps cycle checks, tier checks and roll-up maintenance
// simple and correct, and numbers the change log densely. AddCounters (fed
// by points and dispatch, frequent) takes the same row FOR SHARE only, so
// counter additions run concurrently with each other and never see the
// tree move under them. Reads take no lock.
type OrgStore struct{ db *DB }

var _ org.Store = (*OrgStore)(nil)

// Org returns the DB's org store.
func (db *DB) Org() *OrgStore { return &OrgStore{db: db} }

// orgTx is one org write transaction.
type orgTx struct {
	ctx context.Context
	s   *OrgStore
	tx  pgx.Tx
	seq int64 // the change-log number of this write
	ord int32 // changes recorded so far under seq
}

// write runs fn under the org lock, retried on conflicts.
func (s *OrgStore) write(ctx context.Context, what string, fn func(t *orgTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.inTx(ctx, what, func(ctx context.Context, tx pgx.Tx) error {
		t := &orgTx{ctx: ctx, s: s, tx: tx}
		if err := tx.QueryRow(ctx, s.db.q("UPDATE {s}.org_lock SET seq = seq + 1 WHERE id = 1 RETURNING seq")).Scan(&t.seq); err != nil {
			return err
		}
		return fn(t)
	})
	return orgErr(err)
}

// orgErr passes domain errors through and translates driver errors.
func orgErr(err error) error {
	if err == nil {
		return nil
	}
	for _, s := range []error{org.ErrInvalid, org.ErrNotFound, org.ErrDuplicate, org.ErrTier, org.ErrCycle,
		org.ErrRetired, org.ErrInUse, org.ErrOutOfArea, org.ErrConflict, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, s) {
			return err
		}
	}
	if sentinel, ok := constraintError(err, orgConstraints); ok {
		return fmt.Errorf("postgres: %v: %w", err, sentinel)
	}
	return fmt.Errorf("postgres: org: %w", translate(err))
}

// Unique constraints that can still fire (a row inserted by another writer
// between check and insert is impossible under the org lock, but Load may
// list an ID twice).
var orgConstraints = map[string]error{
	"org_nodes_pkey":      org.ErrDuplicate,
	"org_nodes_path_key":  org.ErrDuplicate,
	"org_teams_pkey":      org.ErrDuplicate,
	"org_volunteers_pkey": org.ErrDuplicate,
	"org_volunteers_doc":  org.ErrDuplicate,
	"org_members_pkey":    org.ErrDuplicate,
	"org_pairings_pkey":   org.ErrDuplicate,
}

// record writes change c under this write's sequence number, once per
// object it names.
func (t *orgTx) record(c org.Change) error {
	c.Seq = t.seq
	t.ord++
	for _, obj := range changeObjects(c) {
		if _, err := t.tx.Exec(t.ctx, t.s.db.q(`INSERT INTO {s}.org_changes
			(obj, seq, ord, action, node, team, volunteer, pairing, actor_id, actor_role, actor_scope, actor_team, at, detail)
			VALUES ($1, $2, $14, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`),
			obj, c.Seq, string(c.Action), string(c.Node), string(c.Team), string(c.Volunteer), c.Pairing,
			c.Actor.ID, string(c.Actor.Role), string(c.Actor.Scope), string(c.Actor.Team), tstz(c.At), c.Detail, t.ord); err != nil {
			return err
		}
	}
	return nil
}

func changeObjects(c org.Change) []string {
	var objs []string
	if c.Node != "" {
		objs = append(objs, "n:"+string(c.Node))
	}
	if c.Team != "" {
		objs = append(objs, "t:"+string(c.Team))
	}
	if c.Volunteer != "" {
		objs = append(objs, "v:"+string(c.Volunteer))
	}
	if c.Pairing != "" {
		objs = append(objs, "p:"+c.Pairing)
	}
	return objs
}

// Nodes.

const nodeCols = "id, kind, name, parent, path, retired, created, updated"

func scanNode(row pgx.Row) (org.Node, error) {
	var n org.Node
	var id, kind, parent string
	var retired bool
	var created, updated pgtype.Timestamptz
	if err := row.Scan(&id, &kind, &n.Name, &parent, &n.Path, &retired, &created, &updated); err != nil {
		return n, err
	}
	n.ID, n.Kind, n.Parent = org.NodeID(id), org.Kind(kind), org.NodeID(parent)
	n.Status = org.Active
	if retired {
		n.Status = org.Retired
	}
	n.Created, n.Updated = timeOf(created), timeOf(updated)
	return n, nil
}

// queryer is what reads need: the pool or a transaction.
type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// node reads one node through q (the pool or a transaction).
func (s *OrgStore) node(ctx context.Context, q queryer, id org.NodeID) (org.Node, error) {
	rows, err := q.Query(ctx, s.db.q("SELECT "+nodeCols+" FROM {s}.org_nodes WHERE id = $1"), string(id))
	if err != nil {
		return org.Node{}, err
	}
	ns, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (org.Node, error) { return scanNode(r) })
	if err != nil {
		return org.Node{}, err
	}
	if len(ns) == 0 {
		return org.Node{}, fmt.Errorf("node %q: %w", id, org.ErrNotFound)
	}
	return ns[0], nil
}

// pathEnd is the exclusive upper bound of the subtree range of path.
func pathEnd(path string) string { return path[:len(path)-1] + "0" }

// tally is a change of the counted parts of roll-ups.
type tally struct {
	nodes    [4]int64
	teams    [3]int64
	vols     int64
	pairings int64
	ctr      [5]int64
}

func (d tally) scaled(sign int64) tally {
	for i := range d.nodes {
		d.nodes[i] *= sign
	}
	for i := range d.teams {
		d.teams[i] *= sign
	}
	d.vols *= sign
	d.pairings *= sign
	for i := range d.ctr {
		d.ctr[i] *= sign
	}
	return d
}

// addUp adds d to the roll-ups of the nodes on path (a node and its
// ancestors).
func (t *orgTx) addUp(path string, d tally) error {
	_, err := t.tx.Exec(t.ctx, t.s.db.q(`UPDATE {s}.org_rollups SET
		centres = centres + $2, institutes = institutes + $3, stations = stations + $4, points = points + $5,
		corps = corps + $6, detachments = detachments + $7, specialty = specialty + $8,
		volunteers = volunteers + $9, pairings = pairings + $10,
		hours = hours + $11, points_ctr = points_ctr + $12, orders = orders + $13, completed = completed + $14, activities = activities + $15
		WHERE node = ANY($1)`), pathStrings(path),
		d.nodes[0], d.nodes[1], d.nodes[2], d.nodes[3], d.teams[0], d.teams[1], d.teams[2], d.vols, d.pairings,
		d.ctr[0], d.ctr[1], d.ctr[2], d.ctr[3], d.ctr[4])
	return err
}

func pathStrings(path string) []string {
	ids := org.PathIDs(path)
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}

func nodeTally(k org.Kind) tally {
	var d tally
	if l := k.Level(); l >= 0 {
		d.nodes[l] = 1
	}
	return d
}

// CreateNode inserts n and counts it in its and its ancestors' roll-ups.
func (s *OrgStore) CreateNode(ctx context.Context, n org.Node, c org.Change) error {
	return s.write(ctx, "create node", func(t *orgTx) error {
		if err := t.insertNode(n); err != nil {
			return err
		}
		c.Node = n.ID
		return t.record(c)
	})
}

// insertNode checks and inserts one node with its roll-up row, and counts
// it (when active) up the tree.
func (t *orgTx) insertNode(n org.Node) error {
	if old, err := t.s.node(t.ctx, t.tx, n.ID); err == nil {
		if landedCreate(t.ctx, old, n) {
			return errLanded
		}
		return fmt.Errorf("field id: node %q already exists: %w", n.ID, org.ErrDuplicate)
	} else if !errors.Is(err, org.ErrNotFound) {
		return err
	}
	if !n.Kind.Valid() {
		return fmt.Errorf("field kind: unknown kind %q: %w", n.Kind, org.ErrInvalid)
	}
	var pk org.Kind
	parentPath := ""
	if n.Parent != "" {
		p, err := t.s.node(t.ctx, t.tx, n.Parent)
		if err != nil {
			return fmt.Errorf("field parent: %w", err)
		}
		if p.Status == org.Retired {
			return fmt.Errorf("field parent: node %q is retired: %w", n.Parent, org.ErrRetired)
		}
		pk, parentPath = p.Kind, p.Path
	}
	if err := org.CheckParent(n.Kind, pk); err != nil {
		return err
	}
	path := org.PathOf(parentPath, n.ID)
	if _, err := t.tx.Exec(t.ctx, t.s.db.q("INSERT INTO {s}.org_nodes ("+nodeCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
		string(n.ID), string(n.Kind), n.Name, string(n.Parent), path, n.Status == org.Retired, tstz(n.Created), tstz(n.Updated)); err != nil {
		return err
	}
	if _, err := t.tx.Exec(t.ctx, t.s.db.q("INSERT INTO {s}.org_rollups (node) VALUES ($1)"), string(n.ID)); err != nil {
		return err
	}
	if n.Status == org.Retired {
		return nil
	}
	return t.addUp(path, nodeTally(n.Kind))
}

// RenameNode sets the node's name.
func (s *OrgStore) RenameNode(ctx context.Context, id org.NodeID, name string, c org.Change) (org.Node, error) {
	var out org.Node
	err := s.write(ctx, "rename node", func(t *orgTx) error {
		tag, err := t.tx.Exec(ctx, s.db.q("UPDATE {s}.org_nodes SET name = $2, updated = $3 WHERE id = $1"), string(id), name, tstz(c.At))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("node %q: %w", id, org.ErrNotFound)
		}
		if err := t.record(c); err != nil {
			return err
		}
		out, err = s.node(ctx, t.tx, id)
		return err
	})
	return out, err
}

// MoveNode hangs id below parent, rewriting the paths of its subtree and
// moving its subtree totals between ancestors.
func (s *OrgStore) MoveNode(ctx context.Context, id, parent org.NodeID, c org.Change) (org.Node, error) {
	var out org.Node
	err := s.write(ctx, "move node", func(t *orgTx) error {
		n, err := s.node(ctx, t.tx, id)
		if err != nil {
			return err
		}
		p, err := s.node(ctx, t.tx, parent)
		if err != nil {
			return fmt.Errorf("field parent: %w", err)
		}
		if strings.HasPrefix(p.Path, n.Path) {
			return fmt.Errorf("field parent: %q lies within %q: %w", parent, id, org.ErrCycle)
		}
		if p.Status == org.Retired {
			return fmt.Errorf("field parent: node %q is retired: %w", parent, org.ErrRetired)
		}
		if err := org.CheckParent(n.Kind, p.Kind); err != nil {
			return err
		}
		if n.Parent == "" {
			return fmt.Errorf("field id: %q is a root: %w", id, org.ErrTier)
		}
		sub, err := t.subtotals(id)
		if err != nil {
			return err
		}
		oldParentPath := n.Path[:len(n.Path)-len(id)-1]
		if err := t.addUp(oldParentPath, sub.scaled(-1)); err != nil {
			return err
		}
		if err := t.addUp(p.Path, sub); err != nil {
			return err
		}
		newPath := org.PathOf(p.Path, id)
		if _, err := t.tx.Exec(ctx, s.db.q(`UPDATE {s}.org_nodes SET path = $3 || substr(path, $4)
			WHERE path >= $1 AND path < $2`), n.Path, pathEnd(n.Path), newPath, len(n.Path)+1); err != nil {
			return err
		}
		if _, err := t.tx.Exec(ctx, s.db.q("UPDATE {s}.org_nodes SET parent = $2, updated = $3 WHERE id = $1"),
			string(id), string(parent), tstz(c.At)); err != nil {
			return err
		}
		if err := t.record(c); err != nil {
			return err
		}
		out, err = s.node(ctx, t.tx, id)
		return err
	})
	return out, err
}

// subtotals reads a node's subtree totals as a tally.
func (t *orgTx) subtotals(id org.NodeID) (tally, error) {
	var d tally
	err := t.tx.QueryRow(t.ctx, t.s.db.q(`SELECT centres, institutes, stations, points, corps, detachments, specialty,
		volunteers, pairings, hours, points_ctr, orders, completed, activities FROM {s}.org_rollups WHERE node = $1`), string(id)).
		Scan(&d.nodes[0], &d.nodes[1], &d.nodes[2], &d.nodes[3], &d.teams[0], &d.teams[1], &d.teams[2], &d.vols, &d.pairings,
			&d.ctr[0], &d.ctr[1], &d.ctr[2], &d.ctr[3], &d.ctr[4])
	return d, err
}

// RetireNode marks an active node retired.
func (s *OrgStore) RetireNode(ctx context.Context, id org.NodeID, c org.Change) (org.Node, error) {
	var out org.Node
	err := s.write(ctx, "retire node", func(t *orgTx) error {
		n, err := s.node(ctx, t.tx, id)
		if err != nil {
			return err
		}
		if n.Status == org.Retired {
			return fmt.Errorf("node %q is already retired: %w", id, org.ErrRetired)
		}
		var child string
		err = t.tx.QueryRow(ctx, s.db.q("SELECT id FROM {s}.org_nodes WHERE parent = $1 AND NOT retired ORDER BY id LIMIT 1"), string(id)).Scan(&child)
		if err == nil {
			return fmt.Errorf("node %q has active child %q: %w", id, child, org.ErrInUse)
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var team string
		err = t.tx.QueryRow(ctx, s.db.q("SELECT id FROM {s}.org_teams WHERE (anchor = $1 OR area = $1) AND NOT retired ORDER BY id LIMIT 1"), string(id)).Scan(&team)
		if err == nil {
			return fmt.Errorf("node %q has active team %q: %w", id, team, org.ErrInUse)
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		return t.setRetired(&n, true, c, &out)
	})
	return out, err
}

func (t *orgTx) setRetired(n *org.Node, retired bool, c org.Change, out *org.Node) error {
	if _, err := t.tx.Exec(t.ctx, t.s.db.q("UPDATE {s}.org_nodes SET retired = $2, updated = $3 WHERE id = $1"),
		string(n.ID), retired, tstz(c.At)); err != nil {
		return err
	}
	d := nodeTally(n.Kind)
	if retired {
		d = d.scaled(-1)
	}
	if err := t.addUp(n.Path, d); err != nil {
		return err
	}
	if err := t.record(c); err != nil {
		return err
	}
	var err error
	*out, err = t.s.node(t.ctx, t.tx, n.ID)
	return err
}

// ReactivateNode marks a retired node active again.
func (s *OrgStore) ReactivateNode(ctx context.Context, id org.NodeID, c org.Change) (org.Node, error) {
	var out org.Node
	err := s.write(ctx, "reactivate node", func(t *orgTx) error {
		n, err := s.node(ctx, t.tx, id)
		if err != nil {
			return err
		}
		if n.Status != org.Retired {
			return fmt.Errorf("node %q is already active: %w", id, org.ErrInvalid)
		}
		if n.Parent != "" {
			p, err := s.node(ctx, t.tx, n.Parent)
			if err != nil {
				return err
			}
			if p.Status == org.Retired {
				return fmt.Errorf("parent %q is retired: %w", p.ID, org.ErrRetired)
			}
		}
		return t.setRetired(&n, false, c, &out)
	})
	return out, err
}

// Node returns one node.
func (s *OrgStore) Node(ctx context.Context, id org.NodeID) (org.Node, error) {
	n, err := s.node(ctx, s.db.pool, id)
	return n, orgErr(err)
}

// Ancestors returns the ancestors of id, root first.
func (s *OrgStore) Ancestors(ctx context.Context, id org.NodeID) ([]org.Node, error) {
	n, err := s.node(ctx, s.db.pool, id)
	if err != nil {
		return nil, orgErr(err)
	}
	ids := pathStrings(n.Path)
	rows, err := s.db.pool.Query(ctx, s.db.q("SELECT "+nodeCols+" FROM {s}.org_nodes WHERE id = ANY($1) AND id <> $2 ORDER BY length(path)"), ids, string(id))
	if err != nil {
		return nil, orgErr(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (org.Node, error) { return scanNode(r) })
	if out == nil {
		out = []org.Node{}
	}
	return out, orgErr(err)
}

// Within reports whether node lies in scope's subtree: a prefix test of
// their paths.
func (s *OrgStore) Within(ctx context.Context, scope, node org.NodeID) (bool, error) {
	rows, err := s.db.pool.Query(ctx, s.db.q("SELECT id, path FROM {s}.org_nodes WHERE id = ANY($1)"), []string{string(scope), string(node)})
	if err != nil {
		return false, orgErr(err)
	}
	paths := map[string]string{}
	var id, path string
	if _, err := pgx.ForEachRow(rows, []any{&id, &path}, func() error { paths[id] = path; return nil }); err != nil {
		return false, orgErr(err)
	}
	sp, ok := paths[string(scope)]
	if !ok {
		return false, fmt.Errorf("scope: node %q: %w", scope, org.ErrNotFound)
	}
	np, ok := paths[string(node)]
	if !ok {
		return false, fmt.Errorf("node %q: %w", node, org.ErrNotFound)
	}
	return strings.HasPrefix(np, sp), nil
}

// Subtree returns a page of root's subtree in path order.
func (s *OrgStore) Subtree(ctx context.Context, root org.NodeID, q org.SubtreeQuery) (org.NodePage, error) {
	r, err := s.node(ctx, s.db.pool, root)
	if err != nil {
		return org.NodePage{}, orgErr(err)
	}
	if q.After != "" && !strings.HasPrefix(q.After, r.Path) {
		return org.NodePage{}, fmt.Errorf("field after: cursor %q is not within %q: %w", q.After, r.Path, org.ErrInvalid)
	}
	lim := max(q.Limit, 1)
	kinds := make([]string, len(q.Kinds))
	for i, k := range q.Kinds {
		kinds[i] = string(k)
	}
	rows, err := s.db.pool.Query(ctx, s.db.q(`SELECT `+nodeCols+` FROM {s}.org_nodes
		WHERE path >= $1 AND path < $2 AND path > $3 AND (cardinality($4::text[]) = 0 OR kind = ANY($4)) AND ($5 OR NOT retired)
		ORDER BY path LIMIT $6`), r.Path, pathEnd(r.Path), q.After, kinds, q.IncludeRetired, lim+1)
	if err != nil {
		return org.NodePage{}, orgErr(err)
	}
	ns, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (org.Node, error) { return scanNode(r) })
	if err != nil {
		return org.NodePage{}, orgErr(err)
	}
	page := org.NodePage{Nodes: ns}
	if page.Nodes == nil {
		page.Nodes = []org.Node{}
	}
	if len(ns) > lim {
		page.Nodes = ns[:lim]
		page.Next = ns[lim-1].Path
	}
	return page, nil
}

// Rollups and counters.

// Rollup returns the subtree totals of node.
func (s *OrgStore) Rollup(ctx context.Context, node org.NodeID) (org.Rollup, error) {
	r := org.Rollup{Node: node}
	var c [14]int64
	err := s.db.pool.QueryRow(ctx, s.db.q(`SELECT centres, institutes, stations, points, corps, detachments, specialty,
		volunteers, pairings, hours, points_ctr, orders, completed, activities FROM {s}.org_rollups WHERE node = $1`), string(node)).
		Scan(&c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &c[6], &c[7], &c[8], &c[9], &c[10], &c[11], &c[12], &c[13])
	if errors.Is(err, pgx.ErrNoRows) {
		return r, fmt.Errorf("node %q: %w", node, org.ErrNotFound)
	}
	if err != nil {
		return r, orgErr(err)
	}
	r.Centres, r.Institutes, r.Stations, r.Points = int(c[0]), int(c[1]), int(c[2]), int(c[3])
	r.Corps, r.Detachments, r.Specialty = int(c[4]), int(c[5]), int(c[6])
	r.Volunteers, r.Pairings = int(c[7]), int(c[8])
	r.Counters = org.Counters{Hours: hundredths(c[9]), Points: hundredths(c[10]), Orders: c[11], Completed: c[12], Activities: c[13]}
	return r, nil
}

// AddCounters adds a.Delta at a.Node and up the tree, once per key.
func (s *OrgStore) AddCounters(ctx context.Context, a org.CounterAdd) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	d, err := counterUnits(a.Delta)
	if err != nil {
		return false, err
	}
	applied := false
	err = s.db.inTx(ctx, "add counters", func(ctx context.Context, tx pgx.Tx) error {
		applied = false
		if _, err := tx.Exec(ctx, s.db.q("SELECT 1 FROM {s}.org_lock WHERE id = 1 FOR SHARE")); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, s.db.q(`INSERT INTO {s}.org_counter_keys (key, node, hours, points_ctr, orders, completed, activities)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING`), a.Key, string(a.Node), d[0], d[1], d[2], d[3], d[4])
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var node string
			var prev [5]int64
			if err := tx.QueryRow(ctx, s.db.q("SELECT node, hours, points_ctr, orders, completed, activities FROM {s}.org_counter_keys WHERE key = $1"), a.Key).
				Scan(&node, &prev[0], &prev[1], &prev[2], &prev[3], &prev[4]); err != nil {
				return err
			}
			if node != string(a.Node) || prev != d {
				return fmt.Errorf("key %q was used for node %q with another delta: %w", a.Key, node, org.ErrConflict)
			}
			return nil
		}
		var path string
		var own [2]int64
		err = tx.QueryRow(ctx, s.db.q(`SELECT n.path, r.own_hours, r.own_points FROM {s}.org_nodes n JOIN {s}.org_rollups r ON r.node = n.id
			WHERE n.id = $1 FOR UPDATE OF r`), string(a.Node)).Scan(&path, &own[0], &own[1])
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("node %q: %w", a.Node, org.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if own[0]+d[0] < 0 || own[1]+d[1] < 0 {
			return fmt.Errorf("node %q: own hours or points would fall below zero: %w", a.Node, org.ErrInvalid)
		}
		if _, err := tx.Exec(ctx, s.db.q("UPDATE {s}.org_rollups SET own_hours = own_hours + $2, own_points = own_points + $3 WHERE node = $1"),
			string(a.Node), d[0], d[1]); err != nil {
			return err
		}
		t := &orgTx{ctx: ctx, s: s, tx: tx}
		applied = true
		return t.addUp(path, tally{ctr: d})
	})
	if err != nil {
		return false, orgErr(err)
	}
	return applied, nil
}

// counterUnits converts counters to whole hundredths of hours and points.
func counterUnits(c org.Counters) ([5]int64, error) {
	var d [5]int64
	for i, f := range []struct {
		name string
		v    decimal.Decimal
	}{{"hours", c.Hours}, {"points", c.Points}} {
		sh := f.v.Shift(org.CounterScale)
		if !sh.IsInteger() || sh.Abs().GreaterThan(maxHundredths) {
			return d, fmt.Errorf("field %s: %s is not a whole number of hundredths in range: %w", f.name, f.v, org.ErrInvalid)
		}
		d[i] = sh.IntPart()
	}
	d[2], d[3], d[4] = c.Orders, c.Completed, c.Activities
	return d, nil
}

var maxHundredths = decimal.New(1, 17)

func hundredths(u int64) decimal.Decimal { return decimal.New(u, -org.CounterScale) }

// Audit.

// Changes returns the history of one object.
func (s *OrgStore) Changes(ctx context.Context, q org.ChangeQuery) ([]org.Change, error) {
	objs := changeObjects(org.Change{Node: q.Node, Team: q.Team, Volunteer: q.Volunteer, Pairing: q.Pairing})
	if len(objs) != 1 {
		return nil, fmt.Errorf("changes: exactly one object must be named, got %d: %w", len(objs), org.ErrInvalid)
	}
	rows, err := s.db.pool.Query(ctx, s.db.q(`SELECT seq, action, node, team, volunteer, pairing, actor_id, actor_role, actor_scope, actor_team, at, detail
		FROM {s}.org_changes WHERE obj = $1 AND seq > $2 ORDER BY seq, ord LIMIT $3`), objs[0], q.After, max(q.Limit, 1))
	if err != nil {
		return nil, orgErr(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (org.Change, error) {
		var c org.Change
		var action, node, team, vol, role, scope, ateam string
		var at pgtype.Timestamptz
		err := r.Scan(&c.Seq, &action, &node, &team, &vol, &c.Pairing, &c.Actor.ID, &role, &scope, &ateam, &at, &c.Detail)
		c.Action, c.Node, c.Team, c.Volunteer = org.Action(action), org.NodeID(node), org.TeamID(team), org.VolunteerID(vol)
		c.Actor.Role, c.Actor.Scope, c.Actor.Team = org.Role(role), org.NodeID(scope), org.TeamID(ateam)
		c.At = timeOf(at)
		return c, err
	})
	if out == nil && err == nil {
		out = []org.Change{}
	}
	return out, orgErr(err)
}

// RecordRefusal appends r to the refusal log.
func (s *OrgStore) RecordRefusal(ctx context.Context, r org.Refusal) (int64, error) {
	var seq int64
	err := s.write(ctx, "record refusal", func(t *orgTx) error {
		seq = t.seq
		_, err := t.tx.Exec(ctx, s.db.q(`INSERT INTO {s}.org_refusals (seq, actor_id, actor_role, actor_scope, actor_team, action,
			target_node, target_team, target_owner, reason, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`),
			t.seq, r.Actor.ID, string(r.Actor.Role), string(r.Actor.Scope), string(r.Actor.Team), string(r.Action),
			string(r.Target.Node), string(r.Target.Team), r.Target.Owner, r.Reason, tstz(r.At))
		return err
	})
	return seq, err
}

// Refusals returns a page of the refusal log.
func (s *OrgStore) Refusals(ctx context.Context, after int64, limit int) ([]org.Refusal, error) {
	rows, err := s.db.pool.Query(ctx, s.db.q(`SELECT seq, actor_id, actor_role, actor_scope, actor_team, action, target_node, target_team,
		target_owner, reason, at FROM {s}.org_refusals WHERE seq > $1 ORDER BY seq LIMIT $2`), after, max(limit, 1))
	if err != nil {
		return nil, orgErr(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (org.Refusal, error) {
		var r org.Refusal
		var role, scope, ateam, action, node, team string
		var at pgtype.Timestamptz
		err := row.Scan(&r.Seq, &r.Actor.ID, &role, &scope, &ateam, &action, &node, &team, &r.Target.Owner, &r.Reason, &at)
		r.Actor.Role, r.Actor.Scope, r.Actor.Team = org.Role(role), org.NodeID(scope), org.TeamID(ateam)
		r.Action, r.Target.Node, r.Target.Team, r.At = org.Action(action), org.NodeID(node), org.TeamID(team), timeOf(at)
		return r, err
	})
	if out == nil && err == nil {
		out = []org.Refusal{}
	}
	return out, orgErr(err)
}
