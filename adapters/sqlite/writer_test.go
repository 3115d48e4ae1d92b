package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// openTestDB opens a fresh database with a scratch table for writer tests.
func openTestDB(t *testing.T) *DB {
	t.Helper()
	return openTestDBWith(t, nil)
}

func openTestDBWith(t *testing.T, o *Options) *DB {
	t.Helper()
	db, err := Open(t.TempDir()+"/w.db", o)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	err = db.w.do(context.Background(), func(tx *wtx) error {
		_, err := tx.exec("CREATE TABLE scratch (k TEXT PRIMARY KEY, v INTEGER NOT NULL) STRICT")
		return err
	})
	require.NoError(t, err)
	return db
}

func insert(k string, v int) writeFunc {
	return func(tx *wtx) error {
		_, err := tx.exec("INSERT INTO scratch (k, v) VALUES (?, ?)", k, v)
		return err
	}
}

func scratchKeys(t *testing.T, db *DB) map[string]int {
	t.Helper()
	rows, err := db.read.Query("SELECT k, v FROM scratch")
	require.NoError(t, err)
	defer rows.Close()
	got := map[string]int{}
	for rows.Next() {
		var k string
		var v int
		require.NoError(t, rows.Scan(&k, &v))
		got[k] = v
	}
	require.NoError(t, rows.Err())
	return got
}

// inOneBatch holds the writer inside a first request until all fns are
// queued behind it, so that they are run as one group-commit batch, and
// returns each fn's error.
func inOneBatch(t *testing.T, db *DB, fns ...writeFunc) []error {
	t.Helper()
	return inOneBatchCtx(t, db, context.Background(), func() {}, fns...)
}

// inOneBatchCtx is inOneBatch with the fns queued under ctx, and
// beforeRun called once they are all queued, before any of them runs.
func inOneBatchCtx(t *testing.T, db *DB, ctx context.Context, beforeRun func(), fns ...writeFunc) []error {
	t.Helper()
	calls := make([]func() error, len(fns))
	for i, fn := range fns {
		calls[i] = func() error { return db.w.do(ctx, fn) }
	}
	return queueBehindBlockerThen(t, db, beforeRun, calls...)
}

func TestWriterGroupsQueuedRequestsInOneCommit(t *testing.T) {
	db := openTestDB(t)
	var fns []writeFunc
	for i := range 20 {
		fns = append(fns, insert(fmt.Sprint("k", i), i))
	}
	for _, err := range inOneBatch(t, db, fns...) {
		require.NoError(t, err)
	}
	require.Len(t, scratchKeys(t, db), 20)
}

func TestWriterIsolatesFailuresInABatch(t *testing.T) {
	refused := errors.New("refused by the rules")
	tests := []struct {
		name  string
		fail  writeFunc
		check func(t *testing.T, err error)
	}{
		{
			name: "domain refusal after a write",
			fail: func(tx *wtx) error {
				if err := insert("bad", 1)(tx); err != nil {
					return err
				}
				return refused
			},
			check: func(t *testing.T, err error) { require.ErrorIs(t, err, refused) },
		},
		{
			name: "constraint violation",
			fail: func(tx *wtx) error {
				if err := insert("bad", 1)(tx); err != nil {
					return err
				}
				return insert("bad", 2)(tx)
			},
			check: func(t *testing.T, err error) { require.ErrorIs(t, err, ErrConstraint) },
		},
		{
			name: "panic",
			fail: func(tx *wtx) error {
				if err := insert("bad", 1)(tx); err != nil {
					return err
				}
				panic("boom")
			},
			check: func(t *testing.T, err error) { require.ErrorContains(t, err, "boom") },
		},
		{
			name: "transaction rolled back under the batch",
			fail: func(tx *wtx) error {
				if err := insert("bad", 1)(tx); err != nil {
					return err
				}
				_, err := tx.w.conn.ExecContext(context.Background(), "ROLLBACK")
				return err
			},
			check: func(t *testing.T, err error) { require.ErrorIs(t, err, errTxLost) },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openTestDB(t)
			errs := inOneBatch(t, db, insert("a", 1), tc.fail, insert("b", 2))
			require.NoError(t, errs[0])
			tc.check(t, errs[1])
			require.NoError(t, errs[2])
			require.Equal(t, map[string]int{"a": 1, "b": 2}, scratchKeys(t, db))
		})
	}
}

