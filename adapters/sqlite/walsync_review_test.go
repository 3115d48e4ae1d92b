package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"

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
