package memory_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/civicloop/civicloop/adapters/memory"
	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/points"
	"github.com/civicloop/civicloop/points/pointstest"
	"github.com/shopspring/decimal"
)

func newPointsBenchStores(*testing.B) (points.Store, ledger.Store) {
	return memory.NewPointsStore(), memory.NewLedgerStore()
}

// BenchmarkConfirmRecord: confirm one record with earning rules applied.
func BenchmarkConfirmRecord(b *testing.B) { pointstest.BenchConfirmRecord(b, newPointsBenchStores) }

// BenchmarkRedeem: hold + stock + post for one gift.
func BenchmarkRedeem(b *testing.B) { pointstest.BenchRedeem(b, newPointsBenchStores) }

// BenchmarkExpireSweep: one sweep over 1,000,000 due lots.
func BenchmarkExpireSweep(b *testing.B) {
	pointstest.BenchExpireSweep(b, newPointsBenchStores, 1_000_000)
}

// BenchmarkPendingOpsBehindStuckOp: the read of pending ops every points
// command makes (a page of 256, Service.inOrder) while one op stays pending
// (a ledger refusal Sync keeps reporting) and 100,000 ops stored after it
// have been acknowledged.
func BenchmarkPendingOpsBehindStuckOp(b *testing.B) {
	ctx := context.Background()
	s := memory.NewPointsStore()
	op := func(id string) points.Op {
		return points.Op{ID: id, Kind: points.OpTransfer, Volunteer: "V1", Points: decimal.New(1, 0)}
	}
	if err := s.Commit(ctx, &points.Change{Ops: []points.Op{op("stuck")}}); err != nil {
		b.Fatal(err)
	}
	for i := range 100_000 {
		id := "op" + strconv.Itoa(i)
		if err := s.Commit(ctx, &points.Change{Ops: []points.Op{op(id)}}); err != nil {
			b.Fatal(err)
		}
		if err := s.AckOps(ctx, []string{id}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		ops, err := s.PendingOps(ctx, 256)
		if err != nil || len(ops) != 1 {
			b.Fatal(len(ops), err)
		}
	}
}
