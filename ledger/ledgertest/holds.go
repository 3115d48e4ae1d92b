package ledgertest

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
)

var holdTests = []subtest{
	{name: "ReservesAvailable", fn: testHoldReserves},
	{name: "RefusedBeyondAvailable", fn: testHoldBeyondAvailable},
	{name: "PostFull", fn: testHoldPostFull},
	{name: "PostPartial", fn: testHoldPostPartial},
	{name: "PostMoreThanHeld", fn: testHoldPostTooMuch},
	{name: "PostPartialMultiPosting", fn: testHoldPartialMulti},
	{name: "Void", fn: testHoldVoid},
	{name: "ResolveTwice", fn: testHoldResolveTwice},
	{name: "PostAfterDeadline", fn: testHoldPostLate},
	{name: "ExpireHolds", fn: testExpireHolds},
	{name: "ExpireNotDue", fn: testExpireNotDue},
	{name: "ExpiryOfHoldNotDueRefused", fn: testExpiryNotDueRefused},
	{name: "CeilingCountsPendingCredits", fn: testHoldCeiling},
	{name: "UnknownOrNotAHold", fn: testHoldUnknown},
	{name: "DeadlineNotAhead", fn: testHoldDeadlinePassed},
}

func testHoldDeadlinePassed(t *testing.T, f *Fixture) {
	fundedHoldFixture(f)
	req := ledger.TransferRequest{ID: "h1", Postings: ledger.Move(Points, "vol-1", "shop", D("1")), HoldUntil: Start}
	r, err := f.Svc.Transfer(f.Ctx, req)
	require.ErrorIs(t, err, ledger.ErrInvalid)
	require.Contains(t, err.Error(), "hold_until")
	require.Equal(t, ledger.StatusRefused, r.Status)
	f.RequireBalance("vol-1", "10", "10")
	// A hold retried after its deadline returns its first outcome.
	req = ledger.TransferRequest{ID: "h2", Postings: ledger.Move(Points, "vol-1", "shop", D("1")), HoldUntil: Start.Add(time.Minute)}
	_, err = f.Svc.Transfer(f.Ctx, req)
	require.NoError(t, err)
	f.Clock.Advance(time.Hour)
	r, err = f.Svc.Transfer(f.Ctx, req)
	require.NoError(t, err)
	require.True(t, r.Replayed)
	require.Equal(t, ledger.StatusPending, r.Status)
}

func fundedHoldFixture(f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	f.Open("shop", Points)
	f.MustMove("fund", Points, "issuer", "vol-1", "10")
}

func testHoldReserves(t *testing.T, f *Fixture) {
	fundedHoldFixture(f)
	r, err := f.Hold("h1", Points, "vol-1", "shop", "4", time10m)
	require.NoError(t, err)
	require.Equal(t, ledger.StatusPending, r.Status)
	f.RequireBalance("vol-1", "10", "6")
	f.RequireBalance("shop", "0", "0")
	a, err := f.Svc.Account(f.Ctx, "vol-1")
	require.NoError(t, err)
	require.True(t, a.PendingDebits.Equal(D("4")))
	s, err := f.Svc.Account(f.Ctx, "shop")
	require.NoError(t, err)
	require.True(t, s.PendingCredits.Equal(D("4")))
	tr, err := f.Svc.TransferByID(f.Ctx, "h1")
	require.NoError(t, err)
	require.Equal(t, ledger.KindHold, tr.Kind)
	require.Equal(t, ledger.StatusPending, tr.Status)
	RequireTime(t, Start.Add(time10m), tr.HoldUntil)
	st, err := f.Svc.Statement(f.Ctx, "vol-1", 0, 10)
	require.NoError(t, err)
	require.Len(t, st.Entries, 1, "a hold writes no entry")
}

func testHoldBeyondAvailable(t *testing.T, f *Fixture) {
	fundedHoldFixture(f)
	_, err := f.Hold("h1", Points, "vol-1", "shop", "7", time10m)
	require.NoError(t, err)
	_, err = f.Hold("h2", Points, "vol-1", "shop", "3.01", time10m)
	require.ErrorIs(t, err, ledger.ErrInsufficientFunds)
	_, err = f.Move("t1", Points, "vol-1", "shop", "3.01")
	require.ErrorIs(t, err, ledger.ErrInsufficientFunds, "a transfer cannot spend held funds")
	f.MustMove("t2", Points, "vol-1", "shop", "3")
	f.RequireBalance("vol-1", "7", "0")
}

