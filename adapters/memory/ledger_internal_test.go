package memory

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
)

// TestLedgerStoreTamperedEntry edits an entry behind the ledger's back, as
// an attacker with access to the process memory or a dump would, and
// expects Verify to name it.
func TestLedgerStoreTamperedEntry(t *testing.T) {
	ctx := context.Background()
	store := NewLedgerStore()
	svc, err := ledger.New(store, nil)
	require.NoError(t, err)
	pts := ledger.Asset{Code: "POINTS", Scale: 2}
	_, err = svc.OpenAccount(ctx, ledger.AccountSpec{ID: "issuer", Asset: pts, NoFloor: true})
	require.NoError(t, err)
	_, err = svc.OpenAccount(ctx, ledger.AccountSpec{ID: "vol-1", Asset: pts})
	require.NoError(t, err)
	for _, id := range []ledger.TransferID{"t1", "t2", "t3"} {
		_, err = svc.Transfer(ctx, ledger.TransferRequest{ID: id, Postings: ledger.Move(pts, "issuer", "vol-1", decimal.NewFromInt(5))})
		require.NoError(t, err)
	}
	require.NoError(t, svc.Verify(ctx, ""))

	a := store.acct(store.ids["vol-1"])
	a.entryAt(1).balance += 100 // entry 2 now claims 110 instead of 10
	err = svc.Verify(ctx, "vol-1")
	require.ErrorIs(t, err, ledger.ErrTampered)
	require.Contains(t, err.Error(), `account "vol-1": entry 2`)
	a.entryAt(1).balance -= 100
	require.NoError(t, svc.Verify(ctx, ""))

	a.entryAt(2).hash[5] ^= 0x10
	err = svc.Verify(ctx, "")
	require.ErrorIs(t, err, ledger.ErrTampered)
	require.Contains(t, err.Error(), `account "vol-1": entry 3`)
}

// TestLedgerStoreFingerprintsOnDemand checks what the store must get right
// to fingerprint on demand: a retry is told from a different request by the
// request as first made, even after the record was put again with its
// outcome changed (a posted hold, a reversed transfer), and an effective
// time the request left zero differs from one given explicitly.
func TestLedgerStoreFingerprintsOnDemand(t *testing.T) {
	ctx := context.Background()
	pts := ledger.Asset{Code: "POINTS", Scale: 2}
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := start
	svc, err := ledger.New(NewLedgerStore(), &ledger.Options{Now: func() time.Time { return clock }})
	require.NoError(t, err)
	_, err = svc.OpenAccount(ctx, ledger.AccountSpec{ID: "issuer", Asset: pts, NoFloor: true})
	require.NoError(t, err)
	_, err = svc.OpenAccount(ctx, ledger.AccountSpec{ID: "vol-1", Asset: pts})
	require.NoError(t, err)
	move := func(id ledger.TransferID, eff, until time.Time) ledger.TransferRequest {
		return ledger.TransferRequest{ID: id, Postings: ledger.Move(pts, "issuer", "vol-1", decimal.NewFromInt(5)),
			Reason: "service", Metadata: map[string]string{"k": "v"}, EffectiveAt: eff, HoldUntil: until}
	}
	// First requests, at start.
	_, err = svc.Transfer(ctx, move("t1", time.Time{}, time.Time{}))
	require.NoError(t, err)
	_, err = svc.Transfer(ctx, move("h1", time.Time{}, start.Add(time.Hour)))
	require.NoError(t, err)
	clock = start.Add(time.Minute)
	_, err = svc.Post(ctx, ledger.PostRequest{ID: "p1", Hold: "h1"})
	require.NoError(t, err)
	_, err = svc.Reverse(ctx, ledger.ReverseRequest{ID: "r1", Original: "t1"})
	require.NoError(t, err)

	clock = start.Add(2 * time.Minute)
	tests := []struct {
		name     string
		req      ledger.TransferRequest
		conflict bool
	}{
		{"reversed transfer retried", move("t1", time.Time{}, time.Time{}), false},
		{"posted hold retried", move("h1", time.Time{}, start.Add(time.Hour)), false},
		{"effective time given where it was left zero", move("t1", start, time.Time{}), true},
		{"other amount", ledger.TransferRequest{ID: "t1", Postings: ledger.Move(pts, "issuer", "vol-1", decimal.NewFromInt(6)),
			Reason: "service", Metadata: map[string]string{"k": "v"}}, true},
		{"other metadata", ledger.TransferRequest{ID: "t1", Postings: ledger.Move(pts, "issuer", "vol-1", decimal.NewFromInt(5)),
			Reason: "service", Metadata: map[string]string{"k": "w"}}, true},
		{"other deadline", move("h1", time.Time{}, start.Add(2*time.Hour)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := svc.Transfer(ctx, tt.req)
			if tt.conflict {
				require.ErrorIs(t, err, ledger.ErrIdempotencyConflict)
				return
			}
			require.NoError(t, err)
			require.True(t, res.Replayed)
		})
	}
	// Post and reversal requests carry no postings of their own.
	res, err := svc.Post(ctx, ledger.PostRequest{ID: "p1", Hold: "h1"})
	require.NoError(t, err)
	require.True(t, res.Replayed)
	_, err = svc.Reverse(ctx, ledger.ReverseRequest{ID: "r1", Original: "t1", Reason: "other"})
	require.ErrorIs(t, err, ledger.ErrIdempotencyConflict)

	// Reads see the recorded time for an effective time left zero, and the
	// same fingerprint as a store that keeps the one made on the way in.
	tr, err := svc.Store().Transfer(ctx, "t1")
	require.NoError(t, err)
	require.True(t, tr.EffectiveAt.Equal(start))
	first := ledger.Command{ID: "t1", Kind: ledger.KindTransfer, Postings: tr.Postings, Reason: "service",
		Metadata: map[string]string{"k": "v"}}
	require.Equal(t, ledger.Fingerprint(&first), tr.Fingerprint)
}

