package postgres

import (
	"context"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
)

var pointsAsset = ledger.Asset{Code: "POINTS", Scale: 2}

func TestLedgerSmoke(t *testing.T) {
	db := newTestDB(t, &Options{Stores: []string{StoreLedger}})
	ctx := context.Background()
	svc, err := ledger.New(db.Ledger(), nil)
	require.NoError(t, err)
	_, err = svc.OpenAccount(ctx, ledger.AccountSpec{ID: "issuer", Asset: pointsAsset, NoFloor: true})
	require.NoError(t, err)
	_, err = svc.OpenAccount(ctx, ledger.AccountSpec{ID: "alice", Asset: pointsAsset})
	require.NoError(t, err)
	_, err = svc.OpenAccount(ctx, ledger.AccountSpec{ID: "alice", Asset: pointsAsset})
	require.ErrorIs(t, err, ledger.ErrAccountExists)

	res, err := svc.Transfer(ctx, ledger.TransferRequest{ID: "t1", Postings: ledger.Move(pointsAsset, "issuer", "alice", decimal.RequireFromString("10.50"))})
	require.NoError(t, err)
	require.Equal(t, ledger.StatusPosted, res.Status)
	res, err = svc.Transfer(ctx, ledger.TransferRequest{ID: "t2", Postings: ledger.Move(pointsAsset, "alice", "issuer", decimal.RequireFromString("11"))})
	require.ErrorIs(t, err, ledger.ErrInsufficientFunds)
	require.Equal(t, ledger.StatusRefused, res.Status)
	res, err = svc.Transfer(ctx, ledger.TransferRequest{ID: "t2", Postings: ledger.Move(pointsAsset, "alice", "issuer", decimal.RequireFromString("11"))})
	require.ErrorIs(t, err, ledger.ErrInsufficientFunds)
	require.True(t, res.Replayed)

	alice, err := svc.Account(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, "10.5", alice.Balance.String())
	issuer, err := svc.Account(ctx, "issuer")
	require.NoError(t, err)
	require.Equal(t, "-10.5", issuer.Balance.String())
	require.Equal(t, int64(1), issuer.Entries)
	require.Equal(t, int64(2), issuer.Version)

	es, err := db.Ledger().Entries(ctx, "issuer", 0, 10)
	require.NoError(t, err)
	require.Len(t, es, 1)
	require.Equal(t, ledger.EntryHash([32]byte{}, &es[0]), es[0].Hash)
}
