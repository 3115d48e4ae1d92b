package dispatch_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/civicloop/civicloop/adapters/memory"
	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

var _ dispatch.PointsRecorder = (*points.Service)(nil)

// crashingAck is a dispatch store whose first acknowledgement of each seq
// in crashOn fails: the relay dies after points applied that event.
type crashingAck struct {
	dispatch.Store
	crashOn map[uint64]bool
}

var errKilled = errors.New("killed before ack")

func (c *crashingAck) Ack(ctx context.Context, relay string, seq uint64) error {
	if c.crashOn[seq] {
		delete(c.crashOn, seq)
		return errKilled
	}
	return c.Store.Ack(ctx, relay, seq)
}

// TestRelayIntoPoints runs the loop into the real points scheme on memory
// stores, kills the relay between points and its acknowledgement, resumes,
// and checks every hour and the five-star bonus arrived exactly once.
func TestRelayIntoPoints(t *testing.T) {
	ctx := context.Background()
	w := newWorld()
	sys := org.Actor{ID: "setup", Role: org.RoleSystem}
	for _, v := range []org.VolunteerID{"V-7", "V-8"} {
		_, err := w.orgs.RegisterVolunteer(ctx, sys, org.NewVolunteer{ID: v, Name: string(v), Home: "jt-xc-hj"})
		require.NoError(t, err)
	}
	led, err := ledger.New(memory.NewLedgerStore(), nil)
	require.NoError(t, err)
	pts, err := points.New(memory.NewPointsStore(), led, w.orgs, &points.Options{Now: w.clock.Now, Scheme: points.Scheme{Rules: []points.Rule{{
		ID: "2026", ValidFrom: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Rates:   map[string]decimal.Decimal{"*": decimal.NewFromInt(10)},
		Bonuses: map[string]decimal.Decimal{"five_star": decimal.NewFromInt(5)},
	}}}})
	require.NoError(t, err)

	resident := org.Actor{ID: "wang", Role: org.RoleResident}
	desk := org.Actor{ID: "desk", Role: org.RoleDesk, Scope: "jt"}
	leader := org.Actor{ID: "li", Role: org.RoleTeamLeader, Team: "meals"}
	o, err := w.svc.PlaceOrder(ctx, resident, dispatch.OrderRequest{Item: "MEAL", Node: "jt-xc-hj", Fields: map[string]string{"address": "x"}})
	require.NoError(t, err)
	fire := func(a org.Actor, c dispatch.Command) {
		c.Order = o.ID
		o, err = w.svc.Fire(ctx, a, c)
		require.NoError(t, err)
	}
	fire(desk, dispatch.Command{Trigger: dispatch.TriggerDispatch})
	fire(leader, dispatch.Command{Trigger: dispatch.TriggerAccept})
	w.clock.Advance(3 * time.Hour)
	fire(leader, dispatch.Command{Trigger: dispatch.TriggerComplete, Completion: &dispatch.Completion{Report: "lunch", Participants: []dispatch.Participant{
		{Volunteer: "V-7", Hours: decimal.RequireFromString("1.5")}, {Volunteer: "V-8", Hours: decimal.RequireFromString("2")}}}})
	fire(resident, dispatch.Command{Trigger: dispatch.TriggerEvaluate, Evaluation: &dispatch.Evaluation{Score: 5}})

	sink, err := dispatch.NewPointsSink(pts, nil)
	require.NoError(t, err)
	// Events: 1 order, 2 dispatch, 3 accept, 4 complete, 5 evaluate. Die
	// after points took the records (4) and again after the bonus (5).
	store := &crashingAck{Store: w.store, crashOn: map[uint64]bool{4: true, 5: true}}
	relay, err := dispatch.NewRelay(store, sink, nil)
	require.NoError(t, err)
	for _, wantPos := range []uint64{3, 4} {
		_, err = relay.Drain(ctx)
		require.ErrorIs(t, err, errKilled)
		pos, err := w.store.Position(ctx, "points")
		require.NoError(t, err)
		require.Equal(t, wantPos, pos)
	}
	n, err := relay.Drain(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	day := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	for v, hours := range map[org.VolunteerID]string{"V-7": "1.5", "V-8": "2"} {
		recs, err := pts.Records(ctx, v, day, day.Add(48*time.Hour))
		require.NoError(t, err)
		require.Len(t, recs, 1, v)
		require.True(t, decimal.RequireFromString(hours).Equal(recs[0].Hours), "%s: %s", v, recs[0].Hours)
		require.Equal(t, points.RecordConfirmed, recs[0].Status)
		awards, err := pts.Statement(ctx, v, day, day.Add(48*time.Hour))
		require.NoError(t, err)
		bonuses := 0
		for _, a := range awards {
			if a.Kind == points.AwardBonus {
				bonuses++
			}
		}
		require.Equal(t, 1, bonuses, v)
	}
}
