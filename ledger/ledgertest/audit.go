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

var auditTests = []subtest{
	{name: "StoreTransfersPaged", fn: testTransfersPaged},
	{name: "AuditCountsEveryRecord", fn: testAuditCounts},
	{name: "AuditDetectsDisagreement", fn: testAuditDisagreement},
	{name: "AuditHugePostings", fn: testAuditHugePostings},
	{name: "AuditHugeBalances", fn: testAuditHugeBalances},
}

func testTransfersPaged(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	want := map[ledger.TransferID]bool{}
	for i := 1; i <= 23; i++ {
		id := ledger.TransferID("t" + strconv.Itoa(i))
		f.MustMove(id, Points, "issuer", "vol-1", "1")
		want[id] = true
	}
	_, err := f.Move("refused", Points, "vol-1", "issuer", "100")
	require.ErrorIs(t, err, ledger.ErrInsufficientFunds)
	want["refused"] = true
	seen := map[ledger.TransferID]bool{}
	var after ledger.TransferID
	for {
		page, err := f.Store.Transfers(f.Ctx, after, 10)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		require.LessOrEqual(t, len(page), 10)
		for _, r := range page {
			require.False(t, seen[r.ID], "transfer %q returned twice", r.ID)
			seen[r.ID] = true
			stored, err := f.Store.Transfer(f.Ctx, r.ID)
			require.NoError(t, err)
			require.Equal(t, stored, r, "a page holds the records Transfer returns")
		}
		after = page[len(page)-1].ID
	}
	require.Equal(t, want, seen)
	page, err := f.Store.Transfers(f.Ctx, after, 10)
	require.NoError(t, err)
	require.Empty(t, page, "past the end")
	_, err = f.Store.Transfers(f.Ctx, "", 0)
	require.ErrorIs(t, err, ledger.ErrInvalid)

	empty := f.NewStore()
	page, err = empty.Transfers(f.Ctx, "", 10)
	require.NoError(t, err)
	require.Empty(t, page)
}

// auditScene records every kind of transfer record: transfers, a hold
// still pending, holds posted in full and in part, voided and expired, a
// three-posting hold still pending, reversals of a transfer and of a post,
// and a refusal.
func auditScene(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	f.Open("vol-2", Points)
	f.OpenSpec(ledger.AccountSpec{ID: "shop", Asset: Points, Ceiling: decimal.NewNullDecimal(D("1000"))})
	f.MustMove("t1", Points, "issuer", "vol-1", "100")
	f.MustMove("t2", Points, "issuer", "vol-2", "50")
	f.MustMove("t3", Points, "issuer", "vol-2", "10")
	f.MustMove("t4", Points, "issuer", "vol-2", "10")
	hold := func(id ledger.TransferID, from, to ledger.AccountID, amount string, d time.Duration) {
		r, err := f.Hold(id, Points, from, to, amount, d)
		require.NoError(t, err)
		require.Equal(t, ledger.StatusPending, r.Status)
	}
	hold("h1", "vol-1", "shop", "10", time.Hour)  // stays pending
	hold("h2", "vol-1", "shop", "20", time.Hour)  // posted in full
	hold("h3", "vol-2", "shop", "30", time.Hour)  // posted in part
	hold("h4", "vol-1", "shop", "5", time.Hour)   // voided
	hold("h5", "vol-2", "shop", "7", time.Minute) // expires
	_, err := f.Svc.Transfer(f.Ctx, ledger.TransferRequest{ID: "h6", Postings: []ledger.Posting{
		{Account: "vol-1", Side: ledger.Debit, Asset: Points, Amount: D("3")},
		{Account: "shop", Side: ledger.Credit, Asset: Points, Amount: D("2")},
		{Account: "vol-2", Side: ledger.Credit, Asset: Points, Amount: D("1")},
	}, HoldUntil: f.Clock.Now().Add(time.Hour)}) // stays pending
	require.NoError(t, err)
	_, err = f.Svc.Post(f.Ctx, ledger.PostRequest{ID: "p2", Hold: "h2"})
	require.NoError(t, err)
	_, err = f.Svc.Post(f.Ctx, ledger.PostRequest{ID: "p3", Hold: "h3", Amount: D("12")})
	require.NoError(t, err)
	_, err = f.Svc.Void(f.Ctx, ledger.VoidRequest{ID: "v4", Hold: "h4"})
	require.NoError(t, err)
	f.Clock.Advance(2 * time.Minute)
	n, err := f.Svc.ExpireHolds(f.Ctx, f.Clock.Now())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = f.Svc.Reverse(f.Ctx, ledger.ReverseRequest{ID: "r3", Original: "t3"})
	require.NoError(t, err)
	_, err = f.Svc.Reverse(f.Ctx, ledger.ReverseRequest{ID: "rp3", Original: "p3"})
	require.NoError(t, err)
	_, err = f.Move("x1", Points, "vol-2", "shop", "1000")
	require.ErrorIs(t, err, ledger.ErrInsufficientFunds)
}