func TestWriterNestedSavepoints(t *testing.T) {
	db := openTestDB(t)
	err := db.w.do(context.Background(), func(tx *wtx) error {
		require.NoError(t, insert("outer", 1)(tx))
		inner := tx.savepoint(func() error {
			require.NoError(t, insert("inner", 2)(tx))
			return errors.New("inner refused")
		})
		require.Error(t, inner)
		return tx.savepoint(func() error { return insert("second", 3)(tx) })
	})
	require.NoError(t, err)
	require.Equal(t, map[string]int{"outer": 1, "second": 3}, scratchKeys(t, db))
}

func TestWriterSkipsCancelledRequest(t *testing.T) {
	db := openTestDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := db.w.do(ctx, insert("x", 1))
	require.ErrorIs(t, err, context.Canceled)

	// Cancelled while queued: the writer checks again before running it.
	ctx2, cancel2 := context.WithCancel(context.Background())
	errs := inOneBatchCtx(t, db, ctx2, cancel2, insert("a", 1), insert("b", 2))
	require.ErrorIs(t, errs[0], context.Canceled)
	require.ErrorIs(t, errs[1], context.Canceled)
	require.Empty(t, scratchKeys(t, db))
}

func TestWriterConcurrentCallersAllCommitted(t *testing.T) {
	db := openTestDB(t)
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.w.do(context.Background(), insert(fmt.Sprint("k", i), i))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	got := scratchKeys(t, db)
	require.Len(t, got, n)
	require.Equal(t, 7, got["k7"])
}

func TestWriterAfterClose(t *testing.T) {
	db, err := Open(t.TempDir()+"/c.db", nil)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	require.NoError(t, db.Close(), "Close is idempotent")
	err = db.w.do(context.Background(), func(*wtx) error { return nil })
	require.ErrorIs(t, err, ErrClosed)
}

func TestWriterLoneRequestRollsBackOnError(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	refused := errors.New("refused")
	err := db.w.do(ctx, func(tx *wtx) error {
		require.NoError(t, insert("gone", 1)(tx))
		return refused
	})
	require.ErrorIs(t, err, refused)
	err = db.w.do(ctx, func(tx *wtx) error {
		require.NoError(t, insert("gone-too", 1)(tx))
		panic("boom")
	})
	require.ErrorContains(t, err, "boom")
	require.NoError(t, db.w.do(ctx, insert("kept", 2)))
	require.Equal(t, map[string]int{"kept": 2}, scratchKeys(t, db))
}

// queueBehindBlocker holds the writer inside a first request, starts one
// goroutine per call, each once the one before has queued its request (so
// the queue holds them in the calls' order), and then releases the writer,
// so that the queued requests run as one batch. It returns each call's
// error.
func queueBehindBlocker(t *testing.T, db *DB, calls ...func() error) []error {
	t.Helper()
	return queueBehindBlockerThen(t, db, func() {}, calls...)
}

// queueBehindBlockerThen is queueBehindBlocker with beforeRun called once
// every call has queued, before the writer is released.
func queueBehindBlockerThen(t *testing.T, db *DB, beforeRun func(), calls ...func() error) []error {
	t.Helper()
	return queueBehindBlockerCommits(t, db, 2, beforeRun, calls...)
}

// queueBehindBlockerCommits is queueBehindBlockerThen where the batch makes
// commits commits in all, the blocker's included.
func queueBehindBlockerCommits(t *testing.T, db *DB, commits int64, beforeRun func(), calls ...func() error) []error {
	t.Helper()
	release := make(chan struct{})
	blocked := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := db.w.do(context.Background(), func(*wtx) error {
			close(blocked)
			<-release
			return nil
		})
		require.NoError(t, err)
	}()
	<-blocked
	errs := make([]error, len(calls))
	for i, call := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = call()
		}()
		// One at a time, so that the queue holds the calls in their
		// order: some tests depend on it.
		require.Eventually(t, func() bool { return len(db.w.reqs) == i+1 }, 10*time.Second, 50*time.Microsecond)
	}
	beforeRun()
	before := db.w.commits.Load()
	close(release)
	wg.Wait()
	require.Equal(t, before+commits, db.w.commits.Load(), "the blocker's batch and then one batch for all queued requests")
	return errs
}

// scratchGroup inserts the keys of a group of requests with one statement
// each, and counts its passes.
type scratchGroup struct{ passes *int }

type scratchReq struct {
	key  string
	fail bool
}

