package orgtest

import (
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/org"
)

// teamWorld is small() plus corps "corps" at c (skills culture, legal) and
// detachment "det" at c-a (skill legal).
func (e *env) teamWorld() {
	e.small()
	e.team(org.NewTeam{ID: "corps", Tier: org.Corps, Anchor: "c", Skills: []string{"legal", "culture"}, Capacity: 10})
	e.team(org.NewTeam{ID: "det", Tier: org.Detachment, Parent: "corps", Anchor: "c-a", Skills: []string{"legal"}, Capacity: 3})
}

var _ = register(
	test{"TeamTierRules", func(e *env) {
		e.teamWorld()
		e.team(org.NewTeam{ID: "sp1", Tier: org.Specialty, Parent: "corps", Anchor: "c-b"})
		cases := []struct {
			name string
			in   org.NewTeam
			want error
		}{
			{"corps with parent", org.NewTeam{ID: "x1", Name: "x", Tier: org.Corps, Parent: "corps", Anchor: "c"}, org.ErrTier},
			{"detachment without parent", org.NewTeam{ID: "x2", Name: "x", Tier: org.Detachment, Anchor: "c"}, org.ErrTier},
			{"detachment under detachment", org.NewTeam{ID: "x3", Name: "x", Tier: org.Detachment, Parent: "det", Anchor: "c-a"}, org.ErrTier},
			{"specialty under specialty", org.NewTeam{ID: "x4", Name: "x", Tier: org.Specialty, Parent: "sp1", Anchor: "c-b"}, org.ErrTier},
			{"unknown tier", org.NewTeam{ID: "x5", Name: "x", Tier: "squad", Anchor: "c"}, org.ErrInvalid},
			{"negative capacity", org.NewTeam{ID: "x6", Name: "x", Tier: org.Corps, Anchor: "c", Capacity: -1}, org.ErrInvalid},
			{"bad skill", org.NewTeam{ID: "x7", Name: "x", Tier: org.Corps, Anchor: "c", Skills: []string{"a b"}}, org.ErrInvalid},
			{"unknown parent", org.NewTeam{ID: "x8", Name: "x", Tier: org.Detachment, Parent: "nope", Anchor: "c"}, org.ErrNotFound},
			{"unknown anchor", org.NewTeam{ID: "x9", Name: "x", Tier: org.Corps, Anchor: "nope"}, org.ErrNotFound},
			{"duplicate id", org.NewTeam{ID: "det", Name: "x", Tier: org.Corps, Anchor: "c"}, org.ErrDuplicate},
		}
		for _, tc := range cases {
			_, err := e.svc.CreateTeam(e.ctx, System, tc.in)
			require.ErrorIs(e.t, err, tc.want, tc.name)
		}
		r := e.rollup("c")
		require.Equal(e.t, [3]int{1, 1, 1}, [3]int{r.Corps, r.Detachments, r.Specialty})
		d, err := e.svc.Team(e.ctx, "det")
		require.NoError(e.t, err)
		require.Equal(e.t, org.TeamID("corps"), d.Parent)
		require.Equal(e.t, org.NodeID("c-a"), d.Area, "area defaults to anchor")
		require.Equal(e.t, 3, d.Capacity)
		require.Equal(e.t, int64(1), d.Version)
	}},
	test{"TeamAreaRules", func(e *env) {
		e.teamWorld()
		_, err := e.svc.CreateTeam(e.ctx, System, org.NewTeam{ID: "d2", Name: "x", Tier: org.Detachment, Parent: "corps", Anchor: "c-a", Area: "c"})
		require.ErrorIs(e.t, err, org.ErrOutOfArea, "a detachment serves within its anchor")
		_, err = e.svc.CreateTeam(e.ctx, System, org.NewTeam{ID: "s1", Name: "x", Tier: org.Specialty, Parent: "det", Anchor: "c-a-1", Area: "c-b"})
		require.ErrorIs(e.t, err, org.ErrOutOfArea, "area outside the parent's area")
		_, err = e.svc.CreateTeam(e.ctx, System, org.NewTeam{ID: "s2", Name: "x", Tier: org.Specialty, Parent: "det", Anchor: "c-b-1", Area: "c-a"})
		require.ErrorIs(e.t, err, org.ErrOutOfArea, "anchor outside the parent's area")
		s, err := e.svc.CreateTeam(e.ctx, System, org.NewTeam{ID: "s3", Name: "x", Tier: org.Specialty, Parent: "corps", Anchor: "c-a-1", Area: "c", Skills: []string{"care"}})
		require.NoError(e.t, err, "a specialty team may serve across institutes")
		require.Equal(e.t, org.NodeID("c"), s.Area)
		_, err = e.svc.RetireNode(e.ctx, System, "c-b-1", "x")
		require.NoError(e.t, err)
		_, err = e.svc.CreateTeam(e.ctx, System, org.NewTeam{ID: "s4", Name: "x", Tier: org.Specialty, Parent: "corps", Anchor: "c-b-1"})
		require.ErrorIs(e.t, err, org.ErrRetired)
	}},
	test{"TeamsServing", func(e *env) {
		e.teamWorld()
		e.team(org.NewTeam{ID: "a-sp", Tier: org.Specialty, Parent: "det", Anchor: "c-a-1", Skills: []string{"legal"}})
		e.team(org.NewTeam{ID: "b-sp", Tier: org.Specialty, Parent: "corps", Anchor: "c-b", Skills: []string{"legal"}})
		got, err := e.svc.TeamsServing(e.ctx, "c-a-1-p", "legal")
		require.NoError(e.t, err)
		require.Equal(e.t, []org.TeamID{"a-sp", "det", "corps"}, teamIDs(got), "nearest area first")
		require.Equal(e.t, 3, got[1].Capacity)
		require.Equal(e.t, org.Detachment, got[1].Tier)
		got, err = e.svc.TeamsServing(e.ctx, "c-b-1", "culture")
		require.NoError(e.t, err)
		require.Equal(e.t, []org.TeamID{"corps"}, teamIDs(got))
		got, err = e.svc.TeamsServing(e.ctx, "c-b-1", "dance")
		require.NoError(e.t, err)
		require.Empty(e.t, got)
		_, err = e.svc.RetireTeam(e.ctx, System, "a-sp", "x")
		require.NoError(e.t, err)
		got, err = e.svc.TeamsServing(e.ctx, "c-a-1", "legal")
		require.NoError(e.t, err)
		require.Equal(e.t, []org.TeamID{"det", "corps"}, teamIDs(got), "retired teams do not serve")
		_, err = e.svc.TeamsServing(e.ctx, "nope", "legal")
		require.ErrorIs(e.t, err, org.ErrNotFound)
	}},
	test{"TeamUpdateAndVersion", func(e *env) {
		e.teamWorld()
		caps := 7
		t, err := e.svc.UpdateTeam(e.ctx, System, "det", org.TeamUpdate{Skills: []string{"health", "culture", "health"}, Capacity: &caps})
		require.NoError(e.t, err)
		require.Equal(e.t, []string{"culture", "health"}, t.Skills)
		require.Equal(e.t, 7, t.Capacity)
		require.Equal(e.t, int64(2), t.Version)
		got, err := e.svc.TeamsServing(e.ctx, "c-a-2", "legal")
		require.NoError(e.t, err)
		require.Equal(e.t, []org.TeamID{"corps"}, teamIDs(got), "skill index follows updates")
		got, err = e.svc.TeamsServing(e.ctx, "c-a-2", "health")
		require.NoError(e.t, err)
		require.Equal(e.t, []org.TeamID{"det"}, teamIDs(got))
		stale := t
		stale.Version = 1
		stale.Name = "stale"
		_, err = e.store.UpdateTeam(e.ctx, stale, org.Change{Action: org.ActUpdateTeam, Team: "det", Actor: System, At: e.clock.Now()})
		require.ErrorIs(e.t, err, org.ErrConflict)
		neg := -2
		_, err = e.svc.UpdateTeam(e.ctx, System, "det", org.TeamUpdate{Capacity: &neg})
		require.ErrorIs(e.t, err, org.ErrInvalid)
		cur, err := e.svc.Team(e.ctx, "det")
		require.NoError(e.t, err)
		require.Equal(e.t, t, cur, "refused updates change nothing")
		cur.Skills[0] = "mutated"
		again, err := e.svc.Team(e.ctx, "det")
		require.NoError(e.t, err)
		require.Equal(e.t, "culture", again.Skills[0], "returned slices belong to the caller")
	}},
	test{"TeamRetireRules", func(e *env) {
		e.teamWorld()
		before := e.rollup("c")
		_, err := e.svc.RetireTeam(e.ctx, System, "corps", "x")
		require.ErrorIs(e.t, err, org.ErrInUse, "active child team")
		_, err = e.svc.RetireTeam(e.ctx, System, "det", "x")
		require.NoError(e.t, err)
		_, err = e.svc.RetireTeam(e.ctx, System, "det", "x")
		require.ErrorIs(e.t, err, org.ErrInvalid)
		_, err = e.svc.RetireTeam(e.ctx, System, "corps", "x")
		require.NoError(e.t, err)
		after := e.rollup("c")
		require.Equal(e.t, before.Corps-1, after.Corps)
		require.Equal(e.t, before.Detachments-1, after.Detachments)
		_, err = e.svc.ReactivateTeam(e.ctx, System, "det")
		require.ErrorIs(e.t, err, org.ErrRetired, "parent team retired")
		_, err = e.svc.ReactivateTeam(e.ctx, System, "corps")
		require.NoError(e.t, err)
		_, err = e.svc.ReactivateTeam(e.ctx, System, "det")
		require.NoError(e.t, err)
		require.Equal(e.t, before, e.rollup("c"))
		h, err := e.svc.History(e.ctx, org.ChangeQuery{Team: "det"})
		require.NoError(e.t, err)
		require.Equal(e.t, []org.Action{org.ActCreateTeam, org.ActRetireTeam, org.ActReactivateTeam}, actions(h))
	}},
	test{"Memberships", func(e *env) {
		e.teamWorld()
		e.volunteer("v1", "c-a-1")
		e.volunteer("v2", "c-a-2")
		e.volunteer("v3", "c-b-1")
		_, err := e.svc.AddMember(e.ctx, System, "det", "v2", org.Leader)
		require.NoError(e.t, err)
		_, err = e.svc.AddMember(e.ctx, System, "det", "v1", org.Member)
		require.NoError(e.t, err)
		t, err := e.svc.Team(e.ctx, "det")
		require.NoError(e.t, err)
		require.Equal(e.t, org.VolunteerID("v2"), t.Leader)
		lead, err := e.svc.IsLeader(e.ctx, "det", "v2")
		require.NoError(e.t, err)
		require.True(e.t, lead)
		_, err = e.svc.AddMember(e.ctx, System, "det", "v3", org.Member)
		require.ErrorIs(e.t, err, org.ErrOutOfArea, "home outside the team's area")
		_, err = e.svc.AddMember(e.ctx, System, "det", "v1", org.Member)
		require.ErrorIs(e.t, err, org.ErrDuplicate)
		_, err = e.svc.AddMember(e.ctx, System, "corps", "v1", org.Leader)
		require.NoError(e.t, err)
		_, err = e.svc.AddMember(e.ctx, System, "corps", "v3", org.Leader)
		require.ErrorIs(e.t, err, org.ErrDuplicate, "one leader per team")
		_, err = e.svc.AddMember(e.ctx, System, "corps", "v3", "boss")
		require.ErrorIs(e.t, err, org.ErrInvalid)
		_, err = e.svc.AddMember(e.ctx, System, "corps", "nobody", org.Member)
		require.ErrorIs(e.t, err, org.ErrNotFound)
		_, err = e.svc.SetVolunteerStatus(e.ctx, System, "v3", org.VolunteerSuspended, "no-shows")
		require.NoError(e.t, err)
		_, err = e.svc.AddMember(e.ctx, System, "corps", "v3", org.Member)
		require.ErrorIs(e.t, err, org.ErrRetired, "suspended volunteers do not join")
		ms, err := e.svc.Members(e.ctx, "det")
		require.NoError(e.t, err)
		require.Len(e.t, ms, 2)
		require.Equal(e.t, org.VolunteerID("v1"), ms[0].Volunteer)
		require.Equal(e.t, org.Leader, ms[1].Role)
		vm, err := e.svc.Memberships(e.ctx, "v1")
		require.NoError(e.t, err)
		require.Equal(e.t, []org.TeamID{"corps", "det"}, []org.TeamID{vm[0].Team, vm[1].Team})
		require.NoError(e.t, e.svc.RemoveMember(e.ctx, System, "det", "v2"))
		t, err = e.svc.Team(e.ctx, "det")
		require.NoError(e.t, err)
		require.Empty(e.t, t.Leader)
		require.ErrorIs(e.t, e.svc.RemoveMember(e.ctx, System, "det", "v2"), org.ErrNotFound)
		h, err := e.svc.History(e.ctx, org.ChangeQuery{Volunteer: "v2"})
		require.NoError(e.t, err)
		require.Equal(e.t, []org.Action{org.ActRegisterVolunteer, org.ActAddMember, org.ActRemoveMember}, actions(h))
	}},
	test{"TeamsPaged", func(e *env) {
		e.teamWorld()
		for _, id := range []org.TeamID{"s-a", "s-b", "s-c", "s-d"} {
			e.team(org.NewTeam{ID: id, Tier: org.Specialty, Parent: "det", Anchor: "c-a-1"})
		}
		e.team(org.NewTeam{ID: "s-x", Tier: org.Specialty, Parent: "corps", Anchor: "c-b-1"})
		var got []org.TeamID
		q := org.TeamQuery{Node: "c-a", Limit: 2}
		for {
			p, err := e.svc.Teams(e.ctx, q)
			require.NoError(e.t, err)
			got = append(got, teamIDs(p.Teams)...)
			if p.Next == "" {
				break
			}
			q.After = p.Next
		}
		require.Equal(e.t, []org.TeamID{"det", "s-a", "s-b", "s-c", "s-d"}, got)
		p, err := e.svc.Teams(e.ctx, org.TeamQuery{Node: "c", Tiers: []org.Tier{org.Corps, org.Detachment}})
		require.NoError(e.t, err)
		require.Equal(e.t, []org.TeamID{"corps", "det"}, teamIDs(p.Teams))
		_, err = e.svc.Teams(e.ctx, org.TeamQuery{Node: "nope"})
		require.ErrorIs(e.t, err, org.ErrNotFound)
	}},
)

func teamIDs(ts []org.Team) []org.TeamID {
	out := make([]org.TeamID, len(ts))
	for k, t := range ts {
		out[k] = t.ID
	}
	return out
}
