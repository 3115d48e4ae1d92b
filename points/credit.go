package points

import (
	"context"
	"fmt"
	"time"

	"github.com/civicloop/civicloop/org"
	"github.com/shopspring/decimal"
)

// overlapWindow is how far back the overlap check looks; a sign-in may not
// last longer than this.
const overlapWindow = 31 * 24 * time.Hour

// UsageDelta adds points to a volunteer's usage counter for one period;
// caps are checked against these counters.
type UsageDelta struct {
	Volunteer org.VolunteerID
	// Period is "D:2026-03-02", "W:2026-03-02" (the Monday) or "M:2026-03".
	Period string
	Points decimal.Decimal
}

// periodKeys returns the usage counter keys of the day, week and month
// containing t: the keys of the starts Periods returns, computed on the
// calendar date in one allocation.
func (s *Service) periodKeys(t time.Time) [3]string {
	lt := t.In(s.scheme.Location)
	y, m, d := lt.Date()
	wy, wm, wd := y, m, d-(int(lt.Weekday())+6)%7 // back to Monday
	if wd < 1 {
		wy, wm, wd = time.Date(wy, wm, wd, 12, 0, 0, 0, time.UTC).Date()
	}
	var b [33]byte
	k := appendDateKey(b[:0], "D:", y, m, d, true)
	k = appendDateKey(k, "W:", wy, wm, wd, true)
	k = appendDateKey(k, "M:", y, m, 1, false)
	all := string(k)
	return [3]string{all[:12], all[12:24], all[24:]}
}

