package points

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// periodKeysByPeriods is the reference for periodKeys: the keys formatted
// from the starts Periods returns.
func periodKeysByPeriods(s *Scheme, t time.Time) [3]string {
	day, week, month, _ := s.Periods(t)
	return [3]string{day.Format("D:2006-01-02"), week.Format("W:2006-01-02"), month.Format("M:2006-01")}
}

func TestPeriodKeysMatchPeriods(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		shanghai = time.FixedZone("CST", 8*3600)
	}
	locs := []*time.Location{time.UTC, shanghai, time.FixedZone("W", -11*3600), time.FixedZone("E", 14*3600)}
	rapid.Check(t, func(t *rapid.T) {
		loc := locs[rapid.IntRange(0, len(locs)-1).Draw(t, "loc")]
		svc := &Service{scheme: &Scheme{Location: loc}}
		// 1970 to 2100, to the second.
		at := time.Unix(rapid.Int64Range(0, 4102444800).Draw(t, "unix"), 0).UTC()
		require.Equal(t, periodKeysByPeriods(svc.scheme, at), svc.periodKeys(at), "at %s in %s", at, loc)
	})
}

func TestPeriodKeysMonthAndYearTurn(t *testing.T) {
	svc := &Service{scheme: &Scheme{Location: time.UTC}}
	for _, tc := range []struct {
		at   time.Time
		want [3]string
	}{
		{time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), [3]string{"D:2026-03-01", "W:2026-02-23", "M:2026-03"}},
		{time.Date(2027, 1, 2, 10, 0, 0, 0, time.UTC), [3]string{"D:2027-01-02", "W:2026-12-28", "M:2027-01"}},
		{time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), [3]string{"D:2026-03-02", "W:2026-03-02", "M:2026-03"}},
	} {
		require.Equal(t, tc.want, svc.periodKeys(tc.at), tc.at.String())
	}
}

func TestMulTruncateMatchesDecimal(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := decimal.New(rapid.Int64Range(-1e12, 1e12).Draw(t, "h"), -rapid.Int32Range(0, 4).Draw(t, "hexp"))
		r := decimal.New(rapid.Int64Range(0, 1e12).Draw(t, "r"), -rapid.Int32Range(0, 4).Draw(t, "rexp"))
		want := h.Mul(r).Truncate(hundth)
		got := mulTruncate(h, r)
		require.Truef(t, want.Equal(got), "%s × %s: got %s, want %s", h, r, got, want)
		require.Equal(t, want.String(), got.String())
	})
}

// TestEarnUnitsMatchDecimals checks that confirmation's units path (usage
// read as hundredths) explains and awards exactly what Earn does with
// decimals.
func TestEarnUnitsMatchDecimals(t *testing.T) {
	s := testScheme(t, func(s *Scheme) {
		s.Rules[0].Caps = Caps{PerActivity: dec("60"), PerDay: dec("80"), PerWeek: dec("200"), PerMonth: dec("500")}
	})
	rapid.Check(t, func(t *rapid.T) {
		minutes := rapid.IntRange(30, 600).Draw(t, "minutes")
		day := time.Date(2026, 10, 20+rapid.IntRange(0, 15).Draw(t, "day"), 9, 0, 0, 0, time.UTC)
		in := signed(minutes, 0)
		in.SignIn, in.SignOut = day, day.Add(time.Duration(minutes)*time.Minute)
		in.Activity.Category = rapid.SampledFrom([]string{"elderly", "culture"}).Draw(t, "cat")
		in.Activity.HardToStaff = rapid.Bool().Draw(t, "hard")
		h, _, err := s.Hours(in)
		require.NoError(t, err)
		rec := Record{RecordInput: in, Hours: h}
		var u [3]int64
		for i := range u {
			u[i] = rapid.Int64Range(0, 60000).Draw(t, "used")
		}
		want := s.Earn(rec, Usage{Day: PointsAsset.FromUnits(u[0]), Week: PointsAsset.FromUnits(u[1]), Month: PointsAsset.FromUnits(u[2])})
		got := s.earn(&rec, usedAmounts{units: u, fromUnits: true})
		requireSameEarning(t, want, got)
	})
}

func TestCoversPriceMatchesAvailable(t *testing.T) {
	amount := func(t *rapid.T, label string) decimal.Decimal {
		// Mostly scale 2; sometimes more digits, to take the decimal road.
		return decimal.New(rapid.Int64Range(-1e6, 1e9).Draw(t, label), -rapid.Int32Range(0, 3).Draw(t, label+"exp"))
	}
	rapid.Check(t, func(t *rapid.T) {
		w := Wallet{Debt: amount(t, "debt")}
		lots := make([]Lot, rapid.IntRange(0, 6).Draw(t, "lots"))
		for i := range lots {
			lots[i].Remaining = amount(t, "remaining")
		}
		price := amount(t, "price")
		want := !Available(w, lots).LessThan(price)
		require.Equal(t, want, coversPrice(w, lots, price), "debt %s, price %s", w.Debt, price)
	})
}

// requireSameEarning requires got to equal want: rule, points and every
// line (decimals compared by value).
func requireSameEarning(t require.TestingT, want, got Earning) {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	require.Equal(t, want.RuleID, got.RuleID)
	require.True(t, want.Points.Equal(got.Points), "points: got %s, want %s", got.Points, want.Points)
	require.Len(t, got.Lines, len(want.Lines))
	for i := range want.Lines {
		require.Equal(t, want.Lines[i].Code, got.Lines[i].Code)
		require.Equal(t, want.Lines[i].Text, got.Lines[i].Text)
		require.True(t, want.Lines[i].Points.Equal(got.Lines[i].Points))
	}
}

// TestHundredthsMatchesFromUnits: the cached decimals read as FromUnits
// makes them (value, exponent and text), on first use and after.
func TestHundredthsMatchesFromUnits(t *testing.T) {
	for _, u := range []int64{-1, 0, 1, 250, 2500, int64(len(hundredthsCache)) - 1, int64(len(hundredthsCache)), 1 << 40} {
		for range 2 {
			want, got := PointsAsset.FromUnits(u), hundredths(u)
			require.Equal(t, want.Exponent(), got.Exponent(), "%d", u)
			require.Equal(t, want.Coefficient(), got.Coefficient(), "%d", u)
			require.Equal(t, want.String(), got.String(), "%d", u)
			require.True(t, HoursAsset.FromUnits(u).Equal(got), "%d", u)
		}
	}
}

// TestAbsAmountMatchesAbs: a posting's amount has the value and text of
// Abs, whatever the amount's form.
func TestAbsAmountMatchesAbs(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := decimal.New(rapid.Int64().Draw(t, "coef"), -rapid.Int32Range(0, 4).Draw(t, "exp"))
		got := absAmount(PointsAsset, d)
		require.True(t, d.Abs().Equal(got), "%s: got %s", d, got)
		require.Equal(t, d.Abs().String(), got.String())
	})
}
