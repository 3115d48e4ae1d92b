package ledgertest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
)

var concurrencyTests = []subtest{
	{name: "Writers", fn: testConcurrentWriters},
	{name: "HoldsAndSweeps", fn: testConcurrentHolds},
}

func testConcurrentWriters(t *testing.T, f *Fixture) {
	const (
		workers   = 8
		perWorker = 60
	)
	accts := []ledger.AccountID{"a", "b", "c", "d"}
	f.Issuer("issuer", Points)
	for _, id := range accts {
		f.Open(id, Points)
		f.MustMove(ledger.TransferID("fund-"+id), Points, "issuer", id, "20")
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := 0; i < perWorker; i++ {
				from := accts[rng.IntN(len(accts))]
				to := accts[rng.IntN(len(accts))]
				if from == to {
					to = "issuer"
				}
				req := ledger.TransferRequest{
					ID:       ledger.TransferID(fmt.Sprintf("w%d-%d", w, i)),
					Postings: ledger.Move(Points, from, to, decimal.New(int64(1+rng.IntN(700)), -2)),
				}
				var first, again ledger.Result
				var err error
				if i%10 == 0 { // some go through the batch path
					var rs []ledger.Result
					rs, err = f.Svc.TransferBatch(f.Ctx, []ledger.TransferRequest{req})
					if err == nil {
						first = rs[0]
					}
				} else {
					first, _ = f.Svc.Transfer(f.Ctx, req)
				}
				if err != nil {
					errs <- err
					return
				}
				again, _ = f.Svc.Transfer(f.Ctx, req) // a retry returns the first outcome
				if !again.Replayed || again.Status != first.Status || ledger.RefusalCode(again.Err) != ledger.RefusalCode(first.Err) {
					errs <- fmt.Errorf("transfer %s: retry gave %+v after %+v", req.ID, again, first)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	total := decimal.Zero
	for _, id := range accts {
		p, a := f.Balance(id)
		require.False(t, a.IsNegative(), "account %s below its floor", id)
		total = total.Add(p)
	}
	ip, _ := f.Balance("issuer")
	require.True(t, total.Add(ip).IsZero(), "balances sum to %s", total.Add(ip))
	rep := CheckInvariants(t, f.Svc)
	require.Equal(t, len(accts)+1, rep.Accounts)
}

func testConcurrentHolds(t *testing.T, f *Fixture) {
	const workers = 6
	f.Issuer("issuer", Points)
	f.Open("vol", Points)
	f.Open("shop", Points)
	f.MustMove("fund", Points, "issuer", "vol", "30")
	var wg sync.WaitGroup
	errs := make(chan error, workers*40)
	holdErrs := make(chan error, workers*20)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				id := ledger.TransferID(fmt.Sprintf("h%d-%d", w, i))
				_, err := f.Svc.Transfer(f.Ctx, ledger.TransferRequest{ID: id, Postings: ledger.Move(Points, "vol", "shop", D("1")),
					HoldUntil: Start.Add(time.Duration(1+i%3) * time.Minute)})
				if err != nil {
					// Refused for lack of available funds: allowed, and
					// checked below; nothing else is.
					holdErrs <- fmt.Errorf("hold %s: %w", id, err)
					continue
				}
				switch i % 3 {
				case 0:
					_, err = f.Svc.Post(f.Ctx, ledger.PostRequest{ID: "p-" + id, Hold: id, Amount: D("0.5")})
				case 1:
					_, err = f.Svc.Void(f.Ctx, ledger.VoidRequest{ID: "v-" + id, Hold: id})
				default:
					_, err = f.Svc.ExpireHolds(f.Ctx, Start.Add(time.Duration(i%4)*time.Minute))
				}
				if err != nil {
					errs <- fmt.Errorf("%s: %w", id, err)
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	close(holdErrs)
	for err := range holdErrs {
		require.ErrorIs(t, err, ledger.ErrInsufficientFunds)
	}
	for err := range errs {
		// A post or void may lose the race against a sweep; nothing else.
		require.ErrorIs(t, err, ledger.ErrNotPending)
	}
	_, err := f.Svc.ExpireHolds(f.Ctx, Start.Add(time.Hour))
	require.NoError(t, err)
	f.RequireBalance("shop", f.shopBalance(), f.shopBalance())
	p, a := f.Balance("vol")
	require.True(t, p.Equal(a), "no pending holds remain")
	require.True(t, p.Add(D(f.shopBalance())).Equal(D("30")))
}

// shopBalance returns the shop's balance as the sum of its entries.
func (f *Fixture) shopBalance() string {
	st, err := f.Svc.Statement(f.Ctx, "shop", 0, 1000)
	require.NoError(f.T, err)
	sum := decimal.Zero
	for _, e := range st.Entries {
		sum = sum.Add(e.Amount)
	}
	return sum.String()
}
