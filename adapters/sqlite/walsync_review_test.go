package sqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// SQLite follows a symbolic link to the database file and keeps the log
// next to the link's target. The file walSync syncs must be that log, or
// every commit is acknowledged without being synced at all: Open through
// a link must work as in SyncNormal mode, and must not pick up a stray
// file lying where the log of the link's own name would be.
func TestWALSyncSyncsTheLogOfALinkedFile(t *testing.T) {
	for _, stray := range []bool{false, true} {
		name := map[bool]string{false: "plain link", true: "stray file at link-wal"}[stray]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, "target.db")
			db, err := Open(target, nil)
			require.NoError(t, err)
			require.NoError(t, db.Close())
			link := filepath.Join(dir, "link.db")
			require.NoError(t, os.Symlink(target, link))
			if stray {
				require.NoError(t, os.WriteFile(link+"-wal", nil, 0o600))
			}

			db, svc := openLedger(t, link, nil)
			openAccounts(t, svc, 1)
			_, err = svc.Transfer(context.Background(), award("t1", volunteer(0), "1.00"))
			require.NoError(t, err)

			synced, err := db.w.ws.f.Stat()
			require.NoError(t, err)
			written, err := os.Stat(target + "-wal")
			require.NoError(t, err, "SQLite keeps the log next to the link's target")
			require.True(t, os.SameFile(synced, written),
				"walSync syncs %q, not the log SQLite writes (%q)", db.w.ws.path, target+"-wal")
		})
	}
}

// Another handle on the same file (in production: another process using
// the file, which doc.go allows) commits in durable mode. Until that
// commit is synced, a read through this handle must not return it: a
// power loss could still take it back.
func TestWALSyncOtherHandleShowsOnlySyncedCommits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.db")
	db1, svc1 := openLedger(t, path, nil)
	openAccounts(t, svc1, 1)
	_, svc2 := openLedger(t, path, nil)
	ctx := context.Background()

	g := gate(t, db1)
	done := make(chan error, 1)
	go func() {
		_, err := svc1.Transfer(ctx, award("t1", volunteer(0), "2.50"))
		done <- err
	}()
	require.Eventually(t, func() bool { return g.calls.Load() > 0 }, 10*time.Second, time.Millisecond)
	notYet(t, done, "the transfer was acknowledged")

	read := make(chan decimal.Decimal, 1)
	go func() {
		a, err := svc2.Account(ctx, volunteer(0))
		if err == nil {
			read <- a.Balance
		}
	}()
	select {
	case v := <-read:
		if !v.IsZero() {
			t.Fatalf("the other handle returned balance %s from a commit not yet synced", v)
		}
	case <-time.After(50 * time.Millisecond):
	}
	g.let()
	require.NoError(t, <-done)
}

// When the sync of a commit fails, the commit stays in the log and is
// visible to new snapshots, but nothing says it reached the disk: its
// caller is told so. A read must not return it as if it were durable
// (with synchronous=FULL SQLite made a commit visible only after its
// sync succeeded): it either fails or does not show the commit.
func TestWALSyncFailedCommitIsNotRead(t *testing.T) {
	db, svc := openLedger(t, filepath.Join(t.TempDir(), "l.db"), nil)
	openAccounts(t, svc, 1)
	ctx := context.Background()
	g := gate(t, db)
	g.err = errors.New("disk on fire")
	g.let()
	_, err := svc.Transfer(ctx, award("t1", volunteer(0), "1.00"))
	require.ErrorContains(t, err, "may not be on disk")

	a, err := svc.Account(ctx, volunteer(0))
	if err == nil && !a.Balance.IsZero() {
		t.Fatalf("a read returned balance %s from a commit whose sync failed", a.Balance)
	}
}
