package orgtest

import (
	"slices"
	"strings"

	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/org"
)

var _ = register(
	test{"CreateNodeTierRules", func(e *env) {
		e.small()
		before := e.rollup("c")
		cases := []struct {
			name string
			in   org.NewNode
			want error
		}{
			{"station under centre", org.NewNode{ID: "x1", Kind: org.Station, Name: "x", Parent: "c"}, org.ErrTier},
			{"point under institute", org.NewNode{ID: "x2", Kind: org.Point, Name: "x", Parent: "c-a"}, org.ErrTier},
			{"institute under station", org.NewNode{ID: "x3", Kind: org.Institute, Name: "x", Parent: "c-a-1"}, org.ErrTier},
			{"centre with parent", org.NewNode{ID: "x4", Kind: org.Centre, Name: "x", Parent: "c"}, org.ErrTier},
			{"institute without parent", org.NewNode{ID: "x5", Kind: org.Institute, Name: "x"}, org.ErrTier},
			{"unknown kind", org.NewNode{ID: "x6", Kind: "village", Name: "x", Parent: "c"}, org.ErrInvalid},
			{"slash in id", org.NewNode{ID: "x/7", Kind: org.Institute, Name: "x", Parent: "c"}, org.ErrInvalid},
			{"empty id", org.NewNode{Kind: org.Institute, Name: "x", Parent: "c"}, org.ErrInvalid},
			{"blank name", org.NewNode{ID: "x8", Kind: org.Institute, Name: "  ", Parent: "c"}, org.ErrInvalid},
			{"unknown parent", org.NewNode{ID: "x9", Kind: org.Institute, Name: "x", Parent: "nope"}, org.ErrNotFound},
			{"duplicate id", org.NewNode{ID: "c-a", Kind: org.Institute, Name: "x", Parent: "c"}, org.ErrDuplicate},
		}
		for _, tc := range cases {
			_, err := e.svc.CreateNode(e.ctx, System, tc.in)
			require.ErrorIs(e.t, err, tc.want, tc.name)
			if tc.in.ID != "" && tc.in.ID != "c-a" {
				_, err = e.svc.Node(e.ctx, tc.in.ID)
				require.ErrorIs(e.t, err, org.ErrNotFound, tc.name)
			}
		}
		require.Equal(e.t, before, e.rollup("c"), "refused creates change nothing")
		_, err := e.svc.CreateNode(e.ctx, System, org.NewNode{ID: "x10", Kind: org.Station, Name: "x", Parent: "c"})
		require.ErrorContains(e.t, err, "parent")
	}},
	test{"NodeLookupPathAndAncestors", func(e *env) {
		e.small()
		n, err := e.svc.Node(e.ctx, "c-a-1-p")
		require.NoError(e.t, err)
		require.Equal(e.t, org.Point, n.Kind)
		require.Equal(e.t, org.Active, n.Status)
		require.Equal(e.t, org.NodeID("c-a-1"), n.Parent)
		require.Equal(e.t, "/c/c-a/c-a-1/c-a-1-p/", n.Path)
		require.Equal(e.t, 3, n.Depth())
		require.False(e.t, n.Created.IsZero())
		as, err := e.svc.Ancestors(e.ctx, "c-a-1-p")
		require.NoError(e.t, err)
		require.Equal(e.t, []org.NodeID{"c", "c-a", "c-a-1"}, ids(as))
		as, err = e.svc.Ancestors(e.ctx, "c")
		require.NoError(e.t, err)
		require.Empty(e.t, as)
		_, err = e.svc.Ancestors(e.ctx, "nope")
		require.ErrorIs(e.t, err, org.ErrNotFound)
	}},
	test{"Within", func(e *env) {
		e.small()
		e.node("d", org.Centre, "")
		cases := []struct {
			scope, node org.NodeID
			want        bool
		}{
			{"c", "c", true}, {"c", "c-a-1-p", true}, {"c-a", "c-a-2", true}, {"c-a", "c-b-1", false},
			{"c-a-1", "c-a", false}, {"d", "c-a", false}, {"c-a-1-p", "c-a-1-p", true}, {"c-b", "c-a-1-p", false},
		}
		for _, tc := range cases {
			got, err := e.svc.Within(e.ctx, tc.scope, tc.node)
			require.NoError(e.t, err)
			require.Equal(e.t, tc.want, got, "%s within %s", tc.node, tc.scope)
		}
		_, err := e.svc.Within(e.ctx, "nope", "c")
		require.ErrorIs(e.t, err, org.ErrNotFound)
		_, err = e.svc.Within(e.ctx, "c", "nope")
		require.ErrorIs(e.t, err, org.ErrNotFound)
	}},
	test{"RenameRecordsHistory", func(e *env) {
		e.small()
		admin := org.Actor{ID: "wang", Role: org.RoleAdmin, Scope: "c-a"}
		n, err := e.svc.RenameNode(e.ctx, admin, "c-a-1", "华胜社区新时代文明实践站")
		require.NoError(e.t, err)
		require.Equal(e.t, "华胜社区新时代文明实践站", n.Name)
		require.True(e.t, n.Updated.After(n.Created))
		_, err = e.svc.RenameNode(e.ctx, admin, "c-a-1", "")
		require.ErrorIs(e.t, err, org.ErrInvalid)
		_, err = e.svc.RenameNode(e.ctx, System, "nope", "x")
		require.ErrorIs(e.t, err, org.ErrNotFound)
		h, err := e.svc.History(e.ctx, org.ChangeQuery{Node: "c-a-1"})
		require.NoError(e.t, err)
		require.Len(e.t, h, 2)
		require.Equal(e.t, org.ActCreateNode, h[0].Action)
		require.Equal(e.t, org.ActRenameNode, h[1].Action)
		require.Equal(e.t, admin, h[1].Actor)
		require.Equal(e.t, n.Updated, h[1].At)
		require.Less(e.t, h[0].Seq, h[1].Seq)
		later, err := e.svc.History(e.ctx, org.ChangeQuery{Node: "c-a-1", After: h[0].Seq})
		require.NoError(e.t, err)
		require.Equal(e.t, h[1:], later)
		_, err = e.svc.History(e.ctx, org.ChangeQuery{})
		require.ErrorIs(e.t, err, org.ErrInvalid)
	}},
	test{"MoveCarriesSubtree", func(e *env) {
		e.small()
		e.node("c-a-1-q", org.Point, "c-a-1")
		v := e.volunteer("v1", "c-a-1-p")
		require.NoError(e.t, e.svc.AddCounters(e.ctx, "k1", "c-a-1-p", org.Counters{Orders: 3}))
		a0, b0 := e.rollup("c-a"), e.rollup("c-b")
		moved, err := e.svc.MoveNode(e.ctx, System, "c-a-1", "c-b")
		require.NoError(e.t, err)
		require.Equal(e.t, "/c/c-b/c-a-1/", moved.Path)
		require.Equal(e.t, org.NodeID("c-b"), moved.Parent)
		p, err := e.svc.Node(e.ctx, "c-a-1-p")
		require.NoError(e.t, err)
		require.Equal(e.t, "/c/c-b/c-a-1/c-a-1-p/", p.Path, "descendant paths rewritten")
		in, err := e.svc.Within(e.ctx, "c-b", "c-a-1-q")
		require.NoError(e.t, err)
		require.True(e.t, in)
		in, err = e.svc.Within(e.ctx, "c-a", "c-a-1-p")
		require.NoError(e.t, err)
		require.False(e.t, in)
		a1, b1 := e.rollup("c-a"), e.rollup("c-b")
		require.Equal(e.t, a0.Stations-1, a1.Stations)
		require.Equal(e.t, a0.Points-2, a1.Points)
		require.Equal(e.t, b0.Stations+1, b1.Stations)
		require.Equal(e.t, b0.Points+2, b1.Points)
		require.Equal(e.t, 0, a1.Volunteers)
		require.Equal(e.t, 1, b1.Volunteers)
		require.Equal(e.t, int64(0), a1.Counters.Orders)
		require.Equal(e.t, int64(3), b1.Counters.Orders)
		page := e.allNodes("c-b", org.SubtreeQuery{Limit: 2})
		require.Equal(e.t, []org.NodeID{"c-b", "c-a-1", "c-a-1-p", "c-a-1-q", "c-b-1"}, ids(page))
		vs, err := e.svc.Volunteers(e.ctx, "c-b", org.Page{})
		require.NoError(e.t, err)
		require.Equal(e.t, []org.VolunteerID{v.ID}, volIDs(vs.Volunteers))
		h, err := e.svc.History(e.ctx, org.ChangeQuery{Node: "c-a-1"})
		require.NoError(e.t, err)
		require.Equal(e.t, org.ActMoveNode, h[len(h)-1].Action)
	}},
	test{"MoveRefusals", func(e *env) {
		e.small()
		e.node("d", org.Centre, "")
		e.node("d-a", org.Institute, "d")
		cases := []struct {
			name       string
			id, parent org.NodeID
			want       error
		}{
			{"station under centre", "c-a-1", "c", org.ErrTier},
			{"point under institute", "c-a-1-p", "c-b", org.ErrTier},
			{"centre under centre", "c", "d", org.ErrTier},
			{"same parent", "c-a-1", "c-a", org.ErrInvalid},
			{"unknown node", "nope", "c-a", org.ErrNotFound},
			{"unknown parent", "c-a-1", "nope", org.ErrNotFound},
		}
		for _, tc := range cases {
			_, err := e.svc.MoveNode(e.ctx, System, tc.id, tc.parent)
			require.ErrorIs(e.t, err, tc.want, tc.name)
		}
		_, err := e.svc.RetireNode(e.ctx, System, "d-a", "closed")
		require.NoError(e.t, err)
		_, err = e.svc.MoveNode(e.ctx, System, "c-a-1", "d-a")
		require.ErrorIs(e.t, err, org.ErrRetired)
		n, err := e.svc.Node(e.ctx, "c-a-1")
		require.NoError(e.t, err)
		require.Equal(e.t, "/c/c-a/c-a-1/", n.Path, "refused moves change nothing")
	}},
	test{"StoreRefusesCycle", func(e *env) {
		e.small()
		_, err := e.store.MoveNode(e.ctx, "c-a", "c-a-1", org.Change{Action: org.ActMoveNode, Node: "c-a", Actor: System, At: e.clock.Now()})
		require.ErrorIs(e.t, err, org.ErrCycle)
		_, err = e.store.MoveNode(e.ctx, "c-a", "c-a", org.Change{Action: org.ActMoveNode, Node: "c-a", Actor: System, At: e.clock.Now()})
		require.ErrorIs(e.t, err, org.ErrCycle)
		n, err := e.svc.Node(e.ctx, "c-a")
		require.NoError(e.t, err)
		require.Equal(e.t, "/c/c-a/", n.Path)
	}},
	test{"RetireRefusedWhileActiveChildren", func(e *env) {
		e.small()
		_, err := e.svc.RetireNode(e.ctx, System, "c-a-1", "merged")
		require.ErrorIs(e.t, err, org.ErrInUse)
		_, err = e.svc.RetireNode(e.ctx, System, "c-a-1-p", "closed")
		require.NoError(e.t, err)
		before := e.rollup("c")
		n, err := e.svc.RetireNode(e.ctx, System, "c-a-1", "merged")
		require.NoError(e.t, err)
		require.Equal(e.t, org.Retired, n.Status)
		after := e.rollup("c")
		require.Equal(e.t, before.Stations-1, after.Stations)
		_, err = e.svc.RetireNode(e.ctx, System, "c-a-1", "again")
		require.ErrorIs(e.t, err, org.ErrRetired)
		_, err = e.svc.CreateNode(e.ctx, System, org.NewNode{ID: "c-a-1-z", Kind: org.Point, Name: "z", Parent: "c-a-1"})
		require.ErrorIs(e.t, err, org.ErrRetired, "no children below a retired node")
		_, err = e.svc.RetireNode(e.ctx, System, "nope", "x")
		require.ErrorIs(e.t, err, org.ErrNotFound)
	}},
	test{"RetireRefusedWhileActiveTeams", func(e *env) {
		e.small()
		e.team(org.NewTeam{ID: "corps", Tier: org.Corps, Anchor: "c"})
		e.team(org.NewTeam{ID: "sp", Tier: org.Specialty, Parent: "corps", Anchor: "c-a-1", Area: "c-a-2", Skills: []string{"legal"}})
		_, err := e.svc.RetireNode(e.ctx, System, "c-a-1-p", "closed")
		require.NoError(e.t, err)
		_, err = e.svc.RetireNode(e.ctx, System, "c-a-1", "x")
		require.ErrorIs(e.t, err, org.ErrInUse, "anchor of an active team")
		_, err = e.svc.RetireNode(e.ctx, System, "c-a-2", "x")
		require.ErrorIs(e.t, err, org.ErrInUse, "area of an active team")
		_, err = e.svc.RetireTeam(e.ctx, System, "sp", "disbanded")
		require.NoError(e.t, err)
		_, err = e.svc.RetireNode(e.ctx, System, "c-a-1", "x")
		require.NoError(e.t, err)
		_, err = e.svc.RetireNode(e.ctx, System, "c-a-2", "x")
		require.NoError(e.t, err)
		_, err = e.svc.ReactivateTeam(e.ctx, System, "sp")
		require.ErrorIs(e.t, err, org.ErrRetired, "anchor retired")
	}},
	test{"Reactivate", func(e *env) {
		e.small()
		_, err := e.svc.ReactivateNode(e.ctx, System, "c-b-1")
		require.ErrorIs(e.t, err, org.ErrInvalid, "already active")
		_, err = e.svc.RetireNode(e.ctx, System, "c-b-1", "x")
		require.NoError(e.t, err)
		_, err = e.svc.RetireNode(e.ctx, System, "c-b", "x")
		require.NoError(e.t, err)
		_, err = e.svc.ReactivateNode(e.ctx, System, "c-b-1")
		require.ErrorIs(e.t, err, org.ErrRetired, "parent retired")
		before := e.rollup("c")
		_, err = e.svc.ReactivateNode(e.ctx, System, "c-b")
		require.NoError(e.t, err)
		n, err := e.svc.ReactivateNode(e.ctx, System, "c-b-1")
		require.NoError(e.t, err)
		require.Equal(e.t, org.Active, n.Status)
		after := e.rollup("c")
		require.Equal(e.t, before.Institutes+1, after.Institutes)
		require.Equal(e.t, before.Stations+1, after.Stations)
		h, err := e.svc.History(e.ctx, org.ChangeQuery{Node: "c-b-1"})
		require.NoError(e.t, err)
		require.Equal(e.t, []org.Action{org.ActCreateNode, org.ActRetireNode, org.ActReactivateNode}, actions(h))
	}},
	test{"SubtreePagination", func(e *env) {
		e.node("c", org.Centre, "")
		var want []org.NodeID
		want = append(want, "c")
		for _, i := range []string{"c-a", "c-a-b", "c-b"} {
			e.node(org.NodeID(i), org.Institute, "c")
		}
		for _, i := range []string{"c-a", "c-a-b", "c-b"} {
			for k := 1; k <= 4; k++ {
				e.node(org.NodeID(i+"."+string(rune('0'+k))), org.Station, org.NodeID(i))
			}
		}
		all := e.allNodes("c", org.SubtreeQuery{Limit: 1000})
		paths := make([]string, len(all))
		for k, n := range all {
			paths[k] = n.Path
		}
		require.True(e.t, slices.IsSorted(paths), "path order: %v", paths)
		require.Len(e.t, all, 16)
		for _, size := range []int{1, 3, 5, 16, 17} {
			got := e.allNodes("c", org.SubtreeQuery{Limit: size})
			require.Equal(e.t, ids(all), ids(got), "page size %d", size)
		}
		sts := e.allNodes("c", org.SubtreeQuery{Kinds: []org.Kind{org.Station}, Limit: 5})
		require.Len(e.t, sts, 12)
		for _, n := range sts {
			require.Equal(e.t, org.Station, n.Kind)
		}
		sub := e.allNodes("c-a", org.SubtreeQuery{Limit: 2})
		require.Equal(e.t, []org.NodeID{"c-a", "c-a.1", "c-a.2", "c-a.3", "c-a.4"}, ids(sub))
		_, err := e.svc.RetireNode(e.ctx, System, "c-b.2", "x")
		require.NoError(e.t, err)
		require.Len(e.t, e.allNodes("c", org.SubtreeQuery{Limit: 4}), 15)
		require.Len(e.t, e.allNodes("c", org.SubtreeQuery{Limit: 4, IncludeRetired: true}), 16)
		_, err = e.svc.Subtree(e.ctx, "c-a", org.SubtreeQuery{After: "/zz/"})
		require.ErrorIs(e.t, err, org.ErrInvalid)
		_, err = e.svc.Subtree(e.ctx, "nope", org.SubtreeQuery{})
		require.ErrorIs(e.t, err, org.ErrNotFound)
		_, err = e.svc.Subtree(e.ctx, "c", org.SubtreeQuery{Kinds: []org.Kind{"hall"}})
		require.ErrorIs(e.t, err, org.ErrInvalid)
		for _, n := range all {
			require.True(e.t, strings.HasPrefix(n.Path, "/c/"))
		}
	}},
)

func ids(ns []org.Node) []org.NodeID {
	out := make([]org.NodeID, len(ns))
	for k, n := range ns {
		out[k] = n.ID
	}
	return out
}

func volIDs(vs []org.Volunteer) []org.VolunteerID {
	out := make([]org.VolunteerID, len(vs))
	for k, v := range vs {
		out[k] = v.ID
	}
	return out
}

func actions(cs []org.Change) []org.Action {
	out := make([]org.Action, len(cs))
	for k, c := range cs {
		out[k] = c.Action
	}
	return out
}
