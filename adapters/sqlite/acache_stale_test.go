package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
)

// plantStale puts in the writer's cache the state vol-000 had before its
// last transfer, as a cache bug would. The writer is idle between calls,
// and each call hands over to it through its queue.
func plantStale(t *testing.T, db *DB, svc *ledger.Service, id string) {
	t.Helper()
	ctx := context.Background()
	stale, ok := db.w.ac.committed[volunteer(0)]
	require.True(t, ok, "vol-000 is cached")
	_, err := svc.Transfer(ctx, award(id, volunteer(0), "5.00"))
	require.NoError(t, err)
	db.w.ac.committed[volunteer(0)] = stale
}

// TestLedgerCacheStaleStateIsCaught: a stale cached state (planted here)
// must neither overwrite the account's row nor break its hash chain. A
// hold writes no entry row, so no (account, seq) key would collide: the
// version check in the account UPDATE catches it, and the writer runs the
// request again from the file.
func TestLedgerCacheStaleStateIsCaught(t *testing.T) {
	ctx := context.Background()
	holdUntil := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	hold := func(id string) ledger.TransferRequest {
		return ledger.TransferRequest{ID: ledger.TransferID(id), Reason: "hold", HoldUntil: holdUntil,
			Postings: ledger.Move(testPoints, volunteer(0), volunteer(1), decimal.RequireFromString("1.00"))}
	}
	check := func(t *testing.T, svc *ledger.Service, pending string) {
		t.Helper()
		_, err := svc.Audit(ctx)
		require.NoError(t, err)
		b, err := svc.Account(ctx, volunteer(0))
		require.NoError(t, err)
		require.True(t, decimal.RequireFromString("10.00").Equal(b.Balance), "balance %s", b.Balance)
		require.True(t, decimal.RequireFromString(pending).Equal(b.PendingDebits), "pending debits %s", b.PendingDebits)
	}

	t.Run("alone", func(t *testing.T) {
		db, svc := openLedger(t, filepath.Join(t.TempDir(), "ledger.db"), nil)
		openAccounts(t, svc, 2)
		_, err := svc.Transfer(ctx, award("t1", volunteer(0), "5.00"))
		require.NoError(t, err)
		plantStale(t, db, svc, "t2")
		r, err := svc.Transfer(ctx, hold("h1"))
		require.NoError(t, err)
		require.Equal(t, ledger.StatusPending, r.Status)
		check(t, svc, "1.00")
	})

	t.Run("batch", func(t *testing.T) {
		db, svc := openLedger(t, filepath.Join(t.TempDir(), "ledger.db"), nil)
		openAccounts(t, svc, 2)
		_, err := svc.Transfer(ctx, award("t1", volunteer(0), "5.00"))
		require.NoError(t, err)
		plantStale(t, db, svc, "t2")
		res, err := svc.TransferBatch(ctx, []ledger.TransferRequest{hold("h1"), hold("h2")})
		require.NoError(t, err)
		for _, r := range res {
			require.NoError(t, r.Err)
			require.Equal(t, ledger.StatusPending, r.Status)
		}
		check(t, svc, "2.00")
	})
}
