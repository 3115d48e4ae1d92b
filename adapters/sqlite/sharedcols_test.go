package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
)

func TestValuesQueryNamesSharedColumnsOfTheFirstRow(t *testing.T) {
	w := &writer{queries: make(map[valuesKey]string)}
	q, ok := w.valuesQuery("INSERT INTO t (a, b, c) VALUES ", "", 3, 3, 1<<1)
	require.True(t, ok)
	require.Equal(t, "INSERT INTO t (a, b, c) VALUES (?, ?, ?), (?, ?2, ?), (?, ?2, ?)", q)
	args := []any{"a1", int64(7), "c1", "a2", int64(7), "c2", "a3", int64(7), "c3"}
	require.Equal(t, uint64(1<<1), sharedCols(args, 3, 1<<0|1<<1|1<<2))
	require.Equal(t, []any{"a1", int64(7), "c1", "a2", "c2", "a3", "c3"}, packShared(args, 3, 1<<1))

	// Values of different types, and byte slices, are never shared.
	require.Zero(t, sharedCols([]any{int64(1), "1"}, 1, 1))
	require.Zero(t, sharedCols([]any{[]byte{1}, []byte{1}}, 1, 1))
	require.Equal(t, uint64(1), sharedCols([]any{nil, nil}, 1, 1))

	// Past maxShapes statements with shared columns, the caller binds
	// every value.
	for i := range maxShapes - 1 {
		_, ok := w.valuesQuery("INSERT INTO t (a, b, c) VALUES ", "", 3, 4+i, 1)
		require.True(t, ok)
	}
	_, ok = w.valuesQuery("INSERT INTO t (a, b, c) VALUES ", "", 3, 3, 1<<2)
	require.False(t, ok)
	q, ok = w.valuesQuery("INSERT INTO t (a, b, c) VALUES ", "", 3, 3, 1<<1)
	require.True(t, ok, "a statement made before the bound still serves")
	require.Equal(t, "INSERT INTO t (a, b, c) VALUES (?, ?, ?), (?, ?2, ?), (?, ?2, ?)", q)
}

// TestBatchWithSharedColumnsStoresWhatSingleWritesStore writes the same
// transfers into two files, as one batch (whose statements bind a value the
// rows share once) and one transfer per call (single-row statements), and
// checks that both files hold the same records, entries and accounts. The
// requests agree on every column in the first statement's rows, on some in
// the second's, and on few in the last one's.
func TestBatchWithSharedColumnsStoresWhatSingleWritesStore(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2023, 4, 17, 9, 0, 0, 0, time.UTC)
	var reqs []ledger.TransferRequest
	for i := range 37 {
		r := award(fmt.Sprint("x", i), volunteer(i%5), "1.25")
		if i >= 16 {
			r.Reason = []string{"service", "bonus"}[i%2]
			r.Principal = []string{"", "admin"}[i%3%2]
			if i%4 == 0 {
				r.Metadata = map[string]string{"k": fmt.Sprint(i)}
			}
		}
		if i >= 32 {
			r.Postings = ledger.Move(testPoints, "issuer", volunteer(i%5), decimal.RequireFromString(fmt.Sprintf("%d.5", i)))
			r.EffectiveAt = at.Add(-time.Duration(i) * time.Minute)
			if i%2 == 0 {
				r.HoldUntil = at.Add(time.Duration(i) * time.Hour)
			}
		}
		reqs = append(reqs, r)
	}
	dbBatch, svcBatch := openLedger(t, filepath.Join(t.TempDir(), "batch.db"), &Options{Synchronous: SyncNormal})
	openAccounts(t, svcBatch, 5)
	results, err := svcBatch.TransferBatch(ctx, reqs)
	require.NoError(t, err)
	for _, r := range results {
		require.NoError(t, r.Err)
	}
	dbOne, svcOne := openLedger(t, filepath.Join(t.TempDir(), "one.db"), &Options{Synchronous: SyncNormal})
	openAccounts(t, svcOne, 5)
	for _, r := range reqs {
		_, err := svcOne.Transfer(ctx, r)
		require.NoError(t, err)
	}

	for _, r := range reqs {
		want, err := dbOne.Ledger().Transfer(ctx, r.ID)
		require.NoError(t, err)
		got, err := dbBatch.Ledger().Transfer(ctx, r.ID)
		require.NoError(t, err)
		require.Equal(t, want, got, "transfer %s", r.ID)
	}
	for _, id := range []ledger.AccountID{"issuer", volunteer(0), volunteer(1), volunteer(2), volunteer(3), volunteer(4)} {
		want, err := dbOne.Ledger().Account(ctx, id)
		require.NoError(t, err)
		got, err := dbBatch.Ledger().Account(ctx, id)
		require.NoError(t, err)
		require.Equal(t, want, got, "account %s", id)
		wantE, err := dbOne.Ledger().Entries(ctx, id, 0, 100)
		require.NoError(t, err)
		gotE, err := dbBatch.Ledger().Entries(ctx, id, 0, 100)
		require.NoError(t, err)
		require.Equal(t, wantE, gotE, "entries of %s", id)
	}
	_, err = svcBatch.Audit(ctx)
	require.NoError(t, err)
}