// TestLedgerStoreBatchMatchesSingles applies one batch with repeated IDs,
// replays, refusals, an invalid request and a three-posting transfer, and
// expects the same outcomes, balances and records as applying the requests
// one at a time: the batch path's shared postings array and precomputed
// ID hashes change nothing.
func TestLedgerStoreBatchMatchesSingles(t *testing.T) {
	ctx := context.Background()
	pts := ledger.Asset{Code: "POINTS", Scale: 2}
	clock := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	setup := func() (*ledger.Service, *LedgerStore) {
		store := NewLedgerStore()
		svc, err := ledger.New(store, &ledger.Options{Now: func() time.Time { return clock }})
		require.NoError(t, err)
		_, err = svc.OpenAccount(ctx, ledger.AccountSpec{ID: "issuer", Asset: pts, NoFloor: true})
		require.NoError(t, err)
		for _, id := range []ledger.AccountID{"a", "b", "c"} {
			_, err = svc.OpenAccount(ctx, ledger.AccountSpec{ID: id, Asset: pts})
			require.NoError(t, err)
		}
		_, err = svc.Transfer(ctx, ledger.TransferRequest{ID: "old", Postings: ledger.Move(pts, "issuer", "a", decimal.NewFromInt(10))})
		require.NoError(t, err)
		return svc, store
	}
	d := decimal.NewFromInt
	reqs := []ledger.TransferRequest{
		{ID: "x1", Postings: ledger.Move(pts, "a", "b", d(3))},
		{ID: "old", Postings: ledger.Move(pts, "issuer", "a", d(10))}, // replay of an earlier Apply
		{ID: "x1", Postings: ledger.Move(pts, "a", "b", d(3))},        // replay within the batch
		{ID: "x1", Postings: ledger.Move(pts, "a", "c", d(3))},        // conflict within the batch
		{ID: "x2", Postings: ledger.Move(pts, "b", "c", d(50))},       // refused
		{ID: "x3", Postings: ledger.Move(pts, "b", "c", d(0))},        // invalid
		{ID: "x2", Postings: ledger.Move(pts, "b", "c", d(50))},       // replay of a refusal
		{ID: "x4", Postings: []ledger.Posting{
			{Account: "a", Side: ledger.Debit, Asset: pts, Amount: d(2)},
			{Account: "b", Side: ledger.Credit, Asset: pts, Amount: d(1)},
			{Account: "c", Side: ledger.Credit, Asset: pts, Amount: d(1)},
		}},
		{ID: "x5", Postings: ledger.Move(pts, "c", "a", d(1)), HoldUntil: clock.Add(time.Hour)},
	}
	batchSvc, batchStore := setup()
	got, err := batchSvc.TransferBatch(ctx, reqs)
	require.NoError(t, err)
	oneSvc, oneStore := setup()
	require.Len(t, got, len(reqs))
	for i, req := range reqs {
		want, _ := oneSvc.Transfer(ctx, req)
		require.Equal(t, want.ID, got[i].ID, "request %d", i)
		require.Equal(t, want.Status, got[i].Status, "request %d", i)
		require.Equal(t, want.Replayed, got[i].Replayed, "request %d", i)
		require.Equal(t, want.Err == nil, got[i].Err == nil, "request %d: %v / %v", i, want.Err, got[i].Err)
		if want.Err != nil {
			require.Equal(t, want.Err.Error(), got[i].Err.Error(), "request %d", i)
		}
	}
	for _, id := range []ledger.AccountID{"issuer", "a", "b", "c"} {
		w, err := oneStore.Account(ctx, id)
		require.NoError(t, err)
		g, err := batchStore.Account(ctx, id)
		require.NoError(t, err)
		require.Equal(t, w.Balance, g.Balance, "account %s", id)
		require.Equal(t, w.PendingDebits, g.PendingDebits, "account %s", id)
		require.Equal(t, w.Version, g.Version, "account %s", id)
	}
	for _, id := range []ledger.TransferID{"x1", "x2", "x4", "x5"} {
		w, err := oneStore.Transfer(ctx, id)
		require.NoError(t, err)
		g, err := batchStore.Transfer(ctx, id)
		require.NoError(t, err)
		require.Equal(t, w, g, "transfer %s", id)
	}
	require.NoError(t, batchSvc.Verify(ctx, ""))
}

