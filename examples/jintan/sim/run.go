package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/shopspring/decimal"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
)

// Run builds the district on an empty store (or continues the one it
// finds), plays cfg.Days days, audits the stores and returns the report.
// progress receives a line per simulated day; it may be io.Discard. An audit
// violation is returned as an error wrapping ErrAudit, together with the
// report.
func Run(ctx context.Context, cfg Config, progress io.Writer) (rep Report, err error) {
	return run(ctx, cfg, progress, nil)
}

// run is Run with a hook called between the simulated days and the audit
// (tests use it to tamper with the stores).
func run(ctx context.Context, cfg Config, progress io.Writer, hook func(context.Context, *world) error) (rep Report, err error) {
	if err := cfg.validate(); err != nil {
		return rep, err
	}
	began := time.Now()
	st, err := openStores(cfg)
	if err != nil {
		return rep, err
	}
	defer func() { err = errors.Join(err, st.close()) }()
	if st.path != "" {
		fmt.Fprintf(progress, "database: %s\n", st.path)
	}
	w := &world{cfg: cfg, seed: cfg.Seed, clk: &clock{}, st: st,
		orders: map[dispatch.OrderID]dispatch.Order{}, busy: map[org.VolunteerID][]span{},
		redeemedItem: map[string]int{}}
	last, n, err := lastActivity(ctx, st.dispatch)
	if err != nil {
		return rep, err
	}
	w.start = cfg.Start
	if n > 0 {
		w.resumed = true
		w.start = day(last).AddDate(0, 0, 1)
	}
	w.end = w.start.AddDate(0, 0, cfg.Days)
	w.rng = rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(w.start.Unix())))
	if err := newServices(ctx, w); err != nil {
		return rep, err
	}
	if _, err := w.org.Node(ctx, centre); errors.Is(err, org.ErrNotFound) {
		if err := w.build(ctx); err != nil {
			return rep, err
		}
	} else if err != nil {
		return rep, err
	} else {
		w.resumed = true
	}
	w.at(w.start.Add(-time.Hour))
	if err := w.load(ctx); err != nil {
		return rep, err
	}
	if err := w.resumeOpen(ctx); err != nil {
		return rep, err
	}
	simStart := time.Now()
	if err := w.play(ctx, progress); err != nil {
		return rep, err
	}
	simWall := time.Since(simStart)
	if hook != nil {
		if err := hook(ctx, w); err != nil {
			return Report{}, err
		}
	}
	if rep, err = w.report(ctx); err != nil {
		return Report{}, err
	}
	rep.SimWall, rep.Wall = simWall, time.Since(began)
	rep.Transfers = w.count.n.Load()
	rep.DB = st.path
	rep.Engine = fmt.Sprintf("%s store, %d workers", cfg.Store, cfg.Workers)
	if cfg.Store == StoreSQLite {
		how := "durable commits (each write synced to disk before it is acknowledged: it survives a power loss)"
		if cfg.Sync == SyncNormal {
			how = "fast commits (not synced: a write survives a crash of the process, not a power loss)"
		}
		rep.Engine = fmt.Sprintf("sqlite store, %s, %d workers", how, cfg.Workers)
	}
	return rep, rep.auditErr()
}

// play runs the days of the period, phase by phase.
func (w *world) play(ctx context.Context, progress io.Writer) error {
	perDay := make([]int, w.cfg.Days)
	weights := make([]float64, w.cfg.Days)
	var total float64
	for d := range weights {
		wd := w.start.AddDate(0, 0, d).Weekday()
		weights[d] = 0.7 + 0.6*w.rng.Float64()
		if wd == time.Saturday || wd == time.Sunday {
			weights[d] *= 1.3
		}
		total += weights[d]
	}
	for range w.cfg.Orders {
		x := w.rng.Float64() * total
		d := 0
		for ; d < len(weights)-1 && x >= weights[d]; d++ {
			x -= weights[d]
		}
		perDay[d]++
	}
	hours := decimal.Zero
	for d := range w.cfg.Days {
		if err := ctx.Err(); err != nil {
			return err
		}
		today := w.start.AddDate(0, 0, d)
		steps := []struct {
			at time.Duration
			do func(context.Context) error
		}{
			{6 * time.Hour, w.sweep},
			{slots[0].start, w.startServices},
			{9 * time.Hour, w.respond},
			{slots[0].end, w.completeServices},
			{12 * time.Hour, w.evaluate},
			{12 * time.Hour, w.drain}, // the morning's services and the evaluations' bonuses
			{slots[1].start, w.startServices},
			{15 * time.Hour, w.objections},
			{15*time.Hour + 30*time.Minute, w.redemptions},
			{slots[1].end, w.completeServices},
			{slots[1].end, w.drain},
			{18 * time.Hour, func(ctx context.Context) error { return w.place(ctx, today, perDay[d]) }},
			{20*time.Hour + 30*time.Minute, func(ctx context.Context) error {
				if d%30 != 4 {
					return nil
				}
				return w.actionDay(ctx, today)
			}},
			{20*time.Hour + 45*time.Minute, w.route},
			{21 * time.Hour, w.evening},
		}
		for _, s := range steps {
			w.at(today.Add(s.at))
			if err := s.do(ctx); err != nil {
				return fmt.Errorf("sim: %s %s: %w", today.Format(time.DateOnly), s.at, err)
			}
		}
		w.forget()
		hours = w.t.hours
		fmt.Fprintf(progress, "%s  orders %4d  open %4d  completed %4d  activities %4d  hours %9s  transfers %6d\n",
			today.Format("2006-01-02 Mon"), perDay[d], len(w.open), w.t.completed, w.t.completed+w.t.actionDays,
			hours.StringFixed(1), w.count.n.Load())
	}
	return nil
}

// sweep is the daily job: dispatch deadlines, redemption and points expiry,
// ledger holds.
func (w *world) sweep(ctx context.Context) error {
	now := w.now()
	// The sweep changes only orders due now: re-read those afterwards
	// (all open orders when there are too many to list).
	due, err := w.st.dispatch.Due(ctx, now, 1000)
	if err != nil {
		return err
	}
	res, err := w.dsp.Sweep(ctx, now)
	if err != nil {
		return err
	}
	w.t.returnedByTimer += res.Returned
	w.t.urged += res.Urged
	w.t.closed += res.Closed
	n, err := w.pts.ExpireRedemptions(ctx, now)
	if err != nil {
		return err
	}
	w.t.expiredRed += n
	exp, err := w.pts.ExpireLots(ctx, now)
	if err != nil {
		return err
	}
	w.t.expiredLots += exp.Lots
	w.t.expiredPoints = w.t.expiredPoints.Add(exp.Points)
	if _, err := w.led.ExpireHolds(ctx, now); err != nil {
		return err
	}
	var ids []dispatch.OrderID
	if len(due) < 1000 {
		for _, o := range due {
			if _, open := w.orders[o.ID]; open {
				ids = append(ids, o.ID)
			}
		}
	} else {
		ids = w.open
	}
	return w.refresh(ctx, ids)
}
