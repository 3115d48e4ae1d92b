package dispatchtest

import (
	"context"
	"testing"
	"time"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// testStateMachine fires random triggers by random actors with random
// arguments at a few orders, interleaved with clock moves and sweeps, and
// checks after every step that
//
//   - a successful command moved the order along a row of the table, by
//     exactly one version, one history entry and one event;
//   - a refused command changed nothing at all;
//   - every order's deadlines match its state;
//   - no team holds more active orders than its capacity, and Loads agrees
//     with the orders.
func testStateMachine(t *testing.T, newStore func(t *testing.T) dispatch.Store) {
	ctx := context.Background()
	rapid.Check(t, func(rt *rapid.T) {
		f := NewFixture(t, newStore(t), &dispatch.Options{MaxReturns: 2})
		teams := []org.TeamID{TeamS1, TeamI1, TeamC, TeamH, "T-404"}
		actors := []org.Actor{f.Resident, f.Other, f.Admin, f.AdminI2, f.Desk, f.System,
			f.Leaders[TeamS1], f.Leaders[TeamI1], f.Leaders[TeamC], f.Leaders[TeamH],
			{ID: "vol-1", Role: org.RoleVolunteer}}
		nodes := []org.NodeID{NodeS1, NodeS2, NodeS3, NodeI1}
		var ids []dispatch.OrderID

		checkAll := func() {
			active := map[org.TeamID]int{}
			// assigned leaves out rework reopened to its team, which is
			// not asked its capacity (see rework).
			assigned := map[org.TeamID]int{}
			for _, id := range ids {
				o, err := f.Store.Order(ctx, id)
				require.NoError(rt, err)
				require.NoError(rt, checkDeadlines(o))
				if o.State.Active() {
					active[o.Team]++
					h, err := f.Store.History(ctx, id)
					require.NoError(rt, err)
					if !rework(h) {
						assigned[o.Team]++
					}
				}
			}
			loads, err := f.Store.Loads(ctx, teams)
			require.NoError(rt, err)
			for i, team := range teams {
				require.Equal(rt, active[team], loads[i].Active, "load of %s", team)
				tm, err := f.Tree.Team(ctx, team)
				if err == nil {
					require.LessOrEqual(rt, assigned[team], tm.Capacity, "team %s above capacity (rework aside)", team)
				}
			}
		}

		rt.Repeat(map[string]func(*rapid.T){
			"order": func(rt *rapid.T) {
				if len(ids) >= 6 {
					rt.Skip("enough orders")
				}
				node := rapid.SampledFrom(nodes).Draw(rt, "node")
				o, err := f.Service.PlaceOrder(ctx, f.Resident, dispatch.OrderRequest{Item: ItemMeal, Node: node, Fields: MealFields()})
				require.NoError(rt, err)
				ids = append(ids, o.ID)
			},
			"fire": func(rt *rapid.T) {
				if len(ids) == 0 {
					rt.Skip("no order yet")
				}
				id := rapid.SampledFrom(ids).Draw(rt, "order")
				before := f.snap(t, id)
				o := before.order
				likely := func(label string) bool { return rapid.IntRange(0, 9).Draw(rt, label) < 8 }
				// Mostly a trigger the state allows, fired by a role the
				// row allows with sensible arguments; sometimes anything.
				var rows []dispatch.Transition
				for _, r := range dispatch.Transitions() {
					if r.From == o.State {
						rows = append(rows, r)
					}
				}
				c := dispatch.Command{Order: id, Trigger: rapid.SampledFrom(dispatch.Triggers()[1:]).Draw(rt, "any trigger")}
				a := rapid.SampledFrom(actors).Draw(rt, "any actor")
				if len(rows) > 0 && likely("valid trigger") {
					// Terminal rows end an order's story; take them rarely.
					var onward []dispatch.Transition
					for _, r := range rows {
						if !r.To.Terminal() {
							onward = append(onward, r)
						}
					}
					if len(onward) > 0 && likely("onward") {
						rows = onward
					}
					row := rapid.SampledFrom(rows).Draw(rt, "row")
					c.Trigger = row.Trigger
					if likely("valid role") {
						team := o.Team
						if c.Trigger == dispatch.TriggerClaim || team == "" {
							team = rapid.SampledFrom(teams[:4]).Draw(rt, "leader's team")
						}
						a = f.actorFor(rapid.SampledFrom(row.Roles).Draw(rt, "role"), team)
					}
				}
				if likely("reason") {
					c.Reason = "because"
				}
				if !likely("with team") {
					c.Team = rapid.SampledFrom(teams).Draw(rt, "team")
				}
				if !likely("fresh") {
					c.Version = o.Version - 1
				}
				c.Until = o.CompleteBy.Add(time.Duration(rapid.IntRange(-2, 48).Draw(rt, "until h")) * time.Hour)
				if likely("with completion") {
					c.Completion = Completion()
					if !likely("valid hours") {
						c.Completion.Participants[0].Hours = decimal.NewFromInt(int64(rapid.IntRange(-1, 30).Draw(rt, "hours")))
					}
				}
				if likely("with evaluation") {
					c.Evaluation = &dispatch.Evaluation{Score: rapid.IntRange(0, 6).Draw(rt, "score"), Consent: rapid.Bool().Draw(rt, "consent")}
				}
				got, err := f.Service.Fire(ctx, a, c)
				after := f.snap(t, id)
				if err != nil {
					require.Equal(rt, before, after, "refused %s by %s (%v) changed the store", c.Trigger, a.ID, err)
					return
				}
				require.Equal(rt, got, after.order)
				require.Equal(rt, before.order.Version+1, after.order.Version)
				require.Len(rt, after.history, len(before.history)+1)
				require.Len(rt, after.events, len(before.events)+1)
				require.True(rt, rowExists(before.order.State, c.Trigger, after.order.State, a.Role),
					"%s by %s moved %s to %s: not in the table", c.Trigger, a.Role, before.order.State, after.order.State)
			},
			"time": func(rt *rapid.T) {
				f.Clock.Advance(time.Duration(rapid.IntRange(1, 30).Draw(rt, "hours")) * time.Hour)
			},
			"sweep": func(rt *rapid.T) {
				before := map[dispatch.OrderID]snapshot{}
				for _, id := range ids {
					before[id] = f.snap(t, id)
				}
				now := f.Clock.Now()
				_, err := f.Service.Sweep(ctx, now)
				require.NoError(rt, err)
				for _, id := range ids {
					after := f.snap(t, id)
					b := before[id]
					grew := int(after.order.Version - b.order.Version)
					require.LessOrEqual(rt, grew, 1, "sweep fired twice on one order")
					require.Len(rt, after.history, len(b.history)+grew)
					if grew == 1 {
						last := after.history[len(after.history)-1]
						require.True(rt, rowExists(b.order.State, last.Trigger, after.order.State, org.RoleSystem))
					}
				}
				due, err := f.Store.Due(ctx, now, 10)
				require.NoError(rt, err)
				require.Empty(rt, due, "due orders left after a sweep")
			},
			"": func(rt *rapid.T) { checkAll() },
		})
	})
}

// rework reports whether an active order's history ends in rework: its
// last assignment is a reopen back to the team that delivered it
// (Evaluated → Accepted), which the capacity check does not ask (see
// dispatch.TriggerReopen), so it may push the team over its capacity.
func rework(h []dispatch.HistoryEntry) bool {
	for i := len(h) - 1; i >= 0; i-- {
		switch e := h[i]; e.Trigger {
		case dispatch.TriggerReopen:
			return e.To == dispatch.Accepted
		case dispatch.TriggerDispatch, dispatch.TriggerClaim, dispatch.TriggerForceAssign, dispatch.TriggerReassign:
			return false
		}
	}
	return false
}

func rowExists(from dispatch.State, tr dispatch.Trigger, to dispatch.State, r org.Role) bool {
	for _, row := range dispatch.Transitions() {
		if row.From == from && row.Trigger == tr && row.To == to {
			for _, x := range row.Roles {
				if x == r {
					return true
				}
			}
		}
	}
	return false
}