// TestLedgerStoreAuditNamesCorruption edits the store's own records behind
// the ledger's back, keeping every hash chain valid, and expects Audit to
// name the account, the transfer and the amounts that disagree.
func TestLedgerStoreAuditNamesCorruption(t *testing.T) {
	ctx := context.Background()
	store := NewLedgerStore()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	svc, err := ledger.New(store, &ledger.Options{Now: func() time.Time { return now }})
	require.NoError(t, err)
	pts := ledger.Asset{Code: "POINTS", Scale: 2}
	for _, spec := range []ledger.AccountSpec{{ID: "issuer", Asset: pts, NoFloor: true}, {ID: "vol-1", Asset: pts}, {ID: "shop", Asset: pts}} {
		_, err = svc.OpenAccount(ctx, spec)
		require.NoError(t, err)
	}
	for _, id := range []ledger.TransferID{"t1", "t2", "t3"} {
		_, err = svc.Transfer(ctx, ledger.TransferRequest{ID: id, Postings: ledger.Move(pts, "issuer", "vol-1", decimal.NewFromInt(5))})
		require.NoError(t, err)
	}
	_, err = svc.Transfer(ctx, ledger.TransferRequest{ID: "h1", Postings: ledger.Move(pts, "vol-1", "shop", decimal.NewFromInt(2)), HoldUntil: now.Add(time.Hour)})
	require.NoError(t, err)
	_, err = svc.Audit(ctx)
	require.NoError(t, err)
	a := store.acct(store.ids["vol-1"])
	audit := func(t *testing.T, want ...string) {
		t.Helper()
		require.NoError(t, svc.Verify(ctx, ""), "every hash chain still holds")
		_, err := svc.Audit(ctx)
		require.ErrorIs(t, err, ledger.ErrInvariant)
		for _, w := range want {
			require.Contains(t, err.Error(), w)
		}
	}

	t.Run("pending amount", func(t *testing.T) {
		a.PendingDebits += 100 // 3 reserved, only h1's 2 pending
		defer func() { a.PendingDebits -= 100 }()
		audit(t, `account "vol-1"`, "pending debits 3 and credits 0", `1 pending holds (hold "h1"`, "reserve 2 and 0")
	})
	t.Run("entry names another transfer", func(t *testing.T) {
		// Entry 3 of vol-1 made to name t2 instead of t3, its chain
		// rehashed.
		e := a.entryAt(2)
		t2, ok := store.tids.find(store, "t2")
		require.True(t, ok)
		t3, last := e.tr, a.LastHash
		e.tr = t2
		rec := store.entryRecord(a, 2)
		e.hash = ledger.EntryHash(a.entryAt(1).hash, &rec)
		a.LastHash = e.hash
		defer func() { e.tr, e.hash, a.LastHash = t3, last, last }()
		audit(t, `transfer "t2"`, `account "vol-1" by 5`, "has 2 entries")
	})
	t.Run("postings", func(t *testing.T) {
		// t1's postings made to move 4 instead of the 5 its entries record.
		i, ok := store.tids.find(store, "t1")
		require.True(t, ok)
		tr := store.transferAt(i)
		tr.inline[0].units, tr.inline[1].units = 400, 400
		defer func() { tr.inline[0].units, tr.inline[1].units = 500, 500 }()
		audit(t, `account "issuer"`, `entry 1 (transfer "t1")`, "by -5, the transfer's postings by -4")
	})
	_, err = svc.Audit(ctx)
	require.NoError(t, err)
}

