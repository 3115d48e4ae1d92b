package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/ledger/ledgertest"
)

// newTestDB opens a fresh database file in t.TempDir, closed at cleanup.
// The conformance suites test behaviour, not durability, so their files
// skip the disk sync of each commit (SyncNormal); durability in the
// default mode is what TestCrashSafety tests.
func newTestDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "civicloop.db"), &Options{Synchronous: SyncNormal})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

func TestLedgerConformance(t *testing.T) {
	ledgertest.Run(t, func(t *testing.T) ledger.Store { return newTestDB(t).Ledger() })
}

var testPoints = ledger.Asset{Code: "POINTS", Scale: 2}

// openLedger opens path and a ledger service on it, with a fixed clock.
func openLedger(t testing.TB, path string, opts *Options) (*DB, *ledger.Service) {
	t.Helper()
	db, err := Open(path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	now := time.Date(2023, 4, 17, 9, 0, 0, 0, time.UTC)
	svc, err := ledger.New(db.Ledger(), &ledger.Options{Now: func() time.Time { return now }})
	require.NoError(t, err)
	return db, svc
}

// openAccounts opens an issuer with no floor and n volunteer accounts.
func openAccounts(t testing.TB, svc *ledger.Service, n int) {
	t.Helper()
	ctx := context.Background()
	_, err := svc.OpenAccount(ctx, ledger.AccountSpec{ID: "issuer", Asset: testPoints, NoFloor: true})
	require.NoError(t, err)
	for i := range n {
		_, err := svc.OpenAccount(ctx, ledger.AccountSpec{ID: volunteer(i), Asset: testPoints, Owner: fmt.Sprint("owner-", i)})
		require.NoError(t, err)
	}
}

func volunteer(i int) ledger.AccountID { return ledger.AccountID(fmt.Sprintf("vol-%03d", i)) }

func award(id string, to ledger.AccountID, amount string) ledger.TransferRequest {
	return ledger.TransferRequest{
		ID:       ledger.TransferID(id),
		Postings: ledger.Move(testPoints, "issuer", to, decimal.RequireFromString(amount)),
		Reason:   "service",
	}
}

func TestLedgerPersistsAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	ctx := context.Background()
	db, svc := openLedger(t, path, nil)
	openAccounts(t, svc, 2)
	_, err := svc.Transfer(ctx, award("a1", volunteer(0), "12.50"))
	require.NoError(t, err)
	_, err = svc.Transfer(ctx, ledger.TransferRequest{
		ID: "h1", Postings: ledger.Move(testPoints, volunteer(0), volunteer(1), decimal.RequireFromString("2.25")),
		Reason: "gift", HoldUntil: time.Date(2023, 4, 18, 0, 0, 0, 0, time.UTC),
	})
	require.NoError(t, err)
	_, err = svc.Transfer(ctx, award("refused", volunteer(1), "-1"))
	require.Error(t, err)
	require.NoError(t, db.Close())

	_, svc = openLedger(t, path, nil)
	acct, err := svc.Account(ctx, volunteer(0))
	require.NoError(t, err)
	require.Equal(t, "12.5", acct.Balance.String())
	require.Equal(t, "10.25", acct.Available.String())
	hold, err := svc.TransferByID(ctx, "h1")
	require.NoError(t, err)
	require.Equal(t, ledger.StatusPending, hold.Status)
	require.Len(t, hold.Postings, 2)
	rep, err := svc.Audit(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, rep.Accounts)
	require.Equal(t, int64(2), rep.Entries)
}

func TestLedgerConcurrentTransfersShareCommits(t *testing.T) {
	db, svc := openLedger(t, filepath.Join(t.TempDir(), "ledger.db"), nil)
	openAccounts(t, svc, 8)
	ctx := context.Background()
	before := db.w.commits.Load()
	const workers, each = 16, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := svc.Transfer(ctx, award(fmt.Sprintf("w%d-%d", w, i), volunteer((w+i)%8), "1.01"))
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	commits := db.w.commits.Load() - before
	require.LessOrEqual(t, commits, int64(workers*each))
	t.Logf("%d transfers in %d commits", workers*each, commits)
	rep, err := svc.Audit(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(2*workers*each), rep.Entries)
	issuer, err := svc.Account(ctx, "issuer")
	require.NoError(t, err)
	require.Equal(t, decimal.RequireFromString("-404").String(), issuer.Balance.String())
}

