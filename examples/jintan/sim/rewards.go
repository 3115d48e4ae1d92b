package sim

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
)

// The points side of a day: penalties, objections and corrections,
// redemptions (礼遇) and the centre's action days.

// noShow penalises, now and then, a member who signed up and did not come.
func (w *world) noShow(ctx context.Context, o dispatch.Order, parts []dispatch.Participant) error {
	if chance(w.seed, "noshow", o.ID, o.Version) >= 0.02 {
		return nil
	}
	for _, v := range w.members[o.Team] {
		if slices.ContainsFunc(parts, func(p dispatch.Participant) bool { return p.Volunteer == v }) {
			continue
		}
		_, err := w.pts.Penalize(ctx, admin(o.Node), points.PenaltyInput{
			Key: fmt.Sprintf("noshow:%s:%d:%s", o.ID, o.Version, v), Volunteer: v, Code: "no_show",
			Node: o.Node, Note: "报名后未到场且未请假",
		})
		w.t.penalties++
		return err
	}
	return nil
}

// objections raises the objections due (a volunteer finds his hours short)
// and has the organising station resolve them a day later: most with a
// compensating record, some rejected.
func (w *world) objections(ctx context.Context) error {
	keep := w.pending[:0]
	for _, p := range w.pending {
		if p.due.After(w.now()) {
			keep = append(keep, p)
			continue
		}
		rec, err := w.st.points.RecordBySource(ctx, p.key)
		if err != nil {
			return fmt.Errorf("sim: record of %s: %w", p.key, err)
		}
		if p.objection == "" {
			if rec.Status != points.RecordConfirmed {
				continue
			}
			ob, err := w.pts.Object(ctx, volunteer(p.volunteer), rec.ID, "实际服务时长比记录多半小时（签到表可查）")
			if err != nil {
				return fmt.Errorf("sim: object to %s: %w", rec.ID, err)
			}
			w.t.objections++
			p.objection, p.due = ob.ID, p.due.AddDate(0, 0, 1)
			keep = append(keep, p)
			continue
		}
		res := points.Resolution{Note: "核对签到表，原记录无误"}
		if chance(w.seed, "resolve", p.objection) < 0.7 {
			in := rec.RecordInput
			in.SignIn, in.SignOut, in.Travel = time.Time{}, time.Time{}, 0
			in.EnteredHours = rec.Hours.Add(dec("0.5"))
			res = points.Resolution{Correct: &in, Note: "核对签到表，补记半小时"}
		}
		if _, _, err := w.pts.Resolve(ctx, admin(rec.Organiser), p.objection, res); err != nil {
			return fmt.Errorf("sim: resolve %s: %w", p.objection, err)
		}
		if res.Correct != nil {
			w.t.corrected++
		} else {
			w.t.rejectedObj++
		}
	}
	w.pending = keep
	return nil
}

