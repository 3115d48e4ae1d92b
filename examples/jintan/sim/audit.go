package sim

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
)

// AuditSummary is what the final audit checked and what it found wrong.
type AuditSummary struct {
	// Accounts and Entries are what ledger.Audit verified (invariants and
	// hash chains).
	Accounts int
	Entries  int64
	// Transfers and Holds are the transfer records and the holds among
	// them that ledger.Audit checked against the entries and the pending
	// amounts.
	Transfers, Holds int64
	// Records are the service records checked against the completed orders
	// and confirmations behind them; Volunteers the wallets checked against
	// records and ledger balances.
	Records    int
	Volunteers int
	// Orders and Transitions are the order histories replayed against the
	// transition table.
	Orders      int
	Transitions int
	// Rollups are the roll-ups and statistics compared with recounts.
	Rollups int
	// Violations lists every failed check; empty means a clean audit.
	Violations []string
}

func (a *AuditSummary) fail(format string, args ...any) {
	a.Violations = append(a.Violations, fmt.Sprintf(format, args...))
}

// counts are recounted figures of one node's subtree.
type counts struct {
	hours, points     decimal.Decimal // all time, from awards
	recordHours       decimal.Decimal // all time, live confirmed records
	orders, completed int64           // all time
	activities        int64           // all time: completions and action days
	volunteers        int
	periodHours       decimal.Decimal
	periodPoints      decimal.Decimal
	periodOrders      int
	routed, responded int
	done, evaluated   int
	satisfied         int
}

