package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
)

// The writer caches the account states it committed (acache). These tests
// change the file behind the cache's back in every way the cache must
// notice, then check that the ledger is still exact: balances, entry
// sequence numbers and hash chains (Audit).

// requireBalances checks the balances of accounts as seen through svc.
func requireBalances(t *testing.T, svc *ledger.Service, want map[ledger.AccountID]string) {
	t.Helper()
	for id, w := range want {
		acc, err := svc.Account(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, w, acc.Balance.String(), id)
	}
}

// requireAudit audits the ledger through svc and checks the entry count.
func requireAudit(t *testing.T, svc *ledger.Service, entries int64) {
	t.Helper()
	rep, err := svc.Audit(context.Background())
	require.NoError(t, err)
	require.Equal(t, entries, rep.Entries)
}

func TestLedgerCacheSeesTransfersOfAnotherConnection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	ctx := context.Background()
	_, a := openLedger(t, path, nil)
	openAccounts(t, a, 2)
	_, b := openLedger(t, path, nil) // a second writer on the same file
	for i := range 6 {
		svc := a
		if i%3 == 2 {
			svc = b
		}
		_, err := svc.Transfer(ctx, award(fmt.Sprint("t", i), volunteer(0), "1.00"))
		require.NoError(t, err, "transfer %d", i)
	}
	requireBalances(t, a, map[ledger.AccountID]string{volunteer(0): "6", "issuer": "-6"})
	requireAudit(t, a, 12)
	requireAudit(t, b, 12)
}

func TestLedgerCacheSeesAccountClosedByAnotherConnection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	ctx := context.Background()
	_, a := openLedger(t, path, nil)
	openAccounts(t, a, 2)
	_, err := a.Transfer(ctx, award("in", volunteer(1), "1.00"))
	require.NoError(t, err)
	_, err = a.Transfer(ctx, ledger.TransferRequest{ID: "out", Reason: "return",
		Postings: ledger.Move(testPoints, volunteer(1), "issuer", decimal.RequireFromString("1.00"))})
	require.NoError(t, err)
	// a's writer now holds vol-001 open with a zero balance. Another
	// connection closes it: no entry is written, so only data_version can
	// tell a that its copy is stale.
	_, b := openLedger(t, path, nil)
	_, err = b.CloseAccount(ctx, volunteer(1))
	require.NoError(t, err)
	_, err = a.Transfer(ctx, award("late", volunteer(1), "1.00"))
	require.ErrorIs(t, err, ledger.ErrAccountClosed)
	acc, err := a.Account(ctx, volunteer(1))
	require.NoError(t, err)
	require.True(t, acc.Closed)
	requireAudit(t, a, 4)
}

func TestLedgerCacheForgetsAccountClosedInTheSameBatch(t *testing.T) {
	db, svc := openLedger(t, filepath.Join(t.TempDir(), "ledger.db"), nil)
	openAccounts(t, svc, 2)
	ctx := context.Background()
	_, err := svc.Transfer(ctx, award("in", volunteer(1), "1.00"))
	require.NoError(t, err)
	_, err = svc.Transfer(ctx, ledger.TransferRequest{ID: "out", Reason: "return",
		Postings: ledger.Move(testPoints, volunteer(1), "issuer", decimal.RequireFromString("1.00"))})
	require.NoError(t, err)
	errs := queueBehindBlocker(t, db,
		func() error { _, err := svc.Transfer(ctx, award("before", volunteer(0), "1.00")); return err },
		func() error { _, err := svc.CloseAccount(ctx, volunteer(1)); return err },
		func() error { _, err := svc.Transfer(ctx, award("after", volunteer(1), "1.00")); return err },
	)
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.ErrorIs(t, errs[2], ledger.ErrAccountClosed)
	_, err = svc.Transfer(ctx, award("later", volunteer(1), "1.00"))
	require.ErrorIs(t, err, ledger.ErrAccountClosed)
	requireAudit(t, svc, 6)
}

// failEntriesOf makes every insert of an entry of transfer id fail, from a
// trigger: the request's flush fails after the statements before it ran.
func failEntriesOf(t *testing.T, db *DB, id string) {
	t.Helper()
	err := db.w.do(context.Background(), func(tx *wtx) error {
		_, err := tx.exec(`CREATE TRIGGER fail_` + id + ` BEFORE INSERT ON ledger_entries
			WHEN NEW.transfer_id = '` + id + `' BEGIN SELECT RAISE(FAIL, 'entry refused by test'); END`)
		return err
	})
	require.NoError(t, err)
}

