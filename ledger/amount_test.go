package ledger

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

func TestToUnits(t *testing.T) {
	points := Asset{Code: "POINTS", Scale: 2}
	tests := []struct {
		amount string
		asset  Asset
		want   int64
		err    error
	}{
		{"12.5", points, 1250, nil},
		{"12.50", points, 1250, nil},
		{"12.500", points, 1250, nil}, // trailing zeros are not extra digits
		{"0.01", points, 1, nil},
		{"-3", points, -300, nil},
		{"0", points, 0, nil},
		{"1.005", points, 0, ErrInvalidAmount},
		{"92233720368547758.07", points, math.MaxInt64, nil},
		{"92233720368547758.08", points, 0, ErrOverflow},
		{"-92233720368547758.08", points, math.MinInt64, nil},
		{"1e20", points, 0, ErrOverflow},
		{"123456789012345678901234567890", points, 0, ErrOverflow},
		{"0.000000000000000000001", points, 0, ErrInvalidAmount},
		{"5", Asset{Code: "N", Scale: 0}, 5, nil},
		{"5", Asset{Code: "N", Scale: 18}, 5e18, nil},
		{"10", Asset{Code: "N", Scale: 18}, 0, ErrOverflow},
	}
	for _, tt := range tests {
		t.Run(tt.amount+"/"+tt.asset.String(), func(t *testing.T) {
			got, err := tt.asset.ToUnits(decimal.RequireFromString(tt.amount))
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.True(t, tt.asset.FromUnits(got).Equal(decimal.RequireFromString(tt.amount)))
		})
	}
}

func TestParseAmount(t *testing.T) {
	points := Asset{Code: "POINTS", Scale: 2}
	tests := []struct {
		in    string
		units int64
		err   error
	}{
		{"1", 100, nil},
		{"0.25", 25, nil},
		{"007.10", 710, nil},
		{"", 0, ErrInvalidAmount},
		{"0", 0, ErrInvalidAmount},
		{"-1", 0, ErrInvalidAmount},
		{"1.234", 0, ErrInvalidAmount},
		{"1e3", 0, ErrInvalidAmount},
		{"+1", 0, ErrInvalidAmount},
		{".5", 0, ErrInvalidAmount},
		{"5.", 0, ErrInvalidAmount},
		{"1.2.3", 0, ErrInvalidAmount},
		{"1,5", 0, ErrInvalidAmount},
		{" 1", 0, ErrInvalidAmount},
		{strings.Repeat("9", 41), 0, ErrInvalidAmount},
		{"99999999999999999999", 0, ErrOverflow},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.in), func(t *testing.T) {
			d, units, err := ParseAmount(points, tt.in)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				require.Contains(t, err.Error(), "amount")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.units, units)
			require.True(t, points.FromUnits(units).Equal(d))
		})
	}
	_, _, err := ParseAmount(Asset{Code: "bad"}, "1")
	require.ErrorIs(t, err, ErrInvalid)
}

// FuzzParseAmount checks that ParseAmount never panics, accepts only what
// it can represent exactly, and round-trips what it accepts.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"1", "0.01", "12.50", "-1", "1.001", "1e5", "92233720368547758.07", "92233720368547758.08", ".5", "00.10", "٣"} {
		f.Add(s, uint8(2))
	}
	f.Add("123456789", uint8(0))
	f.Add("0.000000000000000001", uint8(18))
	f.Fuzz(func(t *testing.T, s string, scale uint8) {
		asset := Asset{Code: "F", Scale: int32(scale % (MaxScale + 2))} // sometimes invalid
		d, units, err := ParseAmount(asset, s)
		if err != nil {
			if !errors.Is(err, ErrInvalidAmount) && !errors.Is(err, ErrOverflow) && !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseAmount(%q): error %v wraps no ledger sentinel", s, err)
			}
			return
		}
		if asset.Validate() != nil {
			t.Fatalf("ParseAmount(%q) accepted invalid asset %s", s, asset)
		}
		if units <= 0 {
			t.Fatalf("ParseAmount(%q) = %d units, want positive", s, units)
		}
		if !asset.FromUnits(units).Equal(d) {
			t.Fatalf("ParseAmount(%q): %d units is %s, parsed %s", s, units, asset.FromUnits(units), d)
		}
		// What was accepted parses back to the same units from its
		// canonical form.
		_, again, err := ParseAmount(asset, d.StringFixed(asset.Scale))
		if err != nil || again != units {
			t.Fatalf("ParseAmount(%q): canonical %q gives %d, %v", s, d.StringFixed(asset.Scale), again, err)
		}
		if i := strings.IndexByte(s, '.'); i >= 0 && len(strings.TrimRight(s[i+1:], "0")) > int(asset.Scale) {
			t.Fatalf("ParseAmount(%q) accepted more digits than scale %d", s, asset.Scale)
		}
	})
}

// TestCoefficientFits checks the bound comparison against NumDigits at the
// edges of 18 digits, for exponents inside and outside the bounds table.
func TestCoefficientFits(t *testing.T) {
	for _, exp := range []int32{minBoundExp - 1, minBoundExp, -2, 0, 3, maxBoundExp, maxBoundExp + 1} {
		for _, coef := range []string{"1", "-1", "999999999999999999", "-999999999999999999",
			"1000000000000000000", "-1000000000000000000", "9223372036854775807", "-9223372036854775808",
			"18446744073709551616", "123456789012345678901234567890"} {
			c, ok := new(big.Int).SetString(coef, 10)
			require.True(t, ok)
			d := decimal.NewFromBigInt(c, exp)
			require.Equal(t, d.NumDigits() <= 18, coefficientFits(d), "coefficient %s, exponent %d", coef, exp)
		}
	}
}
