package points

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"
)

var (
	sixty  = decimal.NewFromInt(60)
	zero   = decimal.Zero
	hundth = int32(2)
)

// Hours computes the hours a record credits under the scheme: sign-out minus
// sign-in minus travel (or the entered hours), rounded to the step, and cut
// to the per-activity cap. It returns the hours and a note explaining them.
// Entered hours over the cap, and a result that is not positive, are refused
// with ErrInvalidHours.
func (s *Scheme) Hours(in RecordInput) (decimal.Decimal, string, error) {
	if err := in.Validate(); err != nil {
		return zero, "", err
	}
	var raw decimal.Decimal
	var note string
	if in.SignIn.IsZero() {
		raw = in.EnteredHours
		if raw.GreaterThan(s.MaxHoursPerActivity) {
			return zero, "", fmt.Errorf("points: record: field hours: %s is over the cap of %s per activity: %w", raw, s.MaxHoursPerActivity, ErrInvalidHours)
		}
		note = fmt.Sprintf("entered %s h", raw)
	} else {
		served := in.SignOut.Sub(in.SignIn) - in.Travel
		if served <= 0 {
			return zero, "", fmt.Errorf("points: record: field travel: %s leaves no service time in %s: %w", in.Travel, in.SignOut.Sub(in.SignIn), ErrInvalidHours)
		}
		// Whole minutes, then hours with enough digits for any step.
		raw = decimal.NewFromInt(int64(served/time.Minute)).DivRound(sixty, 6)
		note = fmt.Sprintf("signed in %s, out %s, travel %s: %s min", in.SignIn.Format("15:04"), in.SignOut.Format("15:04"), in.Travel, decimal.NewFromInt(int64(served/time.Minute)))
	}
	h := s.round(raw)
	note += fmt.Sprintf(", rounded %s to %s h: %s h", s.HoursRounding, s.HoursStep, h)
	if h.GreaterThan(s.MaxHoursPerActivity) {
		h = s.MaxHoursPerActivity
		note += fmt.Sprintf(", cut to the cap of %s h", h)
	}
	if h.Sign() <= 0 {
		return zero, "", fmt.Errorf("points: record: field hours: %s rounds to %s, below the step of %s h: %w", raw, h, s.HoursStep, ErrInvalidHours)
	}
	return h, note, nil
}

// round rounds h to the scheme's step.
func (s *Scheme) round(h decimal.Decimal) decimal.Decimal {
	q := h.Div(s.HoursStep)
	if s.HoursRounding == RoundNearest {
		q = q.Round(0)
	} else {
		q = q.Truncate(0)
	}
	return q.Mul(s.HoursStep).Truncate(hundth)
}

// Line is one line of an award's statement: what it adds (or takes) and why.
// The points of an award are the sum of its lines.
type Line struct {
	// Code classifies the line: base, day, hard_to_staff, cap_activity,
	// cap_day, cap_week, cap_month, bonus, penalty, reversal, debt_repaid,
	// not_recovered.
	Code string `json:"code"`
	// Text explains the line in words, with the numbers used.
	Text string `json:"text"`
	// Points the line adds (negative: takes).
	Points decimal.Decimal `json:"points"`
}

// Usage is the service points a volunteer was already awarded in the day,
// week and month of an activity; caps are checked against it.
type Usage struct {
	Day, Week, Month decimal.Decimal
}

// Earning is the result of applying the scheme to one confirmed record.
type Earning struct {
	// RuleID is the rule applied; empty when no rule was valid.
	RuleID string
	Points decimal.Decimal
	Lines  []Line
}

// Earn applies the rule valid at the record's time to its hours: the rate
// of its category, the day and hard-to-staff multipliers, then the caps per
// activity, day, week and month given what was already used. Points are
// truncated to 2 decimals after each step. It is a pure function.
func (s *Scheme) Earn(rec Record, used Usage) Earning {
	return s.earn(&rec, usedAmounts{dec: [3]decimal.Decimal{used.Day, used.Week, used.Month}})
}

