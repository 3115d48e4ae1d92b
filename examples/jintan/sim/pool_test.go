package sim

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

func testWorld(t *testing.T, workers int) *world {
	t.Helper()
	w := &world{ptsIDs: &ids{prefix: "P-"}}
	for range workers {
		w.lanes = append(w.lanes, &lane{ids: &jobIDs{prefix: "P-"}})
	}
	return w
}

func TestPoolRunsEveryCallOnce(t *testing.T) {
	w := testWorld(t, 4)
	hits := make([]atomic.Int32, 100)
	require.NoError(t, w.pool(context.Background(), len(hits), func(_ context.Context, _ *lane, i int) error {
		hits[i].Add(1)
		return nil
	}))
	for i := range hits {
		require.EqualValues(t, 1, hits[i].Load(), "call %d", i)
	}
}

func TestPoolReportsFailuresAndCancellation(t *testing.T) {
	w := testWorld(t, 3)
	boom := errors.New("boom")
	err := w.pool(context.Background(), 50, func(_ context.Context, _ *lane, i int) error {
		if i == 7 {
			return boom
		}
		return nil
	})
	require.ErrorIs(t, err, boom)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := atomic.Int32{}
	err = w.pool(ctx, 10, func(context.Context, *lane, int) error { ran.Add(1); return nil })
	require.ErrorIs(t, err, context.Canceled, "a cancelled context is an error, not a silent skip")
	require.Zero(t, ran.Load())
}

// TestParallelIDsFollowTheJob checks that a job's IDs name the job, not the
// worker that ran it, and that the sequential counter never reuses them.
func TestParallelIDsFollowTheJob(t *testing.T) {
	w := testWorld(t, 4)
	w.ptsIDs.next() // P-0000001, taken before
	got := make([][]string, 6)
	jobs := make([]func(context.Context, *lane) error, len(got))
	for i := range jobs {
		jobs[i] = func(_ context.Context, l *lane) error {
			got[i] = []string{l.ids.next(), l.ids.next()}
			return nil
		}
	}
	require.NoError(t, w.parallel(context.Background(), jobs))
	for i, ids := range got {
		n := 2 + i
		require.Equal(t, []string{fmt.Sprintf("P-%07d-1", n), fmt.Sprintf("P-%07d-2", n)}, ids, "job %d", i)
	}
	require.Equal(t, "P-0000008", w.ptsIDs.next())
}
