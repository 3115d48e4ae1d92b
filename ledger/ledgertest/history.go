package ledgertest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
)

var historyTests = []subtest{
	{name: "EntriesCarryBalanceAndVersion", fn: testEntriesBalanceVersion},
	{name: "StatementPaged", fn: testStatementPaged},
	{name: "StatementInvalid", fn: testStatementInvalid},
	{name: "BalanceAt", fn: testBalanceAt},
	{name: "VerifyClean", fn: testVerifyClean},
	{name: "VerifyDetectsTampering", fn: testVerifyTampering, noAudit: true},
	{name: "AuditDetectsBrokenInvariants", fn: testAuditInvariants},
}

// accountsStore serves a store's account list through alter, which may
// change or drop records, the way a corrupted table would read.
type accountsStore struct {
	ledger.Store
	alter func([]ledger.AccountRecord) []ledger.AccountRecord
}

func (s *accountsStore) Accounts(ctx context.Context, after ledger.AccountID, limit int) ([]ledger.AccountRecord, error) {
	recs, err := s.Store.Accounts(ctx, after, limit)
	return s.alter(recs), err
}

func testAuditInvariants(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	f.OpenSpec(ledger.AccountSpec{ID: "vol-2", Asset: Points, Ceiling: decimal.NewNullDecimal(D("50"))})
	f.MustMove("t1", Points, "issuer", "vol-1", "5")
	f.MustMove("t2", Points, "issuer", "vol-2", "5")
	tests := []struct {
		name  string
		alter func([]ledger.AccountRecord) []ledger.AccountRecord
		want  string
	}{
		{"an account missing from the sum", func(rs []ledger.AccountRecord) []ledger.AccountRecord {
			out := rs[:0]
			for _, r := range rs {
				if r.ID != "vol-1" {
					out = append(out, r)
				}
			}
			return out
		}, "sum"},
		{"balance below floor", func(rs []ledger.AccountRecord) []ledger.AccountRecord {
			for i := range rs {
				if rs[i].ID == "vol-1" {
					rs[i].PendingDebits = 600 // available -1 < floor 0
				}
			}
			return rs
		}, "floor"},
		{"balance above ceiling", func(rs []ledger.AccountRecord) []ledger.AccountRecord {
			for i := range rs {
				if rs[i].ID == "vol-2" {
					rs[i].PendingCredits = 4501
				}
			}
			return rs
		}, "ceiling"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, err := ledger.New(&accountsStore{Store: f.Store, alter: tt.alter}, nil)
			require.NoError(t, err)
			_, err = svc.Audit(f.Ctx)
			require.ErrorIs(t, err, ledger.ErrInvariant)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

func testEntriesBalanceVersion(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	f.Open("shop", Points)
	f.MustMove("t1", Points, "issuer", "vol-1", "5")
	_, err := f.Hold("h1", Points, "vol-1", "shop", "1", time10m) // version 3, no entry
	require.NoError(t, err)
	f.MustMove("t2", Points, "vol-1", "shop", "2")
	st, err := f.Svc.Statement(f.Ctx, "vol-1", 0, 10)
	require.NoError(t, err)
	require.Len(t, st.Entries, 2)
	e1, e2 := st.Entries[0], st.Entries[1]
	require.EqualValues(t, 1, e1.Seq)
	require.Equal(t, ledger.TransferID("t1"), e1.Transfer)
	require.True(t, e1.Amount.Equal(D("5")))
	require.True(t, e1.Balance.Equal(D("5")))
	require.EqualValues(t, 2, e1.Version)
	require.EqualValues(t, 2, e2.Seq)
	require.True(t, e2.Amount.Equal(D("-2")))
	require.True(t, e2.Balance.Equal(D("3")))
	require.EqualValues(t, 4, e2.Version)
	require.NotEqual(t, e1.Hash, e2.Hash)
	require.Zero(t, st.Next)
}

func testStatementPaged(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	for i := 1; i <= 25; i++ {
		f.MustMove(ledger.TransferID("t"+strconv.Itoa(i)), Points, "issuer", "vol-1", strconv.Itoa(i))
	}
	var seqs []int64
	var after int64
	pages := 0
	for {
		st, err := f.Svc.Statement(f.Ctx, "vol-1", after, 10)
		require.NoError(t, err)
		pages++
		for _, e := range st.Entries {
			seqs = append(seqs, e.Seq)
			require.Equal(t, ledger.TransferID("t"+strconv.FormatInt(e.Seq, 10)), e.Transfer, "oldest first")
		}
		if st.Next == 0 {
			break
		}
		after = st.Next
	}
	require.Equal(t, 3, pages)
	require.Len(t, seqs, 25)
	for i, s := range seqs {
		require.EqualValues(t, i+1, s)
	}
	// The store's own paging: any positive limit, empty past the end.
	recs, err := f.Store.Entries(f.Ctx, "vol-1", 24, 5)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	recs, err = f.Store.Entries(f.Ctx, "vol-1", 25, 5)
	require.NoError(t, err)
	require.Empty(t, recs)
	_, err = f.Store.Entries(f.Ctx, "ghost", 0, 5)
	require.ErrorIs(t, err, ledger.ErrAccountNotFound)
}

func testStatementInvalid(t *testing.T, f *Fixture) {
	f.Open("vol-1", Points)
	_, err := f.Svc.Statement(f.Ctx, "vol-1", 0, 1001)
	require.ErrorIs(t, err, ledger.ErrInvalid)
	_, err = f.Svc.Statement(f.Ctx, "vol-1", -1, 10)
	require.ErrorIs(t, err, ledger.ErrInvalid)
	_, err = f.Svc.Statement(f.Ctx, "ghost", 0, 10)
	require.ErrorIs(t, err, ledger.ErrAccountNotFound)
	st, err := f.Svc.Statement(f.Ctx, "vol-1", 0, 0)
	require.NoError(t, err)
	require.Empty(t, st.Entries)
}

func testBalanceAt(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	f.Clock.Advance(time.Hour)
	f.MustMove("t1", Points, "issuer", "vol-1", "5") // at +1h
	f.Clock.Advance(time.Hour)
	f.MustMove("t2", Points, "issuer", "vol-1", "3") // at +2h
	f.Clock.Advance(time.Hour)
	f.MustMove("t3", Points, "vol-1", "issuer", "6") // at +3h
	for _, tt := range []struct {
		at   time.Duration
		want string
	}{
		{0, "0"}, {time.Hour - time.Microsecond, "0"}, {time.Hour, "5"}, {90 * time.Minute, "5"},
		{2 * time.Hour, "8"}, {3 * time.Hour, "2"}, {100 * time.Hour, "2"},
	} {
		got, err := f.Svc.BalanceAt(f.Ctx, "vol-1", Start.Add(tt.at))
		require.NoError(t, err)
		require.Truef(t, got.Equal(D(tt.want)), "balance at +%s: %s, want %s", tt.at, got, tt.want)
	}
	_, err := f.Svc.BalanceAt(f.Ctx, "ghost", Start)
	require.ErrorIs(t, err, ledger.ErrAccountNotFound)
}

func testVerifyClean(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	f.Open("vol-2", Points)
	for i := 0; i < 20; i++ {
		f.MustMove(ledger.TransferID("t"+strconv.Itoa(i)), Points, "issuer", ledger.AccountID("vol-"+strconv.Itoa(1+i%2)), "1.5")
	}
	require.NoError(t, f.Svc.Verify(f.Ctx, "vol-1"))
	require.NoError(t, f.Svc.Verify(f.Ctx, ""))
	require.ErrorIs(t, f.Svc.Verify(f.Ctx, "ghost"), ledger.ErrAccountNotFound)
}

// tamperStore serves a store's entries with one of them altered, the way a
// row edited behind the ledger's back would read.
type tamperStore struct {
	ledger.Store
	account ledger.AccountID
	seq     int64
	alter   func(*ledger.EntryRecord) // nil: the entry is deleted
}

func (s *tamperStore) Entries(ctx context.Context, id ledger.AccountID, after int64, limit int) ([]ledger.EntryRecord, error) {
	recs, err := s.Store.Entries(ctx, id, after, limit)
	out := recs[:0]
	for i := range recs {
		if recs[i].Account == s.account && recs[i].Seq == s.seq {
			if s.alter == nil {
				continue
			}
			s.alter(&recs[i])
		}
		out = append(out, recs[i])
	}
	return out, err
}

func testVerifyTampering(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	for i := 0; i < 5; i++ {
		f.MustMove(ledger.TransferID("t"+strconv.Itoa(i)), Points, "issuer", "vol-1", "2")
	}
	tests := []struct {
		name  string
		alter func(*ledger.EntryRecord)
		want  string
	}{
		{"amount and balance", func(e *ledger.EntryRecord) { e.Units += 100; e.Balance += 100 }, "entry 3"},
		{"transfer", func(e *ledger.EntryRecord) { e.Transfer = "forged" }, "entry 3"},
		{"recorded time", func(e *ledger.EntryRecord) { e.RecordedAt = e.RecordedAt.Add(time.Second) }, "entry 3"},
		{"hash", func(e *ledger.EntryRecord) { e.Hash[0] ^= 1 }, "entry 3"},
		{"balance only", func(e *ledger.EntryRecord) { e.Balance++ }, "entry 3"},
		{"entry deleted", nil, "entry 4"}, // the gap shows at the entry after it
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, err := ledger.New(&tamperStore{Store: f.Store, account: "vol-1", seq: 3, alter: tt.alter}, nil)
			require.NoError(t, err)
			err = svc.Verify(f.Ctx, "vol-1")
			require.ErrorIs(t, err, ledger.ErrTampered)
			require.Contains(t, err.Error(), `"vol-1"`)
			require.Contains(t, err.Error(), tt.want)
			_, err = svc.Audit(f.Ctx)
			require.ErrorIs(t, err, ledger.ErrTampered)
			require.NoError(t, svc.Verify(f.Ctx, "issuer"), "other accounts still verify")
		})
	}
	CheckInvariants(t, f.Svc) // the store itself was never changed
}
