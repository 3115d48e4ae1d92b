package orgtest

import (
	"strings"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/org"
)

var _ = register(
	test{"RegisterVolunteer", func(e *env) {
		e.small()
		v, err := e.svc.RegisterVolunteer(e.ctx, System, org.NewVolunteer{ID: "320482001", Name: "陆旭东", Contact: "13800000001", Home: "c-a-1"})
		require.NoError(e.t, err)
		got, err := e.svc.Volunteer(e.ctx, "320482001")
		require.NoError(e.t, err)
		require.Equal(e.t, v, got)
		require.Equal(e.t, org.VolunteerActive, got.Status)
		require.Equal(e.t, org.NodeID("c-a-1"), got.Home)
		cases := []struct {
			name string
			in   org.NewVolunteer
			want error
		}{
			{"duplicate number", org.NewVolunteer{ID: "320482001", Name: "x", Home: "c-a-1"}, org.ErrDuplicate},
			{"unknown home", org.NewVolunteer{ID: "v2", Name: "x", Home: "nope"}, org.ErrNotFound},
			{"no name", org.NewVolunteer{ID: "v3", Home: "c-a-1"}, org.ErrInvalid},
			{"bad number", org.NewVolunteer{ID: "v 4", Name: "x", Home: "c-a-1"}, org.ErrInvalid},
			{"no home", org.NewVolunteer{ID: "v5", Name: "x"}, org.ErrInvalid},
		}
		for _, tc := range cases {
			_, err := e.svc.RegisterVolunteer(e.ctx, System, tc.in)
			require.ErrorIs(e.t, err, tc.want, tc.name)
		}
		_, err = e.svc.Volunteer(e.ctx, "v2")
		require.ErrorIs(e.t, err, org.ErrNotFound)
		require.Equal(e.t, 1, e.rollup("c").Volunteers)
	}},
	test{"IdentityDocumentKeptAsKeyedHash", func(e *env) {
		e.small()
		doc := "32048219800101123X"
		v, err := e.svc.RegisterVolunteer(e.ctx, System, org.NewVolunteer{ID: "v1", Name: "a", Home: "c-a", Document: doc})
		require.NoError(e.t, err)
		require.Equal(e.t, org.DocumentHash(Key, doc), v.DocumentHash)
		require.NotContains(e.t, v.DocumentHash, "320482")
		require.Len(e.t, v.DocumentHash, 64)
		stored, err := e.svc.Volunteer(e.ctx, "v1")
		require.NoError(e.t, err)
		require.Equal(e.t, v.DocumentHash, stored.DocumentHash)
		h, err := e.svc.History(e.ctx, org.ChangeQuery{Volunteer: "v1"})
		require.NoError(e.t, err)
		for _, c := range h {
			require.NotContains(e.t, c.Detail, doc)
		}
		_, err = e.svc.RegisterVolunteer(e.ctx, System, org.NewVolunteer{ID: "v2", Name: "b", Home: "c-b", Document: " 320482 19800101123x "})
		require.ErrorIs(e.t, err, org.ErrDuplicate, "same document, other spelling")
		found, err := e.svc.VolunteerByDocument(e.ctx, strings.ToLower(doc))
		require.NoError(e.t, err)
		require.Equal(e.t, org.VolunteerID("v1"), found.ID)
		_, err = e.svc.VolunteerByDocument(e.ctx, "110101199001010011")
		require.ErrorIs(e.t, err, org.ErrNotFound)
		_, err = e.svc.RegisterVolunteer(e.ctx, System, org.NewVolunteer{ID: "v3", Name: "c", Home: "c-b", Document: "12"})
		require.ErrorIs(e.t, err, org.ErrInvalid)
		other, err := org.New(e.store, nil)
		require.NoError(e.t, err)
		_, err = other.RegisterVolunteer(e.ctx, System, org.NewVolunteer{ID: "v4", Name: "d", Home: "c-b", Document: "110101199001010011"})
		require.ErrorIs(e.t, err, org.ErrInvalid, "no key, no documents")
		_, err = other.Volunteer(e.ctx, "v4")
		require.ErrorIs(e.t, err, org.ErrNotFound)
	}},
	test{"VolunteerStatusAndRollup", func(e *env) {
		e.small()
		e.volunteer("v1", "c-a-1")
		e.volunteer("v2", "c-a-2")
		require.Equal(e.t, 2, e.rollup("c-a").Volunteers)
		v, err := e.svc.SetVolunteerStatus(e.ctx, System, "v1", org.VolunteerSuspended, "no-shows")
		require.NoError(e.t, err)
		require.Equal(e.t, org.VolunteerSuspended, v.Status)
		require.Equal(e.t, int64(2), v.Version)
		require.Equal(e.t, 1, e.rollup("c-a").Volunteers)
		require.Equal(e.t, 0, e.rollup("c-a-1").Volunteers)
		_, err = e.svc.SetVolunteerStatus(e.ctx, System, "v1", org.VolunteerSuspended, "again")
		require.ErrorIs(e.t, err, org.ErrInvalid)
		_, err = e.svc.SetVolunteerStatus(e.ctx, System, "v1", "banned", "x")
		require.ErrorIs(e.t, err, org.ErrInvalid)
		_, err = e.svc.SetVolunteerStatus(e.ctx, System, "v1", org.VolunteerActive, "served")
		require.NoError(e.t, err)
		_, err = e.svc.SetVolunteerStatus(e.ctx, System, "v2", org.VolunteerRetired, "moved away")
		require.NoError(e.t, err)
		require.Equal(e.t, 1, e.rollup("c").Volunteers)
		stale, err := e.svc.Volunteer(e.ctx, "v1")
		require.NoError(e.t, err)
		stale.Version--
		_, err = e.store.UpdateVolunteer(e.ctx, stale, org.Change{Action: org.ActUpdateVolunteer, Volunteer: "v1", Actor: System, At: e.clock.Now()})
		require.ErrorIs(e.t, err, org.ErrConflict)
	}},
	test{"VolunteerHomeMoveRespectsTeamAreas", func(e *env) {
		e.teamWorld()
		e.volunteer("v1", "c-a-1")
		_, err := e.svc.AddMember(e.ctx, System, "det", "v1", org.Member)
		require.NoError(e.t, err)
		home := org.NodeID("c-b-1")
		_, err = e.svc.UpdateVolunteer(e.ctx, System, "v1", org.VolunteerUpdate{Home: &home})
		require.ErrorIs(e.t, err, org.ErrOutOfArea)
		home = "c-a-2"
		name := "新名字"
		v, err := e.svc.UpdateVolunteer(e.ctx, System, "v1", org.VolunteerUpdate{Home: &home, Name: &name})
		require.NoError(e.t, err)
		require.Equal(e.t, home, v.Home)
		require.Equal(e.t, name, v.Name)
		require.Equal(e.t, 0, e.rollup("c-a-1").Volunteers)
		require.Equal(e.t, 1, e.rollup("c-a-2").Volunteers)
		home = "nope"
		_, err = e.svc.UpdateVolunteer(e.ctx, System, "v1", org.VolunteerUpdate{Home: &home})
		require.ErrorIs(e.t, err, org.ErrNotFound)
		page, err := e.svc.Volunteers(e.ctx, "c-a-2", org.Page{})
		require.NoError(e.t, err)
		require.Equal(e.t, []org.VolunteerID{"v1"}, volIDs(page.Volunteers))
	}},
	test{"VolunteersPaged", func(e *env) {
		e.small()
		var want []org.VolunteerID
		for k := range 7 {
			id := org.VolunteerID("v" + string(rune('a'+k)))
			home := org.NodeID("c-a-1")
			if k%2 == 1 {
				home = "c-a-1-p"
			}
			e.volunteer(id, home)
			want = append(want, id)
		}
		e.volunteer("vz", "c-b-1")
		var got []org.VolunteerID
		p := org.Page{Limit: 3}
		for {
			page, err := e.svc.Volunteers(e.ctx, "c-a", p)
			require.NoError(e.t, err)
			require.LessOrEqual(e.t, len(page.Volunteers), 3)
			got = append(got, volIDs(page.Volunteers)...)
			if page.Next == "" {
				break
			}
			p.After = page.Next
		}
		require.Equal(e.t, want, got)
		_, err := e.svc.Volunteers(e.ctx, "nope", org.Page{})
		require.ErrorIs(e.t, err, org.ErrNotFound)
	}},
	test{"Pairings", func(e *env) {
		e.small()
		d := func(s string) time.Time {
			t, err := time.Parse(time.DateOnly, s)
			require.NoError(e.t, err)
			return t
		}
		p1, err := e.svc.CreatePairing(e.ctx, System, org.NewPairing{Unit: "tax", UnitName: "金坛区税务局", UnitKind: org.CivilisedUnit, Node: "c-a", Start: d("2022-01-01"), End: d("2023-01-01")})
		require.NoError(e.t, err)
		require.NotEmpty(e.t, p1.ID)
		_, err = e.svc.CreatePairing(e.ctx, System, org.NewPairing{Unit: "tax", UnitName: "金坛区税务局", UnitKind: org.CivilisedUnit, Node: "c-a", Start: d("2022-06-01")})
		require.ErrorIs(e.t, err, org.ErrDuplicate, "overlapping period")
		p2, err := e.svc.CreatePairing(e.ctx, System, org.NewPairing{ID: "p2", Unit: "tax", UnitName: "金坛区税务局", UnitKind: org.CivilisedUnit, Node: "c-a", Start: d("2023-01-01")})
		require.NoError(e.t, err, "back-to-back periods do not overlap")
		_, err = e.svc.CreatePairing(e.ctx, System, org.NewPairing{ID: "p3", Unit: "school", UnitName: "华罗庚中学", UnitKind: org.CivilisedCampus, Node: "c-b-1", Start: d("2022-03-01")})
		require.NoError(e.t, err)
		cases := []struct {
			name string
			in   org.NewPairing
			want error
		}{
			{"centre", org.NewPairing{Unit: "u", UnitName: "u", UnitKind: org.OtherUnit, Node: "c", Start: d("2022-01-01")}, org.ErrTier},
			{"point", org.NewPairing{Unit: "u", UnitName: "u", UnitKind: org.OtherUnit, Node: "c-a-1-p", Start: d("2022-01-01")}, org.ErrTier},
			{"unknown kind", org.NewPairing{Unit: "u", UnitName: "u", UnitKind: "club", Node: "c-a", Start: d("2022-01-01")}, org.ErrInvalid},
			{"no start", org.NewPairing{Unit: "u", UnitName: "u", UnitKind: org.OtherUnit, Node: "c-a"}, org.ErrInvalid},
			{"end before start", org.NewPairing{Unit: "u", UnitName: "u", UnitKind: org.OtherUnit, Node: "c-a", Start: d("2022-01-02"), End: d("2022-01-01")}, org.ErrInvalid},
			{"unknown node", org.NewPairing{Unit: "u", UnitName: "u", UnitKind: org.OtherUnit, Node: "nope", Start: d("2022-01-01")}, org.ErrNotFound},
			{"duplicate id", org.NewPairing{ID: "p2", Unit: "u", UnitName: "u", UnitKind: org.OtherUnit, Node: "c-b", Start: d("2022-01-01")}, org.ErrDuplicate},
		}
		for _, tc := range cases {
			_, err := e.svc.CreatePairing(e.ctx, System, tc.in)
			require.ErrorIs(e.t, err, tc.want, tc.name)
		}
		byUnit, err := e.svc.Pairings(e.ctx, org.PairingQuery{Unit: "tax"})
		require.NoError(e.t, err)
		require.Equal(e.t, []string{p1.ID, p2.ID}, pairIDs(byUnit))
		byNode, err := e.svc.Pairings(e.ctx, org.PairingQuery{Node: "c-b"})
		require.NoError(e.t, err)
		require.Equal(e.t, []string{"p3"}, pairIDs(byNode))
		all, err := e.svc.Pairings(e.ctx, org.PairingQuery{Node: "c"})
		require.NoError(e.t, err)
		require.Equal(e.t, []string{p1.ID, "p3", "p2"}, pairIDs(all), "by start date")
		require.Equal(e.t, 3, e.rollup("c").Pairings)
		require.True(e.t, p1.ActiveAt(d("2022-12-31")))
		require.False(e.t, p1.ActiveAt(d("2023-01-01")))
		_, err = e.svc.EndPairing(e.ctx, System, "p2", d("2022-12-01"))
		require.ErrorIs(e.t, err, org.ErrInvalid, "end before start")
		ended, err := e.svc.EndPairing(e.ctx, System, "p2", d("2024-01-01"))
		require.NoError(e.t, err)
		require.Equal(e.t, d("2024-01-01"), ended.End)
		_, err = e.svc.EndPairing(e.ctx, System, "p2", d("2025-01-01"))
		require.ErrorIs(e.t, err, org.ErrInvalid, "an end only moves earlier")
		_, err = e.svc.EndPairing(e.ctx, System, "nope", d("2025-01-01"))
		require.ErrorIs(e.t, err, org.ErrNotFound)
		h, err := e.svc.History(e.ctx, org.ChangeQuery{Pairing: "p2"})
		require.NoError(e.t, err)
		require.Equal(e.t, []org.Action{org.ActCreatePairing, org.ActEndPairing}, actions(h))
	}},
)

func pairIDs(ps []org.Pairing) []string {
	out := make([]string, len(ps))
	for k, p := range ps {
		out[k] = p.ID
	}
	return out
}