func testHoldPostFull(t *testing.T, f *Fixture) {
	fundedHoldFixture(f)
	_, err := f.Hold("h1", Points, "vol-1", "shop", "4", time10m)
	require.NoError(t, err)
	f.Clock.Advance(time.Minute)
	r, err := f.Svc.Post(f.Ctx, ledger.PostRequest{ID: "p1", Hold: "h1", Reason: "pickup"})
	require.NoError(t, err)
	require.Equal(t, ledger.StatusPosted, r.Status)
	f.RequireBalance("vol-1", "6", "6")
	f.RequireBalance("shop", "4", "4")
	hold, err := f.Svc.TransferByID(f.Ctx, "h1")
	require.NoError(t, err)
	require.Equal(t, ledger.StatusPosted, hold.Status)
	require.Equal(t, ledger.TransferID("p1"), hold.ResolvedBy)
	post, err := f.Svc.TransferByID(f.Ctx, "p1")
	require.NoError(t, err)
	require.Equal(t, ledger.KindPost, post.Kind)
	require.Equal(t, ledger.TransferID("h1"), post.Ref)
	require.Len(t, post.Postings, 2)
	require.True(t, post.Postings[0].Amount.Equal(D("4")))
	st, err := f.Svc.Statement(f.Ctx, "shop", 0, 10)
	require.NoError(t, err)
	require.Len(t, st.Entries, 1)
	require.Equal(t, ledger.TransferID("p1"), st.Entries[0].Transfer)
}

func testHoldPostPartial(t *testing.T, f *Fixture) {
	fundedHoldFixture(f)
	_, err := f.Hold("h1", Points, "vol-1", "shop", "4", time10m)
	require.NoError(t, err)
	_, err = f.Svc.Post(f.Ctx, ledger.PostRequest{ID: "p1", Hold: "h1", Amount: D("2.5")})
	require.NoError(t, err)
	f.RequireBalance("vol-1", "7.5", "7.5")
	f.RequireBalance("shop", "2.5", "2.5")
	hold, err := f.Svc.TransferByID(f.Ctx, "h1")
	require.NoError(t, err)
	require.True(t, hold.PostedAmount.Equal(D("2.5")), "posted %s", hold.PostedAmount)
	s, err := f.Svc.Account(f.Ctx, "shop")
	require.NoError(t, err)
	require.True(t, s.PendingCredits.IsZero())
}

func testHoldPostTooMuch(t *testing.T, f *Fixture) {
	fundedHoldFixture(f)
	_, err := f.Hold("h1", Points, "vol-1", "shop", "4", time10m)
	require.NoError(t, err)
	_, err = f.Svc.Post(f.Ctx, ledger.PostRequest{ID: "p1", Hold: "h1", Amount: D("4.01")})
	require.ErrorIs(t, err, ledger.ErrInvalidAmount)
	_, err = f.Svc.Post(f.Ctx, ledger.PostRequest{ID: "p2", Hold: "h1", Amount: D("1.001")})
	require.ErrorIs(t, err, ledger.ErrInvalidAmount)
	_, err = f.Svc.Post(f.Ctx, ledger.PostRequest{ID: "p3", Hold: "h1", Amount: D("-1")})
	require.ErrorIs(t, err, ledger.ErrInvalidAmount)
	f.RequireBalance("vol-1", "10", "6")
	_, err = f.Svc.Post(f.Ctx, ledger.PostRequest{ID: "p4", Hold: "h1", Amount: D("4")})
	require.NoError(t, err)
	f.RequireBalance("vol-1", "6", "6")
}

func testHoldPartialMulti(t *testing.T, f *Fixture) {
	fundedHoldFixture(f)
	f.Open("fee", Points)
	_, err := f.Svc.Transfer(f.Ctx, ledger.TransferRequest{ID: "h1", HoldUntil: Start.Add(time10m), Postings: []ledger.Posting{
		{Account: "vol-1", Side: ledger.Debit, Asset: Points, Amount: D("5")},
		{Account: "shop", Side: ledger.Credit, Asset: Points, Amount: D("4")},
		{Account: "fee", Side: ledger.Credit, Asset: Points, Amount: D("1")},
	}})
	require.NoError(t, err)
	_, err = f.Svc.Post(f.Ctx, ledger.PostRequest{ID: "p1", Hold: "h1", Amount: D("2")})
	require.ErrorIs(t, err, ledger.ErrInvalidAmount, "a partial post needs a two-posting hold")
	_, err = f.Svc.Post(f.Ctx, ledger.PostRequest{ID: "p2", Hold: "h1"})
	require.NoError(t, err)
	f.RequireBalance("vol-1", "5", "5")
	f.RequireBalance("shop", "4", "4")
	f.RequireBalance("fee", "1", "1")
}

