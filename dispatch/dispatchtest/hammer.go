package dispatchtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
)

// HammerOptions shapes [Hammer]. Zero fields take the defaults.
type HammerOptions struct {
	Orders  int // orders fought over; default 12
	Workers int // goroutines per store; default 8
	Fires   int // commands each goroutine fires; default 40
	Seed    uint64
}

// hammerRefusals are the refusals a caller may meet when others move the
// same orders at the same time. Anything else (a database error, say) fails.
var hammerRefusals = []error{dispatch.ErrConflict, dispatch.ErrTransition, dispatch.ErrCapacity,
	dispatch.ErrForbidden, dispatch.ErrOutOfArea, dispatch.ErrReturnLimit, dispatch.ErrInvalid,
	dispatch.ErrDeadline, dispatch.ErrConsent, dispatch.ErrNoCandidate}

// hammerAck is one transition a caller was told succeeded.
type hammerAck struct {
	order    dispatch.OrderID
	version  uint64
	from, to dispatch.State
	trigger  dispatch.Trigger
}

// Hammer moves the same few orders from several services at once, one
// service per store: stores is one database seen through separate handles
// (separate pools, as several application servers would). Each service
// runs opts.Workers goroutines that read an order through their own store
// and fire a trigger its state allows, as a role the table allows, at the
// version they read; one more goroutine per service advances the clock and
// sweeps. Afterwards it checks, through every store, that
//
//   - every order's history is a chain of rows of the transition table,
//     version by version, and the order's version and state end where its
//     history ends;
//   - every transition a caller was told succeeded is in the history once,
//     at the version it was told, and no caller's transition is there that
//     no caller was told of (only the sweeper's);
//   - the change feed has one event per transition, with no gaps in Seq;
//   - no team holds more active orders than its capacity, apart from
//     rework reopened to it (which is not asked its capacity), and Loads
//     agrees with the orders.
//
// Callers meet only the refusals of concurrent use (a stale version, a
// state that moved on, a full team); any other error fails the test.
func Hammer(t testing.TB, stores []dispatch.Store, opts HammerOptions) {
	t.Helper()
	require.NotEmpty(t, stores)
	if opts.Orders <= 0 {
		opts.Orders = 12
	}
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.Fires <= 0 {
		opts.Fires = 40
	}
	ctx := context.Background()
	f := NewFixture(t, stores[0], &dispatch.Options{MaxReturns: 2})
	svcs := []*dispatch.Service{f.Service}
	for _, st := range stores[1:] {
		svc, err := dispatch.New(st, f.Tree, org.NewDefaultPolicy(f.Tree),
			&dispatch.Options{MaxReturns: 2, Now: f.Clock.Now, NewID: f.nextID})
		require.NoError(t, err)
		svcs = append(svcs, svc)
	}
	nodes := []org.NodeID{NodeS1, NodeS2, NodeS3}
	ids := make([]dispatch.OrderID, opts.Orders)
	for i := range ids {
		ids[i] = f.Place(t, nodes[i%len(nodes)]).ID
	}
	teams := []org.TeamID{TeamS1, TeamI1, TeamC, TeamH}

	var (
		mu     sync.Mutex
		acks   []hammerAck
		failed []error
		wg     sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		failed = append(failed, err)
		mu.Unlock()
	}
	for s, svc := range svcs {
		store := stores[s]
		for w := range opts.Workers {
			rng := rand.New(rand.NewPCG(opts.Seed, uint64(s*1000+w)))
			wg.Go(func() {
				for range opts.Fires {
					id := ids[rng.IntN(len(ids))]
					o, err := store.Order(ctx, id)
					if err != nil {
						fail(fmt.Errorf("read %s: %w", id, err))
						return
					}
					c, a, ok := hammerCommand(f, rng, o, teams)
					if !ok {
						continue // a terminal order: nothing to fire
					}
					got, err := svc.Fire(ctx, a, c)
					if err != nil {
						if !isAny(err, hammerRefusals...) {
							fail(fmt.Errorf("%s of %s by %s: %w", c.Trigger, id, a.ID, err))
							return
						}
						continue
					}
					mu.Lock()
					acks = append(acks, hammerAck{order: id, version: got.Version, from: o.State, to: got.State, trigger: c.Trigger})
					mu.Unlock()
				}
			})
		}
		wg.Go(func() {
			for range 4 {
				time.Sleep(2 * time.Millisecond)
				f.Clock.Advance(3 * time.Hour)
				if _, err := svc.Sweep(ctx, f.Clock.Now()); err != nil && !isAny(err, hammerRefusals...) {
					fail(fmt.Errorf("sweep: %w", err))
					return
				}
			}
		})
	}
	wg.Wait()
	require.Empty(t, failed, "errors other than the refusals of concurrent use")
	require.NotEmpty(t, acks, "no command succeeded: the hammer tested nothing")

	byOrder := map[dispatch.OrderID]map[uint64]hammerAck{}
	for _, a := range acks {
		m := byOrder[a.order]
		if m == nil {
			m = map[uint64]hammerAck{}
			byOrder[a.order] = m
		}
		_, dup := m[a.version]
		require.False(t, dup, "two callers were told they moved %s to version %d", a.order, a.version)
		m[a.version] = a
	}
	transitions := 0
	for s, store := range stores {
		active := map[org.TeamID]int{}
		// assigned counts the active orders a team took on under the
		// capacity check; rework reopened to the team is not asked its
		// capacity (see dispatch.TriggerReopen) and may push it over.
		assigned := map[org.TeamID]int{}
		for _, id := range ids {
			o, err := store.Order(ctx, id)
			require.NoError(t, err)
			h, err := store.History(ctx, id)
			require.NoError(t, err)
			require.NotEmpty(t, h, "history of %s", id)
			require.Equal(t, o.Version, h[len(h)-1].Version, "version of %s", id)
			require.Equal(t, o.State, h[len(h)-1].To, "state of %s", id)
			told := 0
			for i, e := range h {
				if i > 0 {
					prev := h[i-1]
					require.Equal(t, prev.Version+1, e.Version, "history of %s skips a version", id)
					require.Equal(t, prev.To, e.From, "history of %s at version %d", id, e.Version)
					require.True(t, rowExists(e.From, e.Trigger, e.To, e.Actor.Role),
						"%s: %s by %s from %s to %s is not in the table", id, e.Trigger, e.Actor.Role, e.From, e.To)
				}
				if a, ok := byOrder[id][e.Version]; ok {
					require.Equal(t, a.from, e.From, "%s version %d", id, e.Version)
					require.Equal(t, a.to, e.To, "%s version %d", id, e.Version)
					require.Equal(t, a.trigger, e.Trigger, "%s version %d", id, e.Version)
					told++
				} else if i > 0 {
					require.Equal(t, org.RoleSystem, e.Actor.Role,
						"%s version %d (%s by %s) was stored but no caller was told", id, e.Version, e.Trigger, e.Actor.ID)
				}
			}
			require.Equal(t, len(byOrder[id]), told, "acknowledged transitions of %s missing from its history", id)
			if s == 0 {
				transitions += len(h)
			}
			if o.State.Active() {
				active[o.Team]++
				if !rework(h) {
					assigned[o.Team]++
				}
			}
		}
		loads, err := store.Loads(ctx, teams)
		require.NoError(t, err)
		for i, team := range teams {
			require.Equal(t, active[team], loads[i].Active, "store %d: load of %s", s, team)
			tm, err := f.Tree.Team(ctx, team)
			require.NoError(t, err)
			require.LessOrEqual(t, assigned[team], tm.Capacity, "team %s above capacity (rework aside)", team)
		}
		ev, err := store.Events(ctx, 0, 100_000)
		require.NoError(t, err)
		require.Len(t, ev, transitions, "store %d: one event per transition", s)
		for i, e := range ev {
			require.Equal(t, uint64(i+1), e.Seq, "store %d: feed gap", s)
		}
	}
	t.Logf("%d services × %d workers: %d transitions acknowledged, %d stored in all", len(svcs), opts.Workers, len(acks), transitions)
}

