package dispatch

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/civicloop/civicloop/org"
)

// Directory is what dispatch reads from the organisation: where nodes lie,
// which teams serve a node, and a team's skills and capacity. *org.Service
// satisfies it.
type Directory interface {
	// Within reports whether node lies in the subtree rooted at scope.
	Within(ctx context.Context, scope, node org.NodeID) (bool, error)
	// TeamsServing returns the active teams offering skill whose area
	// contains node.
	TeamsServing(ctx context.Context, node org.NodeID, skill string) ([]org.Team, error)
	// Team returns one team.
	Team(ctx context.Context, id org.TeamID) (org.Team, error)
	// Node returns one node.
	Node(ctx context.Context, id org.NodeID) (org.Node, error)
}

// LoadReader reports the current load of teams; Store satisfies it.
type LoadReader interface {
	Loads(ctx context.Context, teams []org.TeamID) ([]Load, error)
}

// Candidate is a team considered for an order and what routing made of it.
type Candidate struct {
	Team org.TeamID
	// Kept is true if the team may take the order now.
	Kept bool
	// Dropped says why a candidate was not kept; empty when kept.
	Dropped Drop
	// Active and Capacity are the team's load at the time of routing.
	Active   int
	Capacity int
	// Distance is the number of tiers between the order's node and the root
	// of the team's area (0: the team serves exactly that node).
	Distance int
	// LastAssigned is the feed Seq at which the team was last given an
	// order; 0 if never.
	LastAssigned uint64
}

// Drop is why routing passed a candidate over.
type Drop string

// The reasons the default matcher drops a candidate. Other matchers may
// add their own.
const (
	// DropFull: the team holds as many active orders as its capacity.
	DropFull Drop = "no free capacity"
	// DropReturned: the team returned this order before.
	DropReturned Drop = "returned this order before"
)

// Reason says in words why the candidate was kept (with the figures it
// was ranked by) or dropped.
func (c Candidate) Reason() string {
	if !c.Kept {
		return fmt.Sprintf("dropped: %s (load %d/%d)", c.Dropped, c.Active, c.Capacity)
	}
	return fmt.Sprintf("kept: load %d/%d, distance %d, last assigned at %d", c.Active, c.Capacity, c.Distance, c.LastAssigned)
}

// Matcher routes orders to teams (派单).
type Matcher interface {
	// Match returns every team considered for o: the kept ones first, best
	// first, then the dropped ones, each with its reason. The first kept
	// candidate is the one dispatched. A Matcher does not change anything.
	Match(ctx context.Context, o Order) ([]Candidate, error)
}

// TeamMatcher is the default Matcher. Candidates are the active teams whose
// area contains the order's node and who offer the menu item's category
// (Directory.TeamsServing). A candidate is dropped if it has no free
// capacity or has already returned this order. The kept ones are ranked by
//
//  1. load: the lower share of capacity in use (active/capacity) first;
//  2. tier proximity: the team whose area is nearer the order's node first;
//  3. fairness: the team given an order longest ago (or never) first, so
//     equal teams take turns;
//  4. team ID, so the result is deterministic.
type TeamMatcher struct {
	dir   Directory
	loads LoadReader
}

// NewMatcher returns the default Matcher reading teams from dir and loads
// from loads (usually the dispatch Store).
func NewMatcher(dir Directory, loads LoadReader) *TeamMatcher {
	return &TeamMatcher{dir: dir, loads: loads}
}

// Match implements Matcher.
func (m *TeamMatcher) Match(ctx context.Context, o Order) ([]Candidate, error) {
	var out []Candidate
	err := m.candidates(ctx, &o, func(n int) { out = make([]Candidate, 0, n) }, func(c Candidate) { out = append(out, c) })
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, compareCandidates)
	return out, nil
}

// best returns the first candidate Match would return, without building
// and sorting the whole list: the smallest by compareCandidates, the
// earliest of equals (as the stable sort keeps them). ok is false if
// there is no candidate at all.
func (m *TeamMatcher) best(ctx context.Context, o *Order) (best Candidate, ok bool, err error) {
	err = m.candidates(ctx, o, func(int) {}, func(c Candidate) {
		if !ok || compareCandidates(c, best) < 0 {
			best, ok = c, true
		}
	})
	return best, ok, err
}

// idBuffers recycles the team ID lists candidates hands to Loads.
var idBuffers = sync.Pool{New: func() any { return new([]org.TeamID) }}

// candidates calls start with the number of candidates and then yield with
// each, in the directory's order.
func (m *TeamMatcher) candidates(ctx context.Context, o *Order, start func(int), yield func(Candidate)) error {
	teams, err := m.dir.TeamsServing(ctx, o.Node, o.Item.Category)
	if err != nil {
		return fmt.Errorf("dispatch: route order %q: teams serving %q: %w", o.ID, o.Node, err)
	}
	node, err := m.dir.Node(ctx, o.Node)
	if err != nil {
		return fmt.Errorf("dispatch: route order %q: node %q: %w", o.ID, o.Node, err)
	}
	buf := idBuffers.Get().(*[]org.TeamID)
	ids := (*buf)[:0]
	for _, t := range teams {
		ids = append(ids, t.ID)
	}
	loads, err := m.loads.Loads(ctx, ids)
	clear(ids) // the pool keeps no team IDs alive
	*buf = ids[:0]
	idBuffers.Put(buf)
	if err != nil {
		return fmt.Errorf("dispatch: route order %q: loads: %w", o.ID, err)
	}
	if len(loads) != len(teams) {
		return fmt.Errorf("dispatch: route order %q: loads: %d loads for %d teams", o.ID, len(loads), len(teams))
	}
	start(len(teams))
	for i := range teams {
		t := &teams[i]
		c := Candidate{Team: t.ID, Active: loads[i].Active, Capacity: t.Capacity, LastAssigned: loads[i].LastAssigned}
		c.Distance = distance(node.Path, t.Area)
		switch {
		case slices.Contains(o.ReturnedBy, t.ID):
			c.Dropped = DropReturned
		case c.Active >= c.Capacity:
			c.Dropped = DropFull
		default:
			c.Kept = true
		}
		yield(c)
	}
	return nil
}

// compareCandidates orders kept before dropped, then by the ranking of
// TeamMatcher.
func compareCandidates(a, b Candidate) int {
	if a.Kept != b.Kept {
		if a.Kept {
			return -1
		}
		return 1
	}
	if a.Kept {
		// a.Active/a.Capacity vs b.Active/b.Capacity without division.
		if c := cmp.Compare(a.Active*b.Capacity, b.Active*a.Capacity); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Distance, b.Distance); c != 0 {
			return c
		}
		if c := cmp.Compare(a.LastAssigned, b.LastAssigned); c != 0 {
			return c
		}
	}
	return cmp.Compare(a.Team, b.Team)
}

// distance counts the tiers between the node with materialised path
// "/a/b/c/" and its ancestor area (0 when area is the node itself); an
// area not on the path counts as the whole depth plus one.
func distance(path string, area org.NodeID) int {
	i := strings.Index(path, "/"+string(area)+"/")
	if i < 0 {
		return strings.Count(path, "/")
	}
	return strings.Count(path[i+1:], "/") - 1
}