func TestLedgerCacheAfterAFailedRequestInAGroup(t *testing.T) {
	db, svc := openLedger(t, filepath.Join(t.TempDir(), "ledger.db"), nil)
	openAccounts(t, svc, 2)
	ctx := context.Background()
	_, err := svc.Transfer(ctx, award("seed", volunteer(0), "1.00"))
	require.NoError(t, err)
	failEntriesOf(t, db, "bad")
	transfer := func(id string) func() error {
		return func() error { _, err := svc.Transfer(ctx, award(id, volunteer(0), "1.00")); return err }
	}
	// One batch: the group's pass fails in its flush and is rolled back,
	// then each request runs alone; bad fails in its savepoint, after its
	// transfer row was written.
	errs := queueBehindBlocker(t, db, transfer("g1"), transfer("bad"), transfer("g2"))
	require.NoError(t, errs[0])
	require.ErrorContains(t, errs[1], "entry refused by test")
	require.NoError(t, errs[2])
	for i := range 3 {
		_, err := svc.Transfer(ctx, award(fmt.Sprint("after", i), volunteer(i%2), "1.00"))
		require.NoError(t, err)
	}
	requireBalances(t, svc, map[ledger.AccountID]string{volunteer(0): "5", volunteer(1): "1", "issuer": "-6"})
	requireAudit(t, svc, 12)
}