func TestLedgerVerifyNamesCorruptedEntry(t *testing.T) {
	tests := []struct {
		name   string
		tamper string // SQL run on a raw connection; ? is the account
	}{
		{"units changed", `UPDATE ledger_entries SET units = units + 1, balance = balance + 1 WHERE account = ? AND seq = 2`},
		{"hash bytes flipped", `UPDATE ledger_entries SET hash = zeroblob(32) WHERE account = ? AND seq = 2`},
		{"recorded time moved", `UPDATE ledger_entries SET recorded_at = recorded_at + 1 WHERE account = ? AND seq = 2`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ledger.db")
			ctx := context.Background()
			db, svc := openLedger(t, path, nil)
			openAccounts(t, svc, 1)
			for i := range 3 {
				_, err := svc.Transfer(ctx, award(fmt.Sprint("a", i), volunteer(0), "1"))
				require.NoError(t, err)
			}
			require.NoError(t, svc.Verify(ctx, ""))
			require.NoError(t, db.Close())

			raw, err := sql.Open("sqlite", path)
			require.NoError(t, err)
			res, err := raw.Exec(tc.tamper, string(volunteer(0)))
			require.NoError(t, err)
			n, err := res.RowsAffected()
			require.NoError(t, err)
			require.Equal(t, int64(1), n)
			require.NoError(t, raw.Close())

			_, svc = openLedger(t, path, nil)
			err = svc.Verify(ctx, "")
			require.ErrorIs(t, err, ledger.ErrTampered)
			require.ErrorContains(t, err, `account "vol-000": entry 2`)
		})
	}
}

// Transfers queued together run in one pass over the tables; each caller
// still gets its own outcome, later ones see the effects of earlier ones,
// and a refusal stays the refused caller's alone.
func TestLedgerGroupedTransfersKeepTheirOwnResults(t *testing.T) {
	db, svc := openLedger(t, filepath.Join(t.TempDir(), "ledger.db"), nil)
	openAccounts(t, svc, 2)
	ctx := context.Background()
	_, err := svc.Transfer(ctx, award("seed", volunteer(0), "5.00"))
	require.NoError(t, err)
	gift := func(id string, amount string) func() error {
		return func() error {
			_, err := svc.Transfer(ctx, ledger.TransferRequest{
				ID: ledger.TransferID(id), Postings: ledger.Move(testPoints, volunteer(0), volunteer(1),
					decimal.RequireFromString(amount)), Reason: "gift",
			})
			return err
		}
	}
	errs := queueBehindBlocker(t, db, gift("g1", "2.00"), gift("g2", "2.50"), gift("g3", "9.00"))
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.ErrorIs(t, errs[2], ledger.ErrInsufficientFunds)
	for id, want := range map[ledger.AccountID]string{volunteer(0): "0.5", volunteer(1): "4.5"} {
		acc, err := svc.Account(ctx, id)
		require.NoError(t, err)
		require.Equal(t, want, acc.Balance.String(), id)
	}
	refused, err := svc.TransferByID(ctx, "g3")
	require.NoError(t, err)
	require.Equal(t, ledger.StatusRefused, refused.Status)
	rep, err := svc.Audit(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(6), rep.Entries)
}

// TestLedgerVerifyNamesEntryDamagedInTheFile damages the file itself, not
// its rows through SQL: one byte of an entry's stored hash is flipped in
// place, where SQLite keeps no checksum that would notice.
func TestLedgerVerifyNamesEntryDamagedInTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	ctx := context.Background()
	db, svc := openLedger(t, path, nil)
	openAccounts(t, svc, 2)
	for i := range 3 {
		_, err := svc.Transfer(ctx, award(fmt.Sprint("a", i), volunteer(i%2), "1.25"))
		require.NoError(t, err)
	}
	require.NoError(t, svc.Verify(ctx, ""))
	// vol-000's second entry (transfer a2) is not its last, so its hash is
	// stored once: in its row, not also as the account's last_hash.
	var hash []byte
	require.NoError(t, db.read.QueryRow(`SELECT hash FROM ledger_entries WHERE account = ? AND seq = 2`,
		string(volunteer(0))).Scan(&hash))
	require.Len(t, hash, 32)
	_, err := svc.Transfer(ctx, award("a3", volunteer(0), "1.25"))
	require.NoError(t, err)
	require.NoError(t, db.Close())

	// Close checkpoints the log into the main file; an edit of the main
	// file would otherwise be hidden by the log's newer copy of the page.
	if fi, err := os.Stat(path + "-wal"); err == nil {
		require.Zero(t, fi.Size(), "the log must be empty after Close")
	} else {
		require.ErrorIs(t, err, os.ErrNotExist)
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, 1, bytes.Count(b, hash), "the entry's hash is stored once in the file")
	at := bytes.Index(b, hash) + 7
	b[at] ^= 0x01
	require.NoError(t, os.WriteFile(path, b, 0o600))

	_, svc = openLedger(t, path, nil)
	err = svc.Verify(ctx, "")
	require.ErrorIs(t, err, ledger.ErrTampered)
	require.ErrorContains(t, err, `account "vol-000": entry 2 (transfer "a2")`)
	require.NoError(t, svc.Verify(ctx, volunteer(1)), "the other account is intact")
	_, err = svc.Audit(ctx)
	require.ErrorIs(t, err, ledger.ErrTampered)
	require.ErrorContains(t, err, `account "vol-000": entry 2`)
}
