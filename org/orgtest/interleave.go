package orgtest

import (
	"context"
	"sync"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/org"
)

// interleave is a store that runs hook once, right after the first read
// named read has returned and before its caller sees the result: the
// service then checks its rule against a read that the hook's writes have
// made stale, and only the store, inside its write, can still refuse.
type interleave struct {
	org.Store
	read  string
	hook  func()
	mu    sync.Mutex
	fired bool
}

func (s *interleave) after(read string) {
	s.mu.Lock()
	fire := read == s.read && !s.fired && s.hook != nil
	if fire {
		s.fired = true
	}
	s.mu.Unlock()
	if fire {
		s.hook()
	}
}

func (s *interleave) Pairing(ctx context.Context, id string) (org.Pairing, error) {
	p, err := s.Store.Pairing(ctx, id)
	s.after("Pairing")
	return p, err
}

func (s *interleave) Memberships(ctx context.Context, v org.VolunteerID) ([]org.Membership, error) {
	ms, err := s.Store.Memberships(ctx, v)
	s.after("Memberships")
	return ms, err
}

func (s *interleave) Volunteer(ctx context.Context, id org.VolunteerID) (org.Volunteer, error) {
	v, err := s.Store.Volunteer(ctx, id)
	s.after("Volunteer")
	return v, err
}

// interleaved returns a service over e.store that runs hook right after
// its first read named read.
func (e *env) interleaved(read string, hook func()) (*org.Service, *interleave) {
	w := &interleave{Store: e.store, read: read, hook: hook}
	return e.serviceOver(w), w
}

