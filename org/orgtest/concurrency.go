package orgtest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/org"
)

var _ = register(
	test{"ConcurrentCreatesMovesAndReads", func(e *env) {
		e.small()
		var wg sync.WaitGroup
		errs := make(chan error, 1024)
		for g := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := range 15 {
					parent := []org.NodeID{"c-a", "c-b"}[(g+k)%2]
					id := org.NodeID(fmt.Sprintf("g%d-%d", g, k))
					if _, err := e.svc.CreateNode(e.ctx, System, org.NewNode{ID: id, Kind: org.Station, Name: "s", Parent: parent}); err != nil {
						errs <- err
						continue
					}
					if k%3 == 0 {
						other := []org.NodeID{"c-b", "c-a"}[(g+k)%2]
						if _, err := e.svc.MoveNode(e.ctx, System, id, other); err != nil {
							errs <- err
						}
					}
				}
			}()
		}
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 50 {
					if _, err := e.svc.Within(e.ctx, "c", "c-a-1"); err != nil {
						errs <- err
					}
					if _, err := e.svc.Rollup(e.ctx, "c"); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(e.t, err)
		}
		r := e.rollup("c")
		require.Equal(e.t, 3+6*15, r.Stations)
		for _, inst := range []org.NodeID{"c-a", "c-b"} {
			nodes := e.allNodes(inst, org.SubtreeQuery{Kinds: []org.Kind{org.Station}, Limit: 7})
			require.Equal(e.t, len(nodes), e.rollup(inst).Stations, "roll-up of %s equals a recount", inst)
			for _, n := range nodes {
				require.Equal(e.t, inst, n.Parent)
				require.Equal(e.t, "/c/"+string(inst)+"/"+string(n.ID)+"/", n.Path)
			}
		}
	}},
	test{"CancelledContextChangesNothing", func(e *env) {
		e.teamWorld()
		e.volunteer("v1", "c-a-1")
		before := e.rollup("c")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		ch := org.Change{Action: "test", Actor: System, At: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)}
		calls := map[string]func() error{
			"service.CreateNode": func() error {
				_, err := e.svc.CreateNode(ctx, System, org.NewNode{ID: "z", Kind: org.Station, Name: "z", Parent: "c-a"})
				return err
			},
			"service.AddCounters": func() error {
				return e.svc.AddCounters(ctx, "k", "c-a", org.Counters{Orders: 1})
			},
			"service.Import": func() error {
				_, err := e.svc.Import(ctx, System, org.Network{Nodes: []org.NodeSpec{{ID: "z", Kind: org.Station, Name: "z", Parent: "c-a"}}})
				return err
			},
			"store.CreateNode": func() error {
				return e.store.CreateNode(ctx, org.Node{ID: "z", Kind: org.Station, Name: "z", Parent: "c-a", Path: "/c/c-a/z/", Status: org.Active}, ch)
			},
			"store.MoveNode": func() error {
				_, err := e.store.MoveNode(ctx, "c-a-2", "c-b", ch)
				return err
			},
			"store.RetireNode": func() error {
				_, err := e.store.RetireNode(ctx, "c-b-1", ch)
				return err
			},
			"store.SetTeamStatus": func() error {
				_, err := e.store.SetTeamStatus(ctx, "det", org.Retired, ch)
				return err
			},
			"store.CreateVolunteer": func() error {
				return e.store.CreateVolunteer(ctx, org.Volunteer{ID: "v2", Name: "x", Home: "c-a", Status: org.VolunteerActive, Version: 1}, ch)
			},
			"store.Load": func() error {
				return e.store.Load(ctx, &org.Bulk{Nodes: []org.Node{{ID: "z", Kind: org.Station, Name: "z", Parent: "c-a", Path: "/c/c-a/z/", Status: org.Active}}}, ch)
			},
			"store.AddCounters": func() error {
				_, err := e.store.AddCounters(ctx, org.CounterAdd{Key: "k", Node: "c-a", Delta: org.Counters{Orders: 1}})
				return err
			},
			"store.Node":   func() error { _, err := e.store.Node(ctx, "c"); return err },
			"store.Within": func() error { _, err := e.store.Within(ctx, "c", "c-a"); return err },
			"store.Rollup": func() error { _, err := e.store.Rollup(ctx, "c"); return err },
			"store.Subtree": func() error {
				_, err := e.store.Subtree(ctx, "c", org.SubtreeQuery{Limit: 10})
				return err
			},
			"store.TeamsServing": func() error { _, err := e.store.TeamsServing(ctx, "c-a-1", "legal"); return err },
			"store.Volunteers": func() error {
				_, err := e.store.Volunteers(ctx, "c", org.Page{Limit: 10})
				return err
			},
		}
		for name, call := range calls {
			require.ErrorIs(e.t, call(), context.Canceled, name)
		}
		require.Equal(e.t, before, e.rollup("c"))
		_, err := e.svc.Node(e.ctx, "z")
		require.ErrorIs(e.t, err, org.ErrNotFound)
		n, err := e.svc.Node(e.ctx, "c-a-2")
		require.NoError(e.t, err)
		require.Equal(e.t, org.NodeID("c-a"), n.Parent)
		t, err := e.svc.Team(e.ctx, "det")
		require.NoError(e.t, err)
		require.Equal(e.t, org.Active, t.Status)
	}},
	test{"StoreLoadIsAtomic", func(e *env) {
		e.small()
		before := e.rollup("c")
		ch := org.Change{Action: org.ActImport, Actor: System, At: e.clock.Now()}
		b := &org.Bulk{
			Nodes: []org.Node{
				{ID: "c-c", Kind: org.Institute, Name: "x", Parent: "c", Path: "/c/c-c/", Status: org.Active},
				{ID: "c-c-1", Kind: org.Station, Name: "x", Parent: "c-c", Path: "/c/c-c/c-c-1/", Status: org.Active},
			},
			Volunteers: []org.Volunteer{{ID: "v1", Name: "x", Home: "c-c-1", Status: org.VolunteerActive, Version: 1}},
			Pairings:   []org.Pairing{{ID: "p1", Unit: "u", UnitName: "u", UnitKind: org.OtherUnit, Node: "nope", Start: e.clock.Now()}},
		}
		require.ErrorIs(e.t, e.store.Load(e.ctx, b, ch), org.ErrNotFound)
		require.Equal(e.t, before, e.rollup("c"))
		_, err := e.svc.Node(e.ctx, "c-c-1")
		require.ErrorIs(e.t, err, org.ErrNotFound)
		_, err = e.svc.Volunteer(e.ctx, "v1")
		require.ErrorIs(e.t, err, org.ErrNotFound)
		page := e.allNodes("c", org.SubtreeQuery{})
		require.Len(e.t, page, 7, "the tree is as before")
		b.Pairings[0].Node = "c-c-1"
		require.NoError(e.t, e.store.Load(e.ctx, b, ch))
		after := e.rollup("c")
		require.Equal(e.t, before.Institutes+1, after.Institutes)
		require.Equal(e.t, before.Volunteers+1, after.Volunteers)
		require.Equal(e.t, before.Pairings+1, after.Pairings)
		b.Nodes = b.Nodes[:0]
		b.Volunteers = nil
		b.Pairings[0].ID = "p2"
		require.ErrorIs(e.t, e.store.Load(e.ctx, b, ch), org.ErrDuplicate, "overlapping pairing")
	}},
)
