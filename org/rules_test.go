package org

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

func TestCheckParent(t *testing.T) {
	cases := []struct {
		child, parent Kind
		want          error
	}{
		{Centre, "", nil},
		{Institute, Centre, nil},
		{Station, Institute, nil},
		{Point, Station, nil},
		{Centre, Centre, ErrTier},
		{Institute, "", ErrTier},
		{Institute, Station, ErrTier},
		{Station, Centre, ErrTier},
		{Point, Institute, ErrTier},
		{"hall", Station, ErrInvalid},
	}
	for _, tc := range cases {
		err := CheckParent(tc.child, tc.parent)
		if tc.want == nil {
			require.NoError(t, err, "%s under %q", tc.child, tc.parent)
			continue
		}
		require.ErrorIs(t, err, tc.want, "%s under %q", tc.child, tc.parent)
		require.Contains(t, err.Error(), "field")
	}
}

func TestCheckTeamParent(t *testing.T) {
	cases := []struct {
		child, parent Tier
		want          error
	}{
		{Corps, "", nil},
		{Detachment, Corps, nil},
		{Specialty, Corps, nil},
		{Specialty, Detachment, nil},
		{Corps, Corps, ErrTier},
		{Detachment, "", ErrTier},
		{Detachment, Detachment, ErrTier},
		{Specialty, Specialty, ErrTier},
		{Specialty, "", ErrTier},
		{"squad", Corps, ErrInvalid},
	}
	for _, tc := range cases {
		err := CheckTeamParent(tc.child, tc.parent)
		if tc.want == nil {
			require.NoError(t, err)
			continue
		}
		require.ErrorIs(t, err, tc.want, "%s under %q", tc.child, tc.parent)
	}
}

func TestKindLevels(t *testing.T) {
	for i, k := range Kinds() {
		require.Equal(t, i, k.Level())
		p, ok := k.ParentKind()
		require.Equal(t, i > 0, ok)
		if ok {
			require.Equal(t, Kinds()[i-1], p)
		}
	}
	require.Equal(t, -1, Kind("x").Level())
}

func TestPaths(t *testing.T) {
	require.Equal(t, "/c/", PathOf("", "c"))
	require.Equal(t, "/c/i/", PathOf("/c/", "i"))
	require.Equal(t, []NodeID{"c", "i", "s"}, PathIDs("/c/i/s/"))
	require.Equal(t, 2, Node{Path: "/c/i/s/"}.Depth())
	require.Equal(t, 0, Node{Path: "/c/"}.Depth())
}

func TestCountersValidate(t *testing.T) {
	cases := []struct {
		name string
		c    Counters
		ok   bool
	}{
		{"zero", Counters{}, true},
		{"two decimals", Counters{Hours: decimal.RequireFromString("1.25")}, true},
		{"trailing zeros", Counters{Points: decimal.RequireFromString("1.2500")}, true},
		{"negative", Counters{Hours: decimal.RequireFromString("-3.5")}, true},
		{"three decimals", Counters{Hours: decimal.RequireFromString("1.255")}, false},
		{"points three decimals", Counters{Points: decimal.RequireFromString("0.001")}, false},
		{"too large", Counters{Points: decimal.New(1, 16)}, false},
	}
	for _, tc := range cases {
		err := tc.c.Validate()
		if tc.ok {
			require.NoError(t, err, tc.name)
		} else {
			require.ErrorIs(t, err, ErrInvalid, tc.name)
		}
	}
	a := Counters{Hours: decimal.New(15, -1), Orders: 2}
	require.True(t, a.Add(a).Equal(Counters{Hours: decimal.New(3, 0), Orders: 4}))
}

func TestDocumentHash(t *testing.T) {
	k := []byte("0123456789abcdef")
	h := DocumentHash(k, "32048219800101123x")
	require.Equal(t, h, DocumentHash(k, " 320482 19800101123X"), "normalised")
	require.NotEqual(t, h, DocumentHash([]byte("fedcba9876543210"), "32048219800101123x"), "keyed")
	require.Len(t, h, 64)
	require.NotContains(t, h, "320482")
}

