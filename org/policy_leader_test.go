package org_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/adapters/memory"
	"github.com/civicloop/civicloop/org"
)

// With Leaders set, the default policy lets a team leader act for his team
// only if the store says he leads it: claiming a team in the Actor is not
// enough.
func TestServicePolicyVerifiesTeamLeader(t *testing.T) {
	ctx := context.Background()
	pol := &org.DefaultPolicy{}
	svc, err := org.New(memory.NewOrgStore(), &org.Options{Policy: pol})
	require.NoError(t, err)
	pol.Tree, pol.Leaders = svc, svc
	sys := org.Actor{ID: "sys", Role: org.RoleSystem}
	for _, n := range []org.NewNode{
		{ID: "c", Kind: org.Centre, Name: "c"},
		{ID: "c-a", Kind: org.Institute, Name: "a", Parent: "c"},
		{ID: "c-a-1", Kind: org.Station, Name: "a1", Parent: "c-a"},
	} {
		_, err := svc.CreateNode(ctx, sys, n)
		require.NoError(t, err)
	}
	_, err = svc.CreateTeam(ctx, sys, org.NewTeam{ID: "corps", Name: "corps", Tier: org.Corps, Anchor: "c"})
	require.NoError(t, err)
	_, err = svc.CreateTeam(ctx, sys, org.NewTeam{ID: "det", Name: "det", Tier: org.Detachment, Parent: "corps", Anchor: "c-a"})
	require.NoError(t, err)
	for _, v := range []org.VolunteerID{"v1", "v2", "v3"} {
		_, err := svc.RegisterVolunteer(ctx, sys, org.NewVolunteer{ID: v, Name: string(v), Home: "c-a-1"})
		require.NoError(t, err)
	}
	_, err = svc.AddMember(ctx, sys, "det", "v1", org.Leader)
	require.NoError(t, err)
	_, err = svc.AddMember(ctx, sys, "det", "v2", org.Member)
	require.NoError(t, err)

	c := 4
	member := org.Actor{ID: "v2", Role: org.RoleTeamLeader, Team: "det"}
	_, err = svc.UpdateTeam(ctx, member, "det", org.TeamUpdate{Capacity: &c})
	require.ErrorIs(t, err, org.ErrForbidden, "a member claiming to lead")
	_, err = svc.AddMember(ctx, member, "det", "v3", org.Member)
	require.ErrorIs(t, err, org.ErrForbidden)

	leader := org.Actor{ID: "v1", Role: org.RoleTeamLeader, Team: "det"}
	_, err = svc.UpdateTeam(ctx, leader, "det", org.TeamUpdate{Capacity: &c})
	require.NoError(t, err)
	_, err = svc.AddMember(ctx, leader, "det", "v3", org.Member)
	require.NoError(t, err)
}
