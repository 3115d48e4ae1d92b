package memory_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/adapters/memory"
	"github.com/civicloop/civicloop/points"
	"github.com/civicloop/civicloop/points/pointstest"
)

// TestPointsConcurrentOpsReachLedgerInOrder: confirmations (awards) and
// redemptions (holds paid by them) of one volunteer run concurrently while
// the ledger fails now and then, so that ops stay pending and later
// commands find them first (Service.inOrder, with and without
// FirstPendingStore). No hold may reach the ledger before the award paying
// for it: the ledger would refuse it for good, and Sync report it.
func TestPointsConcurrentOpsReachLedgerInOrder(t *testing.T) {
	for _, mode := range []struct {
		name  string
		store func() points.Store
	}{
		{"first pending", func() points.Store { return memory.NewPointsStore() }},
		{"plain", func() points.Store { return plainPointsStore{memory.NewPointsStore()} }},
	} {
		t.Run(mode.name, func(t *testing.T) {
			for round := range 20 {
				e := pointstest.NewEnv(t, mode.store(), memory.NewLedgerStore(), nil)
				const k = 12
				ids := make([]string, k)
				for i := range ids {
					in := pointstest.Input("V1", -1-i/6, 60)
					shift := time.Duration(i%6) * 90 * time.Minute
					in.Activity.Start, in.Activity.End = in.Activity.Start.Add(shift), in.Activity.End.Add(shift)
					in.SignIn, in.SignOut = in.SignIn.Add(shift), in.SignOut.Add(shift)
					rec, err := e.Svc.RecordService(e.Ctx, pointstest.Admin("S1"), in)
					require.NoError(t, err)
					ids[i] = rec.ID
				}
				it := e.Item("3", 1000, nil)
				var wg sync.WaitGroup
				stop := make(chan struct{})
				wg.Go(func() { // the ledger flickers
					for n := 0; ; n++ {
						select {
						case <-stop:
							e.LStore.Fail.Store(false)
							return
						default:
						}
						e.LStore.Fail.Store(n%3 == round%3)
						time.Sleep(50 * time.Microsecond)
					}
				})
				var mu sync.Mutex
				var unexpected []error
				keep := func(err error, ok ...error) {
					if err == nil {
						return
					}
					for _, o := range ok {
						if errors.Is(err, o) {
							return
						}
					}
					mu.Lock()
					unexpected = append(unexpected, err)
					mu.Unlock()
				}
				var work sync.WaitGroup
				for i := range ids {
					work.Go(func() {
						_, err := e.Svc.Confirm(e.Ctx, pointstest.Admin("S1"), ids[i])
						keep(err, points.ErrLedger)
					})
					work.Go(func() {
						for range 2 {
							_, err := e.Svc.Redeem(e.Ctx, pointstest.Vol("V1"), it.ID, "V1")
							keep(err, points.ErrLedger, points.ErrInsufficientPoints)
						}
					})
				}
				work.Wait()
				close(stop)
				wg.Wait()
				require.Empty(t, unexpected)
				// Confirmations the ledger failed are retried as a user
				// would; then Sync applies what is left.
				for _, id := range ids {
					_, err := e.Svc.Confirm(e.Ctx, pointstest.Admin("S1"), id)
					require.NoError(t, err)
				}
				_, err := e.Svc.Sync(e.Ctx)
				require.NoError(t, err, "round %d: a refused op: one reached the ledger before an op it depends on", round)
				pending, err := e.Store.PendingOps(e.Ctx, 10)
				require.NoError(t, err)
				require.Empty(t, pending)
				aws, err := e.Svc.Statement(e.Ctx, "V1", pointstest.Day(-10), pointstest.Day(10))
				require.NoError(t, err)
				earned := decimal.Zero
				for _, a := range aws {
					earned = earned.Add(a.Points)
				}
				bal, avail := e.Balance("V1", points.PointsAsset)
				require.True(t, bal.Equal(earned), "round %d: ledger balance %s, awards %s", round, bal, earned)
				reds, err := e.Store.Redemptions(e.Ctx, "V1", it.ID, time.Time{})
				require.NoError(t, err)
				held := decimal.Zero
				for _, r := range reds {
					if r.Status == points.RedemptionHeld {
						held = held.Add(r.Price)
					}
				}
				require.True(t, avail.Equal(bal.Sub(held)), "round %d: available %s, balance %s, held %s", round, avail, bal, held)
			}
		})
	}
}
