package ledgertest

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
)

const time10m = 10 * time.Minute

var transferTests = []subtest{
	{name: "Simple", fn: testTransferSimple},
	{name: "MultiPosting", fn: testTransferMultiPosting},
	{name: "MultiAsset", fn: testTransferMultiAsset},
	{name: "Unbalanced", fn: testTransferUnbalanced},
	{name: "InvalidRequests", fn: testTransferInvalid},
	{name: "InsufficientFunds", fn: testInsufficientFunds},
	{name: "NegativeFloor", fn: testNegativeFloor},
	{name: "Ceiling", fn: testCeiling},
	{name: "UnknownAccount", fn: testUnknownAccount},
	{name: "AssetMismatch", fn: testAssetMismatch},
	{name: "AllOrNothing", fn: testAllOrNothing},
	{name: "SameAccountNetsOut", fn: testSameAccountNets},
	{name: "BalanceOverflow", fn: testBalanceOverflow},
	{name: "RecordedFields", fn: testRecordedFields},
	{name: "GeneratedID", fn: testGeneratedID},
}

func testTransferSimple(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	f.Open("vol-2", Points)
	f.MustMove("t1", Points, "issuer", "vol-1", "12.50")
	f.MustMove("t2", Points, "vol-1", "vol-2", "2.25")
	f.RequireBalance("issuer", "-12.50", "-12.50")
	f.RequireBalance("vol-1", "10.25", "10.25")
	f.RequireBalance("vol-2", "2.25", "2.25")
	a, err := f.Svc.Account(f.Ctx, "vol-1")
	require.NoError(t, err)
	require.EqualValues(t, 3, a.Version)
	require.EqualValues(t, 2, a.Entries)
}

func testTransferMultiPosting(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	for _, id := range []ledger.AccountID{"a", "b", "c"} {
		f.Open(id, Points)
	}
	r, err := f.Svc.Transfer(f.Ctx, ledger.TransferRequest{ID: "t1", Postings: []ledger.Posting{
		{Account: "issuer", Side: ledger.Debit, Asset: Points, Amount: D("6")},
		{Account: "a", Side: ledger.Credit, Asset: Points, Amount: D("1")},
		{Account: "b", Side: ledger.Credit, Asset: Points, Amount: D("2")},
		{Account: "c", Side: ledger.Credit, Asset: Points, Amount: D("3")},
	}})
	require.NoError(t, err)
	require.Equal(t, ledger.StatusPosted, r.Status)
	f.RequireBalance("a", "1", "1")
	f.RequireBalance("b", "2", "2")
	f.RequireBalance("c", "3", "3")
	f.RequireBalance("issuer", "-6", "-6")
}

func testTransferMultiAsset(t *testing.T, f *Fixture) {
	f.Issuer("p-issuer", Points)
	f.Issuer("h-issuer", Hours)
	f.Open("vol-p", Points)
	f.Open("vol-h", Hours)
	ps := append(ledger.Move(Points, "p-issuer", "vol-p", D("20")), ledger.Move(Hours, "h-issuer", "vol-h", D("2.5"))...)
	_, err := f.Svc.Transfer(f.Ctx, ledger.TransferRequest{ID: "award", Postings: ps, Reason: "service"})
	require.NoError(t, err)
	f.RequireBalance("vol-p", "20", "20")
	f.RequireBalance("vol-h", "2.5", "2.5")
	rep := CheckInvariants(t, f.Svc)
	require.Equal(t, []ledger.Asset{Hours, Points}, rep.Assets)
}