func testHoldVoid(t *testing.T, f *Fixture) {
	fundedHoldFixture(f)
	_, err := f.Hold("h1", Points, "vol-1", "shop", "4", time10m)
	require.NoError(t, err)
	r, err := f.Svc.Void(f.Ctx, ledger.VoidRequest{ID: "v1", Hold: "h1", Reason: "cancelled"})
	require.NoError(t, err)
	require.Equal(t, ledger.StatusVoided, r.Status)
	f.RequireBalance("vol-1", "10", "10")
	f.RequireBalance("shop", "0", "0")
	hold, err := f.Svc.TransferByID(f.Ctx, "h1")
	require.NoError(t, err)
	require.Equal(t, ledger.StatusVoided, hold.Status)
	require.Equal(t, ledger.TransferID("v1"), hold.ResolvedBy)
	s, err := f.Svc.Account(f.Ctx, "shop")
	require.NoError(t, err)
	require.True(t, s.PendingCredits.IsZero())
}

func testHoldResolveTwice(t *testing.T, f *Fixture) {
	fundedHoldFixture(f)
	_, err := f.Hold("h1", Points, "vol-1", "shop", "4", time10m)
	require.NoError(t, err)
	_, err = f.Svc.Void(f.Ctx, ledger.VoidRequest{ID: "v1", Hold: "h1"})
	require.NoError(t, err)
	_, err = f.Svc.Post(f.Ctx, ledger.PostRequest{ID: "p1", Hold: "h1"})
	require.ErrorIs(t, err, ledger.ErrNotPending)
	_, err = f.Svc.Void(f.Ctx, ledger.VoidRequest{ID: "v2", Hold: "h1"})
	require.ErrorIs(t, err, ledger.ErrNotPending)
	f.RequireBalance("vol-1", "10", "10")
}

func testHoldPostLate(t *testing.T, f *Fixture) {
	fundedHoldFixture(f)
	_, err := f.Hold("h1", Points, "vol-1", "shop", "4", time10m)
	require.NoError(t, err)
	f.Clock.Advance(time10m)
	_, err = f.Svc.Post(f.Ctx, ledger.PostRequest{ID: "p1", Hold: "h1"})
	require.ErrorIs(t, err, ledger.ErrHoldExpired, "a hold expires at its deadline")
	f.RequireBalance("vol-1", "10", "6")
	n, err := f.Svc.ExpireHolds(f.Ctx, f.Clock.Now())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	f.RequireBalance("vol-1", "10", "10")
}

func testExpireHolds(t *testing.T, f *Fixture) {
	fundedHoldFixture(f)
	_, err := f.Hold("h1", Points, "vol-1", "shop", "1", time.Minute)
	require.NoError(t, err)
	_, err = f.Hold("h2", Points, "vol-1", "shop", "2", 2*time.Minute)
	require.NoError(t, err)
	_, err = f.Hold("h3", Points, "vol-1", "shop", "3", time.Hour)
	require.NoError(t, err)
	f.RequireBalance("vol-1", "10", "4")

	due, err := f.Store.DueHolds(f.Ctx, Start.Add(2*time.Minute), 10)
	require.NoError(t, err)
	require.Equal(t, []ledger.TransferID{"h1", "h2"}, due, "ordered by deadline")

	n, err := f.Svc.ExpireHolds(f.Ctx, Start.Add(2*time.Minute))
	require.NoError(t, err)
	require.Equal(t, 2, n)
	f.RequireBalance("vol-1", "10", "7")
	n, err = f.Svc.ExpireHolds(f.Ctx, Start.Add(2*time.Minute))
	require.NoError(t, err)
	require.Zero(t, n, "nothing expires twice")
	for _, id := range []ledger.TransferID{"h1", "h2"} {
		h, err := f.Svc.TransferByID(f.Ctx, id)
		require.NoError(t, err)
		require.Equal(t, ledger.StatusExpired, h.Status)
		require.Equal(t, ledger.ExpirePrefix+id, h.ResolvedBy)
	}
	_, err = f.Svc.Post(f.Ctx, ledger.PostRequest{ID: "p1", Hold: "h1"})
	require.ErrorIs(t, err, ledger.ErrNotPending)
	_, err = f.Svc.Post(f.Ctx, ledger.PostRequest{ID: "p3", Hold: "h3"})
	require.NoError(t, err)
	f.RequireBalance("vol-1", "7", "7")
}

