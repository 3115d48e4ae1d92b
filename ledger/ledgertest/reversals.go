package ledgertest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
)

var reversalTests = []subtest{
	{name: "Simple", fn: testReverseSimple},
	{name: "Twice", fn: testReverseTwice},
	{name: "NotReversible", fn: testReverseNotReversible},
	{name: "ObeysFloor", fn: testReverseFloor},
	{name: "PostedHold", fn: testReversePost},
}

func testReverseSimple(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	f.MustMove("t1", Points, "issuer", "vol-1", "8")
	f.Clock.Advance(time.Hour)
	r, err := f.Svc.Reverse(f.Ctx, ledger.ReverseRequest{ID: "r1", Original: "t1", Reason: "correction", Principal: "admin"})
	require.NoError(t, err)
	require.Equal(t, ledger.StatusPosted, r.Status)
	f.RequireBalance("vol-1", "0", "0")
	f.RequireBalance("issuer", "0", "0")
	rev, err := f.Svc.TransferByID(f.Ctx, "r1")
	require.NoError(t, err)
	require.Equal(t, ledger.KindReversal, rev.Kind)
	require.Equal(t, ledger.TransferID("t1"), rev.Ref)
	require.Equal(t, "correction", rev.Reason)
	require.Equal(t, ledger.AccountID("issuer"), rev.Postings[0].Account)
	require.Equal(t, ledger.Credit, rev.Postings[0].Side, "sides are swapped")
	require.Equal(t, ledger.Debit, rev.Postings[1].Side)
	orig, err := f.Svc.TransferByID(f.Ctx, "t1")
	require.NoError(t, err)
	require.Equal(t, ledger.StatusPosted, orig.Status, "the original is not edited")
	require.Equal(t, ledger.TransferID("r1"), orig.ReversedBy)
	st, err := f.Svc.Statement(f.Ctx, "vol-1", 0, 10)
	require.NoError(t, err)
	require.Len(t, st.Entries, 2, "history keeps both")
}

func testReverseTwice(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	f.MustMove("t1", Points, "issuer", "vol-1", "8")
	_, err := f.Svc.Reverse(f.Ctx, ledger.ReverseRequest{ID: "r1", Original: "t1"})
	require.NoError(t, err)
	_, err = f.Svc.Reverse(f.Ctx, ledger.ReverseRequest{ID: "r2", Original: "t1"})
	require.ErrorIs(t, err, ledger.ErrAlreadyReversed)
	r, err := f.Svc.Reverse(f.Ctx, ledger.ReverseRequest{ID: "r1", Original: "t1"})
	require.NoError(t, err, "retrying the first reversal replays it")
	require.True(t, r.Replayed)
	f.RequireBalance("vol-1", "0", "0")
}

func testReverseNotReversible(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	f.MustMove("t1", Points, "issuer", "vol-1", "8")
	_, err := f.Svc.Reverse(f.Ctx, ledger.ReverseRequest{ID: "r1", Original: "t1"})
	require.NoError(t, err)
	_, err = f.Svc.Reverse(f.Ctx, ledger.ReverseRequest{ID: "r2", Original: "r1"})
	require.ErrorIs(t, err, ledger.ErrNotReversible, "a reversal is not reversed")
	_, err = f.Hold("h1", Points, "issuer", "vol-1", "1", time10m)
	require.NoError(t, err)
	_, err = f.Svc.Reverse(f.Ctx, ledger.ReverseRequest{ID: "r3", Original: "h1"})
	require.ErrorIs(t, err, ledger.ErrNotReversible, "a hold is voided, not reversed")
	_, err = f.Move("t2", Points, "vol-1", "issuer", "100")
	require.ErrorIs(t, err, ledger.ErrInsufficientFunds)
	_, err = f.Svc.Reverse(f.Ctx, ledger.ReverseRequest{ID: "r4", Original: "t2"})
	require.ErrorIs(t, err, ledger.ErrNotReversible, "a refused transfer moved nothing")
	_, err = f.Svc.Reverse(f.Ctx, ledger.ReverseRequest{ID: "r5", Original: "ghost"})
	require.ErrorIs(t, err, ledger.ErrTransferNotFound)
}

func testReverseFloor(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	f.Open("shop", Points)
	f.MustMove("t1", Points, "issuer", "vol-1", "8")
	f.MustMove("t2", Points, "vol-1", "shop", "5")
	_, err := f.Svc.Reverse(f.Ctx, ledger.ReverseRequest{ID: "r1", Original: "t1"})
	require.ErrorIs(t, err, ledger.ErrInsufficientFunds, "vol-1 spent part of it")
	f.RequireBalance("vol-1", "3", "3")
	orig, err := f.Svc.TransferByID(f.Ctx, "t1")
	require.NoError(t, err)
	require.Empty(t, orig.ReversedBy)
	_, err = f.Svc.Reverse(f.Ctx, ledger.ReverseRequest{ID: "r2", Original: "t2"})
	require.NoError(t, err)
	_, err = f.Svc.Reverse(f.Ctx, ledger.ReverseRequest{ID: "r3", Original: "t1"})
	require.NoError(t, err)
	f.RequireBalance("vol-1", "0", "0")
}

func testReversePost(t *testing.T, f *Fixture) {
	fundedHoldFixture(f)
	_, err := f.Hold("h1", Points, "vol-1", "shop", "4", time10m)
	require.NoError(t, err)
	_, err = f.Svc.Post(f.Ctx, ledger.PostRequest{ID: "p1", Hold: "h1", Amount: D("3")})
	require.NoError(t, err)
	_, err = f.Svc.Reverse(f.Ctx, ledger.ReverseRequest{ID: "r1", Original: "p1", Reason: "refund"})
	require.NoError(t, err)
	f.RequireBalance("vol-1", "10", "10")
	f.RequireBalance("shop", "0", "0")
}
