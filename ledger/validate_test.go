package ledger

import (
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

func TestValidateTransferBalancedPerAsset(t *testing.T) {
	p := Asset{Code: "POINTS", Scale: 2}
	h := Asset{Code: "HOURS", Scale: 2}
	req := TransferRequest{ID: "t", Postings: []Posting{
		{Account: "a", Side: Debit, Asset: p, Amount: decimal.RequireFromString("3")},
		{Account: "b", Side: Debit, Asset: h, Amount: decimal.RequireFromString("1.5")},
		{Account: "c", Side: Credit, Asset: p, Amount: decimal.RequireFromString("1")},
		{Account: "d", Side: Credit, Asset: h, Amount: decimal.RequireFromString("1.5")},
		{Account: "e", Side: Credit, Asset: p, Amount: decimal.RequireFromString("2")},
	}}
	ps, err := ValidateTransfer(&req)
	require.NoError(t, err)
	require.Equal(t, []int64{300, 150, 100, 150, 200}, []int64{ps[0].Units, ps[1].Units, ps[2].Units, ps[3].Units, ps[4].Units})
	req.Postings[4].Amount = decimal.RequireFromString("2.01")
	_, err = ValidateTransfer(&req)
	require.ErrorIs(t, err, ErrUnbalanced)
	require.Contains(t, err.Error(), "POINTS")
	require.Contains(t, err.Error(), "0.01")
}

var validateSentinels = []error{ErrInvalid, ErrInvalidAmount, ErrOverflow, ErrUnbalanced, ErrMetadataTooLarge}

// FuzzTransferValidate feeds ValidateTransfer arbitrary requests: it must
// never panic, every error must wrap one of its sentinels, and an accepted
// request must be balanced per asset with positive minor units that convert
// back to the given amounts.
func FuzzTransferValidate(f *testing.F) {
	f.Add("t1", "a", "b", "12.5", "12.5", uint8(1), uint8(2), uint8(2), "reason", "k", "v")
	f.Add("", "a", "a", "1", "1", uint8(1), uint8(2), uint8(0), "", "", "")
	f.Add("expire:x", "a b", "", "-1", "0", uint8(0), uint8(3), uint8(19), "r", "", "")
	f.Add("t", "a", "b", "1.001", "99999999999999999999", uint8(2), uint8(1), uint8(2), "", "key", "value")
	f.Fuzz(func(t *testing.T, id, acctA, acctB, amtA, amtB string, sideA, sideB, scale uint8, reason, mk, mv string) {
		asset := Asset{Code: "POINTS", Scale: int32(scale % 20)}
		da, errA := decimal.NewFromString(amtA)
		db, errB := decimal.NewFromString(amtB)
		if errA != nil || errB != nil {
			return
		}
		req := TransferRequest{ID: TransferID(id), Reason: reason, Postings: []Posting{
			{Account: AccountID(acctA), Side: Side(sideA % 4), Asset: asset, Amount: da},
			{Account: AccountID(acctB), Side: Side(sideB % 4), Asset: asset, Amount: db},
		}}
		if mk != "" || mv != "" {
			req.Metadata = map[string]string{mk: mv}
		}
		ps, err := ValidateTransfer(&req)
		if err != nil {
			for _, s := range validateSentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error %v wraps no validation sentinel", err)
		}
		var net int64
		for i, p := range ps {
			if p.Units <= 0 {
				t.Fatalf("posting %d: %d units accepted", i, p.Units)
			}
			if !p.Asset.FromUnits(p.Units).Equal(req.Postings[i].Amount) {
				t.Fatalf("posting %d: %d units for amount %s", i, p.Units, req.Postings[i].Amount)
			}
			if p.Side == Debit {
				net += p.Units
			} else {
				net -= p.Units
			}
		}
		if net != 0 {
			t.Fatalf("unbalanced request accepted: %+v", ps)
		}
	})
}

// A posting with the same amount and asset as the one before reuses its
// conversion; a change of asset converts again.
func TestValidateTransferRepeatedAmount(t *testing.T) {
	p2 := Asset{Code: "POINTS", Scale: 2}
	h1 := Asset{Code: "HOURS", Scale: 1}
	amt := decimal.RequireFromString("1.5")
	req := TransferRequest{ID: "t", Postings: []Posting{
		{Account: "a", Side: Debit, Asset: p2, Amount: amt},
		{Account: "b", Side: Credit, Asset: p2, Amount: amt},
		{Account: "c", Side: Debit, Asset: h1, Amount: amt},
		{Account: "d", Side: Credit, Asset: h1, Amount: amt},
	}}
	ps, err := ValidateTransfer(&req)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int64{150, 150, 15, 15} {
		if ps[i].Units != want {
			t.Fatalf("posting %d: %d units, want %d", i, ps[i].Units, want)
		}
	}
	bad := decimal.RequireFromString("1.25")
	req.Postings[2].Amount, req.Postings[3].Amount = bad, bad
	if _, err := ValidateTransfer(&req); !errors.Is(err, ErrInvalidAmount) || !strings.Contains(err.Error(), "postings[2].amount") {
		t.Fatalf("got %v, want ErrInvalidAmount naming postings[2].amount", err)
	}
}
