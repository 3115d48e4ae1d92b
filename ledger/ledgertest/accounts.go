package ledgertest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
)

var accountTests = []subtest{
	{name: "OpenAndRead", fn: testOpenAndRead},
	{name: "OpenDuplicate", fn: testOpenDuplicate},
	{name: "OpenInvalid", fn: testOpenInvalid},
	{name: "NotFound", fn: testAccountNotFound},
	{name: "CloseEmpty", fn: testCloseEmpty},
	{name: "CloseRefusedWithBalance", fn: testCloseWithBalance},
	{name: "CloseRefusedWithHold", fn: testCloseWithHold},
	{name: "CloseUnknown", fn: testCloseUnknown},
	{name: "ListPaged", fn: testAccountsPaged},
	{name: "ReadsReturnCopies", fn: testReadsReturnCopies},
}

func testReadsReturnCopies(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.OpenSpec(ledger.AccountSpec{ID: "vol-1", Asset: Points, Metadata: map[string]string{"k": "v"}})
	meta := map[string]string{"order": "o-1"}
	_, err := f.Svc.Transfer(f.Ctx, ledger.TransferRequest{ID: "t1", Postings: ledger.Move(Points, "issuer", "vol-1", D("1")), Metadata: meta})
	require.NoError(t, err)
	meta["order"] = "changed after the call"

	a, err := f.Svc.Account(f.Ctx, "vol-1")
	require.NoError(t, err)
	a.Metadata["k"] = "changed by a reader"
	rec, err := f.Store.Account(f.Ctx, "vol-1")
	require.NoError(t, err)
	rec.Metadata["k"] = "changed by a store reader"
	tr, err := f.Store.Transfer(f.Ctx, "t1")
	require.NoError(t, err)
	tr.Metadata["order"] = "changed by a reader"
	tr.Postings[0].Units = 999

	a, err = f.Svc.Account(f.Ctx, "vol-1")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"k": "v"}, a.Metadata)
	got, err := f.Svc.TransferByID(f.Ctx, "t1")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"order": "o-1"}, got.Metadata)
	require.True(t, got.Postings[0].Amount.Equal(D("1")))
}

func testOpenAndRead(t *testing.T, f *Fixture) {
	meta := map[string]string{"node": "jintan-station-7", "kind": "volunteer"}
	spec := ledger.AccountSpec{ID: "vol-1", Asset: Points, Floor: D("-5"), Ceiling: decimal.NewNullDecimal(D("1000")), Owner: "V320482001", Metadata: meta}
	got := f.OpenSpec(spec)
	meta["node"] = "changed" // the ledger keeps its own copy
	a, err := f.Svc.Account(f.Ctx, "vol-1")
	require.NoError(t, err)
	require.Equal(t, got.ID, a.ID)
	require.Equal(t, Points, a.Asset)
	require.True(t, a.Floor.Equal(D("-5")), "floor %s", a.Floor)
	require.False(t, a.NoFloor)
	require.True(t, a.Ceiling.Valid)
	require.True(t, a.Ceiling.Decimal.Equal(D("1000")))
	require.Equal(t, "V320482001", a.Owner)
	require.Equal(t, map[string]string{"node": "jintan-station-7", "kind": "volunteer"}, a.Metadata)
	require.False(t, a.Closed)
	RequireTime(t, Start, a.OpenedAt)
	require.True(t, a.Balance.IsZero())
	require.True(t, a.Available.IsZero())
	require.EqualValues(t, 1, a.Version)
	require.EqualValues(t, 0, a.Entries)

	f.Issuer("issuer", Points)
	is, err := f.Svc.Account(f.Ctx, "issuer")
	require.NoError(t, err)
	require.True(t, is.NoFloor)
	require.False(t, is.Ceiling.Valid)
}

func testOpenDuplicate(t *testing.T, f *Fixture) {
	f.Open("vol-1", Points)
	_, err := f.Svc.OpenAccount(f.Ctx, ledger.AccountSpec{ID: "vol-1", Asset: Hours})
	require.ErrorIs(t, err, ledger.ErrAccountExists)
	a, err := f.Svc.Account(f.Ctx, "vol-1")
	require.NoError(t, err)
	require.Equal(t, Points, a.Asset, "the first account stays")
}

