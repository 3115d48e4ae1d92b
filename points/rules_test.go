package points

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func testScheme(t *testing.T, edit func(*Scheme)) *Scheme {
	t.Helper()
	s := &Scheme{Rules: []Rule{{ID: "R", ValidFrom: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Rates:       map[string]decimal.Decimal{"elderly": dec("10"), "*": dec("4.5")},
		Days:        []DayMultiplier{{Date: "2026-10-29", Name: "重阳节", Factor: dec("2")}},
		HardToStaff: dec("1.5"),
		Caps:        Caps{PerActivity: dec("100"), PerDay: dec("120"), PerWeek: dec("300"), PerMonth: dec("900")}}}}
	if edit != nil {
		edit(s)
	}
	require.NoError(t, s.validate())
	return s
}

func signed(minutes int, travel time.Duration) RecordInput {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	end := start.Add(time.Duration(minutes) * time.Minute)
	return RecordInput{Volunteer: "V", Organiser: "S", SignIn: start, SignOut: end, Travel: travel,
		Activity: Activity{Name: "a", Category: "elderly", Start: start, End: end}}
}

func TestHours(t *testing.T) {
	entered := func(h string) RecordInput {
		in := signed(60, 0)
		in.SignIn, in.SignOut, in.EnteredHours = time.Time{}, time.Time{}, dec(h)
		return in
	}
	for _, tc := range []struct {
		name  string
		mode  Rounding
		in    RecordInput
		want  string
		err   error
		field string
	}{
		{"whole hours", RoundDown, signed(120, 0), "2", nil, ""},
		{"down to half", RoundDown, signed(149, 0), "2", nil, ""},
		{"down at half", RoundDown, signed(150, 0), "2.5", nil, ""},
		{"nearest up", RoundNearest, signed(135, 0), "2.5", nil, ""},
		{"nearest down", RoundNearest, signed(134, 0), "2", nil, ""},
		{"travel excluded", RoundDown, signed(180, 45*time.Minute), "2", nil, ""},
		{"cut to cap", RoundDown, signed(15*60, 0), "12", nil, ""},
		{"entered", RoundDown, entered("3.5"), "3.5", nil, ""},
		{"entered rounded", RoundDown, entered("3.75"), "3.5", nil, ""},
		{"entered over cap", RoundDown, entered("12.5"), "", ErrInvalidHours, "hours"},
		{"entered zero", RoundDown, entered("0"), "", ErrInvalidHours, "hours"},
		{"entered fine", RoundDown, entered("1.001"), "", ErrInvalidHours, "hours"},
		{"below step", RoundDown, signed(29, 0), "", ErrInvalidHours, "hours"},
		{"travel too long", RoundDown, signed(60, time.Hour), "", ErrInvalidHours, "travel"},
		{"negative travel", RoundDown, signed(60, -time.Minute), "", ErrInvalid, "travel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testScheme(t, func(s *Scheme) { s.HoursRounding = tc.mode })
			h, note, err := s.Hours(tc.in)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				require.ErrorContains(t, err, "field "+tc.field)
				return
			}
			require.NoError(t, err)
			require.Truef(t, h.Equal(dec(tc.want)), "got %s want %s", h, tc.want)
			require.NotEmpty(t, note)
		})
	}
}

func TestValidateTimes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*RecordInput)
		field string
	}{
		{"sign-out before sign-in", func(in *RecordInput) { in.SignOut = in.SignIn.Add(-time.Minute) }, "sign_out"},
		{"sign-out missing", func(in *RecordInput) { in.SignOut = time.Time{} }, "sign_out"},
		{"sign-in missing", func(in *RecordInput) { in.SignIn = time.Time{} }, "sign_in"},
		{"activity ends first", func(in *RecordInput) { in.Activity.End = in.Activity.Start }, "activity.end"},
		{"activity start", func(in *RecordInput) { in.Activity.Start = time.Time{} }, "activity.start"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := signed(60, 0)
			tc.edit(&in)
			err := in.Validate()
			require.ErrorIs(t, err, ErrInvalidTime)
			require.ErrorContains(t, err, "field "+tc.field)
		})
	}
}

