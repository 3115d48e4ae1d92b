package memory_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/civicloop/civicloop/adapters/memory"
	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/points"
	"github.com/civicloop/civicloop/points/pointstest"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

func TestPointsConformance(t *testing.T) {
	pointstest.Run(t,
		func(*testing.T) points.Store { return memory.NewPointsStore() },
		func(*testing.T) ledger.Store { return memory.NewLedgerStore() })
}

// plainPointsStore hides the memory store's optional capabilities
// (points.UsageUnitsStore, points.FirstPendingStore, ...), so that the Service's fallback paths, the ones
// the SQL adapters take, run against the suite too.
type plainPointsStore struct{ points.Store }

func TestPointsConformanceWithoutCapabilities(t *testing.T) {
	pointstest.Run(t,
		func(*testing.T) points.Store { return plainPointsStore{memory.NewPointsStore()} },
		func(*testing.T) ledger.Store { return memory.NewLedgerStore() })
}

// TestPointsUsageKeys: counters of short periods (kept by their bytes) and
// of long ones (kept by string) add up and read back apart.
func TestPointsUsageKeys(t *testing.T) {
	ctx := context.Background()
	s := memory.NewPointsStore()
	long := "period-longer-than-twelve-bytes"
	periods := []string{"D:2026-03-02", "M:2026-03", "M:2026-03\x00", long, ""}
	for i := 0; i < 2; i++ {
		c := &points.Change{Wallets: []points.Wallet{{Volunteer: "V1", Version: int64(i + 1)}}}
		for j, p := range periods[:4] {
			c.Usage = append(c.Usage, points.UsageDelta{Volunteer: "V1", Period: p, Points: decimal.New(int64(j+1), 0)})
		}
		require.NoError(t, s.Commit(ctx, c))
	}
	got, err := s.Usage(ctx, "V1", periods)
	require.NoError(t, err)
	units := make([]int64, len(periods))
	require.NoError(t, s.UsageUnits(ctx, "V1", periods, units))
	for j, want := range []int64{2, 4, 6, 8, 0} {
		require.Truef(t, got[j].Equal(decimal.New(want, 0)), "%q: got %s, want %d", periods[j], got[j], want)
		require.Equal(t, want*100, units[j], periods[j])
	}
	other, err := s.Usage(ctx, "V2", periods[:1])
	require.NoError(t, err)
	require.True(t, other[0].IsZero())
}

// TestPointsRecordRows: records come back exactly as committed, whether
// kept compact (plain UTC times) or in full (other locations, monotonic
// readings), before and after an update, and in time order.
func TestPointsRecordRows(t *testing.T) {
	ctx := context.Background()
	s := memory.NewPointsStore()
	at := time.Date(2026, 3, 2, 9, 0, 0, 123000, time.UTC)
	rec := func(id string, start time.Time) points.Record {
		return points.Record{ID: id, RecordInput: points.RecordInput{Volunteer: "V1",
			Activity:  points.Activity{Name: "敬老", Category: "elderly", Place: "hall", Content: "visits", Start: start, End: start.Add(time.Hour), HardToStaff: true},
			Organiser: "S1", Team: "T1", Travel: time.Minute, EnteredHours: decimal.New(15, -1), Training: "tr", Honours: "ho", Evaluation: "ev"},
			Hours: decimal.New(15, -1), HoursNote: "note", Status: points.RecordDraft, SourceKey: "src:" + id, RecordedBy: "admin", RecordedAt: at, Version: 1}
	}
	shanghai := time.FixedZone("CST", 8*3600)
	recs := []points.Record{rec("R3", at.Add(2*time.Hour)), rec("R1", at), rec("R2", at.In(shanghai).Add(time.Hour)), rec("R4", time.Now().Add(-time.Hour))}
	require.NoError(t, s.Commit(ctx, &points.Change{NewRecords: recs}))
	for _, r := range recs {
		got, err := s.Record(ctx, r.ID)
		require.NoError(t, err)
		require.Equal(t, r, got)
		got, err = s.RecordBySource(ctx, r.SourceKey)
		require.NoError(t, err)
		require.Equal(t, r, got)
	}
	// An update: confirmed, and one fixed string changed.
	up := recs[0]
	up.Status, up.ConfirmedBy, up.ConfirmedAt, up.Award, up.Version = points.RecordConfirmed, "admin2", at.Add(time.Minute), "rec:R3", 2
	up2 := recs[1]
	up2.HoursNote, up2.Version = "other note", 2
	require.NoError(t, s.Commit(ctx, &points.Change{Records: []points.Record{up, up2}}))
	for _, r := range []points.Record{up, up2} {
		got, err := s.Record(ctx, r.ID)
		require.NoError(t, err)
		require.Equal(t, r, got)
	}
	list, err := s.Records(ctx, "V1", at.Add(-time.Second), at.Add(3*time.Hour))
	require.NoError(t, err)
	ids := []string{}
	for _, r := range list {
		ids = append(ids, r.ID)
	}
	require.Equal(t, []string{"R1", "R2", "R3"}, ids)
	require.Equal(t, up2, list[0])
	require.Equal(t, recs[2], list[1])
}

