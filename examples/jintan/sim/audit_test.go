package sim

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
)

// TestAuditFindsTampering tampers with a store after the simulated days
// and requires the audit to name what is wrong: the checks have teeth.
func TestAuditFindsTampering(t *testing.T) {
	served := func(ctx context.Context, w *world) org.VolunteerID {
		for _, v := range w.volunteers {
			if wal, _, err := w.pts.Wallet(ctx, v); err == nil && wal.Hours.IsPositive() {
				return v
			}
		}
		t.Fatal("nobody served")
		return ""
	}
	for _, tc := range []struct {
		name   string
		tamper func(context.Context, *world) error
		want   string
	}{
		{"hours moved on the ledger behind points", func(ctx context.Context, w *world) error {
			v := served(ctx, w)
			_, err := w.led.Transfer(ctx, ledger.TransferRequest{ID: "forged", Reason: "forged",
				Postings: ledger.Move(points.HoursAsset, points.SchemeAccount(points.Issued, points.HoursAsset), points.VolunteerAccount(v, points.HoursAsset), dec("3"))})
			return err
		}, "ledger HOURS balance"},
		{"a record no completed order backs", func(ctx context.Context, w *world) error {
			v := w.volunteers[len(w.volunteers)-1]
			in := points.RecordInput{Volunteer: v, Organiser: w.stations[0], EnteredHours: dec("2"),
				Activity: points.Activity{Name: "ghost", Category: "care", Start: w.end, End: w.end.Add(2 * 3600e9)}}
			_, err := w.pts.RecordFromSource(ctx, system, "dispatch:ghost:1:"+string(v), in, true)
			return err
		}, "is no participant of a completed order"},
		{"a roll-up off its recount", func(ctx context.Context, w *world) error {
			return w.org.AddCounters(ctx, "forged", w.stations[0], org.Counters{Orders: 1})
		}, "roll-up of"},
		{"a transition outside the table", func(ctx context.Context, w *world) error {
			o, err := w.dsp.Order(ctx, w.open[0])
			if err != nil {
				return err
			}
			next := o.Clone()
			next.Version++
			next.State = dispatch.Showcased
			_, err = w.st.dispatch.Commit(ctx, dispatch.Commit{Order: next, Expected: o.Version,
				Entry: dispatch.HistoryEntry{Version: next.Version, Actor: desk, Trigger: dispatch.TriggerShowcase, From: o.State, To: next.State, At: w.now()},
				Event: dispatch.Event{Order: o.ID, Version: next.Version, Trigger: dispatch.TriggerShowcase, From: o.State, To: next.State, At: w.now()}})
			return err
		}, "is not in the transition table"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := small(6, StoreMemory)
			rep, err := run(context.Background(), cfg, io.Discard, tc.tamper)
			require.ErrorIs(t, err, ErrAudit)
			require.False(t, rep.Clean())
			require.True(t, strings.Contains(strings.Join(rep.Audit.Violations, "\n"), tc.want), "violations: %v", rep.Audit.Violations)
		})
	}
}

// TestAuditLineCountsTransfers: the report's audit line shows the
// transfers and holds ledger.Audit checked, not zero.
func TestAuditLineCountsTransfers(t *testing.T) {
	rep, err := Run(context.Background(), small(1, StoreMemory), io.Discard)
	require.NoError(t, err)
	require.True(t, rep.Clean(), "audit: %v", rep.Audit.Violations)
	require.Positive(t, rep.Audit.Entries)
	require.Positive(t, rep.Audit.Transfers, "ledger.Audit checked every transfer record")
	require.Positive(t, rep.Audit.Holds, "the run redeems gifts: holds")
}