func testTransferUnbalanced(t *testing.T, f *Fixture) {
	f.Issuer("p-issuer", Points)
	f.Issuer("h-issuer", Hours)
	f.Open("vol-p", Points)
	f.Open("vol-h", Hours)
	tests := []struct {
		name     string
		postings []ledger.Posting
	}{
		{"one posting", ledger.Move(Points, "p-issuer", "vol-p", D("1"))[:1]},
		{"amounts differ", []ledger.Posting{
			{Account: "p-issuer", Side: ledger.Debit, Asset: Points, Amount: D("2")},
			{Account: "vol-p", Side: ledger.Credit, Asset: Points, Amount: D("1.99")},
		}},
		{"balanced in total but not per asset", []ledger.Posting{
			{Account: "p-issuer", Side: ledger.Debit, Asset: Points, Amount: D("1")},
			{Account: "vol-h", Side: ledger.Credit, Asset: Hours, Amount: D("1")},
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := ledger.TransferID("u" + strconv.Itoa(i))
			_, err := f.Svc.Transfer(f.Ctx, ledger.TransferRequest{ID: id, Postings: tt.postings})
			require.ErrorIs(t, err, ledger.ErrUnbalanced)
			require.Contains(t, err.Error(), "postings")
			_, err = f.Svc.TransferByID(f.Ctx, id)
			require.ErrorIs(t, err, ledger.ErrTransferNotFound, "an invalid request is not recorded")
		})
	}
	f.RequireBalance("vol-p", "0", "0")
}

func testTransferInvalid(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	move := func(amount decimal.Decimal) []ledger.Posting { return ledger.Move(Points, "issuer", "vol-1", amount) }
	huge := decimal.New(1, 17) // 10^17 points = 10^19 minor units: beyond int64
	tests := []struct {
		name  string
		req   ledger.TransferRequest
		err   error
		field string
	}{
		{"zero amount", ledger.TransferRequest{ID: "i1", Postings: move(D("0"))}, ledger.ErrInvalidAmount, "amount"},
		{"negative amount", ledger.TransferRequest{ID: "i2", Postings: move(D("-1"))}, ledger.ErrInvalidAmount, "amount"},
		{"more digits than scale", ledger.TransferRequest{ID: "i3", Postings: move(D("1.005"))}, ledger.ErrInvalidAmount, "scale"},
		{"amount overflows", ledger.TransferRequest{ID: "i4", Postings: move(huge)}, ledger.ErrOverflow, "amount"},
		{"sum overflows", ledger.TransferRequest{ID: "i5", Postings: []ledger.Posting{
			{Account: "issuer", Side: ledger.Debit, Asset: Points, Amount: D("90000000000000000")},
			{Account: "issuer", Side: ledger.Debit, Asset: Points, Amount: D("90000000000000000")},
			{Account: "vol-1", Side: ledger.Credit, Asset: Points, Amount: D("90000000000000000")},
			{Account: "vol-1", Side: ledger.Credit, Asset: Points, Amount: D("90000000000000000")},
		}}, ledger.ErrOverflow, "postings"},
		{"no postings", ledger.TransferRequest{ID: "i6"}, ledger.ErrInvalid, "postings"},
		{"bad side", ledger.TransferRequest{ID: "i7", Postings: []ledger.Posting{{Account: "issuer", Asset: Points, Amount: D("1")}}}, ledger.ErrInvalid, "side"},
		{"bad account id", ledger.TransferRequest{ID: "i8", Postings: ledger.Move(Points, "issuer", "vol 1", D("1"))}, ledger.ErrInvalid, "account"},
		{"bad asset", ledger.TransferRequest{ID: "i9", Postings: ledger.Move(ledger.Asset{Code: "p", Scale: 2}, "issuer", "vol-1", D("1"))}, ledger.ErrInvalid, "asset"},
		{"reserved id", ledger.TransferRequest{ID: ledger.ExpirePrefix + "x", Postings: move(D("1"))}, ledger.ErrInvalid, "id"},
		{"id too long", ledger.TransferRequest{ID: ledger.TransferID(strings.Repeat("t", ledger.MaxIDLength+1)), Postings: move(D("1"))}, ledger.ErrInvalid, "id"},
		{"reason too long", ledger.TransferRequest{ID: "i10", Postings: move(D("1")), Reason: strings.Repeat("r", ledger.MaxReasonLength+1)}, ledger.ErrInvalid, "reason"},
		{"metadata too large", ledger.TransferRequest{ID: "i11", Postings: move(D("1")), Metadata: map[string]string{"k": strings.Repeat("v", ledger.MaxMetadataBytes)}}, ledger.ErrMetadataTooLarge, "metadata"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := f.Svc.Transfer(f.Ctx, tt.req)
			require.ErrorIs(t, err, tt.err)
			require.ErrorIs(t, r.Err, tt.err)
			require.Contains(t, err.Error(), tt.field)
			_, err = f.Svc.TransferByID(f.Ctx, tt.req.ID)
			require.ErrorIs(t, err, ledger.ErrTransferNotFound, "an invalid request is not recorded")
		})
	}
	f.RequireBalance("vol-1", "0", "0")
	f.RequireBalance("issuer", "0", "0")
}