// failCommitOf makes the commit of any transaction that writes an entry of
// transfer id fail: the entry's trigger breaks a deferred foreign key,
// which SQLite checks only at COMMIT.
func failCommitOf(t *testing.T, db *DB, id string) {
	t.Helper()
	err := db.w.do(context.Background(), func(tx *wtx) error {
		for _, q := range []string{
			`CREATE TABLE test_parent (id INTEGER PRIMARY KEY)`,
			`CREATE TABLE test_child (parent INTEGER REFERENCES test_parent (id) DEFERRABLE INITIALLY DEFERRED)`,
			`CREATE TRIGGER fail_commit_` + id + ` AFTER INSERT ON ledger_entries
				WHEN NEW.transfer_id = '` + id + `' BEGIN INSERT INTO test_child (parent) VALUES (42); END`,
		} {
			if _, err := tx.exec(q); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
}

func TestLedgerCacheAfterAFailedCommit(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprint(n, " requests"), func(t *testing.T) {
			db, svc := openLedger(t, filepath.Join(t.TempDir(), "ledger.db"), nil)
			openAccounts(t, svc, 2)
			ctx := context.Background()
			_, err := svc.Transfer(ctx, award("seed", volunteer(0), "1.00"))
			require.NoError(t, err)
			failCommitOf(t, db, "doomed")
			calls := []func() error{func() error {
				_, err := svc.Transfer(ctx, award("doomed", volunteer(0), "1.00"))
				return err
			}}
			for i := 1; i < n; i++ {
				calls = append(calls, func() error {
					_, err := svc.Transfer(ctx, award(fmt.Sprint("with", i), volunteer(i%2), "1.00"))
					return err
				})
			}
			var errs []error
			if n == 1 {
				errs = []error{calls[0]()}
			} else {
				errs = queueBehindBlockerCommits(t, db, 1, func() {}, calls...)
			}
			for i, err := range errs {
				require.ErrorContains(t, err, "commit", "request %d", i)
			}
			// The writer's states of the failed commit are gone: the next
			// transfers continue the chains from the file.
			for i := range 3 {
				_, err := svc.Transfer(ctx, award(fmt.Sprint("after", i), volunteer(i%2), "1.00"))
				require.NoError(t, err)
			}
			requireBalances(t, svc, map[ledger.AccountID]string{volunteer(0): "3", volunteer(1): "1", "issuer": "-4"})
			requireAudit(t, svc, 8)
		})
	}
}

// TestLedgerCacheSeesRowsChangedOutsideTheLedger changes an account's row
// with plain SQL on another connection, as a repair tool might, and checks
// that the next transfer starts from the changed row.
func TestLedgerCacheSeesRowsChangedOutsideTheLedger(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	ctx := context.Background()
	_, svc := openLedger(t, path, nil)
	openAccounts(t, svc, 1)
	_, err := svc.Transfer(ctx, award("t0", volunteer(0), "1.00"))
	require.NoError(t, err)
	other, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer other.Close()
	_, err = other.Exec(`UPDATE ledger_accounts SET ceiling = 150, has_ceiling = 1 WHERE id = ?`, string(volunteer(0)))
	require.NoError(t, err)
	_, err = svc.Transfer(ctx, award("t1", volunteer(0), "1.00"))
	require.ErrorIs(t, err, ledger.ErrCeilingExceeded)
	_, err = svc.Transfer(ctx, award("t2", volunteer(0), "0.50"))
	require.NoError(t, err)
	requireBalances(t, svc, map[ledger.AccountID]string{volunteer(0): "1.5"})
}

// TestLedgerGroupReplaysResubmittedIDs resubmits, in one group, transfer
// IDs already recorded (posted, refused, a hold) among new ones: a group's
// pass takes transfer and hold IDs to be new without looking them up, and
// must still answer each resubmission with its first outcome, applying
// nothing twice.
func TestLedgerGroupReplaysResubmittedIDs(t *testing.T) {
	db, svc := openLedger(t, filepath.Join(t.TempDir(), "ledger.db"), nil)
	openAccounts(t, svc, 2)
	ctx := context.Background()
	hold := award("h1", volunteer(1), "2.00")
	hold.HoldUntil = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	broke := ledger.TransferRequest{ID: "r1", Reason: "gift",
		Postings: ledger.Move(testPoints, volunteer(0), volunteer(1), decimal.RequireFromString("50.00"))}
	first := []ledger.TransferRequest{award("t1", volunteer(0), "1.00"), broke, hold}
	var want []ledger.Result
	for _, req := range first {
		res, _ := svc.Transfer(ctx, req)
		want = append(want, res)
	}
	require.Equal(t, ledger.StatusPosted, want[0].Status)
	require.Equal(t, ledger.StatusRefused, want[1].Status)
	require.Equal(t, ledger.StatusPending, want[2].Status)
	changed := award("t1", volunteer(1), "1.00") // t1 again, other content
	reqs := append(first, award("n1", volunteer(0), "1.00"), changed, award("n2", volunteer(1), "1.00"))
	results := make([]ledger.Result, len(reqs))
	calls := make([]func() error, len(reqs))
	for i, req := range reqs {
		calls[i] = func() error {
			var err error
			results[i], err = svc.Transfer(ctx, req)
			return err
		}
	}
	errs := queueBehindBlocker(t, db, calls...)
	for i := range first {
		require.True(t, results[i].Replayed, "request %d", i)
		require.Equal(t, want[i].Status, results[i].Status, "request %d", i)
	}
	require.NoError(t, errs[0])
	require.ErrorIs(t, errs[1], ledger.ErrInsufficientFunds)
	require.NoError(t, errs[2])
	require.NoError(t, errs[3])
	require.ErrorIs(t, errs[4], ledger.ErrIdempotencyConflict)
	require.NoError(t, errs[5])
	require.Equal(t, ledger.StatusPosted, results[3].Status)
	require.Equal(t, ledger.StatusPosted, results[5].Status)
	requireBalances(t, svc, map[ledger.AccountID]string{volunteer(0): "2", volunteer(1): "1", "issuer": "-3"})
	requireAudit(t, svc, 6)
	// A group of new transfers alone still shares one pass.
	errs = queueBehindBlocker(t, db,
		func() error { _, err := svc.Transfer(ctx, award("n3", volunteer(0), "1.00")); return err },
		func() error { _, err := svc.Transfer(ctx, award("n4", volunteer(1), "1.00")); return err })
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	requireAudit(t, svc, 10)
}

// TestLedgerCacheStaleStateIsCaught plants in the writer's cache the state
// vol-000 had before its last transfer, as a cache bug would, and puts
// holds on it. A hold writes no entry row, so no (account, seq) key would
// collide: the version the account UPDATE requires catches the stale state,
// and the writer runs the request again from the file.
func TestLedgerCacheStaleStateIsCaught(t *testing.T) {
	for _, holds := range []int{1, 2} { // alone, and in a batch
		t.Run(fmt.Sprint(holds, " holds"), func(t *testing.T) {
			db, svc := openLedger(t, filepath.Join(t.TempDir(), "ledger.db"), nil)
			openAccounts(t, svc, 2)
			ctx := context.Background()
			_, err := svc.Transfer(ctx, award("t1", volunteer(0), "5.00"))
			require.NoError(t, err)
			// The writer is idle between calls, and each call hands over
			// to it through its queue.
			stale, ok := db.w.ac.committed[volunteer(0)]
			require.True(t, ok, "vol-000 is cached")
			_, err = svc.Transfer(ctx, award("t2", volunteer(0), "5.00"))
			require.NoError(t, err)
			db.w.ac.committed[volunteer(0)] = stale

			reqs := make([]ledger.TransferRequest, holds)
			for i := range reqs {
				reqs[i] = ledger.TransferRequest{ID: ledger.TransferID(fmt.Sprint("h", i)), Reason: "hold",
					HoldUntil: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
					Postings:  ledger.Move(testPoints, volunteer(0), volunteer(1), decimal.RequireFromString("1.00"))}
			}
			res, err := svc.TransferBatch(ctx, reqs)
			require.NoError(t, err)
			for _, r := range res {
				require.NoError(t, r.Err)
				require.Equal(t, ledger.StatusPending, r.Status)
			}
			requireBalances(t, svc, map[ledger.AccountID]string{volunteer(0): "10", "issuer": "-10"})
			requireAudit(t, svc, 4)
			acc, err := svc.Account(ctx, volunteer(0))
			require.NoError(t, err)
			require.Equal(t, fmt.Sprint(holds), acc.PendingDebits.String())
		})
	}
}
