package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/dispatch/dispatchtest"
	"github.com/civicloop/civicloop/internal/cputime"
	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/points"
	"github.com/civicloop/civicloop/points/pointstest"
)

// benchLedger returns a service over a fresh schema with an issuer and n
// accounts funded with 1,000,000 pointsAsset each.
func benchLedger(b *testing.B, n int) (*ledger.Service, []ledger.AccountID) {
	var opts Options
	if w := os.Getenv("CIVICLOOP_BENCH_WRITERS"); w != "" {
		opts.Writers, _ = strconv.Atoi(w)
	}
	// A fresh schema, not a recycled one: dead rows of an earlier test would
	// be measured too.
	opts.Schema, opts.Stores = newSchema(), []string{StoreLedger}
	db := newTestDB(b, &opts)
	ctx := context.Background()
	svc, err := ledger.New(db.Ledger(), nil)
	require.NoError(b, err)
	_, err = svc.OpenAccount(ctx, ledger.AccountSpec{ID: "issuer", Asset: pointsAsset, NoFloor: true})
	require.NoError(b, err)
	ids := make([]ledger.AccountID, n)
	reqs := make([]ledger.TransferRequest, n)
	for i := range ids {
		ids[i] = ledger.AccountID(fmt.Sprintf("acct-%03d", i))
		_, err := svc.OpenAccount(ctx, ledger.AccountSpec{ID: ids[i], Asset: pointsAsset})
		require.NoError(b, err)
		reqs[i] = ledger.TransferRequest{ID: ledger.TransferID("fund-" + string(ids[i])),
			Postings: ledger.Move(pointsAsset, "issuer", ids[i], decimal.NewFromInt(1_000_000))}
	}
	res, err := svc.TransferBatch(ctx, reqs)
	require.NoError(b, err)
	for _, r := range res {
		require.NoError(b, r.Err)
	}
	return svc, ids
}

// reportTransfers reports the throughput and this process's CPU time per
// transfer since cpu (processCPU at the start): on a shared machine the
// wall clock also counts other processes' work, and the client's CPU per
// transfer matters as much as round trips when client and server share the
// cores.
func reportTransfers(b *testing.B, n int64, cpu time.Duration) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "transfers/s")
	if used := cputime.Process() - cpu; cpu > 0 && n > 0 {
		b.ReportMetric(float64(used.Nanoseconds())/float64(n), "cpu-ns/transfer")
	}
}

// BenchmarkPostgresTransfer: one caller, one transfer per call.
func BenchmarkPostgresTransfer(b *testing.B) {
	svc, ids := benchLedger(b, 2)
	ctx := context.Background()
	one := decimal.NewFromInt(1)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	for i := range b.N {
		from, to := ids[i%2], ids[1-i%2]
		if _, err := svc.Transfer(ctx, ledger.TransferRequest{ID: ledger.TransferID(fmt.Sprintf("b-%d", i)), Postings: ledger.Move(pointsAsset, from, to, one)}); err != nil {
			b.Fatal(err)
		}
	}
	reportTransfers(b, int64(b.N), cpu)
	reportBatching(b, svc)
}

// BenchmarkPostgresTransferBatch: 1,000 transfers per TransferBatch call,
// between 50 accounts and from the issuer.
func BenchmarkPostgresTransferBatch(b *testing.B) {
	const per = 1000
	svc, ids := benchLedger(b, 50)
	ctx := context.Background()
	one := decimal.NewFromInt(1)
	reqs := make([]ledger.TransferRequest, per)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	for i := range b.N {
		for j := range reqs {
			from, to := ids[(i+j)%50], ids[(i+j+1)%50]
			if j%10 == 0 {
				from = "issuer"
			}
			reqs[j] = ledger.TransferRequest{ID: ledger.TransferID(fmt.Sprintf("b-%d-%d", i, j)), Postings: ledger.Move(pointsAsset, from, to, one)}
		}
		res, err := svc.TransferBatch(ctx, reqs)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
	reportTransfers(b, int64(b.N)*per, cpu)
	reportBatching(b, svc)
}

// BenchmarkPostgresTransferParallel: 16 workers, each calling Transfer for
// one transfer at a time between random accounts among 50; the writer
// coalesces them into shared transactions.
func BenchmarkPostgresTransferParallel(b *testing.B) {
	svc, ids := benchLedger(b, 50)
	ctx := context.Background()
	one := decimal.NewFromInt(1)
	var seq atomic.Int64
	procs := max(1, 16/max(1, runtimeProcs()))
	b.SetParallelism(procs)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			i := rand.IntN(50)
			j := (i + 1 + rand.IntN(49)) % 50
			if _, err := svc.Transfer(ctx, ledger.TransferRequest{ID: ledger.TransferID(fmt.Sprintf("p-%d", n)), Postings: ledger.Move(pointsAsset, ids[i], ids[j], one)}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportTransfers(b, int64(b.N), cpu)
	reportBatching(b, svc)
}

// reportBatching reports how many commands a shared transaction carried on
// average.
func reportBatching(b *testing.B, svc *ledger.Service) {
	if s, ok := svc.Store().(*LedgerStore); ok && s.gc.batches.Load() > 0 {
		b.ReportMetric(float64(s.gc.cmds.Load())/float64(s.gc.batches.Load()), "cmds/tx")
	}
}

// BenchmarkPostgresOrderLoop runs one order through the whole loop: order
// → dispatch (routed by the default matcher) → accept → complete →
// evaluate → showcase, six commits, one after the other.
func BenchmarkPostgresOrderLoop(b *testing.B) {
	ctx := context.Background()
	var n int
	f := dispatchtest.NewFixture(b, newTestDB(b, &Options{Schema: newSchema(), Stores: []string{StoreDispatch}}).Dispatch(), &dispatch.Options{NewID: func() string { n++; return fmt.Sprintf("o%09d", n) }})
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
	b.ResetTimer()
	for range b.N {
		o := must(f.Service.PlaceOrder(ctx, f.Resident, req))
		o = must(f.Service.Fire(ctx, f.Desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerDispatch}))
		lead := f.Leaders[o.Team]
		o = must(f.Service.Fire(ctx, lead, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerAccept}))
		o = must(f.Service.Fire(ctx, lead, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerComplete, Completion: completion}))
		o = must(f.Service.Fire(ctx, f.Resident, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerEvaluate, Evaluation: verdict}))
		must(f.Service.Fire(ctx, f.Desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerShowcase}))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "loops/s")
}

// BenchmarkPostgresExpireSweep expires 100,000 due lots (1,000 volunteers,
// 100 lots each) in one ExpireLots call per op, the points store and the
// ledger in one schema. The lots are stored before the timer starts.
func BenchmarkPostgresExpireSweep(b *testing.B) {
	pointstest.BenchExpireSweep(b, func(b *testing.B) (points.Store, ledger.Store) {
		db := newTestDB(b, &Options{Stores: []string{StorePoints, StoreLedger}})
		return db.Points(), db.Ledger()
	}, 100_000)
}