func testInsufficientFunds(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	f.Open("shop", Points)
	f.MustMove("t1", Points, "issuer", "vol-1", "5")
	r, err := f.Move("t2", Points, "vol-1", "shop", "5.01")
	require.ErrorIs(t, err, ledger.ErrInsufficientFunds)
	require.Equal(t, ledger.StatusRefused, r.Status)
	require.Contains(t, err.Error(), "vol-1")
	f.RequireBalance("vol-1", "5", "5")
	f.RequireBalance("shop", "0", "0")
	tr, err := f.Svc.TransferByID(f.Ctx, "t2")
	require.NoError(t, err)
	require.Equal(t, ledger.StatusRefused, tr.Status)
	require.ErrorIs(t, tr.Refusal, ledger.ErrInsufficientFunds)
	f.MustMove("t3", Points, "vol-1", "shop", "5")
	f.RequireBalance("vol-1", "0", "0")
}

func testNegativeFloor(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.OpenSpec(ledger.AccountSpec{ID: "vol-1", Asset: Points, Floor: D("-10")})
	f.MustMove("t1", Points, "vol-1", "issuer", "10")
	f.RequireBalance("vol-1", "-10", "-10")
	_, err := f.Move("t2", Points, "vol-1", "issuer", "0.01")
	require.ErrorIs(t, err, ledger.ErrInsufficientFunds)
	f.MustMove("t3", Points, "issuer", "vol-1", "20")
	f.RequireBalance("vol-1", "10", "10")
}

func testCeiling(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.OpenSpec(ledger.AccountSpec{ID: "vol-1", Asset: Points, Ceiling: decimal.NewNullDecimal(D("100"))})
	f.MustMove("t1", Points, "issuer", "vol-1", "99.99")
	_, err := f.Move("t2", Points, "issuer", "vol-1", "0.02")
	require.ErrorIs(t, err, ledger.ErrCeilingExceeded)
	f.MustMove("t3", Points, "issuer", "vol-1", "0.01")
	f.RequireBalance("vol-1", "100", "100")
	f.MustMove("t4", Points, "vol-1", "issuer", "100")
}

func testUnknownAccount(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	r, err := f.Move("t1", Points, "issuer", "ghost", "1")
	require.ErrorIs(t, err, ledger.ErrAccountNotFound)
	require.Equal(t, ledger.StatusRefused, r.Status)
	require.Contains(t, err.Error(), "ghost")
	f.RequireBalance("issuer", "0", "0")
}

func testAssetMismatch(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-h", Hours)
	_, err := f.Move("t1", Points, "issuer", "vol-h", "1")
	require.ErrorIs(t, err, ledger.ErrAssetMismatch)
	other := ledger.Asset{Code: "POINTS", Scale: 0}
	f.Open("vol-p0", other)
	_, err = f.Move("t2", Points, "issuer", "vol-p0", "1")
	require.ErrorIs(t, err, ledger.ErrAssetMismatch, "same code, other scale")
}

func testAllOrNothing(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("a", Points)
	f.Open("b", Points)
	f.Open("c", Points)
	f.MustMove("t1", Points, "issuer", "a", "10")
	_, err := f.Svc.Transfer(f.Ctx, ledger.TransferRequest{ID: "t2", Postings: []ledger.Posting{
		{Account: "a", Side: ledger.Debit, Asset: Points, Amount: D("5")},
		{Account: "c", Side: ledger.Credit, Asset: Points, Amount: D("5")},
		{Account: "b", Side: ledger.Debit, Asset: Points, Amount: D("1")}, // b has nothing
		{Account: "c", Side: ledger.Credit, Asset: Points, Amount: D("1")},
	}})
	require.ErrorIs(t, err, ledger.ErrInsufficientFunds)
	f.RequireBalance("a", "10", "10")
	f.RequireBalance("b", "0", "0")
	f.RequireBalance("c", "0", "0")
	for _, id := range []ledger.AccountID{"a", "b", "c"} {
		st, err := f.Svc.Statement(f.Ctx, id, 0, 10)
		require.NoError(t, err)
		if id == "a" {
			require.Len(t, st.Entries, 1)
		} else {
			require.Empty(t, st.Entries)
		}
	}
}

