package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestReadTxDoesNotDeadlockOnNewQueries holds every pooled read connection
// inside a transaction at once and then has each run a query no one has
// prepared yet. Preparing on the pool would need a free connection, which no
// transaction can give up until its query ends; the reader prepares on its
// own connection instead, and caches the query once the transaction is over.
func TestReadTxDoesNotDeadlockOnNewQueries(t *testing.T) {
	const conns = 3
	db, err := Open(filepath.Join(t.TempDir(), "read.db"), &Options{ReadConns: conns, Synchronous: SyncNormal})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var inside, done sync.WaitGroup
	inside.Add(conns)
	errs := make([]error, conns)
	for i := range conns {
		done.Add(1)
		go func() {
			defer done.Done()
			errs[i] = db.readTx(ctx, func(r reader) error {
				inside.Done()
				inside.Wait() // every connection is now inside a transaction
				var n int
				if err := r.QueryRowContext(ctx, fmt.Sprintf("SELECT %d", i+40)).Scan(&n); err != nil {
					return err
				}
				if n != i+40 {
					return fmt.Errorf("got %d, want %d", n, i+40)
				}
				return nil
			})
		}()
	}
	done.Wait()
	for i, err := range errs {
		require.NoError(t, err, "reader %d", i)
	}
	for i := range conns {
		_, cached := db.stmts.Load(fmt.Sprintf("SELECT %d", i+40))
		require.True(t, cached, "query of reader %d is cached after its transaction", i)
	}
}
