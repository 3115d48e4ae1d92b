package memory_test

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/civicloop/civicloop/adapters/memory"
	"github.com/civicloop/civicloop/internal/cputime"
	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/org"
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

// BenchmarkConfirmLedgerOnly: the ledger transfer BenchmarkConfirmRecord
// makes per op (hours and points from the scheme's issued accounts to one
// of 1,000 volunteers, through the ledger Service over the memory ledger
// store, as book.apply sends it), alone: the floor of a confirmation.
func BenchmarkConfirmLedgerOnly(b *testing.B) {
	ctx := context.Background()
	led, err := ledger.New(&pointstest.FlakyLedger{Store: memory.NewLedgerStore()}, &ledger.Options{Now: func() time.Time { return pointstest.Start }})
	if err != nil {
		b.Fatal(err)
	}
	assets := []ledger.Asset{points.HoursAsset, points.PointsAsset}
	open := func(id ledger.AccountID, asset ledger.Asset, owner string, noFloor bool) {
		if _, err := led.OpenAccount(ctx, ledger.AccountSpec{ID: id, Asset: asset, Owner: owner, NoFloor: noFloor}); err != nil {
			b.Fatal(err)
		}
	}
	for _, a := range assets {
		open(points.SchemeAccount(points.Issued, a), a, "points", true)
	}
	// The account IDs made once, as book caches them.
	issuedHours, issuedPoints := points.SchemeAccount(points.Issued, points.HoursAsset), points.SchemeAccount(points.Issued, points.PointsAsset)
	vols := make([][2]ledger.AccountID, pointstest.BenchVolunteers)
	for i := range vols {
		v := org.VolunteerID("B" + strconv.Itoa(10000 + i)[1:])
		for j, a := range assets {
			vols[i][j] = points.VolunteerAccount(v, a)
			open(vols[i][j], a, string(v), false)
		}
	}
	ids := make([]ledger.TransferID, b.N)
	for i := range ids {
		ids[i] = ledger.TransferID("rec:id" + strconv.Itoa(1_000_000 + i)[1:])
	}
	hours, pts := decimal.New(25, -1), decimal.New(25, 0)
	var postings [4]ledger.Posting
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	for i := 0; i < b.N; i++ {
		v := vols[i%len(vols)]
		at := pointstest.Day(i / len(vols)).Add(time.Hour)
		postings = [4]ledger.Posting{
			{Account: issuedHours, Side: ledger.Debit, Asset: points.HoursAsset, Amount: hours},
			{Account: v[0], Side: ledger.Credit, Asset: points.HoursAsset, Amount: hours},
			{Account: issuedPoints, Side: ledger.Debit, Asset: points.PointsAsset, Amount: pts},
			{Account: v[1], Side: ledger.Credit, Asset: points.PointsAsset, Amount: pts},
		}
		r, err := led.Transfer(ctx, ledger.TransferRequest{ID: ids[i], Postings: postings[:], Reason: "points.service", Principal: "admin-S1", EffectiveAt: at})
		if err == nil {
			err = r.Err
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	ledgerReportCPU(b, cputime.Process()-cpu, b.N, "cpu-ns/op")
}

// BenchmarkRedeemLedgerOnly: the ledger hold and post BenchmarkRedeem makes
// per op (one point held from one of 1,000 volunteers for the redeemed
// account, then posted), alone: the floor of a redemption and its
// fulfilment.
func BenchmarkRedeemLedgerOnly(b *testing.B) {
	ctx := context.Background()
	led, err := ledger.New(&pointstest.FlakyLedger{Store: memory.NewLedgerStore()}, &ledger.Options{Now: func() time.Time { return pointstest.Start }})
	if err != nil {
		b.Fatal(err)
	}
	a := points.PointsAsset
	issued, redeemed := points.SchemeAccount(points.Issued, a), points.SchemeAccount(points.Redeemed, a)
	for _, id := range []ledger.AccountID{issued, redeemed} {
		if _, err := led.OpenAccount(ctx, ledger.AccountSpec{ID: id, Asset: a, Owner: "points", NoFloor: true}); err != nil {
			b.Fatal(err)
		}
	}
	vols := make([]ledger.AccountID, pointstest.BenchVolunteers)
	for i := range vols {
		v := "B" + strconv.Itoa(10000 + i)[1:]
		vols[i] = points.VolunteerAccount(org.VolunteerID(v), a)
		if _, err := led.OpenAccount(ctx, ledger.AccountSpec{ID: vols[i], Asset: a, Owner: v}); err != nil {
			b.Fatal(err)
		}
		if _, err := led.Transfer(ctx, ledger.TransferRequest{ID: ledger.TransferID("seed:" + v), Reason: "points.bonus",
			Postings: ledger.Move(a, issued, vols[i], decimal.NewFromInt(1_000_000))}); err != nil {
			b.Fatal(err)
		}
	}
	holds, posts := make([]ledger.TransferID, b.N), make([]ledger.TransferID, b.N)
	for i := range holds {
		id := "id" + strconv.Itoa(10_000_000 + i)[1:]
		holds[i], posts[i] = ledger.TransferID("hold:"+id), ledger.TransferID("post:"+id)
	}
	price := decimal.NewFromInt(1)
	deadline := pointstest.Start.Add(37 * 24 * time.Hour)
	var postings [2]ledger.Posting
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	for i := 0; i < b.N; i++ {
		postings = [2]ledger.Posting{
			{Account: vols[i%len(vols)], Side: ledger.Debit, Asset: a, Amount: price},
			{Account: redeemed, Side: ledger.Credit, Asset: a, Amount: price},
		}
		r, err := led.Transfer(ctx, ledger.TransferRequest{ID: holds[i], Postings: postings[:], Reason: "points.redeem", Principal: "B0001",
			EffectiveAt: pointstest.Start, HoldUntil: deadline})
		if err == nil {
			err = r.Err
		}
		if err == nil {
			r, err = led.Post(ctx, ledger.PostRequest{ID: posts[i], Hold: holds[i], Reason: "points.fulfil", Principal: "admin-S1", EffectiveAt: pointstest.Start})
		}
		if err == nil {
			err = r.Err
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	ledgerReportCPU(b, cputime.Process()-cpu, b.N, "cpu-ns/op")
}