// TestPointsUsageManyPeriods: counters stay right when more periods are
// written than the store keeps at hand, in any order.
func TestPointsUsageManyPeriods(t *testing.T) {
	ctx := context.Background()
	s := memory.NewPointsStore()
	periods := []string{"D:2026-03-01", "D:2026-03-02", "D:2026-03-03", "W:2026-02-23", "W:2026-03-02", "M:2026-02", "M:2026-03", "", "x", "long-period-name-beyond-12"}
	want := map[string]int64{}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 300; n++ {
		c := &points.Change{Wallets: []points.Wallet{{Volunteer: "V1", Version: int64(n)}}}
		for k := rng.IntN(4); k >= 0; k-- {
			p := periods[rng.IntN(len(periods))]
			u := int64(rng.IntN(1000) - 300)
			want[p] += u
			c.Usage = append(c.Usage, points.UsageDelta{Volunteer: "V1", Period: p, Points: decimal.New(u, -2)})
		}
		require.NoError(t, s.Commit(ctx, c))
		got := make([]int64, len(periods))
		require.NoError(t, s.UsageUnits(ctx, "V1", periods, got))
		for i, p := range periods {
			require.Equal(t, want[p], got[i], "after %d changes: %q", n, p)
		}
	}
}

// TestPointsOpIDs: an op ID is refused once used, wherever the store keeps
// it (an award's row, a redemption's row, or on its own), and every op is
// pending until acknowledged.
func TestPointsOpIDs(t *testing.T) {
	ctx := context.Background()
	s := memory.NewPointsStore()
	op := func(id string) points.Op {
		return points.Op{ID: id, Kind: points.OpTransfer, Volunteer: "V1", Points: decimal.New(1, 0)}
	}
	red := func(id string, version int64) points.Redemption {
		return points.Redemption{ID: id, Volunteer: "V1", Item: "I1", Price: decimal.New(1, 0), Status: points.RedemptionHeld, Version: version}
	}
	commit := func(c *points.Change) error { return s.Commit(ctx, c) }
	dup := func(c *points.Change) { require.ErrorIs(t, commit(c), points.ErrDuplicate) }
	ok := func(c *points.Change) { require.NoError(t, commit(c)) }

	ok(&points.Change{Ops: []points.Op{op("hold:R1")}}) // no redemption R1: kept on its own
	dup(&points.Change{Ops: []points.Op{op("hold:R1")}})
	dup(&points.Change{Redemptions: []points.Redemption{red("R1", 1)}, Ops: []points.Op{op("hold:R1")}})
	ok(&points.Change{Redemptions: []points.Redemption{red("R2", 1)}, Ops: []points.Op{op("hold:R2")}}) // in R2's row
	dup(&points.Change{Ops: []points.Op{op("hold:R2")}})
	ok(&points.Change{Redemptions: []points.Redemption{red("R2", 2)}, Ops: []points.Op{op("post:R2")}})
	dup(&points.Change{Ops: []points.Op{op("post:R2")}})
	ok(&points.Change{Ops: []points.Op{op("void:R2")}})
	dup(&points.Change{Redemptions: []points.Redemption{red("R2", 3)}, Ops: []points.Op{op("void:R2")}})
	aw := points.Award{ID: "rec:X", Volunteer: "V1", Kind: points.AwardService, Hours: decimal.New(1, 0), Points: decimal.New(1, 0)}
	ok(&points.Change{Awards: []points.Award{aw}, Ops: []points.Op{op("rec:X")}}) // in the award's row
	dup(&points.Change{Ops: []points.Op{op("rec:X")}})
	ok(&points.Change{Ops: []points.Op{op("exp:L:1")}})
	dup(&points.Change{Ops: []points.Op{op("exp:L:1")}})

	pending, err := s.PendingOps(ctx, 100)
	require.NoError(t, err)
	var ids []string
	for i, p := range pending {
		ids = append(ids, p.ID)
		if i > 0 {
			require.Greater(t, p.Seq, pending[i-1].Seq)
		}
	}
	want := []string{"hold:R1", "hold:R2", "post:R2", "void:R2", "rec:X", "exp:L:1"}
	require.Equal(t, want, ids)
	require.NoError(t, s.AckOps(ctx, []string{"post:R2", "rec:X", "hold:R1"}))
	pending, err = s.PendingOps(ctx, 100)
	require.NoError(t, err)
	ids = ids[:0]
	for _, p := range pending {
		ids = append(ids, p.ID)
	}
	require.Equal(t, []string{"hold:R2", "void:R2", "exp:L:1"}, ids)
	require.NoError(t, s.AckOps(ctx, want))
	pending, err = s.PendingOps(ctx, 100)
	require.NoError(t, err)
	require.Empty(t, pending)
	r, err := s.Redemption(ctx, "R2")
	require.NoError(t, err)
	require.Equal(t, int64(2), r.Version)
}

