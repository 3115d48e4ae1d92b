package orgtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/civicloop/civicloop/org"
)

// model is the suite's own picture of the tree the property test builds.
type model struct {
	kind    map[org.NodeID]org.Kind
	parent  map[org.NodeID]org.NodeID
	retired map[org.NodeID]bool
	orders  map[org.NodeID]int64
	order   []org.NodeID // creation order, for drawing
}

func (m *model) path(id org.NodeID) string {
	if id == "" {
		return ""
	}
	return org.PathOf(m.path(m.parent[id]), id)
}

func (m *model) within(scope, id org.NodeID) bool {
	for ; id != ""; id = m.parent[id] {
		if id == scope {
			return true
		}
	}
	return false
}

func (m *model) activeChildren(id org.NodeID) bool {
	for c, p := range m.parent {
		if p == id && !m.retired[c] {
			return true
		}
	}
	return false
}

// recount computes a node's roll-up from the model.
func (m *model) recount(root org.NodeID) (nodes [4]int, orders int64) {
	for id, k := range m.kind {
		if m.within(root, id) {
			if !m.retired[id] {
				nodes[k.Level()]++
			}
			orders += m.orders[id]
		}
	}
	return nodes, orders
}

func rapidTree(t *testing.T, newStore func(t *testing.T) org.Store) {
	rapid.Check(t, func(rt *rapid.T) {
		svc, err := org.New(newStore(t), &org.Options{Now: func() time.Time { return time.Date(2023, 4, 17, 0, 0, 0, 0, time.UTC) }})
		if err != nil {
			rt.Fatal(err)
		}
		ctx := context.Background()
		m := &model{kind: map[org.NodeID]org.Kind{}, parent: map[org.NodeID]org.NodeID{}, retired: map[org.NodeID]bool{}, orders: map[org.NodeID]int64{}}
		draw := func(label string) org.NodeID {
			if len(m.order) == 0 {
				return ""
			}
			return rapid.SampledFrom(m.order).Draw(rt, label)
		}
		// drawParent mostly draws a node of the tier above kind, so that
		// most commands succeed and trees grow deep.
		drawParent := func(kind org.Kind) org.NodeID {
			want, _ := kind.ParentKind()
			var fit []org.NodeID
			for _, id := range m.order {
				if m.kind[id] == want {
					fit = append(fit, id)
				}
			}
			if len(fit) == 0 || rapid.IntRange(0, 4).Draw(rt, "wild") == 0 {
				return draw("parent")
			}
			return rapid.SampledFrom(fit).Draw(rt, "parent")
		}
		next := 0
		steps := rapid.IntRange(1, 60).Draw(rt, "steps")
		for range steps {
			// Creates are drawn most often so that trees grow.
			switch op := rapid.SampledFrom([]int{0, 0, 0, 1, 1, 2, 3, 4}).Draw(rt, "op"); op {
			case 0: // create
				next++
				id := org.NodeID(fmt.Sprintf("n%d", next))
				kind := rapid.SampledFrom(org.Kinds()).Draw(rt, "kind")
				parent := org.NodeID("")
				if kind != org.Centre || rapid.IntRange(0, 4).Draw(rt, "centreWithParent") == 0 {
					parent = drawParent(kind)
				}
				_, err := svc.CreateNode(ctx, System, org.NewNode{ID: id, Kind: kind, Name: "x", Parent: parent})
				ok := org.CheckParent(kind, m.kind[parent]) == nil && !m.retired[parent] && (parent == "" || m.kind[parent] != "")
				check(rt, "create", err, ok)
				if ok {
					m.kind[id], m.parent[id] = kind, parent
					m.order = append(m.order, id)
				}
			case 1: // move
				id := draw("node")
				if id == "" {
					continue
				}
				parent := drawParent(m.kind[id])
				_, err := svc.MoveNode(ctx, System, id, parent)
				ok := org.CheckParent(m.kind[id], m.kind[parent]) == nil && m.parent[id] != parent && !m.retired[parent] && !m.within(id, parent)
				check(rt, "move", err, ok)
				if ok {
					m.parent[id] = parent
				}
			case 2: // retire
				id := draw("node")
				if id == "" {
					continue
				}
				_, err := svc.RetireNode(ctx, System, id, "x")
				ok := !m.retired[id] && !m.activeChildren(id)
				check(rt, "retire", err, ok)
				if ok {
					m.retired[id] = true
				}
			case 3: // reactivate
				id := draw("node")
				if id == "" {
					continue
				}
				_, err := svc.ReactivateNode(ctx, System, id)
				ok := m.retired[id] && !m.retired[m.parent[id]]
				check(rt, "reactivate", err, ok)
				if ok {
					m.retired[id] = false
				}
			case 4: // counters
				id := draw("node")
				if id == "" {
					continue
				}
				n := rapid.Int64Range(1, 9).Draw(rt, "orders")
				next++
				err := svc.AddCounters(ctx, fmt.Sprintf("k%d", next), id, org.Counters{Orders: n})
				check(rt, "counters", err, true)
				m.orders[id] += n
			}
			verify(rt, ctx, svc, m)
		}
	})
}

func check(rt *rapid.T, op string, err error, wantOK bool) {
	if wantOK && err != nil {
		rt.Fatalf("%s: unexpected error %v", op, err)
	}
	if !wantOK && err == nil {
		rt.Fatalf("%s: succeeded, the model expected a refusal", op)
	}
}

// verify checks the store against the model: paths, Within, parents, and
// every roll-up equal to a recount.
func verify(rt *rapid.T, ctx context.Context, svc *org.Service, m *model) {
	for _, id := range m.order {
		n, err := svc.Node(ctx, id)
		if err != nil {
			rt.Fatalf("node %s: %v", id, err)
		}
		if n.Path != m.path(id) || n.Parent != m.parent[id] || (n.Status == org.Retired) != m.retired[id] {
			rt.Fatalf("node %s: got path %s parent %s status %s, model %s %s %v", id, n.Path, n.Parent, n.Status, m.path(id), m.parent[id], m.retired[id])
		}
		nodes, orders := m.recount(id)
		r, err := svc.Rollup(ctx, id)
		if err != nil {
			rt.Fatal(err)
		}
		got := [4]int{r.Centres, r.Institutes, r.Stations, r.Points}
		if got != nodes || r.Counters.Orders != orders {
			rt.Fatalf("rollup %s: got %v/%d, recount %v/%d", id, got, r.Counters.Orders, nodes, orders)
		}
		for _, scope := range m.order {
			in, err := svc.Within(ctx, scope, id)
			if err != nil || in != m.within(scope, id) {
				rt.Fatalf("within(%s, %s) = %v, %v; model %v", scope, id, in, err, m.within(scope, id))
			}
		}
	}
	// Each root's subtree, paged, lists exactly the model's subtree.
	for _, id := range m.order {
		if m.parent[id] != "" {
			continue
		}
		var got []org.NodeID
		q := org.SubtreeQuery{IncludeRetired: true, Limit: 3}
		for {
			p, err := svc.Subtree(ctx, id, q)
			if err != nil {
				rt.Fatal(err)
			}
			for _, n := range p.Nodes {
				got = append(got, n.ID)
			}
			if p.Next == "" {
				break
			}
			q.After = p.Next
		}
		var want []org.NodeID
		for _, x := range m.order {
			if m.within(id, x) {
				want = append(want, x)
			}
		}
		slices.SortFunc(want, func(a, b org.NodeID) int { return strings.Compare(m.path(a), m.path(b)) })
		if !slices.Equal(got, want) {
			rt.Fatalf("subtree %s: got %v, want %v", id, got, want)
		}
	}
}