// usedAmounts is the usage (day, week, month) Earn caps against: decimals,
// or hundredths when fromUnits (read from a UsageUnitsStore).
type usedAmounts struct {
	dec       [3]decimal.Decimal
	units     [3]int64
	fromUnits bool
}

func (u *usedAmounts) unitsOf(i int) int64 {
	if u.fromUnits {
		return u.units[i]
	}
	return units(u.dec[i])
}

func (u *usedAmounts) text(i int) string {
	if u.fromUnits {
		return PointsAsset.FromUnits(u.units[i]).String()
	}
	return u.dec[i].String()
}

// earn is Earn over rec in place. With the scheme's rule cache (set by
// validate) the base points, the caps and the texts are worked out in
// hundredths; amounts the cache cannot take (more than 2 decimals, or too
// large) take the decimal road, with the same result.
func (s *Scheme) earn(rec *Record, used usedAmounts) Earning {
	at := rec.At()
	ri := s.ruleIndex(at)
	if ri < 0 {
		return Earning{Points: zero, Lines: []Line{{Code: "base", Text: "no earning rule valid at " + at.Format(time.RFC3339), Points: zero}}}
	}
	rule := &s.Rules[ri]
	var rc *ruleCache
	if len(s.cache) == len(s.Rules) && s.cache[ri].id == rule.ID {
		rc = &s.cache[ri]
	}
	e := Earning{RuleID: rule.ID}
	var pts decimal.Decimal
	var ptsU int64 // pts in hundredths, when known
	fast := false
	if rc != nil {
		rt, ok := rc.rates[rec.Activity.Category]
		if !ok {
			rt = rc.star
		}
		if hu, err := HoursAsset.ToUnits(rec.Hours); err == nil && rt.fits && hu > -mulLimit && hu < mulLimit {
			ptsU = hu * rt.units / 100 // Go's division truncates toward zero, as Truncate does
			pts = hundredths(ptsU)
			var b [96]byte
			e.add("base", string(append(appendUnits(b[:0], hu), rt.text...)), pts)
			fast = true
		}
	}
	if !fast {
		rate, ok := rule.Rates[rec.Activity.Category]
		cat := rec.Activity.Category
		if !ok {
			rate, cat = rule.Rates["*"], "*"
		}
		pts = mulTruncate(rec.Hours, rate)
		e.add("base", baseText(rec.Hours.String(), rate, cat, rule.ID), pts)
	}
	var dayBuf [16]byte
	var day []byte
	if len(rule.Days) > 0 {
		lt := at.In(s.Location)
		if y := lt.Year(); y >= 0 && y <= 9999 {
			y, m, d := lt.Date()
			day = appendDateKey(dayBuf[:0], "", y, m, d, true)
		} else {
			day = lt.AppendFormat(dayBuf[:0], time.DateOnly)
		}
	}
	for _, d := range rule.Days {
		if d.Date == string(day) {
			next := pts.Mul(d.Factor).Truncate(hundth)
			e.add("day", fmt.Sprintf("× %s on %s (%s)", d.Factor, d.Date, d.Name), next.Sub(pts))
			pts, fast = next, false
		}
	}
	if rec.Activity.HardToStaff && !rule.HardToStaff.IsZero() {
		next := pts.Mul(rule.HardToStaff).Truncate(hundth)
		e.add("hard_to_staff", fmt.Sprintf("× %s for a hard-to-staff service", rule.HardToStaff), next.Sub(pts))
		pts, fast = next, false
	}
	// Caps in minor units: cheap, exact (all amounts have scale 2).
	if !fast {
		ptsU = units(pts)
	}
	start := ptsU
	cap := func(code, what string, i int, limit decimal.Decimal, period int) {
		var limitU int64
		var limitText string
		if rc != nil {
			if rc.caps[i].zero {
				return
			}
			limitU, limitText = rc.caps[i].units, rc.caps[i].text
		} else {
			if limit.IsZero() {
				return
			}
			limitU, limitText = units(limit), limit.String()
		}
		var already int64
		if period >= 0 {
			already = used.unitsOf(period)
		}
		room := limitU - already
		if room < 0 {
			room = 0
		}
		if ptsU > room {
			text := "0"
			if period >= 0 {
				text = used.text(period)
			}
			e.add(code, "cap of "+limitText+" "+what+", "+text+" already awarded", PointsAsset.FromUnits(room-ptsU))
			ptsU = room
		}
	}
	cap("cap_activity", "per activity", 0, rule.Caps.PerActivity, -1)
	cap("cap_day", "per day", 1, rule.Caps.PerDay, 0)
	cap("cap_week", "per week", 2, rule.Caps.PerWeek, 1)
	cap("cap_month", "per month", 3, rule.Caps.PerMonth, 2)
	if ptsU != start {
		pts = hundredths(ptsU)
	}
	e.Points = pts
	return e
}

