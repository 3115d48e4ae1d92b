package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/civicloop/civicloop/ledger"
)

// TestTranslateRealDriverErrors provokes each kind of failure SQLite
// reports, through this package where it can be reached and on a raw
// connection (then translated) where not, and checks that the error
// matches its sentinel and still carries the driver's code.
func TestTranslateRealDriverErrors(t *testing.T) {
	tests := []struct {
		name string
		// provoke returns the error a caller of this package would see.
		provoke func(t *testing.T) error
		want    error
		code    int // primary result code of the driver error
	}{
		{"busy: a write while another process holds the write lock", provokeBusy, ErrBusy, sqlite3.SQLITE_BUSY},
		{"corrupt: a damaged table page", provokeCorruptPage, ErrCorrupt, sqlite3.SQLITE_CORRUPT},
		{"not a database: a garbage file on a raw connection", provokeNotADB, ErrCorrupt, sqlite3.SQLITE_NOTADB},
		{"read-only: a write through the read pool", provokeReadOnly, ErrStorage, sqlite3.SQLITE_READONLY},
		{"full: a write past the page limit", provokeFull, ErrStorage, sqlite3.SQLITE_FULL},
		{"cannot open: a read-only file in a missing folder", provokeCantOpen, ErrStorage, sqlite3.SQLITE_CANTOPEN},
	}
	sentinels := []error{ErrBusy, ErrCorrupt, ErrStorage, ErrConstraint}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.provoke(t)
			require.ErrorIs(t, err, tc.want)
			for _, s := range sentinels {
				if s != tc.want {
					require.NotErrorIs(t, err, s, "one sentinel per error")
				}
			}
			var se *msqlite.Error
			require.True(t, errors.As(err, &se), "the driver error stays in the chain: %v", err)
			require.Equal(t, tc.code, se.Code()&0xff, "primary result code of %v", se)
			require.Same(t, err, translate(err), "translating twice changes nothing")
		})
	}
}

func TestTranslatePassesOtherErrors(t *testing.T) {
	require.NoError(t, translate(nil))
	plain := fmt.Errorf("not from the driver: %w", os.ErrClosed)
	require.Same(t, plain, translate(plain))
	require.Same(t, plain, translateAs(plain, ledger.ErrAccountExists))
}

// provokeBusy holds BEGIN IMMEDIATE on a second, raw connection to the
// file, as another process would, and writes through the DB. The refused
// write changes nothing and succeeds once the lock is gone.
func provokeBusy(t *testing.T) error {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "busy.db")
	db, err := Open(path, &Options{BusyTimeout: 20 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.w.do(ctx, func(tx *wtx) error {
		_, err := tx.exec("CREATE TABLE scratch (k TEXT PRIMARY KEY, v INTEGER NOT NULL) STRICT")
		return err
	}))

	raw, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer raw.Close()
	other, err := raw.Conn(ctx)
	require.NoError(t, err)
	defer other.Close()
	_, err = other.ExecContext(ctx, "BEGIN IMMEDIATE")
	require.NoError(t, err)

	busy := db.w.do(ctx, insert("k1", 1))
	require.Error(t, busy)
	require.Empty(t, scratchKeys(t, db), "a busy write changes nothing")

	_, err = other.ExecContext(ctx, "ROLLBACK")
	require.NoError(t, err)
	require.NoError(t, db.w.do(ctx, insert("k1", 1)), "the write may be retried")
	require.Equal(t, map[string]int{"k1": 1}, scratchKeys(t, db))
	return busy
}

// provokeCorruptPage breaks the page header of the ledger_entries table in
// the file and reads the entries through the ledger store.
func provokeCorruptPage(t *testing.T) error {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "corrupt.db")
	db, svc := openLedger(t, path, nil)
	openAccounts(t, svc, 1)
	_, err := svc.Transfer(ctx, award("a1", volunteer(0), "3"))
	require.NoError(t, err)
	var root int64
	require.NoError(t, db.read.QueryRow(`SELECT rootpage FROM sqlite_schema WHERE name = 'ledger_entries'`).Scan(&root))
	require.Greater(t, root, int64(1))
	require.NoError(t, db.Close())
	_, err = os.Stat(path + "-wal")
	require.ErrorIs(t, err, os.ErrNotExist, "Close checkpoints and removes the log")

	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	// The first byte of a b-tree page is its type (2, 5, 10 or 13); any
	// other value is corruption.
	_, err = f.WriteAt([]byte{0x00}, (root-1)*pageSize)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	db, err = Open(path, nil)
	require.NoError(t, err, "Open reads only the schema, which is intact")
	t.Cleanup(func() { _ = db.Close() })
	_, err = db.Ledger().Entries(ctx, volunteer(0), 0, 10)
	require.Error(t, err)
	return err
}

// provokeNotADB opens a file of garbage on a raw connection: the error
// mid-run, where Open's own check does not apply.
func provokeNotADB(t *testing.T) error {
	path := filepath.Join(t.TempDir(), "garbage.db")
	require.NoError(t, os.WriteFile(path, []byte(strings.Repeat("not a database page ", 1024)), 0o600))
	raw, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer raw.Close()
	var n int
	err = raw.QueryRow("SELECT count(*) FROM sqlite_schema").Scan(&n)
	require.Error(t, err)
	return translate(err)
}

// provokeReadOnly writes on the read pool, which is query-only: a
// read-only database as root sees it.
func provokeReadOnly(t *testing.T) error {
	db := openTestDB(t)
	_, err := db.read.Exec("INSERT INTO scratch (k, v) VALUES ('x', 1)")
	require.Error(t, err)
	require.Empty(t, scratchKeys(t, db))
	return translate(err)
}

// provokeFull caps the writer's file at its current size and writes until
// a write needs a page more.
func provokeFull(t *testing.T) error {
	ctx := context.Background()
	db := openTestDB(t)
	require.NoError(t, db.w.do(ctx, func(tx *wtx) error {
		_, err := tx.exec("PRAGMA max_page_count = 1") // lowered to the file's size
		return err
	}))
	// The cap lives on the writer's connection only; undo it so Close can
	// checkpoint.
	defer func() {
		require.NoError(t, db.w.do(ctx, func(tx *wtx) error {
			_, err := tx.exec("PRAGMA max_page_count = 1073741823")
			return err
		}))
	}()
	v := strings.Repeat("x", pageSize)
	for i := range 100 {
		err := db.w.do(ctx, func(tx *wtx) error {
			_, err := tx.exec("INSERT INTO scratch (k, v) VALUES (?, ?)", fmt.Sprint(i, v), i)
			return err
		})
		if err != nil {
			require.Len(t, scratchKeys(t, db), i, "the refused write changes nothing")
			return err
		}
	}
	t.Fatal("100 pages were written past max_page_count")
	return nil
}

// provokeCantOpen opens a missing file read-only on a raw connection, as a
// file on a lost mount would fail.
func provokeCantOpen(t *testing.T) error {
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "missing", "x.db")+"?mode=ro")
	require.NoError(t, err)
	defer raw.Close()
	err = raw.Ping()
	require.Error(t, err)
	return translate(err)
}