// TestPointsLotUpsertedTwiceInOneChange: a new award's lot named twice in
// one change is upserted, not stored twice (Store.Commit: lots are
// upserted by ID).
func TestPointsLotUpsertedTwiceInOneChange(t *testing.T) {
	ctx := context.Background()
	s := memory.NewPointsStore()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	lot := func(remaining int64) points.Lot {
		return points.Lot{ID: "rec:X", Volunteer: "V1", Amount: decimal.New(10, 0), Remaining: decimal.New(remaining, 0),
			EarnedAt: at, ExpiresAt: at.AddDate(1, 0, 0)}
	}
	award := points.Award{ID: "rec:X", Volunteer: "V1", Kind: points.AwardService, Points: decimal.New(10, 0), At: at, CreatedAt: at}
	require.NoError(t, s.Commit(ctx, &points.Change{Awards: []points.Award{award}, Lots: []points.Lot{lot(10), lot(4)}}))
	lots, err := s.Lots(ctx, "V1")
	require.NoError(t, err)
	require.Len(t, lots, 1)
	require.True(t, lots[0].Remaining.Equal(decimal.New(4, 0)), "remaining %s", lots[0].Remaining)
}

// TestPointsRedemptionAllocationsCopied: the store keeps its own copy of a
// redemption's allocations, whether new, updated with the allocations as
// read (the stored copy is kept) or updated with other ones.
func TestPointsRedemptionAllocationsCopied(t *testing.T) {
	ctx := context.Background()
	s := memory.NewPointsStore()
	d := decimal.NewFromInt
	red := points.Redemption{ID: "R1", Item: "I1", Volunteer: "V1", Price: d(3), Status: points.RedemptionHeld,
		Allocations: []points.Allocation{{Lot: "L1", Points: d(1)}, {Lot: "L2", Points: d(2)}}, HeldAt: pointstest.Start, Version: 1}
	given := red.Allocations
	require.NoError(t, s.Commit(ctx, &points.Change{Redemptions: []points.Redemption{red}}))
	given[0] = points.Allocation{Lot: "X", Points: d(9)}
	read := func() points.Redemption {
		got, err := s.Redemption(ctx, "R1")
		require.NoError(t, err)
		return got
	}
	want := []points.Allocation{{Lot: "L1", Points: d(1)}, {Lot: "L2", Points: d(2)}}
	require.Equal(t, want, read().Allocations)

	// An update with the allocations as read.
	got := read()
	got.Status, got.Version = points.RedemptionFulfilled, 2
	require.NoError(t, s.Commit(ctx, &points.Change{Redemptions: []points.Redemption{got}}))
	got.Allocations[1] = points.Allocation{Lot: "Y", Points: d(9)}
	require.Equal(t, want, read().Allocations)
	require.Equal(t, points.RedemptionFulfilled, read().Status)

	// An update with other allocations.
	got = read()
	got.Allocations = []points.Allocation{{Lot: "L3", Points: d(3)}}
	got.Version = 3
	require.NoError(t, s.Commit(ctx, &points.Change{Redemptions: []points.Redemption{got}}))
	got.Allocations[0].Lot = "Z"
	require.Equal(t, []points.Allocation{{Lot: "L3", Points: d(3)}}, read().Allocations)
}
