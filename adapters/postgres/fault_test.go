package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/dispatch/dispatchtest"
	"github.com/civicloop/civicloop/ledger"
)

// faultLedger opens two DBs with separate pools on one fresh schema (two
// "servers"), with an issuer and the given user accounts funded with 100.
// attempts sets each DB's MaxAttempts (0: default).
func faultLedger(t *testing.T, users int, attempts [2]int) (svcs [2]*ledger.Service, dbs [2]*DB, accts []ledger.AccountID, apps [2]string) {
	t.Helper()
	schema := newSchema()
	// Registered first, so it runs last: after both DBs are closed.
	t.Cleanup(func() {
		_, err := sharedPool(t).Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		require.NoError(t, err)
	})
	for i := range dbs {
		apps[i] = fmt.Sprintf("%s_srv%d", schema, i)
		dbs[i] = openTestDB(t, &Options{Schema: schema, ApplicationName: apps[i], MaxConns: 4, MaxAttempts: attempts[i]})
		var err error
		svcs[i], err = ledger.New(dbs[i].Ledger(), nil)
		require.NoError(t, err)
	}
	ctx := context.Background()
	_, err := svcs[0].OpenAccount(ctx, ledger.AccountSpec{ID: "issuer", Asset: pointsAsset, NoFloor: true})
	require.NoError(t, err)
	for i := range users {
		id := ledger.AccountID(fmt.Sprintf("u%d", i))
		spec := ledger.AccountSpec{ID: id, Asset: pointsAsset}
		if i == 0 {
			spec.Ceiling = decimal.NewNullDecimal(decimal.NewFromInt(150))
		}
		_, err := svcs[1].OpenAccount(ctx, spec)
		require.NoError(t, err)
		_, err = svcs[0].Transfer(ctx, ledger.TransferRequest{ID: ledger.TransferID("fund-" + string(id)), Postings: ledger.Move(pointsAsset, "issuer", id, decimal.NewFromInt(100))})
		require.NoError(t, err)
		accts = append(accts, id)
	}
	return svcs, dbs, accts, apps
}

// outcome is what a worker was told about one transfer ID.
type outcome struct {
	status ledger.Status
	held   bool // a hold that the worker then posted or voided
}

// hammer runs workers per service doing random transfers, holds with posts
// or voids, among accts and the issuer. A request that fails with an error
// (not a refusal) is retried with the same ID, up to retries times. It
// returns every acknowledged outcome by transfer ID and the number of
// errors seen.
func hammer(t *testing.T, svcs [2]*ledger.Service, accts []ledger.AccountID, workers, ops, retries int, stop <-chan struct{}) (map[ledger.TransferID]outcome, int64) {
	var mu sync.Mutex
	acked := map[ledger.TransferID]outcome{}
	var errs atomic.Int64
	ctx := context.Background()
	// do retries a request with the same ID until it gets a result.
	do := func(id ledger.TransferID, f func() (ledger.Result, error)) (ledger.Result, bool) {
		for range retries {
			r, err := f()
			if err == nil || r.Status != 0 || errors.Is(err, ledger.ErrInsufficientFunds) || errors.Is(err, ledger.ErrCeilingExceeded) {
				// Acknowledged: a result, possibly a recorded refusal.
				return r, true
			}
			if errs.Add(1) <= 5 {
				t.Logf("transfer %q: %v", id, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
		return ledger.Result{}, false
	}
	var wg sync.WaitGroup
	for s := range svcs {
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(s), uint64(w)))
				pick := func() ledger.AccountID {
					if rng.IntN(5) == 0 {
						return "issuer"
					}
					return accts[rng.IntN(len(accts))]
				}
				for i := range ops {
					select {
					case <-stop:
						return
					default:
					}
					from, to := pick(), pick()
					for to == from {
						to = pick()
					}
					amt := decimal.NewFromInt(int64(1 + rng.IntN(20)))
					id := ledger.TransferID(fmt.Sprintf("s%d-w%d-%d", s, w, i))
					svc := svcs[rng.IntN(2)] // retries may go to either server
					if i%7 != 0 {
						r, ok := do(id, func() (ledger.Result, error) {
							return svc.Transfer(ctx, ledger.TransferRequest{ID: id, Postings: ledger.Move(pointsAsset, from, to, amt)})
						})
						if ok {
							mu.Lock()
							acked[id] = outcome{status: r.Status}
							mu.Unlock()
						}
						continue
					}
					r, ok := do(id, func() (ledger.Result, error) {
						return svc.Transfer(ctx, ledger.TransferRequest{ID: id, Postings: ledger.Move(pointsAsset, from, to, amt), HoldUntil: time.Now().Add(time.Hour)})
					})
					if !ok || r.Status != ledger.StatusPending {
						continue
					}
					rid := id + "-resolve"
					var res ledger.Result
					if rng.IntN(2) == 0 {
						res, ok = do(rid, func() (ledger.Result, error) { return svc.Post(ctx, ledger.PostRequest{ID: rid, Hold: id}) })
					} else {
						res, ok = do(rid, func() (ledger.Result, error) { return svc.Void(ctx, ledger.VoidRequest{ID: rid, Hold: id}) })
					}
					if ok {
						mu.Lock()
						acked[id] = outcome{status: ledger.StatusPending, held: true}
						acked[rid] = outcome{status: res.Status}
						mu.Unlock()
					}
				}
			}()
		}
	}
	wg.Wait()
	return acked, errs.Load()
}