var (
	epoch     = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	farFuture = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// auditLedger runs the ledger's own audit: invariants, every hash chain,
// entries against transfers and holds against pending amounts.
func (w *world) auditLedger(ctx context.Context, a *AuditSummary) error {
	rep, err := w.led.Audit(ctx)
	switch {
	case errors.Is(err, ledger.ErrTampered), errors.Is(err, ledger.ErrInvariant):
		a.fail("ledger: %v", err)
	case err != nil:
		return err
	}
	a.Accounts, a.Entries = rep.Accounts, rep.Entries
	a.Transfers, a.Holds = rep.Transfers, rep.Holds
	return nil
}

// completions reads the change feed: the hours of every participant of every
// completion, by the key its service record carries.
func (w *world) completions(ctx context.Context) (map[string]decimal.Decimal, map[org.NodeID]int64, error) {
	backed := map[string]decimal.Decimal{}
	done := map[org.NodeID]int64{}
	for after := uint64(0); ; {
		evs, err := w.st.dispatch.Events(ctx, after, 1000)
		if err != nil {
			return nil, nil, err
		}
		if len(evs) == 0 {
			return backed, done, nil
		}
		for _, ev := range evs {
			if ev.Trigger == dispatch.TriggerComplete && ev.Completion != nil {
				done[ev.Node]++
				for _, p := range ev.Completion.Participants {
					backed[dispatch.RecordKey(ev.Order, ev.Version, p.Volunteer)] = p.Hours
				}
			}
		}
		after = evs[len(evs)-1].Seq
	}
}

// volunteerData is what the audit reads of one volunteer.
type volunteerData struct {
	recs []points.Record
	// corrected holds the records the volunteer's corrections correct, or
	// the error reading them.
	corrected    map[string]points.Record
	correctedErr map[string]error
	wal          points.Wallet
	lots         []points.Lot
	hours        decimal.Decimal // ledger HOURS balance
	avail        decimal.Decimal // ledger POINTS available
	awards       []points.Award
}

// readVolunteer reads what the audit checks of one volunteer. The reads of
// different volunteers run in parallel; the checks (auditVolunteer) in
// order.
func (w *world) readVolunteer(ctx context.Context, v org.VolunteerID) (d volunteerData, err error) {
	if d.recs, err = w.pts.Records(ctx, v, epoch, farFuture); err != nil {
		return d, err
	}
	for _, r := range d.recs {
		if r.Status != points.RecordDraft && r.SourceKey == "" && r.Corrects != "" {
			if d.corrected == nil {
				d.corrected, d.correctedErr = map[string]points.Record{}, map[string]error{}
			}
			d.corrected[r.Corrects], d.correctedErr[r.Corrects] = w.pts.Record(ctx, r.Corrects)
		}
	}
	if d.wal, d.lots, err = w.pts.Wallet(ctx, v); err != nil {
		return d, err
	}
	if d.hours, _, err = w.balance(ctx, points.VolunteerAccount(v, points.HoursAsset)); err != nil {
		return d, err
	}
	if _, d.avail, err = w.balance(ctx, points.VolunteerAccount(v, points.PointsAsset)); err != nil {
		return d, err
	}
	d.awards, err = w.pts.Statement(ctx, v, epoch, farFuture)
	return d, err
}

// auditVolunteer checks one volunteer: every hour booked is backed by a
// completed order's participant or by a confirmed record of its organiser;
// his wallet equals his live records; his ledger balances equal his wallet
// and lots. It adds his awards and records to the recounts.
func (w *world) auditVolunteer(a *AuditSummary, v org.VolunteerID, d volunteerData, backed map[string]decimal.Decimal,
	seen map[string]bool, groups map[string]org.NodeID, add func(org.NodeID, func(*counts))) (served bool) {
	live := decimal.Zero
	for _, r := range d.recs {
		if r.Status == points.RecordDraft {
			continue
		}
		a.Records++
		switch {
		case r.SourceKey != "":
			h, ok := backed[r.SourceKey]
			if !ok {
				a.fail("record %s of %s: source %s is no participant of a completed order", r.ID, v, r.SourceKey)
			} else if !h.Equal(r.Hours) {
				a.fail("record %s of %s: %s hours, the completion reported %s", r.ID, v, r.Hours, h)
			}
			seen[r.SourceKey] = true
		case r.Corrects != "":
			orig, err := d.corrected[r.Corrects], d.correctedErr[r.Corrects]
			if err != nil || orig.Status != points.RecordReversed || orig.CorrectedBy != r.ID {
				a.fail("record %s of %s corrects %s, which is not a record reversed by it (%v)", r.ID, v, r.Corrects, err)
			}
		default:
			if r.ConfirmedBy == "" || r.ConfirmedBy == string(v) {
				a.fail("record %s of %s: confirmed by %q, not by its organiser", r.ID, v, r.ConfirmedBy)
			}
			groups[fmt.Sprintf("%s|%s|%d", r.Organiser, r.Activity.Name, r.Activity.Start.Unix())] = r.Organiser
		}
		if r.Status == points.RecordConfirmed {
			live = live.Add(r.Hours)
			add(r.Organiser, func(c *counts) { c.recordHours = c.recordHours.Add(r.Hours) })
		}
	}
	if !d.wal.Hours.Equal(live) {
		a.fail("volunteer %s: wallet holds %s hours, his confirmed records %s", v, d.wal.Hours, live)
	}
	if !d.hours.Equal(d.wal.Hours) {
		a.fail("volunteer %s: ledger HOURS balance %s, wallet %s", v, d.hours, d.wal.Hours)
	}
	if want := points.Available(d.wal, d.lots); !d.avail.Equal(want) {
		a.fail("volunteer %s: ledger POINTS available %s, his lots %s", v, d.avail, want)
	}
	for _, aw := range d.awards {
		if aw.Node == "" || aw.Kind == points.AwardPenalty {
			continue // penalties are not rolled up: points.Service.applyOps
		}
		in := !aw.At.Before(w.start) && aw.At.Before(w.end)
		served = served || (in && aw.Kind == points.AwardService)
		add(aw.Node, func(c *counts) {
			c.hours = c.hours.Add(aw.Hours)
			c.points = c.points.Add(aw.Points)
			if in {
				c.periodHours = c.periodHours.Add(aw.Hours)
				c.periodPoints = c.periodPoints.Add(aw.Points)
			}
		})
	}
	return served
}

// balance returns an account's posted and available balance; zero for an
// account never opened.
func (w *world) balance(ctx context.Context, id ledger.AccountID) (decimal.Decimal, decimal.Decimal, error) {
	acc, err := w.led.Account(ctx, id)
	if errors.Is(err, ledger.ErrNotFound) {
		return decimal.Zero, decimal.Zero, nil
	}
	return acc.Balance, acc.Available, err
}

// auditHistory replays an order's history against the transition table.
func (w *world) auditHistory(a *AuditSummary, o dispatch.Order, hist []dispatch.HistoryEntry) {
	a.Orders++
	a.Transitions += len(hist)
	prev := dispatch.State("")
	for i, h := range hist {
		switch {
		case h.Version != uint64(i+1):
			a.fail("order %s: history entry %d has version %d", o.ID, i+1, h.Version)
		case h.From != prev:
			a.fail("order %s: version %d leaves %q, the previous entry reached %q", o.ID, h.Version, h.From, prev)
		case !dispatch.Allows(h.From, h.Trigger) || !rowExists(h.From, h.Trigger, h.To):
			a.fail("order %s: version %d: %s from %q to %q is not in the transition table", o.ID, h.Version, h.Trigger, h.From, h.To)
		}
		prev = h.To
	}
	if prev != o.State || uint64(len(hist)) != o.Version {
		a.fail("order %s: history ends in %q after %d entries, the order is %q at version %d", o.ID, prev, len(hist), o.State, o.Version)
	}
}

var table = dispatch.Transitions()

func rowExists(from dispatch.State, tr dispatch.Trigger, to dispatch.State) bool {
	for _, t := range table {
		if t.From == from && t.Trigger == tr && t.To == to {
			return true
		}
	}
	return false
}