func TestPairingOverlaps(t *testing.T) {
	mk := func(start, end string) Pairing {
		p := Pairing{}
		p.Start, _ = parseDay("start", start)
		p.End, _ = parseDay("end", end)
		return p
	}
	cases := []struct {
		a, b Pairing
		want bool
	}{
		{mk("2022-01-01", "2023-01-01"), mk("2022-06-01", ""), true},
		{mk("2022-01-01", "2023-01-01"), mk("2023-01-01", ""), false},
		{mk("2022-01-01", ""), mk("2030-01-01", "2031-01-01"), true},
		{mk("2022-01-01", "2022-02-01"), mk("2021-01-01", "2022-01-01"), false},
		{mk("2022-01-01", "2022-02-01"), mk("2021-01-01", "2022-01-02"), true},
	}
	for k, tc := range cases {
		require.Equal(t, tc.want, tc.a.Overlaps(tc.b), "case %d", k)
		require.Equal(t, tc.want, tc.b.Overlaps(tc.a), "case %d reversed", k)
	}
}

// scoper is a fixed tree for policy tests: child → parent.
type scoper map[NodeID]NodeID

func (s scoper) Within(_ context.Context, scope, node NodeID) (bool, error) {
	if _, ok := s[node]; !ok {
		return false, fmt.Errorf("node %q: %w", node, ErrNotFound)
	}
	for n := node; n != ""; n = s[n] {
		if n == scope {
			return true, nil
		}
	}
	return false, nil
}

func TestDefaultPolicy(t *testing.T) {
	p := NewDefaultPolicy(scoper{"c": "", "i1": "c", "i2": "c", "s1": "i1"})
	ctx := context.Background()
	cases := []struct {
		name string
		a    Actor
		act  Action
		t    Target
		ok   bool
	}{
		{"system", Actor{ID: "sys", Role: RoleSystem}, ActCreateNode, Target{}, true},
		{"admin in scope", Actor{ID: "a", Role: RoleAdmin, Scope: "i1"}, ActRenameNode, Target{Node: "s1"}, true},
		{"admin at scope", Actor{ID: "a", Role: RoleAdmin, Scope: "i1"}, ActRenameNode, Target{Node: "i1"}, true},
		{"admin outside", Actor{ID: "a", Role: RoleAdmin, Scope: "i2"}, ActRenameNode, Target{Node: "s1"}, false},
		{"admin above scope", Actor{ID: "a", Role: RoleAdmin, Scope: "i1"}, ActRenameNode, Target{Node: "c"}, false},
		{"admin no node", Actor{ID: "a", Role: RoleAdmin, Scope: "c"}, ActCreateNode, Target{}, false},
		{"admin unknown node", Actor{ID: "a", Role: RoleAdmin, Scope: "c"}, ActRenameNode, Target{Node: "zz"}, false},
		{"admin no scope", Actor{ID: "a", Role: RoleAdmin}, ActRenameNode, Target{Node: "s1"}, false},
		{"desk dispatch", Actor{ID: "d", Role: RoleDesk, Scope: "c"}, "dispatch.dispatch", Target{Node: "s1"}, true},
		{"desk org", Actor{ID: "d", Role: RoleDesk, Scope: "c"}, ActRenameNode, Target{Node: "s1"}, false},
		{"leader own team", Actor{ID: "l", Role: RoleTeamLeader, Team: "t1"}, "dispatch.accept", Target{Team: "t1"}, true},
		{"leader other team", Actor{ID: "l", Role: RoleTeamLeader, Team: "t1"}, "dispatch.accept", Target{Team: "t2"}, false},
		{"leader no team", Actor{ID: "l", Role: RoleTeamLeader}, "dispatch.accept", Target{}, false},
		{"resident own", Actor{ID: "r", Role: RoleResident}, "dispatch.order", Target{Owner: "r"}, true},
		{"resident other", Actor{ID: "r", Role: RoleResident}, "dispatch.cancel", Target{Owner: "q"}, false},
		{"volunteer own", Actor{ID: "v", Role: RoleVolunteer}, "points.redeem", Target{Owner: "v"}, true},
		{"volunteer unowned", Actor{ID: "v", Role: RoleVolunteer}, "points.redeem", Target{}, false},
		{"unknown role", Actor{ID: "x", Role: "mayor"}, ActRenameNode, Target{Node: "c"}, false},
		{"anonymous", Actor{Role: RoleSystem}, ActRenameNode, Target{Node: "c"}, false},
	}
	for _, tc := range cases {
		err := p.Authorize(ctx, tc.a, tc.act, tc.t)
		if tc.ok {
			require.NoError(t, err, tc.name)
			continue
		}
		require.ErrorIs(t, err, ErrForbidden, tc.name)
		require.Contains(t, err.Error(), string(tc.act), tc.name)
	}
}

