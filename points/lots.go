package points

import (
	"slices"
	"time"

	"github.com/civicloop/civicloop/org"
	"github.com/shopspring/decimal"
)

// Lot is the points of one award, kept apart so that spending takes the
// oldest first and each lot expires on its own date.
type Lot struct {
	// ID equals the ID of the award that created the lot.
	ID        string
	Volunteer org.VolunteerID
	// Amount is what the award put into the lot (after repaying any debt).
	Amount decimal.Decimal
	// Remaining is what is left to spend; Amount = Remaining + spent +
	// Expired.
	Remaining decimal.Decimal
	// Expired is what expiry took.
	Expired  decimal.Decimal
	EarnedAt time.Time
	// ExpiresAt is when the remaining points expire; zero means never.
	ExpiresAt time.Time
	// Expiries counts the expiry sweeps that took points from the lot; the
	// ledger transfer of the n-th is keyed by the lot ID and n.
	Expiries int
}

// Wallet is a volunteer's running state in the points scheme. Every change
// of a volunteer's records, lots or debt increases its Version, so that two
// concurrent commands on one volunteer cannot both succeed on stale state.
type Wallet struct {
	Volunteer org.VolunteerID
	// Hours is the sum of the hours of his confirmed records.
	Hours decimal.Decimal
	// Level is the star level Hours reaches.
	Level int
	// Debt is the points owed after penalties beyond his balance (only when
	// the scheme allows negative points).
	Debt decimal.Decimal
	// Version is 0 for a volunteer never seen and increases by one with
	// every change.
	Version int64
}

// Allocation is the part of a lot a spend or a hold took.
type Allocation struct {
	Lot    string          `json:"lot"`
	Points decimal.Decimal `json:"points"`
}

// Available returns the points a volunteer may spend: his lots' remaining
// points less his debt.
func Available(w Wallet, lots []Lot) decimal.Decimal {
	sum := decimal.Zero
	for _, l := range lots {
		sum = sum.Add(l.Remaining)
	}
	return sum.Sub(w.Debt)
}

// coversPrice reports whether Available(w, lots) is at least price, in
// minor units when every amount converts and the sum cannot overflow, else
// in decimals.
func coversPrice(w Wallet, lots []Lot, price decimal.Decimal) bool {
	const lim = 1 << 53
	sum, err := PointsAsset.ToUnits(w.Debt)
	if err != nil || sum <= -lim || sum >= lim || len(lots) > 1<<9 {
		return !Available(w, lots).LessThan(price)
	}
	sum = -sum
	for _, l := range lots {
		u, err := PointsAsset.ToUnits(l.Remaining)
		if err != nil || u <= -lim || u >= lim {
			return !Available(w, lots).LessThan(price)
		}
		sum += u
	}
	p, err := PointsAsset.ToUnits(price)
	if err != nil {
		return !Available(w, lots).LessThan(price)
	}
	return sum >= p
}

// sortLots orders lots oldest first (by EarnedAt, then ID).
func sortLots(lots []Lot) {
	slices.SortFunc(lots, func(a, b Lot) int {
		if c := a.EarnedAt.Compare(b.EarnedAt); c != 0 {
			return c
		}
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
}

// take spends up to amount from lots, oldest first, preferring the lot
// named first (a reversal takes from its own lot before others). It returns
// the allocations, the changed lots (appended to changed) and how much was
// taken (less than amount only when the lots run dry). lots is not
// modified.
func take(lots []Lot, amount decimal.Decimal, first string, changed []Lot) ([]Allocation, []Lot, decimal.Decimal) {
	var allocs []Allocation
	left := amount
	rest := amount.Sign() > 0 // something is left to take
	all := false              // the lots covered all of amount
	// Two passes over lots, the preferred lot in the first, instead of a
	// reordered copy.
	for pass := 0; pass < 2 && rest; pass++ {
		for _, l := range lots {
			if (l.ID == first) != (pass == 0) {
				continue
			}
			if !rest {
				break
			}
			if l.Remaining.Sign() <= 0 {
				continue
			}
			n := decimal.Min(l.Remaining, left)
			l.Remaining = l.Remaining.Sub(n)
			if n == left {
				// The lot covers the rest (the usual case): nothing is left,
				// without working out left − left.
				rest, all = false, true
			} else {
				left = left.Sub(n)
				rest = left.Sign() > 0
			}
			allocs = append(allocs, Allocation{Lot: l.ID, Points: n})
			changed = append(changed, l)
		}
	}
	if all {
		return allocs, changed, amount
	}
	return allocs, changed, amount.Sub(left)
}