func testAuditCounts(t *testing.T, f *Fixture) {
	auditScene(t, f)
	for _, tt := range []struct {
		id      ledger.AccountID
		debits  string
		credits string
		balance string
		entries int64
		why     string
	}{
		{"vol-1", "13", "0", "80", 2, "h1 and h6 reserve 10 and 3"},
		{"vol-2", "0", "1", "60", 6, "h6 promises 1"},
		{"shop", "0", "12", "20", 3, "h1 and h6 promise 10 and 2"},
	} {
		a, err := f.Svc.Account(f.Ctx, tt.id)
		require.NoError(t, err)
		require.Truef(t, a.PendingDebits.Equal(D(tt.debits)) && a.PendingCredits.Equal(D(tt.credits)) && a.Balance.Equal(D(tt.balance)),
			"account %s: balance %s, pending %s/%s: %s", tt.id, a.Balance, a.PendingDebits, a.PendingCredits, tt.why)
		require.Equal(t, tt.entries, a.Entries, "account %s", tt.id)
	}
	rep := CheckInvariants(t, f.Svc)
	require.Equal(t, ledger.AuditReport{
		Accounts:     4,
		Entries:      16, // t1-t4, p2, p3, r3, rp3: two each
		Transfers:    17, // t1-t4, h1-h6, p2, p3, v4, expire:h5, r3, rp3, x1
		Holds:        6,
		PendingHolds: 2, // h1, h6
		Assets:       []ledger.Asset{Points},
	}, rep)
}

// forgedStore serves a store's records as they would read after an edit
// behind the ledger's back: account and transfer records replaced, extra
// transfer records, and histories whose hash chains were recomputed after
// the edit, so that Verify still passes.
type forgedStore struct {
	ledger.Store
	t         *testing.T
	accounts  map[ledger.AccountID]ledger.AccountRecord
	entries   map[ledger.AccountID][]ledger.EntryRecord
	transfers map[ledger.TransferID]ledger.TransferRecord
	added     []ledger.TransferRecord // served first
}

func newForgedStore(t *testing.T, s ledger.Store) *forgedStore {
	return &forgedStore{Store: s, t: t, accounts: map[ledger.AccountID]ledger.AccountRecord{},
		entries: map[ledger.AccountID][]ledger.EntryRecord{}, transfers: map[ledger.TransferID]ledger.TransferRecord{}}
}

func (s *forgedStore) alterAccount(id ledger.AccountID, alter func(*ledger.AccountRecord)) {
	a, err := s.Account(context.Background(), id)
	require.NoError(s.t, err)
	alter(&a)
	s.accounts[id] = a
}

func (s *forgedStore) alterTransfer(id ledger.TransferID, alter func(*ledger.TransferRecord)) {
	r, err := s.Transfer(context.Background(), id)
	require.NoError(s.t, err)
	alter(&r)
	s.transfers[id] = r
}

func (s *forgedStore) addTransfer(r ledger.TransferRecord) {
	s.added = append(s.added, r)
	s.transfers[r.ID] = r
}

// alterEntries edits an account's history and chains it again: balances
// follow the amounts, and the account's balance and last hash the last
// entry.
func (s *forgedStore) alterEntries(id ledger.AccountID, alter func([]ledger.EntryRecord)) {
	es, err := s.Entries(context.Background(), id, 0, 1000)
	require.NoError(s.t, err)
	alter(es)
	var prev [32]byte
	var balance int64
	for i := range es {
		balance += es[i].Units
		es[i].Balance = balance
		es[i].Hash = ledger.EntryHash(prev, &es[i])
		prev = es[i].Hash
	}
	s.entries[id] = es
	s.alterAccount(id, func(a *ledger.AccountRecord) { a.Balance, a.LastHash = balance, prev })
}

func (s *forgedStore) Account(ctx context.Context, id ledger.AccountID) (ledger.AccountRecord, error) {
	if a, ok := s.accounts[id]; ok {
		return a, nil
	}
	return s.Store.Account(ctx, id)
}

