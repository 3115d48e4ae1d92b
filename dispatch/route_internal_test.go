package dispatch

import (
	"context"
	"fmt"
	"testing"

	"github.com/civicloop/civicloop/org"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// fixedTeams is a Directory and LoadReader with given teams and loads, all
// serving node "/c/i/s/".
type fixedTeams struct {
	teams []org.Team
	loads map[org.TeamID]Load
}

func (f fixedTeams) Within(context.Context, org.NodeID, org.NodeID) (bool, error) { return true, nil }
func (f fixedTeams) TeamsServing(context.Context, org.NodeID, string) ([]org.Team, error) {
	return append([]org.Team(nil), f.teams...), nil
}
func (f fixedTeams) Team(context.Context, org.TeamID) (org.Team, error) { return org.Team{}, nil }
func (f fixedTeams) Node(_ context.Context, id org.NodeID) (org.Node, error) {
	return org.Node{ID: id, Path: "/c/i/s/"}, nil
}
func (f fixedTeams) Loads(_ context.Context, ids []org.TeamID) ([]Load, error) {
	out := make([]Load, len(ids))
	for i, id := range ids {
		out[i] = f.loads[id]
		out[i].Team = id
	}
	return out, nil
}

// TestBestIsFirstMatch checks that the default matcher's shortcut for
// dispatching picks the first candidate of Match, ties and drops included.
func TestBestIsFirstMatch(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 8).Draw(t, "teams")
		f := fixedTeams{loads: map[org.TeamID]Load{}}
		var returned []org.TeamID
		for range n {
			id := org.TeamID(fmt.Sprintf("T%d", rapid.IntRange(0, 9).Draw(t, "id")))
			area := rapid.SampledFrom([]org.NodeID{"c", "i", "s", "x"}).Draw(t, "area")
			capacity := rapid.IntRange(0, 3).Draw(t, "capacity")
			f.teams = append(f.teams, org.Team{ID: id, Area: area, Capacity: capacity})
			f.loads[id] = Load{Active: rapid.IntRange(0, 3).Draw(t, "active"), LastAssigned: uint64(rapid.IntRange(0, 2).Draw(t, "last"))}
			if rapid.IntRange(0, 4).Draw(t, "returned") == 0 {
				returned = append(returned, id)
			}
		}
		m := NewMatcher(f, f)
		o := Order{ID: "o", Node: "s", ReturnedBy: returned}
		all, err := m.Match(context.Background(), o)
		require.NoError(t, err)
		best, ok, err := m.best(context.Background(), &o)
		require.NoError(t, err)
		require.Equal(t, len(all) > 0, ok)
		if ok {
			require.Equal(t, all[0], best)
		}
	})
}
