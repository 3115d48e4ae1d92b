package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
)

// TestLedgerWriteFailingMidStatementLeavesNoRow makes a grouped Apply fail
// in the middle of its multi-row INSERT of entries: an entry it is about to
// write is already there. The ledger's statements say OR FAIL, so SQLite
// keeps the rows the statement wrote before the failure; the writer must
// still roll every one of them back with the request, and commit the
// requests around it.
func TestLedgerWriteFailingMidStatementLeavesNoRow(t *testing.T) {
	ctx := context.Background()
	db, svc := openLedger(t, filepath.Join(t.TempDir(), "fail.db"), &Options{Synchronous: SyncNormal})
	openAccounts(t, svc, 4)
	// The next entry of vol-002 (seq 1) exists already.
	squat := func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO ledger_entries (`+entryCols+`) VALUES (?, 1, 'squat', 0, 0, 0, NULL, NULL, zeroblob(32))`,
			string(volunteer(2)))
		return err
	}
	errs := queueBehindBlocker(t, db,
		func() error { return db.w.doStrict(ctx, squat) },
		func() error {
			_, err := svc.TransferBatch(ctx, []ledger.TransferRequest{
				award("f0", volunteer(0), "1"), award("f1", volunteer(1), "1"), award("f2", volunteer(2), "1"),
			})
			return err
		},
		func() error {
			_, err := svc.Transfer(ctx, award("ok", volunteer(3), "1"))
			return err
		},
	)
	require.NoError(t, errs[0])
	require.ErrorIs(t, errs[1], ErrConstraint)
	require.NoError(t, errs[2])

	var transfers []string
	rows, err := db.read.Query(`SELECT id FROM ledger_transfers ORDER BY id`)
	require.NoError(t, err)
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		transfers = append(transfers, id)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.Equal(t, []string{"ok"}, transfers)

	var entries []string
	rows, err = db.read.Query(`SELECT account || '/' || transfer_id FROM ledger_entries ORDER BY account, seq`)
	require.NoError(t, err)
	for rows.Next() {
		var e string
		require.NoError(t, rows.Scan(&e))
		entries = append(entries, e)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.Equal(t, []string{"issuer/ok", "vol-002/squat", "vol-003/ok"}, entries)
	for _, id := range []ledger.AccountID{volunteer(0), volunteer(1), volunteer(2)} {
		acct, err := db.Ledger().Account(ctx, id)
		require.NoError(t, err)
		require.Zero(t, acct.Balance, "account %s", id)
		require.Zero(t, acct.Entries, "account %s", id)
	}
}

// TestMigration6DropsLengthChecksKeepingRows builds a file at schema version
// 5 with an account, a transfer and an entry, and checks that opening it
// keeps them, and the transfer's rowid, while the ledger's tables lose
// their CHECK (length(...) = 32).
func TestMigration6DropsLengthChecksKeepingRows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v5.db")
	conn, o, closeConn := migrationConn(t, path)
	for _, m := range mustMigrations(t) {
		if m.version <= 5 {
			require.NoError(t, apply(ctx, conn, m, o))
		}
	}
	h := make([]byte, 32)
	for i := range h {
		h[i] = byte(i)
	}
	at := time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC).UnixMicro()
	_, err := conn.ExecContext(ctx, `INSERT INTO ledger_accounts (`+accountCols+`)
		VALUES ('vol-001', 'POINTS', 2, 0, 0, 0, 0, 0, 125, 0, 0, 1, 1, ?, 'owner', NULL, ?, NULL)`, h, at)
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, `INSERT INTO ledger_transfers (rowid, `+transferCols+`) VALUES
		(42, 't1', 0, 1, '', 125, 'award', 'admin', '[]', NULL, ?, ?, NULL, ?, 0, '', '', '', '')`, at, at, h)
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, `INSERT INTO ledger_entries (`+entryCols+`)
		VALUES ('vol-001', 1, 't1', 125, 125, 1, ?, ?, ?)`, at, at, h)
	require.NoError(t, err)
	closeConn()

	db, err := Open(path, &Options{Synchronous: SyncNormal})
	require.NoError(t, err)
	defer db.Close()
	var version int
	require.NoError(t, db.read.QueryRow("SELECT max(version) FROM schema_version").Scan(&version))
	require.Equal(t, SchemaVersion(), version)
	for _, table := range []string{"ledger_accounts", "ledger_transfers", "ledger_entries"} {
		var ddl string
		require.NoError(t, db.read.QueryRow(`SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?`, table).Scan(&ddl))
		require.NotContains(t, ddl, "length(", table)
		require.Contains(t, ddl, "STRICT", table)
	}
	var rowid int
	require.NoError(t, db.read.QueryRow(`SELECT rowid FROM ledger_transfers WHERE id = 't1'`).Scan(&rowid))
	require.Equal(t, 42, rowid)

	acct, err := db.Ledger().Account(ctx, "vol-001")
	require.NoError(t, err)
	require.Equal(t, int64(125), acct.Balance)
	require.Equal(t, [32]byte(h), acct.LastHash)
	rec, err := db.Ledger().Transfer(ctx, "t1")
	require.NoError(t, err)
	require.Equal(t, [32]byte(h), rec.Fingerprint)
	es, err := db.Ledger().Entries(ctx, "vol-001", 0, 10)
	require.NoError(t, err)
	require.Len(t, es, 1)
	require.Equal(t, [32]byte(h), es[0].Hash)
	require.Equal(t, ledger.TransferID("t1"), es[0].Transfer)

	var idx []string
	rows, err := db.read.Query(`SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name LIKE 'ledger_%' ORDER BY name`)
	require.NoError(t, err)
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		idx = append(idx, n)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.Contains(t, strings.Join(idx, " "), "ledger_transfers_due")
}
