package orgtest

import (
	"context"
	"errors"

	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/org"
)

var _ = register(
	test{"PolicyAdminActsWithinScope", func(e *env) {
		e.small()
		admin := org.Actor{ID: "wang", Role: org.RoleAdmin, Scope: "c-a"}
		_, err := e.svc.CreateNode(e.ctx, admin, org.NewNode{ID: "c-a-3", Kind: org.Station, Name: "ok", Parent: "c-a"})
		require.NoError(e.t, err)
		before := e.rollup("c")
		_, err = e.svc.CreateNode(e.ctx, admin, org.NewNode{ID: "c-b-2", Kind: org.Station, Name: "no", Parent: "c-b"})
		require.ErrorIs(e.t, err, org.ErrForbidden)
		require.ErrorContains(e.t, err, "outside scope")
		_, err = e.svc.MoveNode(e.ctx, admin, "c-a-2", "c-b")
		require.ErrorIs(e.t, err, org.ErrForbidden, "the new parent is outside the scope")
		_, err = e.svc.CreateNode(e.ctx, admin, org.NewNode{ID: "d", Kind: org.Centre, Name: "root"})
		require.ErrorIs(e.t, err, org.ErrForbidden, "only the system creates centres")
		_, err = e.svc.RetireNode(e.ctx, org.Actor{ID: "x", Role: org.RoleAdmin}, "c-b-1", "x")
		require.ErrorIs(e.t, err, org.ErrForbidden, "admin without scope")
		require.Equal(e.t, before, e.rollup("c"), "refusals change nothing")
		n, err := e.svc.Node(e.ctx, "c-a-2")
		require.NoError(e.t, err)
		require.Equal(e.t, org.NodeID("c-a"), n.Parent)
		refs, err := e.svc.Refusals(e.ctx, 0, 0)
		require.NoError(e.t, err)
		require.Len(e.t, refs, 4)
		require.Equal(e.t, admin, refs[0].Actor)
		require.Equal(e.t, org.ActCreateNode, refs[0].Action)
		require.Equal(e.t, org.NodeID("c-b"), refs[0].Target.Node)
		require.Contains(e.t, refs[0].Reason, "outside scope")
		require.False(e.t, refs[0].At.IsZero())
		later, err := e.svc.Refusals(e.ctx, refs[1].Seq, 10)
		require.NoError(e.t, err)
		require.Equal(e.t, refs[2:], later)
	}},
	test{"PolicyTeamLeaderActsForHisTeam", func(e *env) {
		e.teamWorld()
		e.team(org.NewTeam{ID: "other", Tier: org.Specialty, Parent: "corps", Anchor: "c-b"})
		e.volunteer("v1", "c-a-1")
		e.volunteer("v2", "c-a-2")
		_, err := e.svc.AddMember(e.ctx, System, "det", "v1", org.Leader)
		require.NoError(e.t, err)
		leader := org.Actor{ID: "v1", Role: org.RoleTeamLeader, Team: "det"}
		_, err = e.svc.AddMember(e.ctx, leader, "det", "v2", org.Member)
		require.NoError(e.t, err)
		c := 4
		_, err = e.svc.UpdateTeam(e.ctx, leader, "det", org.TeamUpdate{Capacity: &c})
		require.NoError(e.t, err)
		_, err = e.svc.UpdateTeam(e.ctx, leader, "other", org.TeamUpdate{Capacity: &c})
		require.ErrorIs(e.t, err, org.ErrForbidden)
		_, err = e.svc.CreateNode(e.ctx, leader, org.NewNode{ID: "c-a-9", Kind: org.Station, Name: "x", Parent: "c-a"})
		require.ErrorIs(e.t, err, org.ErrForbidden)
		o, err := e.svc.Team(e.ctx, "other")
		require.NoError(e.t, err)
		require.Equal(e.t, int64(1), o.Version)
	}},
	test{"PolicyOwnersAndDesks", func(e *env) {
		e.small()
		self := org.Actor{ID: "v9", Role: org.RoleVolunteer}
		_, err := e.svc.RegisterVolunteer(e.ctx, self, org.NewVolunteer{ID: "v9", Name: "me", Home: "c-a-1"})
		require.NoError(e.t, err, "a volunteer registers himself")
		name := "new"
		_, err = e.svc.UpdateVolunteer(e.ctx, self, "v9", org.VolunteerUpdate{Name: &name})
		require.NoError(e.t, err)
		e.volunteer("v8", "c-a-1")
		_, err = e.svc.UpdateVolunteer(e.ctx, self, "v8", org.VolunteerUpdate{Name: &name})
		require.ErrorIs(e.t, err, org.ErrForbidden, "not his own")
		_, err = e.svc.SetVolunteerStatus(e.ctx, self, "v9", org.VolunteerRetired, "x")
		require.ErrorIs(e.t, err, org.ErrForbidden, "status is set by an admin")
		desk := org.Actor{ID: "desk", Role: org.RoleDesk, Scope: "c"}
		_, err = e.svc.RenameNode(e.ctx, desk, "c-a", "x")
		require.ErrorIs(e.t, err, org.ErrForbidden, "a desk does not edit the network")
		p := e.svc.Policy()
		require.NoError(e.t, p.Authorize(e.ctx, desk, "dispatch.dispatch", org.Target{Node: "c-a-1"}))
		require.ErrorIs(e.t, p.Authorize(e.ctx, org.Actor{ID: "r", Role: org.RoleResident}, "dispatch.order", org.Target{Owner: "s"}), org.ErrForbidden)
		require.ErrorIs(e.t, p.Authorize(e.ctx, org.Actor{ID: "r", Role: "mayor"}, "dispatch.order", org.Target{Node: "c"}), org.ErrForbidden)
		require.ErrorIs(e.t, p.Authorize(e.ctx, org.Actor{Role: org.RoleSystem}, "x", org.Target{}), org.ErrForbidden, "no anonymous actors")
	}},
	test{"CustomPolicyIsAsked", func(e *env) {
		e.small()
		deny := policyFunc(func(ctx context.Context, a org.Actor, act org.Action, t org.Target) error {
			if act == org.ActRenameNode {
				return errors.New("renames are frozen")
			}
			return nil
		})
		svc, err := org.New(e.store, &org.Options{Policy: deny, Now: e.clock.Now})
		require.NoError(e.t, err)
		_, err = svc.RenameNode(e.ctx, org.Actor{ID: "a", Role: org.RoleAdmin}, "c-a", "x")
		require.ErrorIs(e.t, err, org.ErrForbidden, "any policy error is a refusal")
		require.ErrorContains(e.t, err, "frozen")
		_, err = svc.RetireNode(e.ctx, org.Actor{ID: "a", Role: "anyone"}, "c-b-1", "x")
		require.NoError(e.t, err)
	}},
)

type policyFunc func(ctx context.Context, a org.Actor, act org.Action, t org.Target) error

func (f policyFunc) Authorize(ctx context.Context, a org.Actor, act org.Action, t org.Target) error {
	return f(ctx, a, act, t)
}