func (s *forgedStore) Accounts(ctx context.Context, after ledger.AccountID, limit int) ([]ledger.AccountRecord, error) {
	page, err := s.Store.Accounts(ctx, after, limit)
	for i := range page {
		if a, ok := s.accounts[page[i].ID]; ok {
			page[i] = a
		}
	}
	return page, err
}

func (s *forgedStore) Transfer(ctx context.Context, id ledger.TransferID) (ledger.TransferRecord, error) {
	if r, ok := s.transfers[id]; ok {
		return r, nil
	}
	return s.Store.Transfer(ctx, id)
}

func (s *forgedStore) Transfers(ctx context.Context, after ledger.TransferID, limit int) ([]ledger.TransferRecord, error) {
	page, err := s.Store.Transfers(ctx, after, limit)
	for i := range page {
		if r, ok := s.transfers[page[i].ID]; ok {
			page[i] = r
		}
	}
	if after == "" && len(page) > 0 {
		page = append(append([]ledger.TransferRecord{}, s.added...), page...)
	}
	return page, err
}

func (s *forgedStore) Entries(ctx context.Context, id ledger.AccountID, after int64, limit int) ([]ledger.EntryRecord, error) {
	es, ok := s.entries[id]
	if !ok {
		return s.Store.Entries(ctx, id, after, limit)
	}
	var out []ledger.EntryRecord
	for _, e := range es {
		if e.Seq > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *forgedStore) EntryAsOf(ctx context.Context, id ledger.AccountID, at time.Time) (ledger.EntryRecord, error) {
	es, ok := s.entries[id]
	if !ok {
		return s.Store.EntryAsOf(ctx, id, at)
	}
	for i := len(es) - 1; i >= 0; i-- {
		if !es[i].RecordedAt.After(at) {
			return es[i], nil
		}
	}
	return ledger.EntryRecord{}, ledger.ErrNotFound
}

// setUnits sets the units of r's postings, in order.
func setUnits(r *ledger.TransferRecord, units ...int64) {
	for i := range r.Postings {
		r.Postings[i].Units = units[i]
	}
}

func testAuditDisagreement(t *testing.T, f *Fixture) {
	auditScene(t, f)
	tests := []struct {
		name  string
		forge func(s *forgedStore)
		want  []string
	}{
		// Pending amounts against pending holds.
		{"pending debits without their hold", func(s *forgedStore) {
			s.alterAccount("vol-1", func(a *ledger.AccountRecord) { a.PendingDebits = 1200 })
		}, []string{`account "vol-1"`, "pending debits 12 ", `2 pending holds (hold "h1"`, "reserve 13 "}},
		{"pending debits without any hold", func(s *forgedStore) {
			s.alterAccount("issuer", func(a *ledger.AccountRecord) { a.PendingDebits = 500 })
		}, []string{`account "issuer"`, "pending debits 5 ", "no pending hold"}},
		{"hold amount changed", func(s *forgedStore) {
			s.alterTransfer("h1", func(r *ledger.TransferRecord) { setUnits(r, 900, 900) })
		}, []string{`account "shop"`, "credits 12,", `"h1"`, "reserve 0 and 11"}},
		{"hold released but still reserving", func(s *forgedStore) {
			s.alterTransfer("h4", func(r *ledger.TransferRecord) { r.Status, r.ResolvedBy = ledger.StatusPending, "" })
		}, []string{`transfer "v4"`, `ref "h4" is a hold with status pending`}},
		{"pending hold on no account", func(s *forgedStore) {
			s.addTransfer(ledger.TransferRecord{Command: ledger.Command{ID: "ghost-hold", Kind: ledger.KindHold,
				Postings:   []ledger.PostingRecord{{Account: "nobody-1", Side: ledger.Debit, Asset: Points, Units: 100}, {Account: "nobody-2", Side: ledger.Credit, Asset: Points, Units: 100}},
				RecordedAt: Start, EffectiveAt: Start, HoldUntil: Start.Add(time.Hour)}, Status: ledger.StatusPending})
		}, []string{`account "nobody-1"`, `pending hold "ghost-hold"`, "no such account"}},
		{"closed account with a balance", func(s *forgedStore) {
			s.alterAccount("vol-2", func(a *ledger.AccountRecord) { a.Closed = true })
		}, []string{`account "vol-2"`, "closed with balance 60"}},

		// Entries against transfers.
		{"transfer amount changed", func(s *forgedStore) {
			s.alterTransfer("t1", func(r *ledger.TransferRecord) { setUnits(r, 9000, 9000) })
		}, []string{`account "issuer"`, `entry 1 (transfer "t1")`, "by -100, the transfer's postings by -90"}},
		{"transfer without entries", func(s *forgedStore) {
			s.addTransfer(ledger.TransferRecord{Command: ledger.Command{ID: "ghost", Kind: ledger.KindTransfer,
				Postings:   []ledger.PostingRecord{{Account: "issuer", Side: ledger.Debit, Asset: Points, Units: 500}, {Account: "vol-2", Side: ledger.Credit, Asset: Points, Units: 500}},
				RecordedAt: Start, EffectiveAt: Start}, Status: ledger.StatusPosted})
		}, []string{`transfer "ghost"`, `account "issuer" by -5`, "has 0 entries"}},
		{"entry names a pending hold", func(s *forgedStore) {
			s.alterEntries("vol-1", func(es []ledger.EntryRecord) { es[0].Transfer = "h1" })
		}, []string{`account "vol-1"`, `entry 1 (transfer "h1")`, "a hold with status pending"}},
		{"entry names no transfer", func(s *forgedStore) {
			s.alterEntries("vol-1", func(es []ledger.EntryRecord) { es[0].Transfer = "nowhere" })
		}, []string{`account "vol-1"`, `entry 1 (transfer "nowhere")`, "no such transfer"}},
		{"entry names another transfer of the same amount", func(s *forgedStore) {
			s.alterEntries("vol-2", func(es []ledger.EntryRecord) { es[2].Transfer = "t3" }) // t4's
		}, []string{`transfer "t3"`, `account "vol-2" by 10`, "has 2 entries"}},
		{"entry amount changed with its transfer's counterpart", func(s *forgedStore) {
			// Balances still sum to zero: vol-2 gains what the issuer loses.
			s.alterEntries("vol-2", func(es []ledger.EntryRecord) { es[0].Units += 100 })
			s.alterEntries("issuer", func(es []ledger.EntryRecord) { es[0].Units -= 100 })
		}, []string{`account "issuer"`, `entry 1 (transfer "t1")`, "by -101, the transfer's postings by -100"}},

		// Transfer records against each other.
		{"hold resolved by another transfer", func(s *forgedStore) {
			s.alterTransfer("h2", func(r *ledger.TransferRecord) { r.ResolvedBy = "v4" })
		}, []string{`transfer "h2"`, `resolved by "v4", a void`}},
		{"partial post amount changed", func(s *forgedStore) {
			s.alterTransfer("p3", func(r *ledger.TransferRecord) { r.Units = 1300 })
		}, []string{`transfer "p3"`, `what it posts of hold "h3"`}},
		{"reversal link lost", func(s *forgedStore) {
			s.alterTransfer("t3", func(r *ledger.TransferRecord) { r.ReversedBy = "" })
		}, []string{`transfer "r3"`, `ref "t3"`, `reversed by ""`}},
		{"unbalanced hold", func(s *forgedStore) {
			s.alterTransfer("h6", func(r *ledger.TransferRecord) { setUnits(r, 300, 150, 100) })
		}, []string{`transfer "h6"`, "debits 3 and credits 2.5 do not balance"}},
		{"hold without a deadline", func(s *forgedStore) {
			s.alterTransfer("h1", func(r *ledger.TransferRecord) { r.HoldUntil = time.Time{} })
		}, []string{`transfer "h1"`, "exactly when it is a hold"}},
		{"expiry under another ID", func(s *forgedStore) {
			s.alterTransfer("expire:h5", func(r *ledger.TransferRecord) { r.Ref = "h4" })
		}, []string{`"expire:h5"`, `"h4"`}}, // named by the expiry or its hold, whichever a store lists first
		{"expiry before the deadline", func(s *forgedStore) {
			s.alterTransfer("expire:h5", func(r *ledger.TransferRecord) { r.RecordedAt = Start })
		}, []string{`transfer "expire:h5"`, `before hold "h5" was due`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newForgedStore(t, f.Store)
			tt.forge(s)
			svc, err := ledger.New(s, nil)
			require.NoError(t, err)
			require.NoError(t, svc.Verify(f.Ctx, ""), "the forgery keeps every hash chain")
			_, err = svc.Audit(f.Ctx)
			require.ErrorIs(t, err, ledger.ErrInvariant)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
	CheckInvariants(t, f.Svc) // the store itself was never changed
}
