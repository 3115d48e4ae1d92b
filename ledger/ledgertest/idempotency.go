package ledgertest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
)

var idempotencyTests = []subtest{
	{name: "RetryReturnsFirstOutcome", fn: testRetrySame},
	{name: "RetriedRefusalStaysRefused", fn: testRetryRefusal},
	{name: "ConflictingContent", fn: testConflict},
	{name: "ConflictAcrossKinds", fn: testConflictKinds},
	{name: "DuplicateInBatch", fn: testDuplicateInBatch},
	{name: "RetryOfResolvedHold", fn: testRetryResolvedHold},
	{name: "RetriedPartialPostOfUnknownHold", fn: testRetryPartialPostUnknown},
	{name: "RetriedResolutionOfUnknownTransfer", fn: testRetryRefUnknown},
	{name: "RetriedFinerPartialPostOfUnknownHold", fn: testRetryFinerPartialPostUnknown},
	{name: "PartialPostHoldPlacedAfterRead", fn: testPartialPostHoldPlacedAfterRead},
	{name: "ConcurrentFirstPartialPosts", fn: testConcurrentFirstPartialPosts},
	{name: "LegacyUnconvertedPost", fn: testLegacyUnconvertedPost},
	{name: "RetryThroughHiddenCapabilities", fn: testRetryThroughHiddenCapabilities},
}

// requireReplayedRefusal checks that r, err replay the stored refusal
// first (ErrTransferNotFound), not a new outcome.
func requireReplayedRefusal(t *testing.T, first, r ledger.Result, err error) {
	t.Helper()
	require.ErrorIs(t, err, ledger.ErrTransferNotFound, "the first outcome stands")
	require.NotErrorIs(t, err, ledger.ErrIdempotencyConflict)
	require.True(t, r.Replayed)
	require.Equal(t, ledger.StatusRefused, r.Status)
	require.Equal(t, first.Err.Error(), r.Err.Error())
}

func testRetryPartialPostUnknown(t *testing.T, f *Fixture) {
	fundedHoldFixture(f)
	post := ledger.PostRequest{ID: "p1", Hold: "h1", Amount: D("2.5"), Reason: "pickup"}
	first, err := f.Svc.Post(f.Ctx, post)
	require.ErrorIs(t, err, ledger.ErrTransferNotFound)
	require.False(t, first.Replayed)
	require.Equal(t, ledger.StatusRefused, first.Status)
	r, err := f.Svc.Post(f.Ctx, post)
	requireReplayedRefusal(t, first, r, err)
	other := post
	other.Amount = D("3")
	_, err = f.Svc.Post(f.Ctx, other)
	require.ErrorIs(t, err, ledger.ErrIdempotencyConflict, "another amount for a hold still unknown")

	// The hold appears; retries of the refused post still replay its
	// refusal, and only those.
	_, err = f.Hold("h1", Points, "vol-1", "shop", "4", time10m)
	require.NoError(t, err)
	f.Clock.Advance(time.Minute)
	r, err = f.Svc.Post(f.Ctx, post)
	requireReplayedRefusal(t, first, r, err)
	same := post
	same.Amount = D("2.50")
	r, err = f.Svc.Post(f.Ctx, same)
	requireReplayedRefusal(t, first, r, err)
	for _, amount := range []string{"3", "2.49", "0"} {
		other := post
		other.Amount = D(amount)
		r, err = f.Svc.Post(f.Ctx, other)
		require.ErrorIsf(t, err, ledger.ErrIdempotencyConflict, "amount %s", amount)
		require.False(t, r.Replayed)
	}
	other = post
	other.Reason = "other"
	_, err = f.Svc.Post(f.Ctx, other)
	require.ErrorIs(t, err, ledger.ErrIdempotencyConflict)

	f.RequireBalance("vol-1", "10", "6")
	hold, err := f.Svc.TransferByID(f.Ctx, "h1")
	require.NoError(t, err)
	require.Equal(t, ledger.StatusPending, hold.Status, "no retry touched the hold")
	rec, err := f.Svc.TransferByID(f.Ctx, "p1")
	require.NoError(t, err)
	require.Equal(t, ledger.StatusRefused, rec.Status)
	require.ErrorIs(t, rec.Refusal, ledger.ErrTransferNotFound)

	// A new post of the same amount under another ID converts it for real.
	_, err = f.Svc.Post(f.Ctx, ledger.PostRequest{ID: "p2", Hold: "h1", Amount: D("2.5"), Reason: "pickup"})
	require.NoError(t, err)
	f.RequireBalance("vol-1", "7.5", "7.5")
	f.RequireBalance("shop", "2.5", "2.5")
	r, err = f.Svc.Post(f.Ctx, post)
	requireReplayedRefusal(t, first, r, err)
}

