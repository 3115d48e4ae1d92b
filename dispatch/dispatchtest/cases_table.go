package dispatchtest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
	"github.com/stretchr/testify/require"
)

var allRoles = []org.Role{org.RoleResident, org.RoleAdmin, org.RoleDesk, org.RoleTeamLeader, org.RoleVolunteer, org.RoleSystem}

// actorFor returns the fixture actor in role r, a team leader leading team.
func (f *Fixture) actorFor(r org.Role, team org.TeamID) org.Actor {
	switch r {
	case org.RoleResident:
		return f.Resident
	case org.RoleAdmin:
		return f.Admin
	case org.RoleDesk:
		return f.Desk
	case org.RoleTeamLeader:
		return f.Leaders[team]
	case org.RoleSystem:
		return f.System
	}
	return org.Actor{ID: "vol-1", Role: r}
}

// driveFor drives an order to row.From; an order to reopen is evaluated
// as unsatisfying.
func (f *Fixture) driveFor(t *testing.T, row dispatch.Transition) dispatch.Order {
	t.Helper()
	if row.Trigger != dispatch.TriggerReopen {
		return f.Drive(t, row.From)
	}
	o := f.Drive(t, dispatch.Completed)
	return f.Fire(t, f.Resident, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerEvaluate, Evaluation: &dispatch.Evaluation{Score: 2, Comment: "stove still broken"}})
}

// prepare builds a valid command for row on o, fired in role r, moving the
// clock where the row needs a passed deadline.
func (f *Fixture) prepare(t *testing.T, o dispatch.Order, row dispatch.Transition, r org.Role) (dispatch.Command, org.Actor) {
	t.Helper()
	c := dispatch.Command{Order: o.ID, Trigger: row.Trigger, Reason: "because"}
	team := o.Team
	switch row.Trigger {
	case dispatch.TriggerDispatch:
		if r == org.RoleDesk {
			c.Team = TeamS1
			if row.From == dispatch.Returned {
				c.Team = TeamI1
			}
		}
	case dispatch.TriggerClaim:
		team = TeamS1
	case dispatch.TriggerReturn:
		if r == org.RoleSystem {
			f.Clock.Advance(3 * time.Hour)
		}
	case dispatch.TriggerForceAssign, dispatch.TriggerReassign:
		c.Team = TeamI1
	case dispatch.TriggerRequestExtension:
		c.Until = o.CompleteBy.Add(24 * time.Hour)
	case dispatch.TriggerApprove:
		o = f.Fire(t, f.Leaders[o.Team], dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerRequestExtension, Reason: "rain", Until: o.CompleteBy.Add(24 * time.Hour)})
	case dispatch.TriggerUrge:
		if r == org.RoleSystem {
			f.Clock.Advance(49 * time.Hour)
		}
	case dispatch.TriggerComplete:
		c.Completion = Completion()
	case dispatch.TriggerEvaluate:
		c.Evaluation = &dispatch.Evaluation{Score: 4, Comment: "good", Consent: true}
	case dispatch.TriggerClose:
		f.Clock.Advance(73 * time.Hour)
	case dispatch.TriggerReopen:
		if row.To == dispatch.Dispatched {
			c.Team = TeamI1
		}
	}
	return c, f.actorFor(r, team)
}

// testRow checks one row of the transition table: a blank reason is
// refused where one is required, every role outside the row is refused
// and changes nothing, and every role in it moves the order to row.To with
// exactly one new version, history entry and event.
func testRow(t *testing.T, newFixture func() *Fixture, row dispatch.Transition) {
	ctx := context.Background()
	f := newFixture()
	o := f.driveFor(t, row)
	for _, r := range allRoles {
		if slices.Contains(row.Roles, r) {
			continue
		}
		c, a := f.prepare(t, o, row, r)
		f.refused(t, a, c, dispatch.ErrForbidden, "actor")
	}
	if row.ReasonRequired {
		c, a := f.prepare(t, o, row, row.Roles[0])
		c.Reason = " "
		f.refused(t, a, c, dispatch.ErrInvalid, "reason")
	}
	for _, r := range row.Roles {
		f := newFixture()
		o := f.driveFor(t, row)
		c, a := f.prepare(t, o, row, r)
		before := f.snap(t, o.ID)
		got, err := f.Service.Fire(ctx, a, c)
		require.NoError(t, err, "role %s", r)
		after := f.snap(t, o.ID)
		require.Equal(t, row.To, got.State)
		require.Equal(t, got, after.order)
		require.Equal(t, before.order.Version+1, got.Version)
		require.Len(t, after.history, len(before.history)+1)
		require.Len(t, after.events, len(before.events)+1)
		last := after.history[len(after.history)-1]
		require.Equal(t, dispatch.HistoryEntry{Version: got.Version, Actor: a, Trigger: row.Trigger, From: row.From, To: row.To,
			At: f.Clock.Now(), Reason: c.Reason, Team: got.Team}, last)
		ev := after.events[len(after.events)-1]
		require.Equal(t, row.Trigger, ev.Trigger)
		require.Equal(t, got.Version, ev.Version)
		require.Equal(t, o.ID, ev.Order)
		require.NoError(t, checkDeadlines(got))
	}
}

// checkDeadlines states that each deadline runs exactly in its state.
func checkDeadlines(o dispatch.Order) error {
	bad := func(what string) error {
		return &deadlineError{o: o, what: what}
	}
	active := o.State == dispatch.Accepted || o.State == dispatch.InService
	switch {
	case o.AcceptBy.IsZero() == (o.State == dispatch.Dispatched):
		return bad("accept-by")
	case o.CompleteBy.IsZero() == active:
		return bad("complete-by")
	case o.EvaluateBy.IsZero() == (o.State == dispatch.Completed):
		return bad("evaluate-by")
	case o.Pending != nil && !active:
		return bad("pending extension")
	case o.Pending != nil && !o.Pending.Until.After(o.CompleteBy):
		return bad("pending extension before complete-by")
	}
	return nil
}

type deadlineError struct {
	o    dispatch.Order
	what string
}

func (e *deadlineError) Error() string {
	return "order " + string(e.o.ID) + " in state " + string(e.o.State) + ": inconsistent " + e.what
}
