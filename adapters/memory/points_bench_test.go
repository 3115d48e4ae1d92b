package memory_test

import (
	"testing"

	"github.com/civicloop/civicloop/adapters/memory"
	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/points"
	"github.com/civicloop/civicloop/points/pointstest"
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