// checkAcked checks that every acknowledged outcome is stored once: the
// transfer record with that status, and for a posted transfer exactly one
// entry per account it moved.
func checkAcked(t *testing.T, db *DB, acked map[ledger.TransferID]outcome) {
	ctx := context.Background()
	for id, o := range acked {
		rec, err := db.Ledger().Transfer(ctx, id)
		require.NoError(t, err, "acknowledged transfer %q is missing", id)
		if !o.held {
			require.Equal(t, o.status, rec.Status, "transfer %q", id)
		} else {
			require.NotEqual(t, ledger.StatusPending, rec.Status, "hold %q was resolved", id)
		}
		var n int
		require.NoError(t, db.pool.QueryRow(ctx, db.q("SELECT count(*) FROM {s}.ledger_entries WHERE transfer = $1"), string(id)).Scan(&n))
		want := 0
		if rec.Status == ledger.StatusPosted && rec.Kind != ledger.KindHold {
			want = len(rec.Postings)
		}
		require.Equal(t, want, n, "entries of transfer %q (%s %s)", id, rec.Kind, rec.Status)
	}
}

func TestFaultTwoServersHammerSameAccounts(t *testing.T) {
	svcs, dbs, accts, _ := faultLedger(t, 4, [2]int{})
	acked, errs := hammer(t, svcs, accts, 8, 60, 1, nil)
	require.Zero(t, errs, "no faults injected, so no errors")
	rep, err := svcs[1].Audit(context.Background())
	require.NoError(t, err)
	require.Equal(t, 5, rep.Accounts)
	checkAcked(t, dbs[0], acked)
	require.GreaterOrEqual(t, len(acked), 2*8*60, "every request acknowledged")
}

// TestFaultTwoServersHammerSameOrders: two DBs on separate pools (two
// servers) move the same orders with 8 goroutines each; every acknowledged
// transition is stored once and no order skipped a state (see
// dispatchtest.Hammer).
func TestFaultTwoServersHammerSameOrders(t *testing.T) {
	schema := newSchema()
	t.Cleanup(func() {
		_, err := sharedPool(t).Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		require.NoError(t, err)
	})
	var stores []dispatch.Store
	for i := range 2 {
		db := openTestDB(t, &Options{Schema: schema, ApplicationName: fmt.Sprintf("%s_srv%d", schema, i), MaxConns: 4,
			Stores: []string{StoreDispatch}})
		stores = append(stores, db.Dispatch())
	}
	dispatchtest.Hammer(t, stores, dispatchtest.HammerOptions{Workers: 8, Fires: 40})
}

// TestFaultTerminatedConnections kills the two servers' connections several
// times while they work. Server 0 retries internally (the default); server 1
// gives up at once (MaxAttempts 1), so its callers see the errors and retry
// with the same IDs themselves.
func TestFaultTerminatedConnections(t *testing.T) {
	svcs, dbs, accts, apps := faultLedger(t, 4, [2]int{0, 1})
	ctx := context.Background()
	killer := sharedPool(t)
	stop := make(chan struct{})
	var killed atomic.Int64
	var kwg sync.WaitGroup
	kwg.Add(1)
	go func() {
		defer kwg.Done()
		for range 6 {
			select {
			case <-stop:
				return
			case <-time.After(120 * time.Millisecond):
			}
			var n int64
			err := killer.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE application_name = ANY($1) AND pid <> pg_backend_pid()) k`, apps[:]).Scan(&n)
			if err == nil {
				killed.Add(n)
			}
		}
	}()
	acked, errs := hammer(t, svcs, accts, 8, 80, 50, nil)
	close(stop)
	kwg.Wait()
	t.Logf("terminated %d backends; callers saw %d errors and retried; %d outcomes acknowledged", killed.Load(), errs, len(acked))
	require.Positive(t, killed.Load(), "the killer terminated connections")

	rep, err := svcs[0].Audit(ctx)
	require.NoError(t, err)
	require.Equal(t, 5, rep.Accounts)
	checkAcked(t, dbs[1], acked)
	require.GreaterOrEqual(t, len(acked), 2*8*80, "every request eventually acknowledged")
}
