package points

import (
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// Rounding is how computed hours are rounded to the scheme's step.
type Rounding string

// Rounding modes.
const (
	// RoundDown rounds towards zero: 2 h 50 min with step 0.5 is 2.5 h.
	RoundDown Rounding = "down"
	// RoundNearest rounds half up to the nearest step.
	RoundNearest Rounding = "nearest"
)

// Scheme is the points scheme's configuration: how hours are counted, the
// earning rules, star thresholds, expiry and penalties. It is data; a zero
// field takes the default named in its comment.
type Scheme struct {
	// HoursStep is the unit hours are rounded to; default 0.5.
	HoursStep decimal.Decimal
	// HoursRounding is the rounding mode; default RoundDown.
	HoursRounding Rounding
	// MaxHoursPerActivity caps the hours one record may credit; default 12.
	// Entered hours above it are refused; hours computed from sign-in and
	// sign-out are cut to it.
	MaxHoursPerActivity decimal.Decimal
	// Rules are the earning rules; at a given time the valid rule with the
	// latest ValidFrom applies. No valid rule means no points (hours are
	// still credited).
	Rules []Rule
	// StarThresholds are the cumulative confirmed hours at which a volunteer
	// reaches 1, 2, ... stars, strictly increasing; default 100, 300, 600,
	// 1000, 1500 (星级志愿者).
	StarThresholds []decimal.Decimal
	// PointsLifetime is how long a lot of points lives before it expires;
	// zero means points never expire.
	PointsLifetime time.Duration
	// AllowNegative lets penalties and reversals take a volunteer's points
	// below zero (a debt repaid from later awards). Without it they take at
	// most the available points and the rest is noted as not recovered.
	AllowNegative bool
	// Penalties are the deductions by code, e.g. "no_show": 10.
	Penalties map[string]decimal.Decimal
	// Location sets day, week and month boundaries for caps and limits;
	// default time.UTC.
	Location *time.Location

	starUnits []int64     // StarThresholds in hundredths, set by validate
	cache     []ruleCache // per rule, in the order of Rules, set by validate
}

// Rule is one earning rule with its validity period (规则). Every award
// stores the ID of the rule that produced it.
type Rule struct {
	// ID names the rule in awards and statements.
	ID string
	// ValidFrom and ValidUntil bound when the rule applies (by activity
	// time); a zero ValidUntil means open-ended.
	ValidFrom  time.Time
	ValidUntil time.Time
	// Rates are points per hour by activity category; the key "*" is the
	// rate for other categories.
	Rates map[string]decimal.Decimal
	// Days multiply the points of activities on given days (festivals,
	// 我们的节日).
	Days []DayMultiplier
	// HardToStaff multiplies the points of hard-to-staff services; zero
	// means 1.
	HardToStaff decimal.Decimal
	// Bonuses are the points given for bonus kinds, e.g. "five_star": 5 for
	// a five-star evaluation.
	Bonuses map[string]decimal.Decimal
	// Caps limit the points of service awards.
	Caps Caps
}

// DayMultiplier multiplies the points earned on one calendar day.
type DayMultiplier struct {
	// Date as YYYY-MM-DD in the scheme's location.
	Date string
	// Name of the day, e.g. "重阳节".
	Name string
	// Factor, e.g. 2.
	Factor decimal.Decimal
}

// Caps limit the points of service awards; a zero cap means no limit.
// Bonuses and penalties are outside the caps.
type Caps struct {
	PerActivity decimal.Decimal
	PerDay      decimal.Decimal
	PerWeek     decimal.Decimal
	PerMonth    decimal.Decimal
}

// DefaultStarThresholds returns 100, 300, 600, 1000 and 1500 hours.
func DefaultStarThresholds() []decimal.Decimal {
	return []decimal.Decimal{
		decimal.NewFromInt(100), decimal.NewFromInt(300), decimal.NewFromInt(600),
		decimal.NewFromInt(1000), decimal.NewFromInt(1500),
	}
}

// validate fills defaults and checks the scheme.
func (s *Scheme) validate() error {
	if s.HoursStep.IsZero() {
		s.HoursStep = decimal.New(5, -1)
	}
	if s.HoursStep.Sign() < 0 || !s.HoursStep.Equal(s.HoursStep.Truncate(2)) {
		return fmt.Errorf("points: scheme: field hours_step: %s must be positive with at most 2 decimals: %w", s.HoursStep, ErrInvalid)
	}
	switch s.HoursRounding {
	case "":
		s.HoursRounding = RoundDown
	case RoundDown, RoundNearest:
	default:
		return fmt.Errorf("points: scheme: field hours_rounding: unknown mode %q: %w", s.HoursRounding, ErrInvalid)
	}
	if s.MaxHoursPerActivity.IsZero() {
		s.MaxHoursPerActivity = decimal.NewFromInt(12)
	}
	if s.MaxHoursPerActivity.Sign() < 0 {
		return fmt.Errorf("points: scheme: field max_hours_per_activity: %s is negative: %w", s.MaxHoursPerActivity, ErrInvalid)
	}
	if s.StarThresholds == nil {
		s.StarThresholds = DefaultStarThresholds()
	}
	s.starUnits = make([]int64, len(s.StarThresholds))
	for i, th := range s.StarThresholds {
		if th.Sign() <= 0 || (i > 0 && !th.GreaterThan(s.StarThresholds[i-1])) {
			return fmt.Errorf("points: scheme: field star_thresholds[%d]: %s must be positive and above the one before: %w", i, th, ErrInvalid)
		}
		u, err := HoursAsset.ToUnits(th)
		if err != nil {
			return fmt.Errorf("points: scheme: field star_thresholds[%d]: %s: %w: %w", i, th, ErrInvalid, err)
		}
		s.starUnits[i] = u
	}
	if s.PointsLifetime < 0 {
		return fmt.Errorf("points: scheme: field points_lifetime: %s is negative: %w", s.PointsLifetime, ErrInvalid)
	}
	for code, p := range s.Penalties {
		if err := checkPoints("scheme: field penalties["+code+"]", p); err != nil {
			return err
		}
	}
	if s.Location == nil {
		s.Location = time.UTC
	}
	s.Rules = slices.Clone(s.Rules) // sorted below; the caller's slice stays as it was
	seen := map[string]bool{}
	for i := range s.Rules {
		r := &s.Rules[i]
		if err := r.validate(s.Location); err != nil {
			return err
		}
		if seen[r.ID] {
			return fmt.Errorf("points: scheme: rule %q: field id: used twice: %w", r.ID, ErrInvalid)
		}
		seen[r.ID] = true
	}
	// Later ValidFrom first, so ruleAt takes the first match.
	slices.SortStableFunc(s.Rules, func(a, b Rule) int { return b.ValidFrom.Compare(a.ValidFrom) })
	s.buildCache()
	return nil
}

func (r *Rule) validate(loc *time.Location) error {
	if r.ID == "" {
		return fmt.Errorf("points: scheme: rule: field id: must not be empty: %w", ErrInvalid)
	}
	if !r.ValidUntil.IsZero() && !r.ValidUntil.After(r.ValidFrom) {
		return fmt.Errorf("points: scheme: rule %q: field valid_until: not after valid_from: %w", r.ID, ErrInvalidTime)
	}
	for cat, rate := range r.Rates {
		if rate.Sign() < 0 || !rate.Equal(rate.Truncate(2)) {
			return fmt.Errorf("points: scheme: rule %q: field rates[%s]: %s must be non-negative with at most 2 decimals: %w", r.ID, cat, rate, ErrInvalidAmount)
		}
	}
	for i, d := range r.Days {
		if _, err := time.ParseInLocation(time.DateOnly, d.Date, loc); err != nil {
			return fmt.Errorf("points: scheme: rule %q: field days[%d].date: %q is not YYYY-MM-DD: %w", r.ID, i, d.Date, ErrInvalid)
		}
		if d.Factor.Sign() <= 0 {
			return fmt.Errorf("points: scheme: rule %q: field days[%d].factor: %s must be positive: %w", r.ID, i, d.Factor, ErrInvalid)
		}
	}
	if r.HardToStaff.Sign() < 0 {
		return fmt.Errorf("points: scheme: rule %q: field hard_to_staff: %s is negative: %w", r.ID, r.HardToStaff, ErrInvalid)
	}
	for kind, p := range r.Bonuses {
		if err := checkPoints(fmt.Sprintf("scheme: rule %q: field bonuses[%s]", r.ID, kind), p); err != nil {
			return err
		}
	}
	for name, c := range map[string]decimal.Decimal{"per_activity": r.Caps.PerActivity, "per_day": r.Caps.PerDay, "per_week": r.Caps.PerWeek, "per_month": r.Caps.PerMonth} {
		if c.Sign() < 0 || !c.Equal(c.Truncate(2)) {
			return fmt.Errorf("points: scheme: rule %q: field caps.%s: %s must be non-negative with at most 2 decimals: %w", r.ID, name, c, ErrInvalid)
		}
	}
	return nil
}

// checkPoints refuses an amount that is not positive or has more than two
// decimal places.
func checkPoints(field string, p decimal.Decimal) error {
	if p.Sign() <= 0 {
		return fmt.Errorf("points: %s: %s must be positive: %w", field, p, ErrInvalidAmount)
	}
	if !p.Equal(p.Truncate(2)) {
		return fmt.Errorf("points: %s: %s has more than 2 decimal places: %w", field, p, ErrInvalidAmount)
	}
	return nil
}

// RuleAt returns the rule that applies at t, or false when none does.
func (s *Scheme) RuleAt(t time.Time) (Rule, bool) {
	if i := s.ruleIndex(t); i >= 0 {
		return s.Rules[i], true
	}
	return Rule{}, false
}