func TestEarn(t *testing.T) {
	rec := func(minutes int, cat string, day time.Time, hard bool) Record {
		in := signed(minutes, 0)
		in.Activity.Category, in.Activity.HardToStaff = cat, hard
		in.SignIn, in.SignOut = day, day.Add(time.Duration(minutes)*time.Minute)
		s := testScheme(t, nil)
		h, _, err := s.Hours(in)
		require.NoError(t, err)
		return Record{RecordInput: in, Hours: h}
	}
	monday := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	festival := time.Date(2026, 10, 29, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		rec   Record
		used  Usage
		want  string
		codes []string
	}{
		{"rate", rec(120, "elderly", monday, false), Usage{}, "20", []string{"base"}},
		{"default rate", rec(90, "culture", monday, false), Usage{}, "6.75", []string{"base"}},
		{"festival", rec(120, "elderly", festival, false), Usage{}, "40", []string{"base", "day"}},
		{"hard to staff truncates", rec(90, "culture", monday, true), Usage{}, "10.12", []string{"base", "hard_to_staff"}},
		{"both", rec(180, "elderly", festival, true), Usage{}, "90", []string{"base", "day", "hard_to_staff"}},
		{"activity cap", rec(600, "elderly", festival, true), Usage{}, "100", []string{"base", "day", "hard_to_staff", "cap_activity"}},
		{"day cap", rec(120, "elderly", monday, false), Usage{Day: dec("110")}, "10", []string{"base", "cap_day"}},
		{"week cap", rec(120, "elderly", monday, false), Usage{Week: dec("290")}, "10", []string{"base", "cap_week"}},
		{"month cap full", rec(120, "elderly", monday, false), Usage{Month: dec("950")}, "0", []string{"base", "cap_month"}},
		{"no rule", rec(120, "elderly", time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC), false), Usage{}, "0", []string{"base"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := testScheme(t, nil).Earn(tc.rec, tc.used)
			require.Truef(t, e.Points.Equal(dec(tc.want)), "got %s want %s", e.Points, tc.want)
			var codes []string
			sum := decimal.Zero
			for _, l := range e.Lines {
				codes = append(codes, l.Code)
				sum = sum.Add(l.Points)
			}
			require.Equal(t, tc.codes, codes)
			require.True(t, sum.Equal(e.Points), "lines explain every point")
		})
	}
}

func TestLevel(t *testing.T) {
	s := testScheme(t, nil)
	for hours, want := range map[string]int{"0": 0, "99.5": 0, "100": 1, "299": 1, "300": 2, "600": 3, "1000": 4, "1499.99": 4, "1500": 5, "9000": 5} {
		require.Equal(t, want, s.Level(dec(hours)), hours)
	}
}

func TestSchemeValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Scheme)
		field string
	}{
		{"thresholds order", func(s *Scheme) { s.StarThresholds = []decimal.Decimal{dec("10"), dec("5")} }, "star_thresholds[1]"},
		{"rounding", func(s *Scheme) { s.HoursRounding = "up" }, "hours_rounding"},
		{"rate digits", func(s *Scheme) { s.Rules[0].Rates["x"] = dec("1.001") }, "rates[x]"},
		{"day date", func(s *Scheme) { s.Rules[0].Days[0].Date = "29/10" }, "days[0].date"},
		{"penalty", func(s *Scheme) { s.Penalties = map[string]decimal.Decimal{"no_show": dec("-1")} }, "penalties[no_show]"},
		{"rule id", func(s *Scheme) { s.Rules = append(s.Rules, s.Rules[0]) }, "field id"},
		{"lifetime", func(s *Scheme) { s.PointsLifetime = -time.Hour }, "points_lifetime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Scheme{Rules: []Rule{{ID: "R", Rates: map[string]decimal.Decimal{"*": dec("1")}, Days: []DayMultiplier{{Date: "2026-10-29", Factor: dec("2")}}}}}
			tc.edit(s)
			err := s.validate()
			require.Error(t, err)
			require.ErrorContains(t, err, tc.field)
		})
	}
}

func TestTakeOldestFirst(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	lots := []Lot{{ID: "a", EarnedAt: at, Remaining: dec("5")}, {ID: "b", EarnedAt: at.Add(time.Hour), Remaining: dec("10")}, {ID: "c", EarnedAt: at.Add(2 * time.Hour), Remaining: dec("1")}}
	allocs, changed, took := take(lots, dec("12"), "", nil)
	require.True(t, took.Equal(dec("12")))
	require.Equal(t, []Allocation{{Lot: "a", Points: dec("5")}, {Lot: "b", Points: dec("7")}}, allocs)
	require.True(t, changed[1].Remaining.Equal(dec("3")))
	require.True(t, lots[1].Remaining.Equal(dec("10")), "input untouched")
	allocs, _, took = take(lots, dec("20"), "c", nil)
	require.True(t, took.Equal(dec("16")), "only what there is")
	require.Equal(t, "c", allocs[0].Lot, "the preferred lot first")
}