func testExpireNotDue(t *testing.T, f *Fixture) {
	fundedHoldFixture(f)
	_, err := f.Hold("h1", Points, "vol-1", "shop", "1", time.Minute)
	require.NoError(t, err)
	n, err := f.Svc.ExpireHolds(f.Ctx, Start.Add(time.Minute-time.Microsecond))
	require.NoError(t, err)
	require.Zero(t, n)
	f.RequireBalance("vol-1", "10", "9")
	due, err := f.Store.DueHolds(f.Ctx, Start, 10)
	require.NoError(t, err)
	require.Empty(t, due)
}

// testExpiryNotDueRefused sends the store an expiry of a hold before its
// deadline, as a sweep racing a clock behind the store's could: ExpireHolds
// only sends those DueHolds returns, so the suite goes through Store.Apply.
func testExpiryNotDueRefused(t *testing.T, f *Fixture) {
	fundedHoldFixture(f)
	_, err := f.Hold("h1", Points, "vol-1", "shop", "1", time.Minute)
	require.NoError(t, err)
	before := make(map[ledger.AccountID]ledger.Account)
	for _, id := range []ledger.AccountID{"vol-1", "shop"} {
		a, err := f.Svc.Account(f.Ctx, id)
		require.NoError(t, err)
		before[id] = a
	}
	now := Start.Add(time.Minute - time.Microsecond)
	cmd := ledger.Command{ID: ledger.ExpirePrefix + "h1", Kind: ledger.KindExpire, Ref: "h1", Principal: "ledger", RecordedAt: now, EffectiveAt: now}
	cmd.Fingerprint = ledger.Fingerprint(&cmd)
	rs, err := f.Store.Apply(f.Ctx, []ledger.Command{cmd})
	require.NoError(t, err)
	require.Len(t, rs, 1)
	require.ErrorIs(t, rs[0].Err, ledger.ErrHoldNotDue)
	require.Zero(t, rs[0].Status, "a refused expiry is not recorded")
	require.False(t, rs[0].Replayed)

	_, err = f.Svc.TransferByID(f.Ctx, cmd.ID)
	require.ErrorIs(t, err, ledger.ErrTransferNotFound)
	hold, err := f.Svc.TransferByID(f.Ctx, "h1")
	require.NoError(t, err)
	require.Equal(t, ledger.StatusPending, hold.Status)
	require.Empty(t, hold.ResolvedBy)
	f.RequireBalance("vol-1", "10", "9")
	for id, want := range before {
		a, err := f.Svc.Account(f.Ctx, id)
		require.NoError(t, err)
		require.Equalf(t, want, a, "account %s changed", id)
	}

	// Once due, the same expiry goes through: the refusal was not pinned.
	f.Clock.Advance(time.Minute)
	n, err := f.Svc.ExpireHolds(f.Ctx, f.Clock.Now())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	f.RequireBalance("vol-1", "10", "10")
}

func testHoldCeiling(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.OpenSpec(ledger.AccountSpec{ID: "capped", Asset: Points, Ceiling: decimal.NewNullDecimal(D("10"))})
	_, err := f.Hold("h1", Points, "issuer", "capped", "8", time10m)
	require.NoError(t, err)
	_, err = f.Move("t1", Points, "issuer", "capped", "2.01")
	require.ErrorIs(t, err, ledger.ErrCeilingExceeded, "pending credits count against the ceiling")
	_, err = f.Hold("h2", Points, "issuer", "capped", "2.01", time10m)
	require.ErrorIs(t, err, ledger.ErrCeilingExceeded)
	f.MustMove("t2", Points, "issuer", "capped", "2")
	_, err = f.Svc.Post(f.Ctx, ledger.PostRequest{ID: "p1", Hold: "h1"})
	require.NoError(t, err)
	f.RequireBalance("capped", "10", "10")
}

func testHoldUnknown(t *testing.T, f *Fixture) {
	fundedHoldFixture(f)
	_, err := f.Svc.Post(f.Ctx, ledger.PostRequest{ID: "p1", Hold: "ghost"})
	require.ErrorIs(t, err, ledger.ErrTransferNotFound)
	_, err = f.Svc.Void(f.Ctx, ledger.VoidRequest{ID: "v1", Hold: "fund"})
	require.ErrorIs(t, err, ledger.ErrNotPending, "a plain transfer is not a hold")
	_, err = f.Svc.Void(f.Ctx, ledger.VoidRequest{ID: "v2", Hold: ""})
	require.ErrorIs(t, err, ledger.ErrInvalid)
}
