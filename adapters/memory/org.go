package memory

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/civicloop/civicloop/org"
)

// OrgStore keeps the practice network in memory. It implements org.Store
// and is safe for concurrent use (one sync.RWMutex: reads share it, writes
// hold it alone; Within reads the node index without it, checked by the
// index's version, and falls back to the lock when a write interferes).
//
// Nodes live in one slice of compact records addressed by index, found
// through an open-addressing index with inline keys (org_index.go) whose
// slots also hold each node's ancestors, so Within reads one slot per ID;
// parent links sit in a dense slice of their own for the other upward
// walks. Moving a node rewrites the index slots of its subtree. The
// materialised path of the org.Store contract is computed on
// read from the parent links, so moving a subtree costs O(depth) besides
// the roll-up updates. Each record carries its subtree totals, so roll-ups
// are O(1) reads and every write updates O(depth) records. Applied counter
// keys are kept for the life of the store.
type OrgStore struct {
	mu    sync.RWMutex
	nodes []nodeRec
	up    []int32 // parent of each node, -1 for roots: dense for fast walks
	idx   *idIndex

	teams       []teamRec
	teamIdx     map[org.TeamID]int32
	serving     map[string]map[int32][]int32 // skill → area → teams, sorted by ID
	anchorTeams map[int32][]int32
	areaTeams   map[int32][]int32
	childTeams  map[int32][]int32

	vols     map[org.VolunteerID]*volRec
	docs     map[string]org.VolunteerID
	homeVols map[int32][]org.VolunteerID

	members  map[org.TeamID]map[org.VolunteerID]org.Membership
	volTeams map[org.VolunteerID]map[org.TeamID]bool

	pairings map[string]*pairRec
	byUnit   map[string][]string
	byNode   map[int32][]string

	counterKeys map[string]counterAdd

	changes   []org.Change
	changeIdx map[string][]int32
	refusals  []org.Refusal
	seq       int64
}

var _ org.Store = (*OrgStore)(nil)

// nodeRec is the compact form of an org.Node. Depth is implied by the kind
// (the tier rules fix it), so a move never touches the subtree's records.
type nodeRec struct {
	id       org.NodeID
	name     string
	created  int32 // index in changes of the creating entry
	children []int32
	createdT int64
	updatedT int64
	ctr      *ctrRec
	sub      tally
	kind     uint8
	retired  bool
}

// tally holds the counted parts of a roll-up.
type tally struct {
	nodes    [4]int32
	teams    [3]int32
	vols     int32
	pairings int32
}

func (t *tally) add(d tally, sign int32) {
	for i := range t.nodes {
		t.nodes[i] += sign * d.nodes[i]
	}
	for i := range t.teams {
		t.teams[i] += sign * d.teams[i]
	}
	t.vols += sign * d.vols
	t.pairings += sign * d.pairings
}

// ctrRec holds counters in minor units: own Hours and Points (kept non
// negative) and subtree sums of all five counters.
type ctrRec struct {
	ownHours, ownPoints int64
	sub                 [5]int64
}

type counterAdd struct {
	node  org.NodeID
	delta [5]int64
}

type teamRec struct {
	t      org.Team
	anchor int32
	area   int32
	parent int32
}

type volRec struct {
	v    org.Volunteer
	home int32
}

type pairRec struct {
	p    org.Pairing
	node int32
}

// NewOrgStore returns an empty OrgStore.
func NewOrgStore() *OrgStore {
	return &OrgStore{
		idx:         newIDIndex(0),
		teamIdx:     map[org.TeamID]int32{},
		serving:     map[string]map[int32][]int32{},
		anchorTeams: map[int32][]int32{},
		areaTeams:   map[int32][]int32{},
		childTeams:  map[int32][]int32{},
		vols:        map[org.VolunteerID]*volRec{},
		docs:        map[string]org.VolunteerID{},
		homeVols:    map[int32][]org.VolunteerID{},
		members:     map[org.TeamID]map[org.VolunteerID]org.Membership{},
		volTeams:    map[org.VolunteerID]map[org.TeamID]bool{},
		pairings:    map[string]*pairRec{},
		byUnit:      map[string][]string{},
		byNode:      map[int32][]string{},
		counterKeys: map[string]counterAdd{},
		changeIdx:   map[string][]int32{},
	}
}

func kindCode(k org.Kind) uint8 { return uint8(k.Level()) }

func kindOf(c uint8) org.Kind { return org.Kinds()[c] }

func unix(t time.Time) int64 { return t.UnixNano() }

func fromUnix(n int64) time.Time { return time.Unix(0, n).UTC() }

// notFound is a cheap org.ErrNotFound: it formats its message only when
// asked, because imports probe many IDs that are expected to be missing.
type notFound struct {
	what string
	id   string
}