func testSameAccountNets(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("a", Points)
	f.Open("b", Points)
	f.MustMove("t0", Points, "issuer", "a", "3")
	_, err := f.Svc.Transfer(f.Ctx, ledger.TransferRequest{ID: "t1", Postings: []ledger.Posting{
		{Account: "a", Side: ledger.Debit, Asset: Points, Amount: D("5")},
		{Account: "a", Side: ledger.Credit, Asset: Points, Amount: D("4")},
		{Account: "b", Side: ledger.Credit, Asset: Points, Amount: D("1")},
	}})
	require.NoError(t, err, "a's net debit is 1, within its balance of 3")
	f.RequireBalance("a", "2", "2")
	st, err := f.Svc.Statement(f.Ctx, "a", 0, 10)
	require.NoError(t, err)
	require.Len(t, st.Entries, 2, "one entry per account and transfer, for the net amount")
	require.True(t, st.Entries[1].Amount.Equal(D("-1")))
}

func testBalanceOverflow(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("a", Points)
	max := "92233720368547758.07" // math.MaxInt64 minor units
	f.MustMove("t1", Points, "issuer", "a", max)
	_, err := f.Move("t2", Points, "issuer", "a", "0.01")
	require.ErrorIs(t, err, ledger.ErrOverflow)
	f.RequireBalance("a", max, max)
	f.MustMove("t3", Points, "a", "issuer", max)
}

func testRecordedFields(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	eff := Start.Add(-48 * time.Hour)
	f.Clock.Advance(time.Second + 1500*time.Nanosecond) // sub-microsecond part is dropped
	_, err := f.Svc.Transfer(f.Ctx, ledger.TransferRequest{ID: "t1", Postings: ledger.Move(Points, "issuer", "vol-1", D("7.5")),
		Reason: "service", Principal: "admin-7", Metadata: map[string]string{"order": "o-1"}, EffectiveAt: eff})
	require.NoError(t, err)
	tr, err := f.Svc.TransferByID(f.Ctx, "t1")
	require.NoError(t, err)
	require.Equal(t, ledger.KindTransfer, tr.Kind)
	require.Equal(t, ledger.StatusPosted, tr.Status)
	require.Equal(t, "service", tr.Reason)
	require.Equal(t, "admin-7", tr.Principal)
	require.Equal(t, map[string]string{"order": "o-1"}, tr.Metadata)
	RequireTime(t, Start.Add(time.Second+time.Microsecond), tr.RecordedAt)
	RequireTime(t, eff, tr.EffectiveAt)
	require.Len(t, tr.Postings, 2)
	require.Equal(t, ledger.Posting{Account: "issuer", Side: ledger.Debit, Asset: Points, Amount: tr.Postings[0].Amount}, tr.Postings[0])
	require.True(t, tr.Postings[0].Amount.Equal(D("7.5")))
	require.Equal(t, ledger.AccountID("vol-1"), tr.Postings[1].Account)
	require.Equal(t, ledger.Credit, tr.Postings[1].Side)
	require.Nil(t, tr.Refusal)

	st, err := f.Svc.Statement(f.Ctx, "vol-1", 0, 10)
	require.NoError(t, err)
	require.Len(t, st.Entries, 1)
	RequireTime(t, eff, st.Entries[0].EffectiveAt)
	RequireTime(t, tr.RecordedAt, st.Entries[0].RecordedAt)
}

func testGeneratedID(t *testing.T, f *Fixture) {
	f.Issuer("issuer", Points)
	f.Open("vol-1", Points)
	r, err := f.Move("", Points, "issuer", "vol-1", "1")
	require.NoError(t, err)
	require.Equal(t, ledger.TransferID("gen-1"), r.ID)
	_, err = f.Svc.TransferByID(f.Ctx, r.ID)
	require.NoError(t, err)
}
