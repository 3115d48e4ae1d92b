package sim

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
)

// report audits the stores and gathers the report in one walk: the same
// reads serve the recounts the audit compares and the figures shown.
func (w *world) report(ctx context.Context) (Report, error) {
	rep := Report{Seed: w.seed, Store: w.cfg.Store, From: w.start, To: w.end.AddDate(0, 0, -1), Days: w.cfg.Days, Resumed: w.resumed}
	a := &rep.Audit
	// The ledger's own audit reads only the ledger: it runs beside the
	// rest.
	var ledgerAudit AuditSummary
	ledgerDone := make(chan error, 1)
	go func() { ledgerDone <- w.auditLedger(ctx, &ledgerAudit) }()
	rep, err := w.collect(ctx, rep)
	if lerr := <-ledgerDone; lerr != nil {
		return rep, lerr
	}
	a = &rep.Audit
	a.Accounts, a.Entries = ledgerAudit.Accounts, ledgerAudit.Entries
	a.Transfers, a.Holds = ledgerAudit.Transfers, ledgerAudit.Holds
	a.Violations = append(ledgerAudit.Violations, a.Violations...)
	return rep, err
}

// collect is report without the ledger's audit.
func (w *world) collect(ctx context.Context, rep Report) (Report, error) {
	a := &rep.Audit
	cs := map[org.NodeID]*counts{}
	add := func(n org.NodeID, f func(*counts)) {
		for _, k := range w.chain(n) {
			c := cs[k]
			if c == nil {
				c = &counts{}
				cs[k] = c
			}
			f(c)
		}
	}
	backed, done, err := w.completions(ctx)
	if err != nil {
		return rep, err
	}
	for n, k := range done {
		add(n, func(c *counts) { c.activities += k })
	}
	seen := map[string]bool{}
	groups := map[string]org.NodeID{}
	data := make([]volunteerData, len(w.volunteers))
	if err := w.pool(ctx, len(w.volunteers), func(ctx context.Context, _ *lane, i int) error {
		var err error
		if data[i], err = w.readVolunteer(ctx, w.volunteers[i]); err != nil {
			return fmt.Errorf("sim: audit volunteer %s: %w", w.volunteers[i], err)
		}
		return nil
	}); err != nil {
		return rep, err
	}
	for i, v := range w.volunteers {
		served := w.auditVolunteer(a, v, data[i], backed, seen, groups, add)
		a.Volunteers++
		rep.Stars[min(data[i].wal.Level, len(rep.Stars)-1)]++
		if served {
			rep.Served++
		}
	}
	for key := range backed {
		if !seen[key] {
			a.fail("completion %s: no service record: its hours never reached points", key)
		}
	}
	for _, n := range groups {
		add(n, func(c *counts) { c.activities++ })
	}
	for _, home := range w.homes {
		add(home, func(c *counts) { c.volunteers++ })
	}
	if err := w.walkOrders(ctx, a, add); err != nil {
		return rep, err
	}
	if err := w.compare(ctx, &rep, cs); err != nil {
		return rep, err
	}
	w.fill(&rep, cs)
	items, err := w.pts.Catalogue(ctx, "")
	if err != nil {
		return rep, err
	}
	for _, it := range items {
		stock := it.Stock
		if it.Unlimited {
			stock = -1
		}
		rep.Stock = append(rep.Stock, StockRow{ID: it.ID, Name: it.Name, Price: it.Price, Stock: stock, Redeemed: w.redeemedItem[it.ID]})
	}
	return rep, nil
}

// chain returns the node, its institute and the centre: the subtrees a
// figure booked at the node counts in.
func (w *world) chain(n org.NodeID) []org.NodeID {
	out := []org.NodeID{n}
	if inst := w.instOf[n]; inst != "" && inst != n {
		out = append(out, inst)
	}
	if n != centre {
		out = append(out, centre)
	}
	return out
}

// walkOrders replays every order's history and recounts the orders by node.
func (w *world) walkOrders(ctx context.Context, a *AuditSummary, add func(org.NodeID, func(*counts))) error {
	var after dispatch.OrderID
	for {
		page, err := w.st.dispatch.Orders(ctx, after, 1000)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		hists := make([][]dispatch.HistoryEntry, len(page))
		if err := w.pool(ctx, len(page), func(ctx context.Context, _ *lane, i int) error {
			var err error
			hists[i], err = w.dsp.History(ctx, page[i].ID)
			return err
		}); err != nil {
			return err
		}
		for i, o := range page {
			w.auditHistory(a, o, hists[i])
			in := !o.OrderedAt.Before(w.start) && o.OrderedAt.Before(w.end)
			add(o.Node, func(c *counts) {
				c.orders++
				if !o.CompletedAt.IsZero() {
					c.completed++
				}
				if !in {
					return
				}
				c.periodOrders++
				if !o.RoutedAt.IsZero() {
					c.routed++
				}
				if !o.AcceptedAt.IsZero() {
					c.responded++
				}
				if !o.CompletedAt.IsZero() {
					c.done++
				}
				if o.Evaluation != nil {
					c.evaluated++
					if o.Evaluation.Score >= 4 {
						c.satisfied++
					}
				}
			})
		}
		after = page[len(page)-1].ID
	}
}