// baseText is the text of an award's base line after the hours.
func baseText(hours string, rate decimal.Decimal, cat, rule string) string {
	return hours + " h × " + rate.String() + " points/h (category " + cat + ", rule " + rule + ")"
}

// ruleCache is what earn needs of a rule in hundredths, with the texts of
// its rates and caps, worked out once by Scheme.validate.
type ruleCache struct {
	id    string
	rates map[string]rateCache
	star  rateCache // the rate of other categories
	caps  [4]capCache
}

type rateCache struct {
	units int64
	fits  bool   // units is within mulLimit
	text  string // the base line after the hours: " h × 10 points/h (...)"
}

type capCache struct {
	zero  bool
	units int64
	text  string
}

// mulLimit bounds the factors multiplied in hundredths, so that their
// product cannot overflow.
const mulLimit = 1 << 31

// buildCache works out the rule cache; validate calls it last.
func (s *Scheme) buildCache() {
	s.cache = make([]ruleCache, len(s.Rules))
	for i := range s.Rules {
		r := &s.Rules[i]
		rc := &s.cache[i]
		rc.id = r.ID
		rate := func(cat string, d decimal.Decimal) rateCache {
			u, err := PointsAsset.ToUnits(d)
			return rateCache{units: u, fits: err == nil && u > -mulLimit && u < mulLimit, text: baseText("", d, cat, r.ID)}
		}
		rc.rates = make(map[string]rateCache, len(r.Rates))
		for cat, d := range r.Rates {
			rc.rates[cat] = rate(cat, d)
		}
		rc.star = rate("*", r.Rates["*"])
		for j, c := range [4]decimal.Decimal{r.Caps.PerActivity, r.Caps.PerDay, r.Caps.PerWeek, r.Caps.PerMonth} {
			u, err := PointsAsset.ToUnits(c)
			if err != nil {
				rc.id = "" // a cap beyond hundredths: earn takes the decimal road
			}
			rc.caps[j] = capCache{zero: c.IsZero(), units: u, text: c.String()}
		}
	}
}

// checkCategory refuses an activity category that the earning rule valid
// at the record's time gives no rate, when the rule has no "*" rate for
// every other category either: such a record would earn nothing, silently.
// A record at a time no rule covers earns nothing by design, and passes.
func (s *Scheme) checkCategory(in RecordInput) error {
	ri := s.ruleIndex(in.At())
	if ri < 0 {
		return nil
	}
	r := &s.Rules[ri]
	if _, ok := r.Rates[in.Activity.Category]; ok {
		return nil
	}
	if _, ok := r.Rates["*"]; ok {
		return nil
	}
	return fmt.Errorf("points: record: field activity.category: %q has no rate in earning rule %s, which has no \"*\" rate: %w", in.Activity.Category, r.ID, ErrInvalid)
}

// ruleIndex returns the index of the rule that applies at t, or -1.
func (s *Scheme) ruleIndex(t time.Time) int {
	for i := range s.Rules {
		r := &s.Rules[i]
		if !t.Before(r.ValidFrom) && (r.ValidUntil.IsZero() || t.Before(r.ValidUntil)) {
			return i
		}
	}
	return -1
}

// hundredthsCache holds the decimals of the small amounts in hundredths
// (0 to 163.83), made on first use: awards, their points and the hours
// they add come back to the same few values, and a decimal costs two
// allocations. Decimals are immutable, so one may serve every caller.
var hundredthsCache [1 << 14]atomic.Pointer[decimal.Decimal]

