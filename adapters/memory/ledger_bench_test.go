package memory_test

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/civicloop/civicloop/adapters/memory"
	"github.com/civicloop/civicloop/internal/cputime"
	"github.com/civicloop/civicloop/ledger"
)

var ledgerPoints = ledger.Asset{Code: "POINTS", Scale: 2}

// ledgerBenchService returns a service over a fresh store with an issuing account
// and n volunteer accounts "a0".."a{n-1}", each funded with a large balance.
func ledgerBenchService(b *testing.B, n int) (*ledger.Service, []ledger.AccountID) {
	b.Helper()
	ctx := context.Background()
	svc, err := ledger.New(memory.NewLedgerStore(), nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.OpenAccount(ctx, ledger.AccountSpec{ID: "issuer", Asset: ledgerPoints, NoFloor: true}); err != nil {
		b.Fatal(err)
	}
	ids := make([]ledger.AccountID, n)
	fund := make([]ledger.TransferRequest, n)
	for i := range ids {
		ids[i] = ledger.AccountID("a" + strconv.Itoa(i))
		if _, err := svc.OpenAccount(ctx, ledger.AccountSpec{ID: ids[i], Asset: ledgerPoints}); err != nil {
			b.Fatal(err)
		}
		fund[i] = ledger.TransferRequest{ID: ledger.TransferID("fund-" + strconv.Itoa(i)),
			Postings: ledger.Move(ledgerPoints, "issuer", ids[i], decimal.NewFromInt(1_000_000_000))}
	}
	if _, err := svc.TransferBatch(ctx, fund); err != nil {
		b.Fatal(err)
	}
	return svc, ids
}

// ledgerReportCPU reports the process CPU time spent since start per unit
// ("cpu-ns/op" or "cpu-ns/transfer"), when the platform tells it.
func ledgerReportCPU(b *testing.B, cpu time.Duration, n int, unit string) {
	if cpu > 0 && n > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), unit)
	}
}

func ledgerTransferIDs(prefix string, n int) []ledger.TransferID {
	ids := make([]ledger.TransferID, n)
	for i := range ids {
		ids[i] = ledger.TransferID(prefix + strconv.Itoa(i))
	}
	return ids
}

// BenchmarkTransfer measures one two-posting transfer through the Service.
func BenchmarkTransfer(b *testing.B) {
	ctx := context.Background()
	svc, accts := ledgerBenchService(b, 2)
	ids := ledgerTransferIDs("t", b.N)
	amount := decimal.New(125, -2)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	for i := 0; i < b.N; i++ {
		from, to := accts[i&1], accts[1-i&1]
		_, err := svc.Transfer(ctx, ledger.TransferRequest{ID: ids[i], Postings: []ledger.Posting{
			{Account: from, Side: ledger.Debit, Asset: ledgerPoints, Amount: amount},
			{Account: to, Side: ledger.Credit, Asset: ledgerPoints, Amount: amount},
		}})
		if err != nil {
			b.Fatal(err)
		}
	}
	ledgerReportCPU(b, cputime.Process()-cpu, b.N, "cpu-ns/op")
}

// BenchmarkTransferBatch measures transfers applied in batches of 1,000.
func BenchmarkTransferBatch(b *testing.B) {
	const batch = 1000
	ctx := context.Background()
	svc, accts := ledgerBenchService(b, 1000)
	amount := decimal.New(125, -2)
	reqs := make([]ledger.TransferRequest, batch)
	postings := make([]ledger.Posting, 2*batch)
	var cpu time.Duration // spent in TransferBatch only
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		for i := range reqs {
			ps := postings[2*i : 2*i+2 : 2*i+2]
			ps[0] = ledger.Posting{Account: accts[i], Side: ledger.Debit, Asset: ledgerPoints, Amount: amount}
			ps[1] = ledger.Posting{Account: accts[(i+1)%len(accts)], Side: ledger.Credit, Asset: ledgerPoints, Amount: amount}
			reqs[i] = ledger.TransferRequest{ID: ledger.TransferID("b" + strconv.Itoa(n) + "-" + strconv.Itoa(i)), Postings: ps}
		}
		b.StartTimer()
		c := cputime.Process()
		res, err := svc.TransferBatch(ctx, reqs)
		cpu += cputime.Process() - c
		if err != nil {
			b.Fatal(err)
		}
		if res[batch-1].Err != nil {
			b.Fatal(res[batch-1].Err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/transfer")
	ledgerReportCPU(b, cpu, b.N*batch, "cpu-ns/transfer")
}

// BenchmarkTransferParallel measures concurrent transfers among 1,000
// accounts.
func BenchmarkTransferParallel(b *testing.B) {
	ctx := context.Background()
	svc, accts := ledgerBenchService(b, 1000)
	amount := decimal.New(125, -2)
	var seq atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			from, to := accts[i%1000], accts[(i*7+1)%1000]
			if from == to {
				to = accts[(i+1)%1000]
			}
			_, err := svc.Transfer(ctx, ledger.TransferRequest{ID: ledger.TransferID("p" + strconv.FormatInt(i, 10)),
				Postings: ledger.Move(ledgerPoints, from, to, amount)})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	// All cores' CPU time: what the transfers cost, not how fast they went.
	ledgerReportCPU(b, cputime.Process()-cpu, b.N, "cpu-ns/op")
}

// ledgerHeapInUse returns the live heap after a full collection.
func ledgerHeapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkAccountMemory opens 1,000,000 accounts and reports the live heap
// they take, per account (IDs included).
func BenchmarkAccountMemory(b *testing.B) {
	const accounts = 1_000_000
	ctx := context.Background()
	b.ReportAllocs()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		svc, err := ledger.New(memory.NewLedgerStore(), nil)
		if err != nil {
			b.Fatal(err)
		}
		before := ledgerHeapInUse()
		b.StartTimer()
		for i := 0; i < accounts; i++ {
			if _, err := svc.OpenAccount(ctx, ledger.AccountSpec{ID: ledger.AccountID("vol-" + strconv.Itoa(i)), Asset: ledgerPoints}); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		after := ledgerHeapInUse()
		b.ReportMetric(float64(after-before)/accounts, "bytes/account")
		runtime.KeepAlive(svc)
		b.StartTimer()
	}
}

// BenchmarkEntryMemory posts 500,000 two-posting transfers among 1,000
// accounts (1,000,000 entries) and reports the live heap per entry,
// transfer records and IDs included.
func BenchmarkEntryMemory(b *testing.B) {
	const transfers = 500_000
	ctx := context.Background()
	amount := decimal.New(1, 0)
	b.ReportAllocs()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		svc, accts := ledgerBenchService(b, 1000)
		reqs := make([]ledger.TransferRequest, 1000)
		before := ledgerHeapInUse()
		b.StartTimer()
		for i := 0; i < transfers; i += len(reqs) {
			for j := range reqs {
				k := i + j
				reqs[j] = ledger.TransferRequest{ID: ledger.TransferID("e" + strconv.Itoa(k)),
					Postings: ledger.Move(ledgerPoints, accts[k%1000], accts[(k+1)%1000], amount)}
			}
			if _, err := svc.TransferBatch(ctx, reqs); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		after := ledgerHeapInUse()
		b.ReportMetric(float64(after-before)/(2*transfers), "bytes/entry")
		runtime.KeepAlive(svc)
		b.StartTimer()
	}
}