// testRetryFinerPartialPostUnknown: a partial post of an unknown hold
// with more digits after the point than the hold, once placed, has: its
// retries still replay the refusal, but a new post with that amount is
// refused for the amount.
func testRetryFinerPartialPostUnknown(t *testing.T, f *Fixture) {
	fundedHoldFixture(f)
	post := ledger.PostRequest{ID: "p1", Hold: "h1", Amount: D("2.555"), Reason: "pickup"}
	first, err := f.Svc.Post(f.Ctx, post)
	require.ErrorIs(t, err, ledger.ErrTransferNotFound)
	_, err = f.Hold("h1", Points, "vol-1", "shop", "4", time10m)
	require.NoError(t, err)
	f.Clock.Advance(time.Minute)
	r, err := f.Svc.Post(f.Ctx, post)
	requireReplayedRefusal(t, first, r, err)
	other := post
	other.Amount = D("2.5551")
	r, err = f.Svc.Post(f.Ctx, other)
	require.ErrorIs(t, err, ledger.ErrIdempotencyConflict)
	require.False(t, r.Replayed)
	fresh := post
	fresh.ID = "p2"
	r, err = f.Svc.Post(f.Ctx, fresh)
	require.ErrorIs(t, err, ledger.ErrInvalidAmount)
	require.NotEqual(t, ledger.StatusRefused, r.Status, "not recorded")
	_, err = f.Svc.TransferByID(f.Ctx, "p2")
	require.ErrorIs(t, err, ledger.ErrTransferNotFound)
	f.RequireBalance("vol-1", "10", "6")
}

func testRetryRefUnknown(t *testing.T, f *Fixture) {
	fundedHoldFixture(f)
	full := ledger.PostRequest{ID: "p1", Hold: "h1"}
	void := ledger.VoidRequest{ID: "v1", Hold: "h2", Reason: "cancelled"}
	rev := ledger.ReverseRequest{ID: "r1", Original: "t1", Reason: "mistake"}
	firstPost, err := f.Svc.Post(f.Ctx, full)
	require.ErrorIs(t, err, ledger.ErrTransferNotFound)
	firstVoid, err := f.Svc.Void(f.Ctx, void)
	require.ErrorIs(t, err, ledger.ErrTransferNotFound)
	firstRev, err := f.Svc.Reverse(f.Ctx, rev)
	require.ErrorIs(t, err, ledger.ErrTransferNotFound)

	_, err = f.Hold("h1", Points, "vol-1", "shop", "1", time10m)
	require.NoError(t, err)
	_, err = f.Hold("h2", Points, "vol-1", "shop", "2", time10m)
	require.NoError(t, err)
	f.MustMove("t1", Points, "vol-1", "shop", "3")
	f.Clock.Advance(time.Minute)

	r, err := f.Svc.Post(f.Ctx, full)
	requireReplayedRefusal(t, firstPost, r, err)
	r, err = f.Svc.Void(f.Ctx, void)
	requireReplayedRefusal(t, firstVoid, r, err)
	r, err = f.Svc.Reverse(f.Ctx, rev)
	requireReplayedRefusal(t, firstRev, r, err)

	_, err = f.Svc.Post(f.Ctx, ledger.PostRequest{ID: "p1", Hold: "h1", Amount: D("1")})
	require.ErrorIs(t, err, ledger.ErrIdempotencyConflict, "an amount where the first post had none")
	_, err = f.Svc.Void(f.Ctx, ledger.VoidRequest{ID: "v1", Hold: "h2"})
	require.ErrorIs(t, err, ledger.ErrIdempotencyConflict)
	_, err = f.Svc.Reverse(f.Ctx, ledger.ReverseRequest{ID: "r1", Original: "t1"})
	require.ErrorIs(t, err, ledger.ErrIdempotencyConflict)

	f.RequireBalance("vol-1", "7", "4")
	f.RequireBalance("shop", "3", "3")
	for _, id := range []ledger.TransferID{"h1", "h2"} {
		h, err := f.Svc.TransferByID(f.Ctx, id)
		require.NoError(t, err)
		require.Equal(t, ledger.StatusPending, h.Status)
	}
	tr, err := f.Svc.TransferByID(f.Ctx, "t1")
	require.NoError(t, err)
	require.Empty(t, tr.ReversedBy)
}

func testRetrySame(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	first, err := f.Move("t1", Points, "issuer", "vol-1", "4")
	require.NoError(t, err)
	require.False(t, first.Replayed)
	f.Clock.Advance(time10m) // the recorded time is not part of the content
	for i := 0; i < 3; i++ {
		again, err := f.Move("t1", Points, "issuer", "vol-1", "4.00")
		require.NoError(t, err)
		require.True(t, again.Replayed)
		require.Equal(t, first.Status, again.Status)
		require.Equal(t, first.ID, again.ID)
	}
	f.RequireBalance("vol-1", "4", "4")
	st, err := f.Svc.Statement(f.Ctx, "vol-1", 0, 10)
	require.NoError(t, err)
	require.Len(t, st.Entries, 1)
}

