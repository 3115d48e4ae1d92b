package dispatchtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
)

// Tree is a small in-memory organisation implementing dispatch.Directory
// and org.Scoper, so that the suite does not depend on an org store. Team
// changes made with SetTeam are seen at once.
type Tree struct {
	mu     sync.RWMutex
	nodes  map[org.NodeID]org.Node
	teams  map[org.TeamID]org.Team
	byArea map[org.NodeID][]org.TeamID
}

var (
	_ dispatch.Directory = (*Tree)(nil)
	_ org.Scoper         = (*Tree)(nil)
)

// NewTree returns an empty tree.
func NewTree() *Tree {
	return &Tree{nodes: map[org.NodeID]org.Node{}, teams: map[org.TeamID]org.Team{}, byArea: map[org.NodeID][]org.TeamID{}}
}

// AddNode adds a node below parent (empty for a root). It panics on an
// unknown parent: trees are built by tests.
func (t *Tree) AddNode(id org.NodeID, kind org.Kind, parent org.NodeID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	path := org.PathOf("", id)
	if parent != "" {
		p, ok := t.nodes[parent]
		if !ok {
			panic(fmt.Sprintf("dispatchtest: unknown parent %q", parent))
		}
		path = org.PathOf(p.Path, id)
	}
	t.nodes[id] = org.Node{ID: id, Kind: kind, Name: string(id), Parent: parent, Path: path, Status: org.Active}
}

// SetTeam adds or replaces a team (Area defaults to Anchor, Status to
// Active, Skills are sorted).
func (t *Tree) SetTeam(team org.Team) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if team.Area == "" {
		team.Area = team.Anchor
	}
	if team.Status == "" {
		team.Status = org.Active
	}
	team.Skills = slices.Sorted(slices.Values(team.Skills))
	if old, ok := t.teams[team.ID]; ok {
		t.byArea[old.Area] = slices.DeleteFunc(t.byArea[old.Area], func(id org.TeamID) bool { return id == team.ID })
	}
	t.teams[team.ID] = team
	t.byArea[team.Area] = append(t.byArea[team.Area], team.ID)
	slices.Sort(t.byArea[team.Area])
}

// Within implements dispatch.Directory.
func (t *Tree) Within(ctx context.Context, scope, node org.NodeID) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	s, ok1 := t.nodes[scope]
	n, ok2 := t.nodes[node]
	if !ok1 || !ok2 {
		return false, fmt.Errorf("node %q or %q: %w", scope, node, org.ErrNotFound)
	}
	return len(n.Path) >= len(s.Path) && n.Path[:len(s.Path)] == s.Path, nil
}

// TeamsServing implements dispatch.Directory: active teams with the skill
// whose area contains node, nearest area first, then by ID.
func (t *Tree) TeamsServing(ctx context.Context, node org.NodeID, skill string) ([]org.Team, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	n, ok := t.nodes[node]
	if !ok {
		return nil, fmt.Errorf("node %q: %w", node, org.ErrNotFound)
	}
	out := make([]org.Team, 0, t.serving(n.Path, skill, nil))
	t.serving(n.Path, skill, &out)
	return out, nil
}

// serving walks the path "/a/b/c/" from the node up to the root without
// splitting it, counts the active teams with skill serving each node, and
// appends them to out unless out is nil.
func (t *Tree) serving(path, skill string, out *[]org.Team) int {
	n := 0
	path = strings.TrimSuffix(path, "/")
	for path != "" {
		i := strings.LastIndexByte(path, '/')
		for _, id := range t.byArea[org.NodeID(path[i+1:])] {
			if team := t.teams[id]; team.Status == org.Active && team.HasSkill(skill) {
				n++
				if out != nil {
					*out = append(*out, team)
				}
			}
		}
		path = path[:max(i, 0)]
	}
	return n
}

// Team implements dispatch.Directory.
func (t *Tree) Team(ctx context.Context, id org.TeamID) (org.Team, error) {
	if err := ctx.Err(); err != nil {
		return org.Team{}, err
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	team, ok := t.teams[id]
	if !ok {
		return org.Team{}, fmt.Errorf("team %q: %w", id, org.ErrNotFound)
	}
	return team, nil
}

// Node implements dispatch.Directory.
func (t *Tree) Node(ctx context.Context, id org.NodeID) (org.Node, error) {
	if err := ctx.Err(); err != nil {
		return org.Node{}, err
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	n, ok := t.nodes[id]
	if !ok {
		return org.Node{}, fmt.Errorf("node %q: %w", id, org.ErrNotFound)
	}
	return n, nil
}