func (g scratchGroup) runGroup(tx *wtx, rs []*writeReq) error {
	*g.passes++
	for _, r := range rs {
		p := r.payload.(scratchReq)
		if p.fail {
			return errors.New("refused in group")
		}
		if err := insert(p.key, len(rs))(tx); err != nil {
			return err
		}
	}
	return nil
}

func TestWriterStrictBatch(t *testing.T) {
	tests := []struct {
		name      string
		reqs      []scratchReq
		wantKeys  map[string]int
		wantErrAt int // -1: none
		passes    int
	}{
		{
			name:      "one pass for the whole group",
			reqs:      []scratchReq{{key: "a"}, {key: "b"}, {key: "c"}},
			wantKeys:  map[string]int{"a": 3, "b": 3, "c": 3},
			wantErrAt: -1,
			passes:    1,
		},
		{
			name:      "a failure runs the requests again one by one",
			reqs:      []scratchReq{{key: "a"}, {key: "bad", fail: true}, {key: "c"}},
			wantKeys:  map[string]int{"a": 1, "c": 1},
			wantErrAt: 1,
			passes:    1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openTestDB(t)
			passes := 0
			calls := make([]func() error, len(tc.reqs))
			for i, p := range tc.reqs {
				fn := func(tx *wtx) error {
					if p.fail {
						return errors.New("refused alone")
					}
					return insert(p.key, 1)(tx)
				}
				calls[i] = func() error {
					return db.w.queue(context.Background(), &writeReq{ctx: context.Background(), fn: fn, strict: true,
						group: scratchGroup{&passes}, payload: p, done: newDone()})
				}
			}
			errs := queueBehindBlocker(t, db, calls...)
			for i, err := range errs {
				if i == tc.wantErrAt {
					require.ErrorContains(t, err, "refused alone")
					continue
				}
				require.NoError(t, err)
			}
			require.Equal(t, tc.passes, passes)
			require.Equal(t, tc.wantKeys, scratchKeys(t, db))
		})
	}
}

func TestWriterStrictBatchWithoutGroupIsolatesFailures(t *testing.T) {
	db := openTestDB(t)
	strict := func(fn writeFunc) func() error {
		return func() error { return db.w.doStrict(context.Background(), fn) }
	}
	errs := queueBehindBlocker(t, db,
		strict(insert("a", 1)),
		strict(func(tx *wtx) error {
			if err := insert("bad", 1)(tx); err != nil {
				return err
			}
			panic("boom")
		}),
		strict(insert("b", 2)),
	)
	require.NoError(t, errs[0])
	require.ErrorContains(t, errs[1], "boom")
	require.NoError(t, errs[2])
	require.Equal(t, map[string]int{"a": 1, "b": 2}, scratchKeys(t, db))
}

// lateModes are the two ways the writer waits for late callers: in
// SyncNormal mode a batch waits for every caller in flight; in SyncFull
// mode, where one batch's sync overlaps the next batch, for half of them
// (see gatherLate). stand-ins is how many callers, counted by hand, make a
// lone queued request wait for one more.
var lateModes = []struct {
	sync      Synchronous
	standIns  int64
	otherHalf int64
}{{SyncNormal, 1, 0}, {SyncFull, 2, 1}}

// A caller in flight but not yet queued (here a stand-in counted by hand)
// makes the writer wait for it, and its request joins the same commit.
func TestWriterWaitsForLateCaller(t *testing.T) {
	for _, m := range lateModes {
		t.Run(string(m.sync), func(t *testing.T) {
			db := openTestDBWith(t, &Options{Synchronous: m.sync})
			db.w.lateWait = time.Minute
			before := db.w.commits.Load()
			db.w.inflight.Add(m.standIns) // the late callers, on their way
			first := make(chan error, 1)
			go func() { first <- db.w.do(context.Background(), insert("early", 1)) }()
			time.Sleep(20 * time.Millisecond)
			select {
			case err := <-first:
				t.Fatalf("the early request was committed without waiting for a late one: %v", err)
			default:
			}
			db.w.inflight.Add(-1) // one arrives
			require.NoError(t, db.w.do(context.Background(), insert("late", 2)))
			require.NoError(t, <-first)
			require.Equal(t, before+1, db.w.commits.Load(), "both requests in one commit")
			require.Len(t, scratchKeys(t, db), 2)
			db.w.inflight.Add(-m.otherHalf)
		})
	}
}