// TestTakeProperty: take never takes more than asked or than there is, and
// allocations sum to what it took.
func TestTakeProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 8).Draw(t, "lots")
		var lots []Lot
		total := decimal.Zero
		for i := 0; i < n; i++ {
			r := decimal.New(rapid.Int64Range(0, 10000).Draw(t, "remaining"), -2)
			lots = append(lots, Lot{ID: string(rune('a' + i)), EarnedAt: time.Unix(int64(i), 0), Remaining: r})
			total = total.Add(r)
		}
		want := decimal.New(rapid.Int64Range(0, 50000).Draw(t, "want"), -2)
		allocs, _, took := take(lots, want, "", nil)
		require.True(t, took.Equal(decimal.Min(want, total)))
		sum := decimal.Zero
		for _, a := range allocs {
			require.True(t, a.Points.IsPositive())
			sum = sum.Add(a.Points)
		}
		require.True(t, sum.Equal(took))
	})
}

// FuzzHours: any input either is refused with a sentinel or yields hours
// that are positive, on the step and within the cap.
func FuzzHours(f *testing.F) {
	f.Add(int64(0), int64(150), int64(10), "0")
	f.Add(int64(0), int64(0), int64(0), "2.5")
	f.Add(int64(60), int64(30), int64(0), "0")
	f.Add(int64(0), int64(100000), int64(-5), "-3")
	f.Fuzz(func(t *testing.T, in, out, travel int64, entered string) {
		s := &Scheme{}
		require.NoError(t, s.validate())
		base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		r := RecordInput{Volunteer: "V", Organiser: "S", Activity: Activity{Name: "a", Category: "c", Start: base, End: base.Add(time.Hour)},
			Travel: time.Duration(travel) * time.Minute}
		if h, err := decimal.NewFromString(entered); err == nil && in == 0 && out == 0 {
			r.EnteredHours = h
		} else {
			r.SignIn, r.SignOut = base.Add(time.Duration(in)*time.Minute), base.Add(time.Duration(out)*time.Minute)
		}
		h, _, err := s.Hours(r)
		if err != nil {
			require.True(t, errorsIsAny(err, ErrInvalid, ErrInvalidHours, ErrInvalidTime), "%v", err)
			return
		}
		require.True(t, h.IsPositive())
		require.True(t, h.LessThanOrEqual(s.MaxHoursPerActivity))
		require.True(t, h.Mod(s.HoursStep).IsZero(), "%s is on the %s step", h, s.HoursStep)
	})
}

func errorsIsAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

func TestFormatUnitsMatchesDecimal(t *testing.T) {
	for _, u := range []int64{0, 1, -1, 10, 99, 100, 105, 150, -150, 250, 1000, -5, math.MaxInt64, math.MinInt64} {
		require.Equal(t, PointsAsset.FromUnits(u).String(), formatUnits(u), "%d", u)
	}
	rapid.Check(t, func(t *rapid.T) {
		u := rapid.Int64().Draw(t, "u")
		require.Equal(t, PointsAsset.FromUnits(u).String(), formatUnits(u))
	})
}

// TestEarnCacheMatchesDecimals checks that earn with the rule cache (the
// Service's scheme) explains and awards exactly what it does without it
// (a copy of the scheme, as Service.Scheme returns).
func TestEarnCacheMatchesDecimals(t *testing.T) {
	s := testScheme(t, func(s *Scheme) {
		s.Rules[0].Caps = Caps{PerActivity: dec("60"), PerDay: dec("80.5"), PerWeek: dec("200"), PerMonth: dec("500")}
		s.Rules[0].Rates["culture"] = dec("7.25")
		s.Rules = append(s.Rules, Rule{ID: "old", ValidFrom: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			Rates: map[string]decimal.Decimal{"elderly": dec("3")}})
	})
	require.Len(t, s.cache, len(s.Rules))
	plain := *s
	plain.cache = nil
	rapid.Check(t, func(t *rapid.T) {
		minutes := rapid.IntRange(30, 720).Draw(t, "minutes")
		day := time.Date(2025, 10, 20, 9, 0, 0, 0, time.UTC).AddDate(0, 0, rapid.IntRange(0, 400).Draw(t, "day"))
		in := signed(minutes, 0)
		in.SignIn, in.SignOut = day, day.Add(time.Duration(minutes)*time.Minute)
		in.Activity.Start, in.Activity.End = in.SignIn, in.SignOut
		in.Activity.Category = rapid.SampledFrom([]string{"elderly", "culture", "traffic"}).Draw(t, "cat")
		in.Activity.HardToStaff = rapid.Bool().Draw(t, "hard")
		h, _, err := s.Hours(in)
		require.NoError(t, err)
		if rapid.Bool().Draw(t, "odd") {
			h = h.Add(dec("0.001")) // more than 2 decimals: the decimal road
		}
		rec := Record{RecordInput: in, Hours: h}
		var u [3]int64
		for i := range u {
			u[i] = rapid.Int64Range(0, 60000).Draw(t, "used")
		}
		used := usedAmounts{units: u, fromUnits: true}
		want := plain.earn(&rec, used)
		got := s.earn(&rec, used)
		requireSameEarning(t, want, got)
	})
}