func (e *notFound) Error() string {
	return e.what + " " + strconv.Quote(e.id) + ": " + org.ErrNotFound.Error()
}

func (e *notFound) Unwrap() error { return org.ErrNotFound }

// lookup finds a node's index; callers hold the lock.
func (s *OrgStore) lookup(id org.NodeID) (int32, error) {
	i, ok := s.idx.get(id)
	if !ok {
		return -1, &notFound{"node", string(id)}
	}
	return i, nil
}

// path builds the materialised path of node i.
func (s *OrgStore) path(i int32) string {
	var ids [4]org.NodeID
	n := 0
	size := 1
	for j := i; j >= 0; j = s.up[j] {
		ids[n] = s.nodes[j].id
		size += len(ids[n]) + 1
		n++
	}
	var b strings.Builder
	b.Grow(size)
	b.WriteByte('/')
	for k := n - 1; k >= 0; k-- {
		b.WriteString(string(ids[k]))
		b.WriteByte('/')
	}
	return b.String()
}

func (s *OrgStore) node(i int32) org.Node {
	r := &s.nodes[i]
	n := org.Node{ID: r.id, Kind: kindOf(r.kind), Name: r.name, Path: s.path(i), Status: org.Active,
		Created: fromUnix(r.createdT), Updated: fromUnix(r.updatedT)}
	if p := s.up[i]; p >= 0 {
		n.Parent = s.nodes[p].id
	}
	if r.retired {
		n.Status = org.Retired
	}
	return n
}

// ancestry returns the indexes of i's ancestors from the root down, then i
// itself, and i's depth.
func (s *OrgStore) ancestry(i int32) ([maxDepth + 1]int32, int) {
	var rev [maxDepth + 1]int32
	n := 0
	for j := i; j >= 0; j = s.up[j] {
		if n > maxDepth {
			panic(fmt.Sprintf("memory: node %q is deeper than %d", s.nodes[i].id, maxDepth))
		}
		rev[n] = j
		n++
	}
	var path [maxDepth + 1]int32
	for k := range n {
		path[k] = rev[n-1-k]
	}
	return path, n - 1
}

// reindex rewrites the index slots of i's subtree after a move.
func (s *OrgStore) reindex(i int32) {
	path, depth := s.ancestry(i)
	s.idx.put(s.nodes[i].id, path, depth)
	for _, c := range s.nodes[i].children {
		s.reindex(c)
	}
}

// within reports whether node j lies in i's subtree: walk j's parents (at
// most three steps) looking for i.
func (s *OrgStore) within(i, j int32) bool {
	for ; j >= 0; j = s.up[j] {
		if j == i {
			return true
		}
	}
	return false
}

// addUp adds d (times sign) to the subtree totals of i and its ancestors.
func (s *OrgStore) addUp(i int32, d tally, sign int32) {
	for ; i >= 0; i = s.up[i] {
		s.nodes[i].sub.add(d, sign)
	}
}

// segLess orders sibling IDs as their path segments (id + "/") order, so
// that a pre-order walk visits nodes in Path order.
func segCmp(a, b org.NodeID) int {
	n := min(len(a), len(b))
	if c := strings.Compare(string(a[:n]), string(b[:n])); c != 0 {
		return c
	}
	switch {
	case len(a) == len(b):
		return 0
	case len(a) < len(b):
		return cmpByte('/', b[n])
	default:
		return cmpByte(a[n], '/')
	}
}

func cmpByte(x, y byte) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func (s *OrgStore) linkChild(p, c int32) {
	ch := s.nodes[p].children
	id := s.nodes[c].id
	if n := len(ch); n == 0 || segCmp(s.nodes[ch[n-1]].id, id) < 0 {
		s.nodes[p].children = append(ch, c)
		return
	}
	k, _ := slices.BinarySearchFunc(ch, id, func(x int32, id org.NodeID) int { return segCmp(s.nodes[x].id, id) })
	s.nodes[p].children = slices.Insert(ch, k, c)
}

func (s *OrgStore) unlinkChild(p, c int32) {
	ch := s.nodes[p].children
	if k := slices.Index(ch, c); k >= 0 {
		s.nodes[p].children = slices.Delete(ch, k, k+1)
	}
}

// record appends a change and indexes it under its objects; callers hold
// the write lock. It returns the change's position.
func (s *OrgStore) record(c org.Change, index bool) int32 {
	s.seq++
	c.Seq = s.seq
	pos := int32(len(s.changes))
	s.changes = append(s.changes, c)
	if index {
		for _, k := range changeKeys(c) {
			s.changeIdx[k] = append(s.changeIdx[k], pos)
		}
	}
	return pos
}