// In durable mode a batch does not wait for the callers beyond half of
// those in flight: with 4 in flight, 2 queued requests commit at once.
func TestWriterDurableBatchWaitsForHalf(t *testing.T) {
	db := openTestDBWith(t, &Options{Synchronous: SyncFull})
	db.w.lateWait = time.Minute
	db.w.inflight.Add(2) // two callers that never come
	defer db.w.inflight.Add(-2)
	errs := make(chan error, 2)
	for i := range 2 {
		go func() { errs <- db.w.do(context.Background(), insert(fmt.Sprint("k", i), i)) }()
	}
	for range 2 {
		select {
		case err := <-errs:
			require.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Fatal("the batch waited for callers beyond half of those in flight")
		}
	}
	require.Len(t, scratchKeys(t, db), 2)
}

// The wait for a caller that does not come is bounded, and a lone caller
// does not wait at all.
func TestWriterLateWaitIsBounded(t *testing.T) {
	for _, m := range lateModes {
		t.Run(string(m.sync), func(t *testing.T) { testLateWaitIsBounded(t, m.sync, m.standIns) })
	}
}

func testLateWaitIsBounded(t *testing.T, sync Synchronous, standIns int64) {
	db := openTestDBWith(t, &Options{Synchronous: sync})
	db.w.lateWait = 50 * time.Millisecond
	db.w.inflight.Add(standIns) // callers that never come
	start := time.Now()
	require.NoError(t, db.w.do(context.Background(), insert("a", 1)))
	require.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
	db.w.inflight.Add(-standIns)

	db.w.lateWait = time.Minute
	start = time.Now()
	for i := range 5 {
		require.NoError(t, db.w.do(context.Background(), insert(fmt.Sprint("b", i), i)))
	}
	require.Less(t, time.Since(start), 30*time.Second, "a lone caller waited")
	require.Len(t, scratchKeys(t, db), 6)
}

// TestWriterRedoesFailuresAfterALostTransaction: a request fails because
// of an earlier one in its batch (the same key inserted twice); then the
// transaction is lost and the earlier request is not run again (its caller
// gave up meanwhile). The failure had no ground left: the later request
// runs again and succeeds, instead of reporting a conflict with a row that
// was never committed.
func TestWriterRedoesFailuresAfterALostTransaction(t *testing.T) {
	db := openTestDB(t)
	ctx1, cancel1 := context.WithCancel(context.Background())
	defer cancel1()
	errs := queueBehindBlocker(t, db,
		func() error { return db.w.do(ctx1, insert("x", 1)) },
		func() error { return db.w.do(context.Background(), insert("x", 2)) },
		func() error {
			return db.w.do(context.Background(), func(tx *wtx) error {
				cancel1() // the first caller gives up while the batch runs
				_, err := tx.w.conn.ExecContext(context.Background(), "ROLLBACK")
				return err
			})
		},
	)
	require.ErrorIs(t, errs[0], context.Canceled, "the first request did not run again")
	require.NoError(t, errs[1], "the second ran again, without the first in its way")
	require.ErrorIs(t, errs[2], errTxLost)
	require.Equal(t, map[string]int{"x": 2}, scratchKeys(t, db))
}

// TestWriterCommitFailureReachesEveryRequestAfterASuccess: when COMMIT
// fails, a request that failed after a success in the batch may have
// failed because of it (here, the same key inserted twice), so it is told
// the commit failed too, not a conflict with a row that was never stored.
func TestWriterCommitFailureReachesEveryRequestAfterASuccess(t *testing.T) {
	db := openTestDB(t)
	require.NoError(t, db.w.do(context.Background(), func(tx *wtx) error {
		_, err := tx.exec(`CREATE TABLE child (parent TEXT NOT NULL REFERENCES scratch (k) DEFERRABLE INITIALLY DEFERRED)`)
		return err
	}))
	errs := queueBehindBlockerCommits(t, db, 1, func() {},
		func() error {
			return db.w.do(context.Background(), func(tx *wtx) error {
				if err := insert("x", 1)(tx); err != nil {
					return err
				}
				// Checked at COMMIT, which then fails.
				_, err := tx.exec(`INSERT INTO child (parent) VALUES ('missing')`)
				return err
			})
		},
		func() error { return db.w.do(context.Background(), insert("x", 2)) },
	)
	require.ErrorContains(t, errs[0], "sqlite: commit")
	require.ErrorContains(t, errs[1], "sqlite: commit", "not the conflict with the first request's row")
	require.Empty(t, scratchKeys(t, db))
}
