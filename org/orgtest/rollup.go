package orgtest

import (
	"bytes"
	"errors"
	"sync"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/org"
)

var _ = register(
	test{"JintanNetworkRollup", func(e *env) {
		net := org.JintanNetwork()
		members := 0
		for _, t := range net.Teams {
			members += len(t.Members)
			if t.Leader != "" {
				members++
			}
		}
		res, err := e.svc.Import(e.ctx, System, net)
		require.NoError(e.t, err)
		require.Equal(e.t, org.ImportResult{Nodes: len(net.Nodes), Teams: 31, Volunteers: len(net.Volunteers), Memberships: members, Pairings: 57}, res)
		r := e.rollup("jt")
		require.Equal(e.t, [4]int{1, 9, 123, 3}, [4]int{r.Centres, r.Institutes, r.Stations, r.Points}, "1+9+123")
		require.Equal(e.t, [3]int{1, 8, 22}, [3]int{r.Corps, r.Detachments, r.Specialty}, "1822")
		require.Equal(e.t, 57, r.Pairings)
		require.Equal(e.t, len(net.Volunteers), r.Volunteers)
		// The centre's totals equal the sum over its institutes plus itself.
		sum := org.Rollup{Centres: 1}
		insts := e.allNodes("jt", org.SubtreeQuery{Kinds: []org.Kind{org.Institute}})
		require.Len(e.t, insts, 9)
		for _, n := range insts {
			ri := e.rollup(n.ID)
			sum.Institutes += ri.Institutes
			sum.Stations += ri.Stations
			sum.Points += ri.Points
		}
		require.Equal(e.t, [3]int{1, 9, 123}, [3]int{sum.Centres, sum.Institutes, sum.Stations})
		xc := e.rollup("jt-xc")
		require.Equal(e.t, 14, xc.Stations)
		require.Equal(e.t, 3, xc.Points)
		teams, err := e.svc.TeamsServing(e.ctx, "jt-xc-hs-p1", "civility")
		require.NoError(e.t, err)
		require.NotEmpty(e.t, teams)
		lead, err := e.svc.IsLeader(e.ctx, "jt-s01", "V320482000001")
		require.NoError(e.t, err)
		require.True(e.t, lead)
		h, err := e.svc.History(e.ctx, org.ChangeQuery{Node: "jt-xc-hs"})
		require.NoError(e.t, err)
		require.Equal(e.t, []org.Action{org.ActImport}, actions(h))
		require.Equal(e.t, org.NodeID("jt-xc-hs"), h[0].Node)
		_, err = e.svc.Import(e.ctx, System, org.JintanNetwork())
		require.ErrorIs(e.t, err, org.ErrDuplicate, "a second import of the same network")
		require.Equal(e.t, r, e.rollup("jt"))
	}},
	test{"ImportReportsEveryBadRow", func(e *env) {
		e.small()
		src := `{
  "nodes": [
    {"id": "n-1", "kind": "institute", "name": "ok", "parent": "c"},
    {"id": "n-2", "kind": "station", "name": "wrong tier", "parent": "c"},
    {"id": "n-3", "kind": "station", "name": "ok", "parent": "n-1"},
    {"id": "n-4", "kind": "station", "name": "", "parent": "n-1"},
    {"id": "c-a", "kind": "institute", "name": "dup", "parent": "c"}
  ],
  "teams": [
    {"id": "t-1", "name": "corps", "tier": "corps", "anchor": "n-1"},
    {"id": "t-2", "name": "bad", "tier": "detachment", "parent": "t-1", "anchor": "n-1", "area": "c"}
  ],
  "pairings": [
    {"unit": "u", "unit_name": "u", "unit_kind": "civilised_unit", "node": "n-3", "start": "2022-13-01"}
  ]
}`
		net, err := org.ParseNetwork(bytes.NewReader([]byte(src)))
		require.NoError(e.t, err)
		before := e.rollup("c")
		_, err = e.svc.Import(e.ctx, System, net)
		var ie *org.ImportError
		require.True(e.t, errors.As(err, &ie), "%v", err)
		require.ErrorIs(e.t, err, org.ErrInvalid)
		require.ErrorIs(e.t, err, org.ErrTier)
		require.ErrorIs(e.t, err, org.ErrDuplicate)
		require.ErrorIs(e.t, err, org.ErrOutOfArea)
		type row struct {
			section   string
			index, ln int
		}
		var got []row
		for _, r := range ie.Rows {
			got = append(got, row{r.Section, r.Index, r.Line})
		}
		require.Equal(e.t, []row{{"nodes", 1, 4}, {"nodes", 3, 6}, {"nodes", 4, 7}, {"teams", 1, 11}, {"pairings", 0, 14}}, got)
		require.Contains(e.t, err.Error(), "line 4: nodes[1]")
		require.Equal(e.t, before, e.rollup("c"), "nothing applied")
		_, err = e.svc.Node(e.ctx, "n-1")
		require.ErrorIs(e.t, err, org.ErrNotFound)
		_, err = e.svc.Team(e.ctx, "t-1")
		require.ErrorIs(e.t, err, org.ErrNotFound)
	}},
	test{"ImportGoValue", func(e *env) {
		e.small()
		net := org.Network{
			Nodes:      []org.NodeSpec{{ID: "c-c", Kind: org.Institute, Name: "new", Parent: "c"}, {ID: "c-c-1", Kind: org.Station, Name: "s", Parent: "c-c"}},
			Volunteers: []org.VolunteerSpec{{ID: "v1", Name: "a", Home: "c-c-1", Document: "320482199001011234"}, {ID: "v2", Name: "b", Home: "c-c-1", Document: "320482199001011234"}},
		}
		_, err := e.svc.Import(e.ctx, System, net)
		var ie *org.ImportError
		require.True(e.t, errors.As(err, &ie))
		require.Len(e.t, ie.Rows, 1)
		require.Equal(e.t, "volunteers", ie.Rows[0].Section)
		require.Equal(e.t, 1, ie.Rows[0].Index)
		require.Equal(e.t, 0, ie.Rows[0].Line)
		require.ErrorIs(e.t, err, org.ErrDuplicate)
		net.Volunteers = net.Volunteers[:1]
		net.Pairings = []org.PairingSpec{
			{ID: "p1", Unit: "u1", UnitName: "u", UnitKind: org.CivilisedUnit, Node: "c-c", Start: "2022-01-01", End: "2023-01-01"},
			{ID: "p2", Unit: "u1", UnitName: "u", UnitKind: org.CivilisedUnit, Node: "c-c", Start: "2022-12-01"},
			{ID: "p1", Unit: "u2", UnitName: "u", UnitKind: org.CivilisedCampus, Node: "c-c-1", Start: "2022-01-01"},
		}
		_, err = e.svc.Import(e.ctx, System, net)
		require.True(e.t, errors.As(err, &ie))
		require.Len(e.t, ie.Rows, 2, "an overlap and a repeated ID: %v", err)
		require.Equal(e.t, []int{1, 2}, []int{ie.Rows[0].Index, ie.Rows[1].Index})
		net.Pairings[1].Start = "2023-01-01"
		net.Pairings[2].ID = "p3"
		res, err := e.svc.Import(e.ctx, System, net)
		require.NoError(e.t, err)
		require.Equal(e.t, 2, res.Nodes)
		require.Equal(e.t, 3, res.Pairings)
		require.Equal(e.t, 3, e.rollup("c").Institutes)
		require.Equal(e.t, 1, e.rollup("c-c").Volunteers)
		v, err := e.svc.Volunteer(e.ctx, "v1")
		require.NoError(e.t, err)
		require.Equal(e.t, org.DocumentHash(Key, "320482199001011234"), v.DocumentHash)
	}},
	test{"CountersIdempotentAndRolledUp", func(e *env) {
		e.small()
		d := org.Counters{Hours: decimal.RequireFromString("2.5"), Points: decimal.RequireFromString("25"), Completed: 1, Activities: 1}
		require.NoError(e.t, e.svc.AddCounters(e.ctx, "rec-1", "c-a-1-p", d))
		require.NoError(e.t, e.svc.AddCounters(e.ctx, "rec-1", "c-a-1-p", d), "a replay is ignored")
		require.NoError(e.t, e.svc.AddCounters(e.ctx, "rec-2", "c-a-2", org.Counters{Hours: decimal.RequireFromString("1.25"), Orders: 2}))
		for _, id := range []org.NodeID{"c", "c-a"} {
			r := e.rollup(id)
			require.True(e.t, decimal.RequireFromString("3.75").Equal(r.Counters.Hours), "%s hours %s", id, r.Counters.Hours)
			require.True(e.t, decimal.RequireFromString("25").Equal(r.Counters.Points))
			require.Equal(e.t, int64(2), r.Counters.Orders)
			require.Equal(e.t, int64(1), r.Counters.Completed)
		}
		require.True(e.t, e.rollup("c-b").Counters.IsZero())
		require.True(e.t, decimal.RequireFromString("2.5").Equal(e.rollup("c-a-1").Counters.Hours))
		err := e.svc.AddCounters(e.ctx, "rec-1", "c-a-1-p", org.Counters{Orders: 9})
		require.ErrorIs(e.t, err, org.ErrConflict, "key reused with other content")
		err = e.svc.AddCounters(e.ctx, "rec-3", "c-a-1-p", org.Counters{Hours: decimal.RequireFromString("0.125")})
		require.ErrorIs(e.t, err, org.ErrInvalid, "more than two decimals")
		err = e.svc.AddCounters(e.ctx, "rec-4", "c-a-1-p", org.Counters{Hours: decimal.RequireFromString("-3")})
		require.ErrorIs(e.t, err, org.ErrInvalid, "own hours below zero")
		require.NoError(e.t, e.svc.AddCounters(e.ctx, "rec-5", "c-a-1-p", org.Counters{Hours: decimal.RequireFromString("-0.5")}), "a correction")
		err = e.svc.AddCounters(e.ctx, "rec-6", "nope", org.Counters{Orders: 1})
		require.ErrorIs(e.t, err, org.ErrNotFound)
		err = e.svc.AddCounters(e.ctx, "", "c", org.Counters{Orders: 1})
		require.ErrorIs(e.t, err, org.ErrInvalid)
		err = e.svc.AddCounters(e.ctx, "rec-7", "c", org.Counters{})
		require.ErrorIs(e.t, err, org.ErrInvalid)
		require.True(e.t, decimal.RequireFromString("3.25").Equal(e.rollup("c").Counters.Hours))
	}},
	test{"ConcurrentCounters", func(e *env) {
		e.small()
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := range 20 {
					// Keys overlap across goroutines: each is applied once.
					key := string(rune('a'+k%10)) + "-" + string(rune('0'+k%4))
					node := []org.NodeID{"c-a-1", "c-a-2", "c-b-1", "c-a-1-p"}[k%4]
					if err := e.svc.AddCounters(e.ctx, key, node, org.Counters{Hours: decimal.New(int64(k%4+1), 0), Orders: 1}); err != nil {
						errs <- err
					}
					_ = g
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(e.t, err)
		}
		// Distinct keys: (k%10, k%4) over k in 0..19 gives 20 distinct pairs.
		r := e.rollup("c")
		require.Equal(e.t, int64(20), r.Counters.Orders)
		require.True(e.t, decimal.New(50, 0).Equal(r.Counters.Hours), "hours %s", r.Counters.Hours)
	}},
)