// leaderTree is a scoper that also knows who leads which team.
type leaderTree struct {
	scoper
	leaders map[TeamID]VolunteerID
}

func (l leaderTree) IsLeader(_ context.Context, team TeamID, v VolunteerID) (bool, error) {
	lead, ok := l.leaders[team]
	if !ok {
		return false, fmt.Errorf("team %q: %w", team, ErrNotFound)
	}
	return lead == v, nil
}

// A team leader's claim is checked against the team's actual leader when
// the tree can tell.
func TestDefaultPolicyChecksLeader(t *testing.T) {
	ctx := context.Background()
	tree := leaderTree{scoper{"c": ""}, map[TeamID]VolunteerID{"t1": "v1", "t2": "v2"}}
	p := &DefaultPolicy{Tree: tree, Leaders: tree}
	require.NoError(t, p.Authorize(ctx, Actor{ID: "v1", Role: RoleTeamLeader, Team: "t1"}, "dispatch.accept", Target{Team: "t1"}))
	err := p.Authorize(ctx, Actor{ID: "v2", Role: RoleTeamLeader, Team: "t1"}, "dispatch.accept", Target{Team: "t1"})
	require.ErrorIs(t, err, ErrForbidden, "claims t1, leads t2")
	require.Contains(t, err.Error(), "does not lead team")
	err = p.Authorize(ctx, Actor{ID: "v1", Role: RoleTeamLeader, Team: "t9"}, "dispatch.accept", Target{Team: "t9"})
	require.ErrorIs(t, err, ErrForbidden, "unknown team")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	err = (&DefaultPolicy{Tree: scoper{}, Leaders: leaderTree{}}).Authorize(cancelled, Actor{ID: "v1", Role: RoleTeamLeader, Team: "t1"}, "dispatch.accept", Target{Team: "t1"})
	require.ErrorIs(t, err, context.Canceled)
	// Without Leaders the claim is trusted, as before.
	require.NoError(t, NewDefaultPolicy(tree).Authorize(ctx, Actor{ID: "v2", Role: RoleTeamLeader, Team: "t1"}, "dispatch.accept", Target{Team: "t1"}))
}

func TestOptionsValidate(t *testing.T) {
	_, err := New(nil, nil)
	require.ErrorIs(t, err, ErrInvalid)
	o := Options{IdentityKey: []byte("short")}
	require.ErrorIs(t, o.validate(), ErrInvalid)
	o = Options{Skills: []string{"ok", "not ok"}}
	err = o.validate()
	require.ErrorIs(t, err, ErrInvalid)
	require.Contains(t, err.Error(), "Skills[1]")
	o = Options{}
	require.NoError(t, o.validate())
	require.NotNil(t, o.Now)
	require.NotNil(t, o.Logger)
	require.NotEqual(t, o.NewID(), o.NewID())
}

