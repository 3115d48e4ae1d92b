package memory_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/civicloop/civicloop/adapters/memory"
	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/dispatch/dispatchtest"
	"github.com/civicloop/civicloop/internal/cputime"
	"github.com/civicloop/civicloop/org"
)

// BenchmarkOrderLoop runs one order through the whole loop on the memory
// store: order → dispatch (routed by the default matcher) → accept →
// complete → evaluate → showcase, six commits.
func BenchmarkOrderLoop(b *testing.B) {
	ctx := context.Background()
	f := dispatchtest.NewFixture(b, memory.NewDispatchStore(), &dispatch.Options{NewID: sequentialIDs()})
	completion := dispatchtest.Completion()
	verdict := &dispatch.Evaluation{Score: 5, Comment: "good", Consent: true}
	req := dispatch.OrderRequest{Item: dispatchtest.ItemMeal, Node: dispatchtest.NodeS1, Fields: dispatchtest.MealFields()}
	must := func(o dispatch.Order, err error) dispatch.Order {
		if err != nil {
			b.Fatal(err)
		}
		return o
	}
	b.ReportAllocs()
	cpu := cputime.Process()
	for b.Loop() {
		o := must(f.Service.PlaceOrder(ctx, f.Resident, req))
		o = must(f.Service.Fire(ctx, f.Desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerDispatch}))
		lead := f.Leaders[o.Team]
		o = must(f.Service.Fire(ctx, lead, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerAccept}))
		o = must(f.Service.Fire(ctx, lead, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerComplete, Completion: completion}))
		o = must(f.Service.Fire(ctx, f.Resident, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerEvaluate, Evaluation: verdict}))
		must(f.Service.Fire(ctx, f.Desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerShowcase}))
	}
	reportCPU(b, cputime.Process()-cpu)
}

// reportCPU reports the process CPU time (all threads, GC included) per
// iteration as cpu-ns/op: on a shared machine ns/op also counts the time
// spent waiting for a core.
func reportCPU(b *testing.B, used time.Duration) {
	b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

func sequentialIDs() func() string {
	n := 0
	return func() string { n++; return fmt.Sprintf("o%09d", n) }
}

// BenchmarkRoute routes one order (Matcher.Match: teams serving the node
// with the skill, their loads, ranking) in the national tree of the org
// benchmarks (643,000 nodes, 30,000 teams), with 20,000 orders already
// dispatched so teams carry load. cands/op is the mean number of
// candidates ranked.
func BenchmarkRoute(b *testing.B) {
	n := nationalService(b)
	ctx := context.Background()
	store := memory.NewDispatchStore()
	svc, err := dispatch.New(store, n.svc, n.svc.Policy(), &dispatch.Options{NewID: sequentialIDs()})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	order := func(k int) dispatch.Order {
		skill := natSkills[rng.IntN(len(natSkills))]
		now := time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)
		o := dispatch.Order{
			ID:   dispatch.OrderID(fmt.Sprintf("r%07d", k)),
			Item: dispatch.MenuItem{Code: dispatch.ItemCode("SVC-" + skill), Name: skill, Category: skill, Offeror: "c0"},
			Node: n.stations[rng.IntN(len(n.stations))], Resident: "res", State: dispatch.Ordered, Version: 1, OrderedAt: now,
		}
		entry := dispatch.HistoryEntry{Version: 1, Actor: org.Actor{ID: "res", Role: org.RoleResident}, Trigger: dispatch.TriggerOrder, To: dispatch.Ordered, At: now}
		if _, err := store.Commit(ctx, dispatch.Commit{Order: o, Entry: entry}); err != nil {
			b.Fatal(err)
		}
		return o
	}
	desk := org.Actor{ID: "desk", Role: org.RoleSystem}
	for k := range 20_000 {
		o := order(k)
		if _, err := svc.Fire(ctx, desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerDispatch}); err != nil && !isNoCandidate(err) {
			b.Fatal(err)
		}
	}
	const m = 4096
	orders := make([]dispatch.Order, m)
	for k := range orders {
		orders[k] = order(20_000 + k)
	}
	matcher := dispatch.NewMatcher(n.svc, store)
	cands := 0
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	k := 0
	for b.Loop() {
		cs, err := matcher.Match(ctx, orders[k%m])
		if err != nil {
			b.Fatal(err)
		}
		cands += len(cs)
		k++
	}
	reportCPU(b, cputime.Process()-cpu)
	b.ReportMetric(float64(cands)/float64(k), "cands/op")
}

func isNoCandidate(err error) bool { return err != nil && errorsIs(err, dispatch.ErrNoCandidate) }

// BenchmarkSweep sweeps 100,000 open orders whose accept-by has passed: one
// Sweep returns all of them (100,000 commits). Each iteration rebuilds the
// store outside the timer. orders/s is the sweep throughput.
func BenchmarkSweep(b *testing.B) {
	ctx := context.Background()
	const open = 100_000
	b.ReportAllocs()
	var swept int
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		f := dispatchtest.NewFixture(b, memory.NewDispatchStore(), &dispatch.Options{NewID: sequentialIDs()})
		f.Tree.SetTeam(org.Team{ID: dispatchtest.TeamS1, Anchor: dispatchtest.NodeS1, Skills: []string{"elder"}, Capacity: open})
		req := dispatch.OrderRequest{Item: dispatchtest.ItemMeal, Node: dispatchtest.NodeS1, Fields: dispatchtest.MealFields()}
		for range open {
			o, err := f.Service.PlaceOrder(ctx, f.Resident, req)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := f.Service.Fire(ctx, f.Desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerDispatch, Team: dispatchtest.TeamS1}); err != nil {
				b.Fatal(err)
			}
		}
		now := dispatchtest.Start.Add(3 * time.Hour)
		b.StartTimer()
		start := cputime.Process()
		res, err := f.Service.Sweep(ctx, now)
		if err != nil {
			b.Fatal(err)
		}
		cpu += cputime.Process() - start
		swept = res.Returned
	}
	if swept != open {
		b.Fatalf("swept %d of %d", swept, open)
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(open)*float64(b.N)/b.Elapsed().Seconds(), "orders/s")
}

var errorsIs = errors.Is