// compare checks the roll-ups of org and the statistics of dispatch
// against the recounts, for the centre and every institute, and keeps the
// statistics for the report.
func (w *world) compare(ctx context.Context, rep *Report, cs map[org.NodeID]*counts) error {
	a := &rep.Audit
	nodes := []org.NodeID{centre}
	stations := map[org.NodeID]int{centre: len(w.instOf) - len(w.institutes)}
	for _, n := range w.institutes {
		nodes = append(nodes, n.ID)
	}
	for id, inst := range w.instOf {
		if id != inst {
			stations[inst]++
		}
	}
	rollups := make([]org.Rollup, len(nodes))
	stats := make([]dispatch.NodeStats, len(nodes))
	if err := w.pool(ctx, len(nodes), func(ctx context.Context, _ *lane, i int) error {
		var err error
		if rollups[i], err = w.org.Rollup(ctx, nodes[i]); err != nil {
			return err
		}
		stats[i], err = w.dsp.Stats(ctx, nodes[i], w.start, w.end)
		return err
	}); err != nil {
		return err
	}
	for i, n := range nodes {
		c := cs[n]
		if c == nil {
			c = &counts{}
			cs[n] = c
		}
		r := rollups[i]
		a.Rollups++
		got, want := r.Counters, org.Counters{Hours: c.hours, Points: c.points, Orders: c.orders, Completed: c.completed, Activities: c.activities}
		if !got.Equal(want) {
			a.fail("roll-up of %s: %+v, recount %+v", n, got, want)
		}
		if !c.recordHours.Equal(c.hours) {
			a.fail("hours of %s: awards %s, live confirmed records %s", n, c.hours, c.recordHours)
		}
		if r.Volunteers != c.volunteers || r.Stations != stations[n] {
			a.fail("roll-up of %s: %d volunteers, %d stations; recount %d, %d", n, r.Volunteers, r.Stations, c.volunteers, stations[n])
		}
		st := stats[i]
		a.Rollups++
		if st.Orders != c.periodOrders || st.Routed != c.routed || st.Responded != c.responded || st.Completed != c.done ||
			st.Evaluated != c.evaluated || st.Satisfied != c.satisfied {
			a.fail("dispatch stats of %s: %d/%d/%d/%d/%d/%d, recount %d/%d/%d/%d/%d/%d (orders/routed/responded/completed/evaluated/satisfied)",
				n, st.Orders, st.Routed, st.Responded, st.Completed, st.Evaluated, st.Satisfied,
				c.periodOrders, c.routed, c.responded, c.done, c.evaluated, c.satisfied)
		}
		row := NodeRow{ID: n, Name: w.names[n], Orders: st.Orders, Completed: st.Completed, Evaluated: st.Evaluated,
			ResponseRate: st.ResponseRate, MeanCompletion: st.MeanCompletion, SatisfactionRate: st.SatisfactionRate,
			Hours: c.periodHours, Points: c.periodPoints}
		if n == centre {
			rep.District = row
			rep.Network = r
		} else {
			rep.Institutes = append(rep.Institutes, row)
		}
	}
	return nil
}

// fill adds the period totals, the tallies and the top stations.
func (w *world) fill(rep *Report, cs map[org.NodeID]*counts) {
	t := &w.t
	rep.Pairings, rep.MenuItems = w.pairings, len(w.menu)
	rep.Activities = t.completed + t.actionDays
	rep.Hours, rep.Points = rep.District.Hours, rep.District.Points
	rep.Counts = []Count{
		{"ordered (点单)", t.placed}, {"rejected", t.rejected}, {"dispatched (派单)", t.dispatched},
		{"published to the pool", t.published}, {"claimed (抢单)", t.claimed}, {"accepted (接单)", t.accepted},
		{"returned by a team (退单)", t.returnedByTeam}, {"returned by the timer", t.returnedByTimer},
		{"reassigned (改派)", t.reassigned}, {"forced on a team", t.forced}, {"extended (延期)", t.extensions},
		{"urged (催办)", t.urged}, {"services started", t.started}, {"completed", t.completed},
		{"evaluated (评单)", t.evaluated}, {"closed unrated", t.closed}, {"reopened", t.reopened},
		{"showcased (晒单)", t.showcased}, {"hidden", t.hidden}, {"cancelled by residents", t.cancelledRes},
		{"cancelled by the centre", t.cancelledCentre},
	}
	rep.PointsCounts = []Count{
		{"action days (集中行动日)", t.actionDays}, {"action-day records", t.actionRecords},
		{"participations in orders", t.participants}, {"objections", t.objections}, {"corrected", t.corrected},
		{"objections rejected", t.rejectedObj}, {"no-show penalties", t.penalties}, {"redeemed (礼遇)", t.redeemed},
		{"picked up", t.fulfilled}, {"cancelled", t.cancelledRed}, {"expired unpicked", t.expiredRed},
		{"redemptions refused", t.redeemRefused}, {"lots expired", t.expiredLots},
	}
	rep.ExpiredPoints = t.expiredPoints
	for id := range w.instOf {
		c := cs[id]
		if c == nil || id == w.instOf[id] {
			continue
		}
		rep.TopStations = append(rep.TopStations, NodeRow{ID: id, Name: w.names[id], Orders: c.periodOrders, Completed: c.done, Hours: c.periodHours, Points: c.periodPoints})
	}
	slices.SortFunc(rep.TopStations, func(a, b NodeRow) int {
		if c := b.Hours.Cmp(a.Hours); c != 0 {
			return c
		}
		if a.Orders != b.Orders {
			return b.Orders - a.Orders
		}
		return strings.Compare(string(a.ID), string(b.ID))
	})
	rep.TopStations = rep.TopStations[:min(10, len(rep.TopStations))]
}