func testRetryRefusal(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	f.Open("shop", Points)
	first, err := f.Move("buy", Points, "vol-1", "shop", "3")
	require.ErrorIs(t, err, ledger.ErrInsufficientFunds)
	f.MustMove("fund", Points, "issuer", "vol-1", "10")
	again, err := f.Move("buy", Points, "vol-1", "shop", "3")
	require.ErrorIs(t, err, ledger.ErrInsufficientFunds, "the first outcome stands")
	require.True(t, again.Replayed)
	require.Equal(t, ledger.StatusRefused, again.Status)
	require.Equal(t, first.Err.Error(), again.Err.Error())
	f.RequireBalance("vol-1", "10", "10")
	f.MustMove("buy-2", Points, "vol-1", "shop", "3")
}

func testConflict(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	f.Open("vol-2", Points)
	f.MustMove("t1", Points, "issuer", "vol-1", "4")
	variants := []ledger.TransferRequest{
		{ID: "t1", Postings: ledger.Move(Points, "issuer", "vol-1", D("5")), Reason: "test", Principal: "tester"},
		{ID: "t1", Postings: ledger.Move(Points, "issuer", "vol-2", D("4")), Reason: "test", Principal: "tester"},
		{ID: "t1", Postings: ledger.Move(Points, "issuer", "vol-1", D("4")), Reason: "other", Principal: "tester"},
		{ID: "t1", Postings: ledger.Move(Points, "issuer", "vol-1", D("4")), Reason: "test", Principal: "someone"},
		{ID: "t1", Postings: ledger.Move(Points, "issuer", "vol-1", D("4")), Reason: "test", Principal: "tester", Metadata: map[string]string{"k": "v"}},
		{ID: "t1", Postings: ledger.Move(Points, "issuer", "vol-1", D("4")), Reason: "test", Principal: "tester", EffectiveAt: Start.Add(-1)},
	}
	for _, req := range variants {
		r, err := f.Svc.Transfer(f.Ctx, req)
		require.ErrorIs(t, err, ledger.ErrIdempotencyConflict)
		require.False(t, r.Replayed)
	}
	f.RequireBalance("vol-1", "4", "4")
	f.RequireBalance("vol-2", "0", "0")
	tr, err := f.Svc.TransferByID(f.Ctx, "t1")
	require.NoError(t, err)
	require.True(t, tr.Postings[0].Amount.Equal(D("4")), "the first request stays recorded")
}

func testConflictKinds(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	f.MustMove("t1", Points, "issuer", "vol-1", "4")
	_, err := f.Hold("t1", Points, "issuer", "vol-1", "4", time10m)
	require.ErrorIs(t, err, ledger.ErrIdempotencyConflict)
	_, err = f.Svc.Void(f.Ctx, ledger.VoidRequest{ID: "t1", Hold: "t1"})
	require.ErrorIs(t, err, ledger.ErrIdempotencyConflict)
	_, err = f.Svc.Reverse(f.Ctx, ledger.ReverseRequest{ID: "t1", Original: "t1"})
	require.ErrorIs(t, err, ledger.ErrIdempotencyConflict)
	f.RequireBalance("vol-1", "4", "4")
}

func testDuplicateInBatch(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	req := ledger.TransferRequest{ID: "t1", Postings: ledger.Move(Points, "issuer", "vol-1", D("2"))}
	other := ledger.TransferRequest{ID: "t1", Postings: ledger.Move(Points, "issuer", "vol-1", D("3"))}
	rs, err := f.Svc.TransferBatch(f.Ctx, []ledger.TransferRequest{req, req, other})
	require.NoError(t, err)
	require.Len(t, rs, 3)
	require.NoError(t, rs[0].Err)
	require.False(t, rs[0].Replayed)
	require.NoError(t, rs[1].Err)
	require.True(t, rs[1].Replayed)
	require.ErrorIs(t, rs[2].Err, ledger.ErrIdempotencyConflict)
	f.RequireBalance("vol-1", "2", "2")
}

func testRetryResolvedHold(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	f.Open("shop", Points)
	f.MustMove("fund", Points, "issuer", "vol-1", "10")
	_, err := f.Hold("h1", Points, "vol-1", "shop", "4", time10m)
	require.NoError(t, err)
	_, err = f.Svc.Post(f.Ctx, ledger.PostRequest{ID: "p1", Hold: "h1"})
	require.NoError(t, err)
	r, err := f.Hold("h1", Points, "vol-1", "shop", "4", time10m)
	require.NoError(t, err)
	require.True(t, r.Replayed)
	require.Equal(t, ledger.StatusPending, r.Status, "a retried hold returns its first outcome")
	r, err = f.Svc.Post(f.Ctx, ledger.PostRequest{ID: "p1", Hold: "h1"})
	require.NoError(t, err)
	require.True(t, r.Replayed)
	require.Equal(t, ledger.StatusPosted, r.Status)
	f.RequireBalance("vol-1", "6", "6")
	f.RequireBalance("shop", "4", "4")
}
