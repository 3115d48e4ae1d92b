package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
)

// fakeRun stands in for a transaction: it sleeps like a commit and answers
// every command.
func fakeRun(d time.Duration) func(context.Context, []ledger.Command) ([]ledger.Result, error) {
	return func(_ context.Context, cmds []ledger.Command) ([]ledger.Result, error) {
		time.Sleep(d)
		res := make([]ledger.Result, len(cmds))
		for i := range cmds {
			res[i].ID = cmds[i].ID
		}
		return res, nil
	}
}

// groupSizes runs callers goroutines, each submitting rounds single
// commands one at a time, and returns the commands per transaction.
func groupSizes(t *testing.T, g *groupCommit, callers, rounds int) float64 {
	t.Helper()
	var wg sync.WaitGroup
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				cmd := []ledger.Command{{ID: ledger.TransferID(string(rune('a'+c)) + "-" + string(rune('0'+i%10)))}}
				res, err := g.submit(context.Background(), cmd)
				if err != nil || len(res) != 1 || res[0].ID != cmd[0].ID {
					t.Errorf("caller %d round %d: %v %v", c, i, res, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	require.Equal(t, int64(callers*rounds), g.cmds.Load(), "every command ran exactly once")
	return float64(g.cmds.Load()) / float64(g.batches.Load())
}

// Callers that keep one command outstanding each must share one
// transaction, not split into groups that alternate.
func TestGroupCommitWaitsForCallersInFlight(t *testing.T) {
	const callers = 8
	g := newGroupCommit(1, 100, fakeRun(2*time.Millisecond))
	defer g.close()
	per := groupSizes(t, g, callers, 40)
	t.Logf("with the wait: %.2f commands per transaction", per)
	require.Greater(t, per, 0.75*callers, "callers in flight should mostly share one transaction")

	// Without the wait the same callers split (this is what the wait fixes;
	// it shows that the assertion above can fail).
	g0 := newGroupCommit(1, 100, fakeRun(2*time.Millisecond))
	defer g0.close()
	g0.lateWait = 0
	t.Logf("without the wait: %.2f commands per transaction", groupSizes(t, g0, callers, 40))
}

// A lone caller never waits, and a caller in flight that never queues
// delays the others by at most lateWait per transaction.
func TestGroupCommitWaitIsBounded(t *testing.T) {
	g := newGroupCommit(1, 100, fakeRun(0))
	defer g.close()
	start := time.Now()
	for i := range 50 {
		_, err := g.submit(context.Background(), []ledger.Command{{ID: ledger.TransferID("lone-" + string(rune('a'+i%26)))}})
		require.NoError(t, err)
	}
	require.Less(t, time.Since(start), 50*lateWait, "a lone caller must not pay the wait")

	g.inflight.Add(1) // a caller that never queues
	defer g.inflight.Add(-1)
	start = time.Now()
	for i := range 20 {
		_, err := g.submit(context.Background(), []ledger.Command{{ID: ledger.TransferID("held-" + string(rune('a'+i)))}})
		require.NoError(t, err)
	}
	// Each transaction waits at most lateWait, and after a wait that
	// brought nobody the next one does not wait at all.
	require.Less(t, time.Since(start), 2*time.Second, "waits must stay bounded")
}