// appendDateKey appends prefix + YYYY-MM(-DD) to b.
func appendDateKey(b []byte, prefix string, y int, m time.Month, d int, withDay bool) []byte {
	b = append(b, prefix...)
	b = append(b, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-', byte('0'+m/10), byte('0'+m%10))
	if withDay {
		b = append(b, '-', byte('0'+d/10), byte('0'+d%10))
	}
	return b
}

// addUsage records that pts service points were awarded (or taken back) in
// the periods keys.
func addUsage(c *Change, v org.VolunteerID, keys [3]string, pts decimal.Decimal) {
	if pts.IsZero() {
		return
	}
	for _, k := range keys {
		c.Usage = append(c.Usage, UsageDelta{Volunteer: v, Period: k, Points: pts})
	}
}

// usage returns the service points already awarded to the volunteer in the
// periods keys (day, week, month), counting what c adds.
func (s *Service) usage(ctx context.Context, c *Change, v org.VolunteerID, keys [3]string) (usedAmounts, error) {
	// c's scratch arrays: a local array would escape through the interface
	// calls.
	c.usageKeys = keys
	if us, ok := s.store.(UsageUnitsStore); ok {
		u := usedAmounts{fromUnits: true}
		if err := us.UsageUnits(ctx, v, c.usageKeys[:], c.usageUnits[:]); err != nil {
			return u, err
		}
		u.units = c.usageUnits
		for _, d := range c.Usage {
			if d.Volunteer != v {
				continue
			}
			for i, k := range keys {
				if d.Period == k {
					u.units[i] += units(d.Points)
				}
			}
		}
		return u, nil
	}
	got, err := s.store.Usage(ctx, v, c.usageKeys[:])
	if err != nil {
		return usedAmounts{}, err
	}
	for _, d := range c.Usage {
		if d.Volunteer != v {
			continue
		}
		for i, k := range keys {
			if d.Period == k {
				got[i] = got[i].Add(d.Points)
			}
		}
	}
	return usedAmounts{dec: [3]decimal.Decimal{got[0], got[1], got[2]}}, nil
}

// confirmInto adds the confirmation of rec to c: its award, lot, hours,
// level change and ledger op. w is the volunteer's wallet in c.
func (s *Service) confirmInto(ctx context.Context, c *Change, w *Wallet, rec *Record, by string, now time.Time) error {
	keys := s.periodKeys(rec.At())
	u, err := s.usage(ctx, c, rec.Volunteer, keys)
	if err != nil {
		return err
	}
	e := s.scheme.earn(rec, u)
	award := Award{ID: "rec:" + rec.ID, Volunteer: rec.Volunteer, Kind: AwardService, Record: rec.ID, RuleID: e.RuleID,
		Hours: rec.Hours, Points: e.Points, Lines: e.Lines, At: rec.At(), Node: rec.Organiser, CreatedBy: by, CreatedAt: now}
	s.credit(c, w, nil, &award, now)
	addUsage(c, rec.Volunteer, keys, award.Points)
	rec.Status = RecordConfirmed
	rec.ConfirmedBy = by
	rec.ConfirmedAt = now
	rec.Award = award.ID
	return nil
}

// credit books an award into c: hours and star level, points into a new lot
// (after repaying debt) or out of lots (oldest first, the award's first
// lot preferred), and the ledger op. lots are the volunteer's open lots,
// needed only for negative points; first names the lot to take from first.
func (s *Service) credit(c *Change, w *Wallet, lots []Lot, award *Award, now time.Time) {
	if !award.Hours.IsZero() {
		before := w.Level
		w.Hours, w.Level = s.addHours(w.Hours, award.Hours)
		if w.Level != before {
			c.Levels = append(c.Levels, LevelChange{Volunteer: w.Volunteer, From: before, To: w.Level, Hours: w.Hours, Cause: award.ID, At: now})
		}
	}
	switch {
	case award.Points.Sign() > 0:
		amt := award.Points
		if w.Debt.Sign() > 0 {
			repay := decimal.Min(w.Debt, award.Points)
			w.Debt = w.Debt.Sub(repay)
			amt = amt.Sub(repay)
		}
		if amt.Sign() > 0 {
			lot := Lot{ID: award.ID, Volunteer: w.Volunteer, Amount: amt, Remaining: amt, Expired: zero, EarnedAt: now}
			if s.scheme.PointsLifetime > 0 {
				lot.ExpiresAt = now.Add(s.scheme.PointsLifetime)
			}
			c.Lots = append(c.Lots, lot)
		}
	case award.Points.Sign() < 0:
		want := award.Points.Neg()
		first := ""
		if award.Kind == AwardReversal {
			first = "rec:" + award.Record
		}
		_, changed, took := take(mergeLots(lots, c.Lots, w), want, first, nil)
		c.Lots = upsertLots(c.Lots, changed)
		if short := want.Sub(took); short.Sign() > 0 {
			if s.scheme.AllowNegative {
				w.Debt = w.Debt.Add(short)
			} else {
				award.Points = took.Neg()
				award.Lines = append(award.Lines, Line{Code: "not_recovered", Text: fmt.Sprintf("only %s of %s points available; the rest is not recovered", took, want), Points: short})
			}
		}
	}
	c.Awards = append(c.Awards, *award)
	if op, ok := awardOp(award); ok {
		c.Ops = append(c.Ops, op)
	}
}

// addHours returns have + add and the star level it reaches, in hundredths
// when both convert and the sum cannot overflow, else in decimals.
func (s *Service) addHours(have, add decimal.Decimal) (decimal.Decimal, int) {
	const lim = 1 << 62
	h, herr := HoursAsset.ToUnits(have)
	a, aerr := HoursAsset.ToUnits(add)
	if herr != nil || aerr != nil || h <= -lim || h >= lim || a <= -lim || a >= lim {
		sum := have.Add(add)
		return sum, s.scheme.Level(sum)
	}
	return hundredths(h + a), s.scheme.levelUnits(h + a)
}

// awardOp returns the ledger op of an award, or false when it moves
// nothing. The op is a pure function of the award, so it can be derived
// again to heal a crash.
func awardOp(aw *Award) (Op, bool) {
	if aw.Hours.IsZero() && aw.Points.IsZero() {
		return Op{}, false
	}
	counter := Issued
	if aw.Kind == AwardPenalty {
		counter = Penalised
	}
	return Op{ID: aw.ID, Kind: OpTransfer, Volunteer: aw.Volunteer, Hours: aw.Hours, Points: aw.Points,
		Counterparty: counter, Reason: awardReason(aw.Kind), Node: aw.Node, At: aw.At, Principal: aw.CreatedBy}, true
}

// awardReason returns the ledger reason code of an award kind, "points."
// + kind, without building it for the known kinds.
func awardReason(k AwardKind) string {
	switch k {
	case AwardService:
		return "points.service"
	case AwardReversal:
		return "points.reversal"
	case AwardBonus:
		return "points.bonus"
	case AwardPenalty:
		return "points.penalty"
	}
	return "points." + string(k)
}

// mergeLots returns the volunteer's stored open lots overlaid with the lots
// already changed or added in c, oldest first.
func mergeLots(stored, pending []Lot, w *Wallet) []Lot {
	out := make([]Lot, 0, len(stored)+len(pending))
	seen := map[string]bool{}
	for _, p := range pending {
		if p.Volunteer == w.Volunteer {
			out = append(out, p)
			seen[p.ID] = true
		}
	}
	for _, l := range stored {
		if !seen[l.ID] {
			out = append(out, l)
		}
	}
	sortLots(out)
	return out
}

// upsertLots replaces lots in list by ID or appends them.
func upsertLots(list, changed []Lot) []Lot {
	for _, l := range changed {
		found := false
		for i := range list {
			if list[i].ID == l.ID {
				list[i] = l
				found = true
				break
			}
		}
		if !found {
			list = append(list, l)
		}
	}
	return list
}

// wallet returns the stored wallet of a volunteer, bumped to the version
// the change will write, and the volunteer's open lots when withLots.
func (s *Service) wallet(ctx context.Context, v org.VolunteerID, withLots bool) (Wallet, []Lot, error) {
	w, err := s.store.Wallet(ctx, v)
	if err != nil {
		return w, nil, err
	}
	w.Volunteer = v
	w.Version++
	var lots []Lot
	if withLots {
		if lots, err = s.store.Lots(ctx, w.Volunteer); err != nil {
			return w, nil, err
		}
	}
	return w, lots, nil
}