func TestParseNetworkLines(t *testing.T) {
	src := "{\n\"nodes\": [\n {\"id\": \"a\", \"kind\": \"centre\", \"name\": \"A\"},\n {\"id\": \"b\", \"kind\": 7, \"name\": \"B\"},\n {\"id\": \"c\", \"colour\": \"red\"}\n],\n\"pairings\": []\n}"
	_, err := ParseNetwork(strings.NewReader(src))
	var ie *ImportError
	require.True(t, errors.As(err, &ie), "%v", err)
	require.ErrorIs(t, err, ErrInvalid)
	require.Len(t, ie.Rows, 2)
	require.Equal(t, 4, ie.Rows[0].Line)
	require.Equal(t, 1, ie.Rows[0].Index)
	require.Equal(t, 5, ie.Rows[1].Line)
	require.Contains(t, ie.Rows[1].Error(), "colour")

	_, err = ParseNetwork(strings.NewReader("{\n\"nodes\": [\n {\"id\": \"a\",,}\n]}"))
	require.ErrorIs(t, err, ErrInvalid)
	require.Contains(t, err.Error(), "line 3")
	_, err = ParseNetwork(strings.NewReader(`{"villages": []}`))
	require.ErrorIs(t, err, ErrInvalid)
	require.Contains(t, err.Error(), "villages")

	n, err := ParseNetwork(strings.NewReader("{\"nodes\": [\n{\"id\": \"a\", \"kind\": \"centre\", \"name\": \"A\"}]}"))
	require.NoError(t, err)
	require.Equal(t, []NodeSpec{{ID: "a", Kind: Centre, Name: "A", Line: 2}}, n.Nodes)
}

func TestJintanNetworkShape(t *testing.T) {
	n := JintanNetwork()
	count := map[Kind]int{}
	for _, r := range n.Nodes {
		count[r.Kind]++
		require.Positive(t, r.Line)
	}
	require.Equal(t, map[Kind]int{Centre: 1, Institute: 9, Station: 123, Point: 3}, count)
	tiers := map[Tier]int{}
	for _, r := range n.Teams {
		tiers[r.Tier]++
	}
	require.Equal(t, map[Tier]int{Corps: 1, Detachment: 8, Specialty: 22}, tiers)
	require.Len(t, n.Pairings, 57)
	require.True(t, bytes.Contains(JintanJSON(), []byte("陆旭东志愿服务队")))
}

func FuzzParseNetwork(f *testing.F) {
	f.Add([]byte(`{"nodes":[{"id":"a","kind":"centre","name":"A"}]}`))
	f.Add([]byte(`{"nodes":[{"id":"a","kind":7}],"teams":[{}]}`))
	f.Add([]byte(`{"pairings":[{"unit":"u","start":"2022-01-01"}]}`))
	f.Add(JintanJSON()[:400])
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := ParseNetwork(bytes.NewReader(data))
		if err != nil {
			require.ErrorIs(t, err, ErrInvalid)
			return
		}
		for _, r := range n.Nodes {
			require.Positive(t, r.Line)
			require.LessOrEqual(t, r.Line, bytes.Count(data, []byte{'\n'})+1)
		}
	})
}

func FuzzNewNodeValidate(f *testing.F) {
	f.Add("jt-xc", "institute", "西城街道新时代文明实践所", "jt")
	f.Add("a/b", "station", "x", "p")
	f.Add("", "centre", " ", "")
	f.Fuzz(func(t *testing.T, id, kind, name, parent string) {
		err := NewNode{ID: NodeID(id), Kind: Kind(kind), Name: name, Parent: NodeID(parent)}.Validate()
		if err == nil {
			require.NotContains(t, id, "/")
			require.True(t, Kind(kind).Valid())
			require.NotEmpty(t, strings.TrimSpace(name))
			require.Equal(t, Kind(kind) == Centre, parent == "")
			return
		}
		require.True(t, errors.Is(err, ErrInvalid) || errors.Is(err, ErrTier), "%v", err)
		require.Contains(t, err.Error(), "field")
	})
}