// hundredths returns u hundredths as a decimal, as HoursAsset.FromUnits and
// PointsAsset.FromUnits do (both have scale 2).
func hundredths(u int64) decimal.Decimal {
	if u < 0 || u >= int64(len(hundredthsCache)) {
		return PointsAsset.FromUnits(u)
	}
	if d := hundredthsCache[u].Load(); d != nil {
		return *d
	}
	d := PointsAsset.FromUnits(u)
	hundredthsCache[u].Store(&d)
	return d
}

// formatUnits formats hundredths as decimal.Decimal.String formats the
// amount: no trailing zeros after the point, no point for a whole number.
func formatUnits(u int64) string {
	var b [24]byte
	return string(appendUnits(b[:0], u))
}

// appendUnits appends formatUnits(u) to dst.
func appendUnits(dst []byte, u int64) []byte {
	var b [24]byte
	i := len(b)
	x := uint64(u)
	if u < 0 {
		x = -x
	}
	if f := x % 100; f != 0 {
		if f%10 == 0 {
			i--
			b[i] = byte('0' + f/10)
		} else {
			i -= 2
			b[i], b[i+1] = byte('0'+f/10), byte('0'+f%10)
		}
		i--
		b[i] = '.'
	}
	x /= 100
	for {
		i--
		b[i] = byte('0' + x%10)
		x /= 10
		if x == 0 {
			break
		}
	}
	if u < 0 {
		i--
		b[i] = '-'
	}
	return append(dst, b[i:]...)
}

// mulTruncate returns h × rate truncated to 2 decimals, in minor units when
// both have at most 2 decimals and the product fits, else in decimals.
func mulTruncate(h, rate decimal.Decimal) decimal.Decimal {
	hu, herr := PointsAsset.ToUnits(h)
	ru, rerr := PointsAsset.ToUnits(rate)
	const lim = mulLimit
	if herr != nil || rerr != nil || hu <= -lim || hu >= lim || ru <= -lim || ru >= lim {
		return h.Mul(rate).Truncate(hundth)
	}
	return PointsAsset.FromUnits(hu * ru / 100) // Go's division truncates toward zero, as Truncate does
}

// units returns an amount of scale at most 2 in hundredths. Amounts reaching
// here were validated; one that is not representable panics, as a bug.
func units(d decimal.Decimal) int64 {
	u, err := PointsAsset.ToUnits(d)
	if err != nil {
		panic("points: " + err.Error())
	}
	return u
}

func (e *Earning) add(code, text string, p decimal.Decimal) {
	e.Lines = append(e.Lines, Line{Code: code, Text: text, Points: p})
}

// Periods returns the start of the day, ISO week (Monday) and month that
// contain t in the scheme's location, and the end of the latest of them.
func (s *Scheme) Periods(t time.Time) (day, week, month, end time.Time) {
	lt := t.In(s.Location)
	y, m, d := lt.Date()
	day = time.Date(y, m, d, 0, 0, 0, 0, s.Location)
	wd := (int(lt.Weekday()) + 6) % 7 // Monday = 0
	week = day.AddDate(0, 0, -wd)
	month = time.Date(y, m, 1, 0, 0, 0, 0, s.Location)
	end = month.AddDate(0, 1, 0)
	if we := week.AddDate(0, 0, 7); we.After(end) {
		end = we
	}
	return day, week, month, end
}

// Level returns the star level reached with the given cumulative hours.
func (s *Scheme) Level(hours decimal.Decimal) int {
	h, err := HoursAsset.ToUnits(hours)
	if err != nil { // more than 2 decimals: compare exactly
		n := 0
		for _, th := range s.StarThresholds {
			if hours.GreaterThanOrEqual(th) {
				n++
			}
		}
		return n
	}
	return s.levelUnits(h)
}

// levelUnits is Level of hours given in hundredths.
func (s *Scheme) levelUnits(h int64) int {
	n := 0
	for _, th := range s.starUnits {
		if h >= th {
			n++
		}
	}
	return n
}
