package dispatchtest

import (
	"context"
	"strings"
	"testing"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
	"github.com/stretchr/testify/require"
)

func routeTests() []test {
	ctx := context.Background()
	route := func(t *testing.T, f *Fixture, node org.NodeID) dispatch.Order {
		t.Helper()
		o := f.Place(t, node)
		return f.Fire(t, f.Desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerDispatch})
	}
	teams := func(cands []dispatch.Candidate) []org.TeamID {
		var out []org.TeamID
		for _, c := range cands {
			out = append(out, c.Team)
		}
		return out
	}
	return []test{
		{"route/load-then-proximity-then-fairness", func(t *testing.T, f *Fixture) {
			// At S1 the candidates are T-S1 (distance 0), T-I1 (1), T-C (2);
			// all idle, so proximity decides first.
			require.Equal(t, TeamS1, route(t, f, NodeS1).Team)
			// T-S1 is now half full; T-I1 and T-C are idle: nearer wins.
			require.Equal(t, TeamI1, route(t, f, NodeS1).Team)
			// T-S1 1/2, T-I1 1/2, T-C 0/3.
			require.Equal(t, TeamC, route(t, f, NodeS1).Team)
			// All at 1/2, 1/2, 1/3: T-C has the lowest load.
			require.Equal(t, TeamC, route(t, f, NodeS1).Team)
			// 1/2, 1/2, 2/3: equal load for S1 and I1, S1 nearer.
			require.Equal(t, TeamS1, route(t, f, NodeS1).Team)
		}},
		{"route/fairness-rotates-equal-teams", func(t *testing.T, f *Fixture) {
			// Two identical teams at S2's institute: whoever was picked last
			// waits.
			f.Tree.SetTeam(org.Team{ID: "T-A", Anchor: NodeI2, Skills: []string{"health"}, Capacity: 5})
			f.Tree.SetTeam(org.Team{ID: "T-B", Anchor: NodeI2, Skills: []string{"health"}, Capacity: 5})
			f.Tree.SetTeam(org.Team{ID: TeamH, Anchor: NodeI2, Skills: []string{"health"}, Capacity: 0})
			f.Tree.SetTeam(org.Team{ID: TeamC, Anchor: NodeC, Skills: []string{"elder"}, Capacity: 3})
			var got []org.TeamID
			for range 4 {
				o, err := f.Service.PlaceOrder(ctx, f.Resident, dispatch.OrderRequest{Item: ItemCheckup, Node: NodeS3, Fields: map[string]string{"address": "x"}})
				require.NoError(t, err)
				o = f.Fire(t, f.Desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerDispatch})
				got = append(got, o.Team)
				// Finish it, so both teams are idle again and only
				// fairness separates them.
				lead := org.Actor{ID: "lead", Role: org.RoleTeamLeader, Team: o.Team}
				f.Fire(t, lead, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerAccept})
				f.Fire(t, lead, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerComplete, Completion: Completion()})
			}
			require.Equal(t, []org.TeamID{"T-A", "T-B", "T-A", "T-B"}, got)
		}},
		{"route/explain", func(t *testing.T, f *Fixture) {
			f.Drive(t, dispatch.Accepted)
			f.Drive(t, dispatch.Accepted) // T-S1 full
			o2 := f.Place(t, NodeS1)
			cands, err := f.Service.Explain(ctx, o2.ID)
			require.NoError(t, err)
			require.Equal(t, []org.TeamID{TeamI1, TeamC, TeamS1}, teams(cands))
			require.True(t, cands[0].Kept)
			require.Equal(t, 1, cands[0].Distance)
			require.True(t, strings.HasPrefix(cands[0].Reason(), "kept"))
			require.False(t, cands[2].Kept)
			require.Contains(t, cands[2].Reason(), "no free capacity")
			require.Equal(t, dispatch.DropFull, cands[2].Dropped)
			require.Equal(t, 2, cands[2].Active)
			before := f.snap(t, o2.ID)
			require.Equal(t, before, f.snap(t, o2.ID), "Explain changed the store")
		}},
		{"route/skips-teams-that-returned", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Returned)
			require.Equal(t, []org.TeamID{TeamS1}, o.ReturnedBy)
			cands, err := f.Service.Explain(ctx, o.ID)
			require.NoError(t, err)
			last := cands[len(cands)-1]
			require.Equal(t, TeamS1, last.Team)
			require.Contains(t, last.Reason(), "returned")
			require.Equal(t, dispatch.DropReturned, last.Dropped)
			o = f.Fire(t, f.Desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerDispatch})
			require.Equal(t, TeamI1, o.Team)
		}},
		{"route/no-candidate", func(t *testing.T, f *Fixture) {
			f.Tree.SetTeam(org.Team{ID: TeamH, Anchor: NodeI2, Skills: []string{"health"}, Capacity: 1})
			f.Tree.SetTeam(org.Team{ID: TeamC, Anchor: NodeC, Skills: []string{"elder"}, Capacity: 3})
			o, err := f.Service.PlaceOrder(ctx, f.Resident, dispatch.OrderRequest{Item: ItemCheckup, Node: NodeS3, Fields: map[string]string{"address": "x"}})
			require.NoError(t, err)
			f.Fire(t, f.Desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerDispatch})
			o2, err := f.Service.PlaceOrder(ctx, f.Resident, dispatch.OrderRequest{Item: ItemCheckup, Node: NodeS3, Fields: map[string]string{"address": "y"}})
			require.NoError(t, err)
			f.refused(t, f.Desk, dispatch.Command{Order: o2.ID, Trigger: dispatch.TriggerDispatch}, dispatch.ErrNoCandidate, "team")
		}},
	}
}
