package memory

import (
	"context"
	"testing"

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
