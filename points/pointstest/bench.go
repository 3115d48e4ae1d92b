package pointstest

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/civicloop/civicloop/internal/cputime"
	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
	"github.com/shopspring/decimal"
)

// The shared benchmark harness: every adapter runs the same benchmarks in
// one line each, e.g.
//
//	func BenchmarkConfirmRecord(b *testing.B) { pointstest.BenchConfirmRecord(b, newStores) }

// NewStores returns a fresh points store and ledger store for a benchmark.
type NewStores func(b *testing.B) (points.Store, ledger.Store)

// BenchVolunteers spreads benchmark work over this many volunteers.
const BenchVolunteers = 1000

func benchEnv(b *testing.B, newStores NewStores, edit func(*points.Options)) (*Env, []org.VolunteerID) {
	ps, ls := newStores(b)
	e := NewEnv(b, ps, ls, edit)
	vs := make([]org.VolunteerID, BenchVolunteers)
	for i := range vs {
		vs[i] = org.VolunteerID(fmt.Sprintf("B%04d", i))
		e.Dir.Add(vs[i])
	}
	return e, vs
}

// BenchConfirmRecord confirms one draft record per op, with the earning
// rules (rate, multipliers, four caps), the star level, the lot, the roll-up
// and the ledger transfer. Drafts are made before the timer starts.
func BenchConfirmRecord(b *testing.B, newStores NewStores) {
	e, vs := benchEnv(b, newStores, nil)
	ids := make([]string, b.N)
	for i := range ids {
		// One record per volunteer and day, as in real life.
		rec, err := e.Svc.RecordService(e.Ctx, Admin("S1"), Input(vs[i%len(vs)], i/len(vs), 150))
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = rec.ID
	}
	admin := Admin("S1")
	runtime.GC() // the set-up's garbage is not the benchmark's
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	for i := 0; i < b.N; i++ {
		if _, err := e.Svc.Confirm(e.Ctx, admin, ids[i]); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cputime.Process()-cpu, b.N, "cpu-ns/op")
}

// reportCPU reports process CPU time per unit, which a loaded machine
// disturbs less than wall time.
func reportCPU(b *testing.B, cpu time.Duration, n int, unit string) {
	if cpu > 0 && n > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), unit)
	}
}

// BenchRedeem redeems one unit per op and fulfils it: points allocated from
// lots, stock reserved, ledger hold placed and posted.
func BenchRedeem(b *testing.B, newStores NewStores) {
	e, vs := benchEnv(b, newStores, func(o *points.Options) {
		o.Scheme.Rules[1].Bonuses["seed"] = decimal.NewFromInt(1_000_000)
	})
	for _, v := range vs {
		if _, err := e.Svc.Bonus(e.Ctx, System, points.BonusInput{Key: "seed:" + string(v), Volunteer: v, Kind: "seed", Node: "S1"}); err != nil {
			b.Fatal(err)
		}
	}
	it := e.Item("1", int64(b.N), nil)
	admin := Admin("S1")
	runtime.GC() // the set-up's garbage is not the benchmark's
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	for i := 0; i < b.N; i++ {
		v := vs[i%len(vs)]
		red, err := e.Svc.Redeem(e.Ctx, Vol(v), it.ID, v)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.Svc.Fulfil(e.Ctx, admin, red.ID, red.PickupCode); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cputime.Process()-cpu, b.N, "cpu-ns/op")
}

// BenchExpireSweep expires lots lots (BenchVolunteers volunteers, lots /
// BenchVolunteers each, one point per lot) in one ExpireLots call per op,
// and reports ns/lot. The lots are stored before the timer starts.
func BenchExpireSweep(b *testing.B, newStores NewStores, lots int) {
	per := lots / BenchVolunteers
	b.ReportAllocs()
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e, vs := sweepSetup(b, newStores, per)
		runtime.GC()
		b.StartTimer()
		start := cputime.Process()
		rep, err := e.Svc.ExpireLots(e.Ctx, Start.Add(1000*24*time.Hour))
		cpu += cputime.Process() - start
		if err != nil {
			b.Fatal(err)
		}
		if rep.Lots != len(vs)*per {
			b.Fatalf("expired %d lots, want %d", rep.Lots, len(vs)*per)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*BenchVolunteers*per), "ns/lot")
	reportCPU(b, cpu, b.N, "cpu-ns/op")
}

// sweepSetup stores per lots of one point for each volunteer through the
// Store and puts the matching points on the ledger.
func sweepSetup(b *testing.B, newStores NewStores, per int) (*Env, []org.VolunteerID) {
	e, vs := benchEnv(b, newStores, nil)
	ctx := context.Background()
	one := decimal.NewFromInt(1)
	issued := points.SchemeAccount(points.Issued, points.PointsAsset)
	if _, err := e.Ledger.OpenAccount(ctx, ledger.AccountSpec{ID: issued, Asset: points.PointsAsset, NoFloor: true}); err != nil {
		b.Fatal(err)
	}
	for _, v := range vs {
		acct := points.VolunteerAccount(v, points.PointsAsset)
		if _, err := e.Ledger.OpenAccount(ctx, ledger.AccountSpec{ID: acct, Asset: points.PointsAsset, Owner: string(v)}); err != nil {
			b.Fatal(err)
		}
		req := ledger.TransferRequest{ID: ledger.TransferID("seed:" + string(v)), Reason: "seed",
			Postings: ledger.Move(points.PointsAsset, issued, acct, decimal.NewFromInt(int64(per)))}
		if _, err := e.Ledger.Transfer(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	// Lots arrive in time order, as they do when earned: round k gives
	// every volunteer his k-th lot.
	for k := 0; k < per; k++ {
		c := &points.Change{Wallets: make([]points.Wallet, len(vs)), Lots: make([]points.Lot, len(vs))}
		for n, v := range vs {
			earned := Start.Add(time.Duration(k*len(vs)+n) * time.Second)
			c.Wallets[n] = points.Wallet{Volunteer: v, Version: int64(k + 1)}
			c.Lots[n] = points.Lot{ID: fmt.Sprintf("seed:%s:%d", v, k), Volunteer: v, Amount: one, Remaining: one,
				EarnedAt: earned, ExpiresAt: earned.Add(365 * 24 * time.Hour)}
		}
		if err := e.Store.Commit(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	return e, vs
}
