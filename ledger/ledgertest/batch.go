package ledgertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
)

var batchTests = []subtest{
	{name: "MixedResults", fn: testBatchMixed},
	{name: "Empty", fn: testBatchEmpty},
	{name: "TooLarge", fn: testBatchTooLarge},
}

var contextTests = []subtest{
	{name: "CancelledWrites", fn: testCancelledWrites},
	{name: "CancelledReads", fn: testCancelledReads},
}

func testBatchMixed(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	f.Open("vol-2", Points)
	rs, err := f.Svc.TransferBatch(f.Ctx, []ledger.TransferRequest{
		{ID: "b1", Postings: ledger.Move(Points, "issuer", "vol-1", D("5"))},
		{ID: "b2", Postings: ledger.Move(Points, "vol-1", "vol-2", D("4"))}, // sees b1
		{ID: "b3", Postings: ledger.Move(Points, "vol-1", "vol-2", D("4"))}, // insufficient
		{ID: "b4", Postings: ledger.Move(Points, "vol-1", "vol-2", D("0"))}, // invalid
		{ID: "b5", Postings: ledger.Move(Points, "vol-2", "vol-1", D("1")), HoldUntil: Start.Add(time.Hour)},
	})
	require.NoError(t, err)
	require.Len(t, rs, 5)
	require.NoError(t, rs[0].Err)
	require.NoError(t, rs[1].Err)
	require.ErrorIs(t, rs[2].Err, ledger.ErrInsufficientFunds)
	require.Equal(t, ledger.StatusRefused, rs[2].Status)
	require.ErrorIs(t, rs[3].Err, ledger.ErrInvalidAmount)
	require.Zero(t, rs[3].Status, "invalid requests are not recorded")
	require.NoError(t, rs[4].Err)
	require.Equal(t, ledger.StatusPending, rs[4].Status)
	for i, id := range []ledger.TransferID{"b1", "b2", "b3", "b4", "b5"} {
		require.Equal(t, id, rs[i].ID)
	}
	f.RequireBalance("vol-1", "1", "1")
	f.RequireBalance("vol-2", "4", "3")
}

func testBatchEmpty(t *testing.T, f *Fixture) {
	rs, err := f.Svc.TransferBatch(f.Ctx, nil)
	require.NoError(t, err)
	require.Empty(t, rs)
	rs, err = f.Store.Apply(f.Ctx, nil)
	require.NoError(t, err)
	require.Empty(t, rs)
}

func testBatchTooLarge(t *testing.T, f *Fixture) {
	_, err := f.Svc.TransferBatch(f.Ctx, make([]ledger.TransferRequest, ledger.MaxBatch+1))
	require.ErrorIs(t, err, ledger.ErrInvalid)
}

func testCancelledWrites(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	f.MustMove("t0", Points, "issuer", "vol-1", "5")
	_, err := f.Hold("h0", Points, "vol-1", "issuer", "1", time.Hour)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(f.Ctx)
	cancel()
	isCancelled := func(err error) {
		t.Helper()
		require.Error(t, err)
		require.True(t, errors.Is(err, context.Canceled), "error %v does not wrap context.Canceled", err)
	}
	_, err = f.Svc.OpenAccount(ctx, ledger.AccountSpec{ID: "vol-2", Asset: Points})
	isCancelled(err)
	_, err = f.Svc.Transfer(ctx, ledger.TransferRequest{ID: "t1", Postings: ledger.Move(Points, "issuer", "vol-1", D("1"))})
	isCancelled(err)
	_, err = f.Svc.TransferBatch(ctx, []ledger.TransferRequest{{ID: "t2", Postings: ledger.Move(Points, "issuer", "vol-1", D("1"))}})
	isCancelled(err)
	_, err = f.Svc.Post(ctx, ledger.PostRequest{ID: "p1", Hold: "h0"})
	isCancelled(err)
	_, err = f.Svc.Void(ctx, ledger.VoidRequest{ID: "v1", Hold: "h0"})
	isCancelled(err)
	_, err = f.Svc.Reverse(ctx, ledger.ReverseRequest{ID: "r1", Original: "t0"})
	isCancelled(err)
	_, err = f.Svc.ExpireHolds(ctx, Start.Add(2*time.Hour))
	isCancelled(err)
	f.MustMove("t3", Points, "vol-1", "issuer", "4")
	_, err = f.Svc.CloseAccount(ctx, "vol-1")
	isCancelled(err)

	_, err = f.Svc.Account(f.Ctx, "vol-2")
	require.ErrorIs(t, err, ledger.ErrAccountNotFound, "nothing was opened")
	for _, id := range []ledger.TransferID{"t1", "t2", "p1", "v1", "r1"} {
		_, err = f.Svc.TransferByID(f.Ctx, id)
		require.ErrorIs(t, err, ledger.ErrTransferNotFound, "%s was not recorded", id)
	}
	f.RequireBalance("vol-1", "1", "0")
	h, err := f.Svc.TransferByID(f.Ctx, "h0")
	require.NoError(t, err)
	require.Equal(t, ledger.StatusPending, h.Status)
}

func testCancelledReads(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	f.MustMove("t0", Points, "issuer", "vol-1", "5")
	ctx, cancel := context.WithCancel(f.Ctx)
	cancel()
	var errs []error
	_, err := f.Store.Account(ctx, "vol-1")
	errs = append(errs, err)
	_, err = f.Store.Accounts(ctx, "", 10)
	errs = append(errs, err)
	_, err = f.Store.Transfer(ctx, "t0")
	errs = append(errs, err)
	_, err = f.Store.Entries(ctx, "vol-1", 0, 10)
	errs = append(errs, err)
	_, err = f.Store.EntryAsOf(ctx, "vol-1", Start)
	errs = append(errs, err)
	_, err = f.Store.DueHolds(ctx, Start, 10)
	errs = append(errs, err)
	_, err = f.Store.Transfers(ctx, "", 10)
	errs = append(errs, err)
	errs = append(errs, f.Svc.Verify(ctx, ""))
	_, err = f.Svc.Audit(ctx)
	errs = append(errs, err)
	for i, err := range errs {
		require.Truef(t, errors.Is(err, context.Canceled), "read %d: error %v does not wrap context.Canceled", i, err)
	}
}