func changeKeys(c org.Change) []string {
	var ks []string
	if c.Node != "" {
		ks = append(ks, "n\x00"+string(c.Node))
	}
	if c.Team != "" {
		ks = append(ks, "t\x00"+string(c.Team))
	}
	if c.Volunteer != "" {
		ks = append(ks, "v\x00"+string(c.Volunteer))
	}
	if c.Pairing != "" {
		ks = append(ks, "p\x00"+c.Pairing)
	}
	return ks
}

// CreateNode implements org.NodeStore.
func (s *OrgStore) CreateNode(ctx context.Context, n org.Node, c org.Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idx.beginWrite()
	defer s.idx.endWrite()
	if _, err := s.insertNode(n); err != nil {
		return err
	}
	i := int32(len(s.nodes) - 1)
	c.Node = n.ID
	s.nodes[i].created = s.record(c, false)
	s.addUp(i, nodeTally(s.nodes[i].kind), 1)
	return nil
}

func nodeTally(kind uint8) tally {
	var t tally
	t.nodes[kind] = 1
	return t
}

// insertNode checks and appends one node without touching roll-ups.
func (s *OrgStore) insertNode(n org.Node) (int32, error) {
	if _, dup := s.idx.get(n.ID); dup {
		return -1, fmt.Errorf("field id: node %q already exists: %w", n.ID, org.ErrDuplicate)
	}
	if !n.Kind.Valid() {
		return -1, fmt.Errorf("field kind: unknown kind %q: %w", n.Kind, org.ErrInvalid)
	}
	p := int32(-1)
	var pk org.Kind
	if n.Parent != "" {
		var err error
		if p, err = s.lookup(n.Parent); err != nil {
			return -1, fmt.Errorf("field parent: %w", err)
		}
		if s.nodes[p].retired {
			return -1, fmt.Errorf("field parent: node %q is retired: %w", n.Parent, org.ErrRetired)
		}
		pk = kindOf(s.nodes[p].kind)
	}
	if err := org.CheckParent(n.Kind, pk); err != nil {
		return -1, err
	}
	i := int32(len(s.nodes))
	s.up = append(s.up, p)
	s.nodes = append(s.nodes, nodeRec{id: n.ID, name: n.Name, kind: kindCode(n.Kind),
		createdT: unix(n.Created), updatedT: unix(n.Updated), retired: n.Status == org.Retired})
	if p >= 0 {
		s.linkChild(p, i)
	}
	path, depth := s.ancestry(i)
	s.idx.put(n.ID, path, depth)
	return i, nil
}