// hammerCommand picks a trigger o's state allows, an actor of a role the
// row allows, and sensible arguments at o's version. Terminal rows are
// taken rarely, so the orders keep moving.
func hammerCommand(f *Fixture, rng *rand.Rand, o dispatch.Order, teams []org.TeamID) (dispatch.Command, org.Actor, bool) {
	var rows, onward []dispatch.Transition
	for _, r := range dispatch.Transitions() {
		if r.From == o.State && len(callerRoles(r)) > 0 {
			rows = append(rows, r)
			if !r.To.Terminal() {
				onward = append(onward, r)
			}
		}
	}
	if len(onward) > 0 && rng.IntN(20) > 0 {
		rows = onward
	}
	if len(rows) == 0 {
		return dispatch.Command{}, org.Actor{}, false
	}
	row := rows[rng.IntN(len(rows))]
	roles := callerRoles(row)
	team := o.Team
	if row.Trigger == dispatch.TriggerClaim || team == "" {
		team = teams[rng.IntN(len(teams))]
	}
	c := dispatch.Command{Order: o.ID, Trigger: row.Trigger, Version: o.Version, Reason: "hammer",
		Until: o.CompleteBy.Add(24 * time.Hour)}
	switch row.Trigger {
	case dispatch.TriggerDispatch, dispatch.TriggerForceAssign, dispatch.TriggerReassign:
		c.Team = teams[rng.IntN(len(teams))]
	case dispatch.TriggerComplete:
		c.Completion = Completion()
	case dispatch.TriggerEvaluate:
		c.Evaluation = &dispatch.Evaluation{Score: 1 + rng.IntN(5), Consent: rng.IntN(2) == 0}
	}
	return c, f.actorFor(roles[rng.IntN(len(roles))], team), true
}

// callerRoles returns the roles of row other than the system's: the
// sweeper fires the system's rows.
func callerRoles(row dispatch.Transition) []org.Role {
	var roles []org.Role
	for _, r := range row.Roles {
		if r != org.RoleSystem {
			roles = append(roles, r)
		}
	}
	return roles
}
