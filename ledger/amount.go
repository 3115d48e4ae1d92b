package ledger

import (
	"fmt"
	"math"
	"math/bits"
	"strings"

	"github.com/shopspring/decimal"
)

// MaxScale is the largest scale an Asset may have.
const MaxScale = 18

// Asset is a kind of value kept on the ledger (points, service hours) with a
// fixed scale: the number of digits after the decimal point its amounts may
// have. Two assets are the same only if code and scale both match.
type Asset struct {
	// Code names the asset, e.g. "POINTS" or "HOURS": 1 to 16 bytes of
	// upper-case letters, digits and '_'.
	Code string
	// Scale is the number of decimal places, 0 to MaxScale.
	Scale int32
}

// String returns "CODE/scale".
func (a Asset) String() string { return fmt.Sprintf("%s/%d", a.Code, a.Scale) }

// Validate reports whether a is a well-formed asset; the error wraps
// ErrInvalid.
func (a Asset) Validate() error {
	if a.Code == "" || len(a.Code) > 16 {
		return fmt.Errorf("ledger: asset: field code: %q must be 1 to 16 bytes: %w", a.Code, ErrInvalid)
	}
	for i := 0; i < len(a.Code); i++ {
		c := a.Code[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Errorf("ledger: asset: field code: %q may hold only A-Z, 0-9 and '_': %w", a.Code, ErrInvalid)
		}
	}
	if a.Scale < 0 || a.Scale > MaxScale {
		return fmt.Errorf("ledger: asset %s: field scale: %d is outside 0..%d: %w", a.Code, a.Scale, MaxScale, ErrInvalid)
	}
	return nil
}

var pow10 = [19]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// ToUnits converts amount to minor units of the asset (amount × 10^scale).
// It refuses, with ErrInvalidAmount, an amount with more digits after the
// point than the scale, and with ErrOverflow one whose minor units do not fit
// an int64. It accepts zero and negative amounts; callers that need a
// positive amount check the sign. It does not allocate for amounts whose
// coefficient has at most 15 digits.
func (a Asset) ToUnits(amount decimal.Decimal) (int64, error) {
	if amount.Sign() == 0 {
		return 0, nil
	}
	if !coefficientFits(amount) {
		// The coefficient may not fit an int64: take the exact, slower road.
		return a.toUnitsBig(amount)
	}
	coef := amount.CoefficientInt64()
	shift := int64(amount.Exponent()) + int64(a.Scale)
	switch {
	case shift == 0:
		return coef, nil
	case shift > 0:
		if shift > 18 {
			if coef == 0 {
				return 0, nil
			}
			return 0, fmt.Errorf("ledger: amount %s of %s: %w", amount, a, ErrOverflow)
		}
		hi, lo := bits.Mul64(absU(coef), uint64(pow10[shift]))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("ledger: amount %s of %s: %w", amount, a, ErrOverflow)
		}
		if coef < 0 {
			return -int64(lo), nil
		}
		return int64(lo), nil
	default:
		if -shift > 18 || coef%pow10[-shift] != 0 {
			if coef == 0 {
				return 0, nil
			}
			return 0, fmt.Errorf("ledger: amount %s has more digits than scale %d of %s: %w", amount, a.Scale, a.Code, ErrInvalidAmount)
		}
		return coef / pow10[-shift], nil
	}
}

// coefficientBounds[e-minBoundExp] holds -(10^18-1) and 10^18-1 with
// exponent e: compared with an amount of the same exponent, they tell
// whether its coefficient has at most 18 digits without the logarithm
// decimal.NumDigits takes.
var coefficientBounds = func() (b [maxBoundExp - minBoundExp + 1][2]decimal.Decimal) {
	for i := range b {
		e := int32(i + minBoundExp)
		b[i] = [2]decimal.Decimal{decimal.New(-(pow10[18] - 1), e), decimal.New(pow10[18]-1, e)}
	}
	return b
}()

const minBoundExp, maxBoundExp = -2 * MaxScale, MaxScale

// coefficientFits reports whether amount's coefficient has at most 18
// digits, so that amount.CoefficientInt64() is exact.
func coefficientFits(amount decimal.Decimal) bool {
	e := amount.Exponent()
	if e < minBoundExp || e > maxBoundExp {
		return amount.NumDigits() <= 18
	}
	b := &coefficientBounds[e-minBoundExp]
	// Same exponents: Cmp compares the coefficients, without rescaling.
	return amount.Cmp(b[0]) >= 0 && amount.Cmp(b[1]) <= 0
}

func (a Asset) toUnitsBig(amount decimal.Decimal) (int64, error) {
	shifted := amount.Shift(a.Scale)
	if !shifted.IsInteger() {
		return 0, fmt.Errorf("ledger: amount %s has more digits than scale %d of %s: %w", amount, a.Scale, a.Code, ErrInvalidAmount)
	}
	bi := shifted.BigInt()
	if !bi.IsInt64() {
		return 0, fmt.Errorf("ledger: amount %s of %s: %w", amount, a, ErrOverflow)
	}
	return bi.Int64(), nil
}

func absU(v int64) uint64 {
	if v < 0 {
		return uint64(-v) // -MinInt64 wraps to itself, and as uint64 is 2^63: correct.
	}
	return uint64(v)
}

// FromUnits converts minor units of the asset back to a decimal amount.
func (a Asset) FromUnits(units int64) decimal.Decimal {
	return decimal.New(units, -a.Scale)
}

// ParseAmount parses a decimal amount of the asset, such as "12.5", and
// returns it with its minor units. It refuses with ErrInvalidAmount text that
// is not a plain decimal number (no exponent, no sign other than a leading
// '-', at most 40 characters), an amount with more digits after the point
// than the scale, and an amount that is not positive; with ErrOverflow an
// amount too large for 64-bit minor units.
func ParseAmount(a Asset, s string) (decimal.Decimal, int64, error) {
	if err := a.Validate(); err != nil {
		return decimal.Decimal{}, 0, err
	}
	if len(s) == 0 || len(s) > 40 {
		return decimal.Decimal{}, 0, fmt.Errorf("ledger: amount %q: must be 1 to 40 characters: %w", s, ErrInvalidAmount)
	}
	body := strings.TrimPrefix(s, "-")
	digits, dot := 0, 0
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dot++
			if i == 0 || i == len(body)-1 {
				return decimal.Decimal{}, 0, fmt.Errorf("ledger: amount %q: a point needs digits on both sides: %w", s, ErrInvalidAmount)
			}
		default:
			return decimal.Decimal{}, 0, fmt.Errorf("ledger: amount %q: unexpected character %q: %w", s, c, ErrInvalidAmount)
		}
	}
	if digits == 0 || dot > 1 {
		return decimal.Decimal{}, 0, fmt.Errorf("ledger: amount %q: not a decimal number: %w", s, ErrInvalidAmount)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, 0, fmt.Errorf("ledger: amount %q: %v: %w", s, err, ErrInvalidAmount)
	}
	units, err := a.ToUnits(d)
	if err != nil {
		return decimal.Decimal{}, 0, err
	}
	if units <= 0 {
		return decimal.Decimal{}, 0, fmt.Errorf("ledger: amount %q: must be positive: %w", s, ErrInvalidAmount)
	}
	return d, units, nil
}

// addUnits returns a+b or ErrOverflow.
func addUnits(a, b int64) (int64, bool) {
	s := a + b
	// Overflow iff a and b have the same sign and s has the other one.
	if (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0) {
		return 0, false
	}
	return s, true
}
