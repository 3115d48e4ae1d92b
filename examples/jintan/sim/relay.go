package sim

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
)

// relayName is the feed position the drain keeps in the dispatch store:
// the name dispatch.Relay uses by default, so a store written by either
// continues where the other stopped.
const relayName = "points"

// delivery is what the relay hands to points for one participant of one
// event: a service record or an evaluation bonus.
type delivery struct {
	key   string
	at    time.Time
	order dispatch.OrderID
	ver   uint64
	rec   *dispatch.ServiceRecord
	bonus *dispatch.Bonus
}

// drain carries the feed into points as dispatch.Relay does (a confirmed
// service record per participant of every completion, a bonus per
// participant of every five-star evaluation, each under the relay's
// idempotency key, then the position acknowledged), but in parallel: one
// job per volunteer, his deliveries in the order of their events' time,
// order and version. A volunteer's writes stay in one job because they
// interfere (his wallet, his daily and monthly caps); different
// volunteers' do not.
//
// Like dispatch.Relay it delivers at least once and acknowledges only
// after every delivery succeeded: if it fails, the next drain replays the
// events and the keys absorb the repeats.
func (w *world) drain(ctx context.Context) error {
	pos, err := w.st.dispatch.Position(ctx, relayName)
	if err != nil {
		return fmt.Errorf("sim: relay position: %w", err)
	}
	var last uint64
	byVol := map[org.VolunteerID][]delivery{}
	for after := pos; ; {
		evs, err := w.st.dispatch.Events(ctx, after, 1000)
		if err != nil {
			return fmt.Errorf("sim: relay: events after %d: %w", after, err)
		}
		if len(evs) == 0 {
			break
		}
		for _, ev := range evs {
			for _, d := range deliveries(ev) {
				v := d.volunteer()
				byVol[v] = append(byVol[v], d)
			}
		}
		after = evs[len(evs)-1].Seq
		last = after
	}
	if last == 0 {
		return nil
	}
	vols := slices.Sorted(maps.Keys(byVol))
	jobs := make([]func(context.Context, *lane) error, len(vols))
	for i, v := range vols {
		ds := byVol[v]
		slices.SortFunc(ds, func(a, b delivery) int {
			return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.order, b.order), cmp.Compare(a.ver, b.ver),
				cmp.Compare(a.key, b.key))
		})
		jobs[i] = func(ctx context.Context, l *lane) error {
			for _, d := range ds {
				var err error
				if d.rec != nil {
					err = l.sink.RecordService(ctx, d.key, *d.rec)
				} else {
					err = l.sink.AwardBonus(ctx, d.key, *d.bonus)
				}
				if err != nil {
					return fmt.Errorf("sim: relay: %w", err)
				}
			}
			return nil
		}
	}
	if err := w.parallel(ctx, jobs); err != nil {
		return err
	}
	if err := w.st.dispatch.Ack(ctx, relayName, last); err != nil {
		return fmt.Errorf("sim: relay: ack %d: %w", last, err)
	}
	return nil
}

func (d delivery) volunteer() org.VolunteerID {
	if d.rec != nil {
		return d.rec.Volunteer
	}
	return d.bonus.Volunteer
}

// deliveries returns what an event asks of points, built as
// dispatch.Relay builds it: a record for each participant of a completion
// (starting when the order was taken on, or the participant's hours before
// completion when that is not earlier), a bonus for each participant of an
// evaluation scoring five.
func deliveries(ev dispatch.Event) []delivery {
	if ev.Completion == nil {
		return nil
	}
	var out []delivery
	switch ev.Trigger {
	case dispatch.TriggerComplete:
		for _, p := range ev.Completion.Participants {
			rec := dispatch.ServiceRecord{
				Order: ev.Order, Volunteer: p.Volunteer, Team: ev.Team, Node: ev.Node, Item: ev.Item,
				Category: ev.Category, Hours: p.Hours, Report: ev.Completion.Report, Start: ev.Since, At: ev.At,
				ConfirmedBy: ev.Actor.ID,
			}
			if !rec.Start.Before(rec.At) {
				rec.Start = rec.At.Add(-time.Duration(p.Hours.Mul(decimal.NewFromInt(int64(time.Hour))).IntPart()))
			}
			out = append(out, delivery{key: dispatch.RecordKey(ev.Order, ev.Version, p.Volunteer), at: ev.At,
				order: ev.Order, ver: ev.Version, rec: &rec})
		}
	case dispatch.TriggerEvaluate:
		if ev.Evaluation == nil || ev.Evaluation.Score < 5 {
			return nil
		}
		for _, p := range ev.Completion.Participants {
			b := dispatch.Bonus{Order: ev.Order, Volunteer: p.Volunteer, Team: ev.Team, Node: ev.Node,
				Category: ev.Category, Score: ev.Evaluation.Score, At: ev.At}
			out = append(out, delivery{key: dispatch.BonusKey(ev.Order, ev.Version, p.Volunteer), at: ev.At,
				order: ev.Order, ver: ev.Version, bonus: &b})
		}
	}
	return out
}
