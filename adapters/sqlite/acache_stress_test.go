package sqlite

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
)

// TestLedgerCacheStressTwoWritersWithFailures tries to make the writer's
// account cache (acache) go stale: two writers share one file, each with
// concurrent callers (so requests group, share transactions and fall back
// to savepoints), mixing transfers between volunteers, holds posted or
// voided later (passes with no postings, which read accounts without the
// data_version check), refused closes (a strict request failing in a
// shared transaction), transfers whose entries a trigger refuses (a pass
// failing in its flush) and transfers whose commit fails (a deferred
// foreign key). Every transfer that succeeded must be in the file and the
// ledger must audit clean through both writers.
func TestLedgerCacheStressTwoWritersWithFailures(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	ctx := context.Background()
	dbA, a := openLedger(t, path, nil)
	const accounts = 4
	openAccounts(t, a, accounts)
	err := dbA.w.do(ctx, func(tx *wtx) error {
		for _, q := range []string{
			`CREATE TRIGGER fail_bad BEFORE INSERT ON ledger_entries
				WHEN NEW.transfer_id LIKE 'bad%' BEGIN SELECT RAISE(FAIL, 'entry refused by test'); END`,
			`CREATE TABLE test_parent (id INTEGER PRIMARY KEY)`,
			`CREATE TABLE test_child (parent INTEGER REFERENCES test_parent (id) DEFERRABLE INITIALLY DEFERRED)`,
			`CREATE TRIGGER fail_doom AFTER INSERT ON ledger_entries
				WHEN NEW.transfer_id LIKE 'doom%' BEGIN INSERT INTO test_child (parent) VALUES (42); END`,
		} {
			if _, err := tx.exec(q); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	_, b := openLedger(t, path, nil)
	svcs := []*ledger.Service{a, b}
	until := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

	var (
		mu sync.Mutex
		ok = map[ledger.TransferID]bool{}
	)
	const workers, each = 4, 60
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			var holds []ledger.TransferID
			for i := range each {
				svc := svcs[(w+i/5)%2]
				id := ledger.TransferID(fmt.Sprintf("w%d-%d", w, i))
				from, to := volunteer(rng.IntN(accounts)), volunteer(rng.IntN(accounts))
				var (
					res ledger.Result
					err error
				)
				switch k := rng.IntN(10); {
				case k < 3:
					res, err = svc.Transfer(ctx, award(string(id), to, "1.00"))
				case k < 5:
					res, err = svc.Transfer(ctx, ledger.TransferRequest{ID: id, Reason: "gift",
						Postings: ledger.Move(testPoints, from, to, decimal.RequireFromString("0.50"))})
				case k < 6:
					res, err = svc.Transfer(ctx, ledger.TransferRequest{ID: id, Reason: "hold", HoldUntil: until,
						Postings: ledger.Move(testPoints, from, to, decimal.RequireFromString("0.25"))})
					if err == nil {
						holds = append(holds, id)
					}
				case k < 8 && len(holds) > 0:
					h := holds[0]
					holds = holds[1:]
					if k == 6 {
						res, err = svc.Post(ctx, ledger.PostRequest{ID: id, Hold: h, Reason: "post"})
					} else {
						res, err = svc.Void(ctx, ledger.VoidRequest{ID: id, Hold: h, Reason: "void"})
					}
				case k == 8:
					_, err = svc.CloseAccount(ctx, to)
					continue
				default:
					prefix := "bad"
					if rng.IntN(2) == 0 {
						prefix = "doom"
					}
					_, err = svc.Transfer(ctx, award(fmt.Sprintf("%s-%d-%d", prefix, w, i), to, "1.00"))
					if err == nil {
						t.Errorf("%s-%d-%d succeeded", prefix, w, i)
					}
					continue
				}
				if err == nil {
					mu.Lock()
					ok[res.ID] = true
					mu.Unlock()
				} else if !errors.Is(err, ledger.ErrInsufficientFunds) && !errors.Is(err, ledger.ErrAccountClosed) &&
					!strings.Contains(err.Error(), "sqlite: commit:") && !strings.Contains(err.Error(), "not found") {
					// A failed commit fails every request of its
					// transaction; a hold may have been lost with one.
					t.Errorf("%s: %v", id, err)
				}
			}
		}()
	}
	wg.Wait()
	for id := range ok {
		_, err := a.TransferByID(ctx, id)
		require.NoError(t, err, id)
	}
	for _, svc := range svcs {
		_, err := svc.Audit(ctx)
		require.NoError(t, err)
	}
}