// TestLedgerStoreAuditReportsTamperingFirst: a store whose transfer record
// and entry hash are both damaged. Audit checks transfers before it walks
// the hash chains, but must still report the broken chain, first, as
// ErrTampered, and the invariant it found as well.
func TestLedgerStoreAuditReportsTamperingFirst(t *testing.T) {
	ctx := context.Background()
	store := NewLedgerStore()
	svc, err := ledger.New(store, nil)
	require.NoError(t, err)
	pts := ledger.Asset{Code: "POINTS", Scale: 2}
	for _, spec := range []ledger.AccountSpec{{ID: "issuer", Asset: pts, NoFloor: true}, {ID: "vol-1", Asset: pts}} {
		_, err = svc.OpenAccount(ctx, spec)
		require.NoError(t, err)
	}
	for _, id := range []ledger.TransferID{"t1", "t2", "t3"} {
		_, err = svc.Transfer(ctx, ledger.TransferRequest{ID: id, Postings: ledger.Move(pts, "issuer", "vol-1", decimal.NewFromInt(5))})
		require.NoError(t, err)
	}
	_, err = svc.Audit(ctx)
	require.NoError(t, err)

	i, ok := store.tids.find(store, "t1")
	require.True(t, ok)
	tr := store.transferAt(i)
	tr.inline[0].units = 400 // t1's postings no longer balance

	// Only the postings are damaged: an invariant the transfer pass
	// finds, before any hash chain is read; no tampering.
	_, err = svc.Audit(ctx)
	require.ErrorIs(t, err, ledger.ErrInvariant)
	require.NotErrorIs(t, err, ledger.ErrTampered)

	store.acct(store.ids["vol-1"]).entryAt(2).hash[5] ^= 0x10
	_, err = svc.Audit(ctx)
	require.ErrorIs(t, err, ledger.ErrTampered)
	require.ErrorIs(t, err, ledger.ErrInvariant)
	msg := err.Error()
	require.Contains(t, msg, `account "vol-1": entry 3`)
	require.Contains(t, msg, `transfer "t1"`)
	require.Less(t, strings.Index(msg, `account "vol-1": entry 3`), strings.Index(msg, `transfer "t1"`), msg)
}
