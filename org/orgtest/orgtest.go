// Package orgtest is the conformance suite for org.Store implementations.
// Every adapter runs it with one line:
//
//	func TestOrgConformance(t *testing.T) { orgtest.Run(t, newStore) }
//
// Each subtest gets a fresh, empty store from newStore. The suite drives the
// store through org.Service (the public API) and, where a store contract
// cannot be reached through the service, through org.Store directly; it
// never looks at an implementation's internals.
package orgtest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/org"
)

// Key is the identity-document HMAC key the suite configures.
var Key = []byte("orgtest-identity-key-0123456789")

// System is the actor the suite uses for set-up.
var System = org.Actor{ID: "orgtest", Role: org.RoleSystem}

// env is one subtest's world: a fresh store and a service over it.
type env struct {
	t     *testing.T
	ctx   context.Context
	store org.Store
	svc   *org.Service
	clock *clock
	opts  *org.Options
}

// clock is a deterministic clock advancing one second per reading.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
	return c.now
}

func newEnv(t *testing.T, newStore func(t *testing.T) org.Store) *env {
	t.Helper()
	st := newStore(t)
	clk := &clock{now: time.Date(2023, 4, 17, 8, 0, 0, 0, time.UTC)}
	n := 0
	var mu sync.Mutex
	opts := &org.Options{
		Now: clk.Now,
		NewID: func() string {
			mu.Lock()
			defer mu.Unlock()
			n++
			return fmt.Sprintf("id%04d", n)
		},
		IdentityKey: Key,
	}
	svc, err := org.New(st, opts)
	require.NoError(t, err)
	return &env{t: t, ctx: context.Background(), store: st, svc: svc, clock: clk, opts: opts}
}

// serviceOver returns a service like e.svc (same clock, IDs and key) over
// another store, typically a wrapper of e.store.
func (e *env) serviceOver(st org.Store) *org.Service {
	e.t.Helper()
	svc, err := org.New(st, e.opts)
	require.NoError(e.t, err)
	return svc
}

// Run runs the conformance suite against stores made by newStore.
func Run(t *testing.T, newStore func(t *testing.T) org.Store) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(newEnv(t, newStore))
		})
	}
	t.Run("RapidTreeStaysValid", func(t *testing.T) { rapidTree(t, newStore) })
}

type test struct {
	name string
	fn   func(e *env)
}

var tests []test

// register adds subtests; each file of the suite registers its own.
func register(ts ...test) bool {
	tests = append(tests, ts...)
	return true
}

// node creates a node as System.
func (e *env) node(id org.NodeID, k org.Kind, parent org.NodeID) org.Node {
	e.t.Helper()
	n, err := e.svc.CreateNode(e.ctx, System, org.NewNode{ID: id, Kind: k, Name: "name of " + string(id), Parent: parent})
	require.NoError(e.t, err)
	return n
}

// small builds: centre c; institutes c-a, c-b; stations c-a-1, c-a-2,
// c-b-1; point c-a-1-p.
func (e *env) small() {
	e.node("c", org.Centre, "")
	e.node("c-a", org.Institute, "c")
	e.node("c-b", org.Institute, "c")
	e.node("c-a-1", org.Station, "c-a")
	e.node("c-a-2", org.Station, "c-a")
	e.node("c-b-1", org.Station, "c-b")
	e.node("c-a-1-p", org.Point, "c-a-1")
}

func (e *env) rollup(id org.NodeID) org.Rollup {
	e.t.Helper()
	r, err := e.svc.Rollup(e.ctx, id)
	require.NoError(e.t, err)
	return r
}

func (e *env) team(in org.NewTeam) org.Team {
	e.t.Helper()
	if in.Name == "" {
		in.Name = "team " + string(in.ID)
	}
	t, err := e.svc.CreateTeam(e.ctx, System, in)
	require.NoError(e.t, err)
	return t
}

func (e *env) volunteer(id org.VolunteerID, home org.NodeID) org.Volunteer {
	e.t.Helper()
	v, err := e.svc.RegisterVolunteer(e.ctx, System, org.NewVolunteer{ID: id, Name: "vol " + string(id), Home: home})
	require.NoError(e.t, err)
	return v
}

// allNodes pages through a subtree with the given page size.
func (e *env) allNodes(root org.NodeID, q org.SubtreeQuery) []org.Node {
	e.t.Helper()
	var out []org.Node
	for {
		p, err := e.svc.Subtree(e.ctx, root, q)
		require.NoError(e.t, err)
		out = append(out, p.Nodes...)
		if p.Next == "" {
			return out
		}
		q.After = p.Next
	}
}
