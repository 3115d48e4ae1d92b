package memory

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/points"
)

// outboxOp is an op of the outbox tests, kept on its own (no award or
// redemption row).
func outboxOp(id string) points.Op {
	return points.Op{ID: id, Kind: points.OpTransfer, Volunteer: "V1", Points: decimal.New(1, 0)}
}

// pendingIDs returns the IDs PendingOps returns for limit.
func pendingIDs(t *testing.T, s *PointsStore, limit int) []string {
	t.Helper()
	ops, err := s.PendingOps(context.Background(), limit)
	require.NoError(t, err)
	var ids []string
	for i, op := range ops {
		if i > 0 {
			require.Greater(t, op.Seq, ops[i-1].Seq)
		}
		ids = append(ids, op.ID)
	}
	return ids
}

// TestPointsOutboxStuckOp: an op that stays pending (a ledger refusal Sync
// keeps reporting) does not keep the acknowledged ops stored after it: the
// outbox holds a bounded number of slots, and PendingOps still returns the
// stuck op and the later pending ones in Seq order.
func TestPointsOutboxStuckOp(t *testing.T) {
	ctx := context.Background()
	s := NewPointsStore()
	require.NoError(t, s.Commit(ctx, &points.Change{Ops: []points.Op{outboxOp("stuck")}}))
	for i := range 20_000 {
		id := "op" + strconv.Itoa(i)
		require.NoError(t, s.Commit(ctx, &points.Change{Ops: []points.Op{outboxOp(id)}}))
		require.Equal(t, []string{"stuck", id}, pendingIDs(t, s, 256))
		require.NoError(t, s.AckOps(ctx, []string{id}))
		require.LessOrEqual(t, len(s.opLog), 1026, "after op %d", i)
	}
	require.Equal(t, []string{"stuck"}, pendingIDs(t, s, 256))
	require.NoError(t, s.Commit(ctx, &points.Change{Ops: []points.Op{outboxOp("late")}}))
	require.Equal(t, []string{"stuck", "late"}, pendingIDs(t, s, 256))
	require.Equal(t, []string{"stuck"}, pendingIDs(t, s, 1))
	// A backlog (the ledger down) acknowledged at last, but for the stuck
	// op: the large array goes.
	var backlog []string
	for i := range 20_000 {
		id := "backlog" + strconv.Itoa(i)
		require.NoError(t, s.Commit(ctx, &points.Change{Ops: []points.Op{outboxOp(id)}}))
		backlog = append(backlog, id)
	}
	require.Len(t, pendingIDs(t, s, 1<<20), 20_002)
	require.NoError(t, s.AckOps(ctx, append(backlog, "late")))
	require.Equal(t, []string{"stuck"}, pendingIDs(t, s, 256))
	require.LessOrEqual(t, cap(s.opLog), 2)
	require.NoError(t, s.AckOps(ctx, []string{"stuck", "late", "stuck", "unknown"}))
	require.Empty(t, pendingIDs(t, s, 256))
	require.Empty(t, s.opLog)
}

// TestPointsOutboxModel: random commits and acknowledgements (repeated and
// unknown IDs among them), with a few ops that stay pending for long,
// against a list of the pending IDs in Seq order, read by PendingOps and
// FirstPendingOp; the outbox never holds more than about twice as many
// slots as pending ops.
func TestPointsOutboxModel(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	s := NewPointsStore()
	var model []string // pending IDs in Seq order
	sticky := map[string]bool{}
	next := 0
	for step := range 30_000 {
		for range 1 + rng.IntN(3) {
			id := "op" + strconv.Itoa(next)
			next++
			require.NoError(t, s.Commit(ctx, &points.Change{Ops: []points.Op{outboxOp(id)}}))
			model = append(model, id)
			sticky[id] = rng.IntN(100) == 0
		}
		// Acknowledge most pending ops soon; a few stay for a long time.
		var ack []string
		keep := model[:0]
		for _, id := range model {
			if (!sticky[id] && rng.IntN(10) < 7) || rng.IntN(1000) == 0 {
				ack = append(ack, id)
				continue
			}
			keep = append(keep, id)
		}
		model = keep
		if rng.IntN(4) == 0 {
			ack = append(ack, "op"+strconv.Itoa(rng.IntN(next)), "unknown") // repeated or still pending, and unknown
		}
		rng.Shuffle(len(ack), func(i, j int) { ack[i], ack[j] = ack[j], ack[i] })
		require.NoError(t, s.AckOps(ctx, ack))
		// An extra ID acknowledged above may have been pending.
		model = pendingModel(model, ack)
		limit := 1 + rng.IntN(len(model)+2)
		want := model[:min(limit, len(model))]
		got := pendingIDs(t, s, limit)
		if len(want) == 0 {
			require.Empty(t, got, "step %d", step)
		} else {
			require.Equal(t, want, got, "step %d", step)
		}
		first, err := s.FirstPendingOp(ctx)
		require.NoError(t, err)
		if len(model) == 0 {
			require.Empty(t, first, "step %d", step)
		} else {
			require.Equal(t, model[0], first, "step %d", step)
		}
		require.Equal(t, len(model), s.opLive, "step %d", step)
		require.LessOrEqual(t, len(s.opLog), max(2*len(model), len(model)+1025), "step %d", step)
	}
}

// pendingModel returns the IDs of model not in ack, in their order.
func pendingModel(model, ack []string) []string {
	acked := make(map[string]bool, len(ack))
	for _, id := range ack {
		acked[id] = true
	}
	out := model[:0]
	for _, id := range model {
		if !acked[id] {
			out = append(out, id)
		}
	}
	return out
}
