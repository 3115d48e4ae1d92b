package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/dispatch/dispatchtest"
	"github.com/civicloop/civicloop/internal/cputime"
	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
	"github.com/civicloop/civicloop/points/pointstest"
)

// The benchmarks run in durable mode (the default, SyncFull): every
// acknowledged transfer has been synced to disk. Run them with
//
//	go test -run '^$' -bench SQLite -benchtime 2s ./adapters/sqlite

const benchVolunteers = 64

func benchLedger(b *testing.B) (*DB, *ledger.Service) {
	b.Helper()
	db, svc := openLedger(b, filepath.Join(b.TempDir(), "bench.db"), nil)
	openAccounts(b, svc, benchVolunteers)
	return db, svc
}

// reportTransfers reports transfers per second of wall-clock time and,
// where the platform tells it, process CPU time per transfer since cpu0.
func reportTransfers(b *testing.B, n int, cpu0 time.Duration) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "transfers/s")
	if cpu := cputime.Process() - cpu0; cpu > 0 && n > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/transfer")
	}
}

// BenchmarkSQLiteTransfer commits one transfer per call, one call at a time.
func BenchmarkSQLiteTransfer(b *testing.B) {
	_, svc := benchLedger(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	cpu0 := cputime.Process()
	for b.Loop() {
		if _, err := svc.Transfer(ctx, award(fmt.Sprint("t", i), volunteer(i%benchVolunteers), "1.25")); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportTransfers(b, i, cpu0)
}

// BenchmarkSQLiteTransferBatch commits 1,000 transfers per TransferBatch
// call.
func BenchmarkSQLiteTransferBatch(b *testing.B) {
	const batch = 1000
	_, svc := benchLedger(b)
	ctx := context.Background()
	reqs := make([]ledger.TransferRequest, batch)
	b.ReportAllocs()
	n := 0
	cpu0 := cputime.Process()
	for b.Loop() {
		for j := range reqs {
			reqs[j] = award(fmt.Sprint("b", n+j), volunteer((n+j)%benchVolunteers), "1.25")
		}
		results, err := svc.TransferBatch(ctx, reqs)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range results {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
		n += batch
	}
	reportTransfers(b, n, cpu0)
}

// BenchmarkSQLiteTransferParallel runs 16 goroutines, each committing one
// transfer at a time; the writer groups their requests into shared commits.
func BenchmarkSQLiteTransferParallel(b *testing.B) {
	const workers = 16
	db, svc := benchLedger(b)
	ctx := context.Background()
	b.ReportAllocs()
	commits := db.w.commits.Load()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := cputime.Process()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				_, err := svc.Transfer(ctx, award(fmt.Sprint("p", i), volunteer(int(i)%benchVolunteers), "1.25"))
				if err != nil {
					b.Error(w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	reportTransfers(b, b.N, cpu0)
	b.ReportMetric(float64(b.N)/float64(max(1, db.w.commits.Load()-commits)), "transfers/commit")
	_, err := svc.Audit(ctx)
	require.NoError(b, err)
}

// BenchmarkSQLiteOrderLoop drives one order through the five-order loop
// (order, dispatch, accept, complete, evaluate, showcase): seven durable
// commits per op.
func BenchmarkSQLiteOrderLoop(b *testing.B) {
	db, err := Open(filepath.Join(b.TempDir(), "bench.db"), nil)
	require.NoError(b, err)
	defer db.Close()
	f := dispatchtest.NewFixture(b, db.Dispatch(), nil)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		o := f.Drive(b, dispatch.Showcased)
		if o.State != dispatch.Showcased {
			b.Fatalf("order %s ended in %s", o.ID, o.State)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "orders/s")
}

// BenchmarkSQLiteConfirmRecord records and confirms one service record per
// op: the points store's commits and the ledger transfers of hours and
// points, in one database file.
func BenchmarkSQLiteConfirmRecord(b *testing.B) {
	const volunteers = 64
	db, err := Open(filepath.Join(b.TempDir(), "bench.db"), nil)
	require.NoError(b, err)
	defer db.Close()
	e := pointstest.NewEnv(b, db.Points(), db.Ledger(), nil)
	for i := range volunteers {
		e.Dir.Add(org.VolunteerID(fmt.Sprintf("V%03d", i)))
	}
	// Every record lies in the past: b.Loop runs at most 3,650 days of them.
	e.Clock.Set(pointstest.Day(3650))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e.Confirmed(pointstest.Input(org.VolunteerID(fmt.Sprintf("V%03d", i%volunteers)), i/volunteers, 60))
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkSQLiteExpireSweep expires 100,000 due lots (1,000 volunteers,
// 100 lots each) in one ExpireLots call per op, the points store and the
// ledger in one database file. The lots are stored before the timer
// starts.
func BenchmarkSQLiteExpireSweep(b *testing.B) {
	pointstest.BenchExpireSweep(b, func(b *testing.B) (points.Store, ledger.Store) {
		db, err := Open(filepath.Join(b.TempDir(), "sweep.db"), nil)
		require.NoError(b, err)
		b.Cleanup(func() { db.Close() })
		return db.Points(), db.Ledger()
	}, 100_000)
}

// BenchmarkSQLiteTransferBatchFloor is the storage part of
// BenchmarkSQLiteTransferBatch alone: each op writes, in one transaction of
// the writer, the rows 1,000 transfers write (a transfer row, two entries,
// the changed accounts), copied from a real batch with new IDs and entry
// numbers, through the same multi-row statements, and commits. No rules
// run, no hash is computed, nothing is read. It is the floor under the
// batch figure: what SQLite alone costs for those rows on this machine.
// (The copied hash chains do not verify; the file is not audited.)
func BenchmarkSQLiteTransferBatchFloor(b *testing.B) {
	const batch = 1000
	db, svc := benchLedger(b)
	ctx := context.Background()
	reqs := make([]ledger.TransferRequest, batch)
	for j := range reqs {
		reqs[j] = award(fmt.Sprint("seed", j), volunteer(j%benchVolunteers), "1.25")
	}
	_, err := svc.TransferBatch(ctx, reqs)
	require.NoError(b, err)
	readRows := func(query string, cols int) [][]any {
		rows, err := db.read.Query(query)
		require.NoError(b, err)
		defer rows.Close()
		var out [][]any
		for rows.Next() {
			row := make([]any, cols)
			ptrs := make([]any, cols)
			for i := range row {
				ptrs[i] = &row[i]
			}
			require.NoError(b, rows.Scan(ptrs...))
			out = append(out, row)
		}
		require.NoError(b, rows.Err())
		return out
	}
	xfers := readRows(`SELECT `+transferCols+` FROM ledger_transfers WHERE id LIKE 'seed%'`, transferArgs)
	entries := readRows(`SELECT `+entryCols+` FROM ledger_entries WHERE transfer_id LIKE 'seed%'`, entryArgs)
	accounts := readRows(`SELECT id, closed, balance, pending_debits, pending_credits, version, entries, last_hash FROM ledger_accounts`, 8)
	require.Len(b, xfers, batch)
	require.Len(b, entries, 2*batch)
	seq := map[string]int64{}
	for _, a := range accounts {
		seq[a[0].(string)] = a[6].(int64)
	}
	var args []any
	b.ReportAllocs()
	n := 0
	cpu0 := cputime.Process()
	for b.Loop() {
		err := db.w.doStrict(ctx, func(tx *wtx) error {
			args = args[:0]
			for j, x := range xfers {
				args = append(args, fmt.Sprint("f", n+j))
				args = append(args, x[1:]...)
			}
			if err := insertRows(tx, `INSERT OR FAIL INTO ledger_transfers (`+transferCols+`) VALUES `, transferArgs, transferShared, args); err != nil {
				return err
			}
			args = args[:0]
			for j, e := range entries {
				acct := e[0].(string)
				seq[acct]++
				args = append(args, acct, seq[acct], fmt.Sprint("f", n+j/2))
				args = append(args, e[3:]...)
			}
			if err := insertRows(tx, `INSERT OR FAIL INTO ledger_entries (`+entryCols+`) VALUES `, entryArgs, entryShared, args); err != nil {
				return err
			}
			for _, a := range accounts {
				if _, err := tx.execValues(`UPDATE OR FAIL ledger_accounts SET closed = ?2, balance = ?3, pending_debits = ?4,
	pending_credits = ?5, version = ?6, entries = ?7, last_hash = ?8 WHERE id = ?1`, []any{a[0], a[1], a[2], a[3], a[4], a[5], seq[a[0].(string)], a[7]}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		n += batch
	}
	reportTransfers(b, n, cpu0)
}