// requireHomesInAreas checks the rule "a volunteer's home lies within the
// area of every team he belongs to" for v.
func (e *env) requireHomesInAreas(v org.VolunteerID) {
	e.t.Helper()
	vol, err := e.svc.Volunteer(e.ctx, v)
	require.NoError(e.t, err)
	ms, err := e.svc.Memberships(e.ctx, v)
	require.NoError(e.t, err)
	for _, m := range ms {
		t, err := e.svc.Team(e.ctx, m.Team)
		require.NoError(e.t, err)
		in, err := e.svc.Within(e.ctx, t.Area, vol.Home)
		require.NoError(e.t, err)
		require.True(e.t, in, "volunteer %s lives at %s, outside the area %s of his team %s", v, vol.Home, t.Area, t.ID)
	}
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

var _ = register(
	test{"EndPairingRefusesStaleEnd", func(e *env) {
		e.small()
		_, err := e.svc.CreatePairing(e.ctx, System, org.NewPairing{ID: "p1", Unit: "u", UnitName: "U", UnitKind: org.CivilisedUnit, Node: "c-a", Start: day("2023-01-01")})
		require.NoError(e.t, err)
		// EndPairing(p1, Jun) reads p1 open-ended; meanwhile p1 is ended
		// in March and p2 starts then, which does not overlap p1 as it
		// stands. The stale call must not move p1's end to June.
		svc, w := e.interleaved("Pairing", func() {
			_, err := e.svc.EndPairing(e.ctx, System, "p1", day("2023-03-01"))
			require.NoError(e.t, err)
			_, err = e.svc.CreatePairing(e.ctx, System, org.NewPairing{ID: "p2", Unit: "u", UnitName: "U", UnitKind: org.CivilisedUnit, Node: "c-a", Start: day("2023-03-01")})
			require.NoError(e.t, err)
		})
		_, err = svc.EndPairing(e.ctx, System, "p1", day("2023-06-01"))
		require.True(e.t, w.fired)
		require.ErrorIs(e.t, err, org.ErrInvalid, "an end only moves earlier, whatever the service read")
		p1, err := e.svc.Pairing(e.ctx, "p1")
		require.NoError(e.t, err)
		require.Equal(e.t, day("2023-03-01"), p1.End)
		ps, err := e.svc.Pairings(e.ctx, org.PairingQuery{Unit: "u"})
		require.NoError(e.t, err)
		require.Len(e.t, ps, 2)
		require.False(e.t, ps[0].Overlaps(ps[1]), "%+v overlaps %+v", ps[0], ps[1])
		h, err := e.svc.History(e.ctx, org.ChangeQuery{Pairing: "p1"})
		require.NoError(e.t, err)
		require.Equal(e.t, []org.Action{org.ActCreatePairing, org.ActEndPairing}, actions(h), "the refused end left no change")
	}},
	test{"StoreEndPairingChecksEnd", func(e *env) {
		e.small()
		_, err := e.svc.CreatePairing(e.ctx, System, org.NewPairing{ID: "p1", Unit: "u", UnitName: "U", UnitKind: org.CivilisedUnit, Node: "c-a", Start: day("2023-01-01"), End: day("2023-06-01")})
		require.NoError(e.t, err)
		ch := org.Change{Action: org.ActEndPairing, Pairing: "p1", Node: "c-a", Actor: System, At: e.clock.Now()}
		for _, tc := range []struct {
			name string
			end  time.Time
			want error
		}{
			{"after the stored end", day("2023-06-02"), org.ErrInvalid},
			{"on the start", day("2023-01-01"), org.ErrInvalid},
			{"before the start", day("2022-12-31"), org.ErrInvalid},
			{"zero", time.Time{}, org.ErrInvalid},
		} {
			_, err := e.store.EndPairing(e.ctx, "p1", tc.end, ch)
			require.ErrorIs(e.t, err, tc.want, tc.name)
		}
		p, err := e.svc.Pairing(e.ctx, "p1")
		require.NoError(e.t, err)
		require.Equal(e.t, day("2023-06-01"), p.End, "refused ends change nothing")
		p, err = e.store.EndPairing(e.ctx, "p1", day("2023-06-01"), ch)
		require.NoError(e.t, err, "the same end again")
		require.Equal(e.t, day("2023-06-01"), p.End)
		p, err = e.store.EndPairing(e.ctx, "p1", day("2023-01-02"), ch)
		require.NoError(e.t, err)
		require.Equal(e.t, day("2023-01-02"), p.End)
		_, err = e.store.EndPairing(e.ctx, "nope", day("2023-01-02"), ch)
		require.ErrorIs(e.t, err, org.ErrNotFound)
	}},
	test{"UpdateVolunteerSeesMembershipAddedAfterItsRead", func(e *env) {
		e.teamWorld()
		e.volunteer("v1", "c-a-1")
		// UpdateVolunteer reads v1's memberships (none), then v1 joins
		// det (area c-a); moving his home to c-b-1 must be refused.
		svc, w := e.interleaved("Memberships", func() {
			_, err := e.svc.AddMember(e.ctx, System, "det", "v1", org.Member)
			require.NoError(e.t, err)
		})
		home := org.NodeID("c-b-1")
		_, err := svc.UpdateVolunteer(e.ctx, System, "v1", org.VolunteerUpdate{Home: &home})
		require.True(e.t, w.fired)
		require.ErrorIs(e.t, err, org.ErrOutOfArea)
		v, err := e.svc.Volunteer(e.ctx, "v1")
		require.NoError(e.t, err)
		require.Equal(e.t, org.NodeID("c-a-1"), v.Home)
		e.requireHomesInAreas("v1")
		require.Equal(e.t, 1, e.rollup("c-a").Volunteers, "the roll-ups did not move")
		require.Equal(e.t, 0, e.rollup("c-b").Volunteers)
	}},
	test{"AddMemberSeesHomeMovedAfterItsRead", func(e *env) {
		e.teamWorld()
		e.volunteer("v1", "c-a-1")
		// AddMember reads v1 at c-a-1, inside det's area; then v1 moves
		// to c-b-1. Adding him to det must be refused.
		svc, w := e.interleaved("Volunteer", func() {
			home := org.NodeID("c-b-1")
			_, err := e.svc.UpdateVolunteer(e.ctx, System, "v1", org.VolunteerUpdate{Home: &home})
			require.NoError(e.t, err)
		})
		_, err := svc.AddMember(e.ctx, System, "det", "v1", org.Leader)
		require.True(e.t, w.fired)
		require.ErrorIs(e.t, err, org.ErrOutOfArea)
		ms, err := e.svc.Members(e.ctx, "det")
		require.NoError(e.t, err)
		require.Empty(e.t, ms)
		det, err := e.svc.Team(e.ctx, "det")
		require.NoError(e.t, err)
		require.Empty(e.t, det.Leader, "a refused leader membership sets no leader")
		e.requireHomesInAreas("v1")
	}},
	test{"ImportSeesHomeMovedAfterItsRead", func(e *env) {
		e.teamWorld()
		e.volunteer("v1", "c-a-1")
		// Import reads v1 at c-a-1 for a new detachment at c-a; then v1
		// moves to c-b-1. The load must be refused as a whole.
		svc, w := e.interleaved("Volunteer", func() {
			home := org.NodeID("c-b-1")
			_, err := e.svc.UpdateVolunteer(e.ctx, System, "v1", org.VolunteerUpdate{Home: &home})
			require.NoError(e.t, err)
		})
		net := org.Network{
			Nodes: []org.NodeSpec{{ID: "c-a-3", Kind: org.Station, Name: "s", Parent: "c-a"}},
			Teams: []org.TeamSpec{{ID: "det2", Name: "d2", Tier: org.Detachment, Parent: "corps", Anchor: "c-a", Capacity: 1, Members: []org.VolunteerID{"v1"}}},
		}
		_, err := svc.Import(e.ctx, System, net)
		require.True(e.t, w.fired)
		require.ErrorIs(e.t, err, org.ErrOutOfArea)
		_, err = e.svc.Team(e.ctx, "det2")
		require.ErrorIs(e.t, err, org.ErrNotFound, "nothing of the refused import is stored")
		_, err = e.svc.Node(e.ctx, "c-a-3")
		require.ErrorIs(e.t, err, org.ErrNotFound)
		ms, err := e.svc.Memberships(e.ctx, "v1")
		require.NoError(e.t, err)
		require.Empty(e.t, ms)
	}},
	test{"StoreKeepsHomesInTeamAreas", func(e *env) {
		e.teamWorld()
		e.volunteer("v1", "c-a-1")
		e.volunteer("v2", "c-b-1")
		ch := func(a org.Action) org.Change { return org.Change{Action: a, Actor: System, At: e.clock.Now()} }
		// AddMembership checks the stored home against the team's area.
		err := e.store.AddMembership(e.ctx, org.Membership{Team: "det", Volunteer: "v2", Role: org.Member, Since: e.clock.Now()}, ch(org.ActAddMember))
		require.ErrorIs(e.t, err, org.ErrOutOfArea)
		require.NoError(e.t, e.store.AddMembership(e.ctx, org.Membership{Team: "det", Volunteer: "v1", Role: org.Member, Since: e.clock.Now()}, ch(org.ActAddMember)))
		require.NoError(e.t, e.store.AddMembership(e.ctx, org.Membership{Team: "corps", Volunteer: "v1", Role: org.Member, Since: e.clock.Now()}, ch(org.ActAddMember)))
		// UpdateVolunteer checks a changed home against every team.
		v1, err := e.store.Volunteer(e.ctx, "v1")
		require.NoError(e.t, err)
		moved := v1
		moved.Home = "c-b-1"
		_, err = e.store.UpdateVolunteer(e.ctx, moved, ch(org.ActUpdateVolunteer))
		require.ErrorIs(e.t, err, org.ErrOutOfArea, "c-b-1 is in corps's area but outside det's")
		got, err := e.store.Volunteer(e.ctx, "v1")
		require.NoError(e.t, err)
		require.Equal(e.t, v1, got, "a refused update changes nothing")
		moved.Home = "c-a-2"
		got, err = e.store.UpdateVolunteer(e.ctx, moved, ch(org.ActUpdateVolunteer))
		require.NoError(e.t, err, "c-a-2 lies in both areas")
		require.Equal(e.t, org.NodeID("c-a-2"), got.Home)
		// A status change keeps the home and is not checked against areas.
		got.Status = org.VolunteerSuspended
		_, err = e.store.UpdateVolunteer(e.ctx, got, ch(org.ActSetVolunteer))
		require.NoError(e.t, err)
		// Load checks stored and staged homes against stored and staged
		// areas.
		load := func(b *org.Bulk) error { return e.store.Load(e.ctx, b, ch(org.ActImport)) }
		require.ErrorIs(e.t, load(&org.Bulk{Memberships: []org.Membership{{Team: "det", Volunteer: "v2", Role: org.Member, Since: e.clock.Now()}}}), org.ErrOutOfArea, "stored team, stored volunteer")
		require.ErrorIs(e.t, load(&org.Bulk{
			Volunteers:  []org.Volunteer{{ID: "v3", Name: "x", Home: "c-b", Status: org.VolunteerActive, Version: 1}},
			Memberships: []org.Membership{{Team: "det", Volunteer: "v3", Role: org.Member, Since: e.clock.Now()}},
		}), org.ErrOutOfArea, "stored team, staged volunteer")
		now := e.clock.Now()
		det2 := org.Team{ID: "det2", Name: "x", Tier: org.Detachment, Parent: "corps", Anchor: "c-c", Area: "c-c", Status: org.Active, Version: 1, Created: now, Updated: now}
		require.ErrorIs(e.t, load(&org.Bulk{
			Nodes:       []org.Node{{ID: "c-c", Kind: org.Institute, Name: "x", Parent: "c", Path: "/c/c-c/", Status: org.Active}},
			Teams:       []org.Team{det2},
			Memberships: []org.Membership{{Team: "det2", Volunteer: "v2", Role: org.Member, Since: now}},
		}), org.ErrOutOfArea, "staged team, stored volunteer")
		_, err = e.svc.Node(e.ctx, "c-c")
		require.ErrorIs(e.t, err, org.ErrNotFound, "a refused load changes nothing")
		require.NoError(e.t, load(&org.Bulk{
			Nodes:       []org.Node{{ID: "c-c", Kind: org.Institute, Name: "x", Parent: "c", Path: "/c/c-c/", Status: org.Active}, {ID: "c-c-1", Kind: org.Station, Name: "x", Parent: "c-c", Path: "/c/c-c/c-c-1/", Status: org.Active}},
			Volunteers:  []org.Volunteer{{ID: "v4", Name: "x", Home: "c-c-1", Status: org.VolunteerActive, Version: 1}},
			Teams:       []org.Team{det2},
			Memberships: []org.Membership{{Team: "det2", Volunteer: "v4", Role: org.Leader, Since: now}, {Team: "corps", Volunteer: "v2", Role: org.Member, Since: now}},
		}), "staged and stored homes inside staged and stored areas")
		for _, v := range []org.VolunteerID{"v1", "v2", "v4"} {
			e.requireHomesInAreas(v)
		}
	}},
)