// RenameNode implements org.NodeStore.
func (s *OrgStore) RenameNode(ctx context.Context, id org.NodeID, name string, c org.Change) (org.Node, error) {
	if err := ctx.Err(); err != nil {
		return org.Node{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i, err := s.lookup(id)
	if err != nil {
		return org.Node{}, err
	}
	s.nodes[i].name = name
	s.nodes[i].updatedT = unix(c.At)
	s.record(c, true)
	return s.node(i), nil
}

// MoveNode implements org.NodeStore.
func (s *OrgStore) MoveNode(ctx context.Context, id, parent org.NodeID, c org.Change) (org.Node, error) {
	if err := ctx.Err(); err != nil {
		return org.Node{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idx.beginWrite()
	defer s.idx.endWrite()
	i, err := s.lookup(id)
	if err != nil {
		return org.Node{}, err
	}
	p, err := s.lookup(parent)
	if err != nil {
		return org.Node{}, fmt.Errorf("field parent: %w", err)
	}
	if s.within(i, p) {
		return org.Node{}, fmt.Errorf("field parent: %q lies within %q: %w", parent, id, org.ErrCycle)
	}
	if s.nodes[p].retired {
		return org.Node{}, fmt.Errorf("field parent: node %q is retired: %w", parent, org.ErrRetired)
	}
	if err := org.CheckParent(kindOf(s.nodes[i].kind), kindOf(s.nodes[p].kind)); err != nil {
		return org.Node{}, err
	}
	old := s.up[i]
	if old < 0 {
		return org.Node{}, fmt.Errorf("field id: %q is a root: %w", id, org.ErrTier)
	}
	sub := s.nodes[i].sub
	s.addUp(old, sub, -1)
	s.addUp(p, sub, 1)
	if cr := s.nodes[i].ctr; cr != nil {
		s.addCtrUp(old, cr.sub, -1)
		s.addCtrUp(p, cr.sub, 1)
	}
	s.unlinkChild(old, i)
	s.up[i] = p
	s.linkChild(p, i)
	s.reindex(i)
	s.nodes[i].updatedT = unix(c.At)
	s.record(c, true)
	return s.node(i), nil
}

// RetireNode implements org.NodeStore.
func (s *OrgStore) RetireNode(ctx context.Context, id org.NodeID, c org.Change) (org.Node, error) {
	if err := ctx.Err(); err != nil {
		return org.Node{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i, err := s.lookup(id)
	if err != nil {
		return org.Node{}, err
	}
	r := &s.nodes[i]
	if r.retired {
		return org.Node{}, fmt.Errorf("node %q is already retired: %w", id, org.ErrRetired)
	}
	for _, ch := range r.children {
		if !s.nodes[ch].retired {
			return org.Node{}, fmt.Errorf("node %q has active child %q: %w", id, s.nodes[ch].id, org.ErrInUse)
		}
	}
	for _, m := range [][]int32{s.anchorTeams[i], s.areaTeams[i]} {
		for _, t := range m {
			if s.teams[t].t.Status == org.Active {
				return org.Node{}, fmt.Errorf("node %q has active team %q: %w", id, s.teams[t].t.ID, org.ErrInUse)
			}
		}
	}
	r.retired = true
	r.updatedT = unix(c.At)
	s.addUp(i, nodeTally(r.kind), -1)
	s.record(c, true)
	return s.node(i), nil
}

// ReactivateNode implements org.NodeStore.
func (s *OrgStore) ReactivateNode(ctx context.Context, id org.NodeID, c org.Change) (org.Node, error) {
	if err := ctx.Err(); err != nil {
		return org.Node{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i, err := s.lookup(id)
	if err != nil {
		return org.Node{}, err
	}
	r := &s.nodes[i]
	if !r.retired {
		return org.Node{}, fmt.Errorf("node %q is already active: %w", id, org.ErrInvalid)
	}
	if p := s.up[i]; p >= 0 && s.nodes[p].retired {
		return org.Node{}, fmt.Errorf("parent %q is retired: %w", s.nodes[p].id, org.ErrRetired)
	}
	r.retired = false
	r.updatedT = unix(c.At)
	s.addUp(i, nodeTally(r.kind), 1)
	s.record(c, true)
	return s.node(i), nil
}

// Node implements org.NodeStore.
func (s *OrgStore) Node(ctx context.Context, id org.NodeID) (org.Node, error) {
	if err := ctx.Err(); err != nil {
		return org.Node{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, err := s.lookup(id)
	if err != nil {
		return org.Node{}, err
	}
	return s.node(i), nil
}

// Ancestors implements org.NodeStore.
func (s *OrgStore) Ancestors(ctx context.Context, id org.NodeID) ([]org.Node, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, err := s.lookup(id)
	if err != nil {
		return nil, err
	}
	out := []org.Node{}
	for j := s.up[i]; j >= 0; j = s.up[j] {
		out = append(out, s.node(j))
	}
	slices.Reverse(out)
	return out, nil
}

// Within implements org.NodeStore.
func (s *OrgStore) Within(ctx context.Context, scope, node org.NodeID) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if in, ok := s.idx.within(scope, node); ok {
		return in, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	sc := s.idx.ref(scope)
	if sc == nil {
		return false, fmt.Errorf("scope: node %q: %w", scope, org.ErrNotFound)
	}
	n := s.idx.ref(node)
	if n == nil {
		return false, fmt.Errorf("node %q: %w", node, org.ErrNotFound)
	}
	return n.within(sc), nil
}

// Subtree implements org.NodeStore.
func (s *OrgStore) Subtree(ctx context.Context, root org.NodeID, q org.SubtreeQuery) (org.NodePage, error) {
	if err := ctx.Err(); err != nil {
		return org.NodePage{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, err := s.lookup(root)
	if err != nil {
		return org.NodePage{}, err
	}
	rootPath := s.path(i)
	if q.After != "" && !strings.HasPrefix(q.After, rootPath) {
		return org.NodePage{}, fmt.Errorf("field after: cursor %q is not within %q: %w", q.After, rootPath, org.ErrInvalid)
	}
	lim := max(q.Limit, 1)
	var kinds [4]bool
	for _, k := range q.Kinds {
		kinds[k.Level()] = true
	}
	page := org.NodePage{Nodes: []org.Node{}}
	var walk func(j int32, path string) bool
	walk = func(j int32, path string) bool {
		r := &s.nodes[j]
		// Skip whole subtrees that sort before the cursor.
		if q.After != "" && path <= q.After && !strings.HasPrefix(q.After, path) {
			return true
		}
		if path > q.After && (len(q.Kinds) == 0 || kinds[r.kind]) && (q.IncludeRetired || !r.retired) {
			if len(page.Nodes) == lim {
				page.Next = page.Nodes[lim-1].Path
				return false
			}
			page.Nodes = append(page.Nodes, s.node(j))
		}
		for _, c := range r.children {
			if !walk(c, path+string(s.nodes[c].id)+"/") {
				return false
			}
		}
		return true
	}
	walk(i, rootPath)
	return page, nil
}