func testOpenInvalid(t *testing.T, f *Fixture) {
	bigMeta := map[string]string{}
	for i := 0; i <= ledger.MaxMetadataKeys; i++ {
		bigMeta["k"+strconv.Itoa(i)] = "v"
	}
	tests := []struct {
		name  string
		spec  ledger.AccountSpec
		err   error
		field string
	}{
		{"empty id", ledger.AccountSpec{Asset: Points}, ledger.ErrInvalid, "id"},
		{"id with space", ledger.AccountSpec{ID: "a b", Asset: Points}, ledger.ErrInvalid, "id"},
		{"id too long", ledger.AccountSpec{ID: ledger.AccountID(strings.Repeat("x", ledger.MaxIDLength+1)), Asset: Points}, ledger.ErrInvalid, "id"},
		{"empty asset code", ledger.AccountSpec{ID: "a", Asset: ledger.Asset{Scale: 2}}, ledger.ErrInvalid, "code"},
		{"lower-case asset code", ledger.AccountSpec{ID: "a", Asset: ledger.Asset{Code: "pts", Scale: 2}}, ledger.ErrInvalid, "code"},
		{"scale too large", ledger.AccountSpec{ID: "a", Asset: ledger.Asset{Code: "P", Scale: 19}}, ledger.ErrInvalid, "scale"},
		{"negative scale", ledger.AccountSpec{ID: "a", Asset: ledger.Asset{Code: "P", Scale: -1}}, ledger.ErrInvalid, "scale"},
		{"positive floor", ledger.AccountSpec{ID: "a", Asset: Points, Floor: D("1")}, ledger.ErrInvalid, "floor"},
		{"floor beyond scale", ledger.AccountSpec{ID: "a", Asset: Points, Floor: D("-0.001")}, ledger.ErrInvalidAmount, "floor"},
		{"negative ceiling", ledger.AccountSpec{ID: "a", Asset: Points, Ceiling: decimal.NewNullDecimal(D("-1"))}, ledger.ErrInvalid, "ceiling"},
		{"too many metadata keys", ledger.AccountSpec{ID: "a", Asset: Points, Metadata: bigMeta}, ledger.ErrMetadataTooLarge, "metadata"},
		{"metadata too large", ledger.AccountSpec{ID: "a", Asset: Points, Metadata: map[string]string{"k": strings.Repeat("v", ledger.MaxMetadataBytes)}}, ledger.ErrMetadataTooLarge, "metadata"},
		{"owner too long", ledger.AccountSpec{ID: "a", Asset: Points, Owner: strings.Repeat("o", ledger.MaxIDLength+1)}, ledger.ErrInvalid, "owner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.Svc.OpenAccount(f.Ctx, tt.spec)
			require.ErrorIs(t, err, tt.err)
			require.Contains(t, err.Error(), tt.field)
			if tt.spec.ID != "" {
				_, err = f.Svc.Account(f.Ctx, tt.spec.ID)
				require.ErrorIs(t, err, ledger.ErrAccountNotFound, "a refused account is not opened")
			}
		})
	}
}

func testAccountNotFound(t *testing.T, f *Fixture) {
	_, err := f.Svc.Account(f.Ctx, "ghost")
	require.ErrorIs(t, err, ledger.ErrAccountNotFound)
	require.ErrorIs(t, err, ledger.ErrNotFound)
	_, err = f.Store.Account(f.Ctx, "ghost")
	require.ErrorIs(t, err, ledger.ErrAccountNotFound)
}

func testCloseEmpty(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	f.MustMove("t1", Points, "issuer", "vol-1", "3")
	f.MustMove("t2", Points, "vol-1", "issuer", "3")
	f.Clock.Advance(time10m)
	a, err := f.Svc.CloseAccount(f.Ctx, "vol-1")
	require.NoError(t, err)
	require.True(t, a.Closed)
	RequireTime(t, Start.Add(time10m), a.ClosedAt)
	require.EqualValues(t, 4, a.Version, "open, two entries, close")

	_, err = f.Move("t3", Points, "issuer", "vol-1", "1")
	require.ErrorIs(t, err, ledger.ErrAccountClosed)
	_, err = f.Hold("h1", Points, "issuer", "vol-1", "1", time10m)
	require.ErrorIs(t, err, ledger.ErrAccountClosed)

	again, err := f.Svc.CloseAccount(f.Ctx, "vol-1")
	require.NoError(t, err, "closing a closed account is a no-op")
	require.Equal(t, a.Version, again.Version)
	RequireTime(t, a.ClosedAt, again.ClosedAt)
}

func testCloseWithBalance(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	f.MustMove("t1", Points, "issuer", "vol-1", "0.01")
	_, err := f.Svc.CloseAccount(f.Ctx, "vol-1")
	require.ErrorIs(t, err, ledger.ErrAccountNotEmpty)
	a, err := f.Svc.Account(f.Ctx, "vol-1")
	require.NoError(t, err)
	require.False(t, a.Closed)
	_, err = f.Svc.CloseAccount(f.Ctx, "issuer")
	require.ErrorIs(t, err, ledger.ErrAccountNotEmpty, "an issuer with a negative balance stays open")
}

func testCloseWithHold(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	f.Open("shop", Points)
	f.MustMove("t1", Points, "issuer", "vol-1", "5")
	_, err := f.Hold("h1", Points, "vol-1", "shop", "5", time10m)
	require.NoError(t, err)
	_, err = f.Svc.CloseAccount(f.Ctx, "shop")
	require.ErrorIs(t, err, ledger.ErrAccountNotEmpty, "pending credits keep the account open")
	_, err = f.Svc.Void(f.Ctx, ledger.VoidRequest{ID: "v1", Hold: "h1"})
	require.NoError(t, err)
	_, err = f.Svc.CloseAccount(f.Ctx, "shop")
	require.NoError(t, err)
}

func testCloseUnknown(t *testing.T, f *Fixture) {
	_, err := f.Svc.CloseAccount(f.Ctx, "ghost")
	require.ErrorIs(t, err, ledger.ErrAccountNotFound)
}

func testAccountsPaged(t *testing.T, f *Fixture) {
	ids := []ledger.AccountID{"m", "b", "z", "a", "q", "c", "x"}
	for _, id := range ids {
		f.Open(id, Points)
	}
	var got []ledger.AccountID
	var after ledger.AccountID
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10, "paging must end")
		page, err := f.Store.Accounts(f.Ctx, after, 3)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), 3)
		if len(page) == 0 {
			break
		}
		for _, a := range page {
			got = append(got, a.ID)
		}
		after = page[len(page)-1].ID
	}
	require.Equal(t, []ledger.AccountID{"a", "b", "c", "m", "q", "x", "z"}, got)
	rep := CheckInvariants(t, f.Svc)
	require.Equal(t, len(ids), rep.Accounts)
}