// redemptions settles yesterday's redemptions (most picked up, some
// cancelled, a few left to expire) and lets volunteers redeem new ones.
func (w *world) redemptions(ctx context.Context) error {
	// Read the held redemptions, decide their fate in order, then settle
	// them in parallel: one job per volunteer (a cancellation refunds his
	// wallet), his redemptions in order.
	held := make([]points.Redemption, len(w.held))
	if err := w.pool(ctx, len(w.held), func(ctx context.Context, _ *lane, i int) error {
		var err error
		held[i], err = w.pts.Redemption(ctx, w.held[i])
		return err
	}); err != nil {
		return err
	}
	type settle struct {
		r      points.Redemption
		cancel bool
	}
	var keep []string
	byVol := map[org.VolunteerID][]settle{}
	for _, r := range held {
		if r.Status != points.RedemptionHeld {
			continue
		}
		if !w.now().After(r.HeldAt.Add(12 * time.Hour)) {
			keep = append(keep, r.ID)
			continue
		}
		switch u := chance(w.seed, "fate", r.ID); {
		case u < 0.8:
			byVol[r.Volunteer] = append(byVol[r.Volunteer], settle{r: r})
			w.t.fulfilled++
		case u < 0.92:
			byVol[r.Volunteer] = append(byVol[r.Volunteer], settle{r: r, cancel: true})
			w.t.cancelledRed++
		default:
			keep = append(keep, r.ID) // never picked up: it expires
		}
	}
	w.held = keep
	var jobs []func(context.Context, *lane) error
	for _, v := range slices.Sorted(maps.Keys(byVol)) {
		jobs = append(jobs, func(ctx context.Context, l *lane) error {
			for _, s := range byVol[v] {
				if s.cancel {
					if _, err := l.pts.Cancel(ctx, volunteer(s.r.Volunteer), s.r.ID, "不需要了"); err != nil {
						return fmt.Errorf("sim: cancel %s: %w", s.r.ID, err)
					}
				} else if _, err := l.pts.Fulfil(ctx, admin(s.r.Owner), s.r.ID, s.r.PickupCode); err != nil {
					return fmt.Errorf("sim: fulfil %s: %w", s.r.ID, err)
				}
			}
			return nil
		})
	}
	if err := w.parallel(ctx, jobs); err != nil {
		return err
	}
	for range max(1, len(w.volunteers)/150) {
		v := w.volunteers[w.rng.IntN(len(w.volunteers))]
		wal, lots, err := w.pts.Wallet(ctx, v)
		if err != nil {
			return err
		}
		avail := points.Available(wal, lots)
		var can []points.Item
		for _, it := range w.items {
			if it.Price.LessThanOrEqual(avail) {
				can = append(can, it)
			}
		}
		if len(can) == 0 {
			continue
		}
		it := can[w.rng.IntN(len(can))]
		r, err := w.pts.Redeem(ctx, volunteer(v), it.ID, v)
		switch {
		case errors.Is(err, points.ErrLimit), errors.Is(err, points.ErrOutOfStock), errors.Is(err, points.ErrLevel):
			w.t.redeemRefused++
			continue
		case err != nil:
			return fmt.Errorf("sim: redeem %s for %s: %w", it.ID, v, err)
		}
		w.t.redeemed++
		w.redeemedItem[it.ID]++
		w.held = append(w.held, r.ID)
	}
	return nil
}

// actionDay is the centre's monthly concentrated action day (集中行动日): an
// evening activity at the centre, recorded and confirmed for all its
// participants in one write.
func (w *world) actionDay(ctx context.Context, today time.Time) error {
	from, to := today.Add(18*time.Hour+30*time.Minute), today.Add(20*time.Hour+30*time.Minute)
	var parts []points.Participant
	first := pick(len(w.volunteers), w.seed, "action", today.Unix())
	for k := 0; k < len(w.volunteers) && len(parts) < 60; k += 7 {
		v := w.volunteers[(first+k)%len(w.volunteers)]
		if w.isBusy(v, from, to) {
			continue
		}
		parts = append(parts, points.Participant{Volunteer: v, SignIn: from, SignOut: to, Travel: 15 * time.Minute})
		w.t.hours = w.t.hours.Add(dec("1.5")) // 2 h less 15 min travel, rounded down to the half hour
		w.busy[v] = append(w.busy[v], span{from, to})
	}
	w.at(to)
	recs, err := w.pts.RecordGroup(ctx, admin(centre), points.Group{
		Activity: points.Activity{
			Name: "新时代文明实践集中行动日", Category: "civility", Place: "金坛区新时代文明实践中心",
			Content: "城市客厅、图书馆、市民广场文明实践志愿服务", Start: from, End: to,
		},
		Organiser: centre, Participants: parts, Confirm: true,
	})
	if err != nil {
		return fmt.Errorf("sim: action day %s: %w", today.Format(time.DateOnly), err)
	}
	w.t.actionDays++
	w.t.actionRecords += len(recs)
	return w.org.AddCounters(ctx, "sim:action:"+today.Format(time.DateOnly), centre, org.Counters{Activities: 1})
}

// forget drops service intervals older than a week.
func (w *world) forget() {
	cut := w.now().AddDate(0, 0, -7)
	for v, spans := range w.busy {
		spans = slices.DeleteFunc(spans, func(s span) bool { return s.to.Before(cut) })
		if len(spans) == 0 {
			delete(w.busy, v)
		} else {
			w.busy[v] = spans
		}
	}
}
