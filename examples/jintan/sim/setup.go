package sim

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
)

// lastActivity returns the latest time recorded on any order of the store,
// or zero for a store without orders.
func lastActivity(ctx context.Context, st dispatch.Store) (time.Time, int, error) {
	var last time.Time
	var after dispatch.OrderID
	n := 0
	for {
		page, err := st.Orders(ctx, after, 1000)
		if err != nil {
			return last, n, err
		}
		if len(page) == 0 {
			return last, n, nil
		}
		for _, o := range page {
			n++
			if o.UpdatedAt.After(last) {
				last = o.UpdatedAt
			}
		}
		after = page[len(page)-1].ID
	}
}

// build creates the district on an empty store: Jintan's network with the
// generated volunteers and their teams, the menu and the catalogue.
func (w *world) build(ctx context.Context) error {
	w.at(w.start.Add(-16 * time.Hour)) // set up the evening before
	net := org.JintanNetwork()
	w.extendStations(&net)
	w.addVolunteers(&net)
	if _, err := w.org.Import(ctx, system, net); err != nil {
		return fmt.Errorf("sim: import the network: %w", err)
	}
	for _, m := range menuItems {
		if _, err := w.dsp.AddMenuItem(ctx, admin(m.offeror), m.item()); err != nil {
			return fmt.Errorf("sim: menu item %s: %w", m.code, err)
		}
	}
	for _, it := range gifts() {
		it.ValidFrom = w.start
		if _, err := w.pts.PutItem(ctx, admin(it.Owner), it); err != nil {
			return fmt.Errorf("sim: catalogue item %s: %w", it.ID, err)
		}
	}
	return nil
}

// extendStations adds generated stations round-robin under the institutes
// when the configuration asks for more than the network has, and a general
// service team for every twelve of them.
func (w *world) extendStations(net *org.Network) {
	var insts []org.NodeID
	have := 0
	for _, n := range net.Nodes {
		switch n.Kind {
		case org.Institute:
			insts = append(insts, n.ID)
		case org.Station:
			have++
		}
	}
	var corps org.TeamID
	skills := map[string]bool{}
	for _, t := range net.Teams {
		if t.Tier == org.Corps {
			corps = t.ID
		}
		for _, s := range t.Skills {
			skills[s] = true
		}
	}
	all := slices.Sorted(maps.Keys(skills))
	for i := 0; have+i < w.cfg.Stations; i++ {
		inst := insts[i%len(insts)]
		net.Nodes = append(net.Nodes, org.NodeSpec{
			ID: org.NodeID(fmt.Sprintf("%s-g%05d", inst, i/len(insts)+1)), Kind: org.Station,
			Name: fmt.Sprintf("第%d新时代文明实践站", i/len(insts)+1), Parent: inst,
		})
		// Teams grow with the network: one more general service team per
		// twelve added stations, serving its institute.
		if i%12 == 11 {
			net.Teams = append(net.Teams, org.TeamSpec{
				ID: org.TeamID(fmt.Sprintf("jt-g%04d", i/12+1)), Name: fmt.Sprintf("第%d综合志愿服务队", i/12+1),
				Tier: org.Specialty, Parent: corps, Anchor: inst, Area: inst, Skills: all, Capacity: 10,
			})
		}
	}
}

// addVolunteers registers cfg.Volunteers generated volunteers at the
// stations and puts each in a team whose area holds his home; a team
// without a leader gets its first member as leader.
func (w *world) addVolunteers(net *org.Network) {
	parent := map[org.NodeID]org.NodeID{}
	var stations []org.NodeID
	for _, n := range net.Nodes {
		parent[n.ID] = n.Parent
		if n.Kind == org.Station {
			stations = append(stations, n.ID)
		}
	}
	slices.Sort(stations)
	stations = spread(stations, w.cfg.Stations)
	weight := func(t org.TeamSpec) float64 {
		switch t.Tier {
		case org.Corps:
			return 5
		case org.Detachment:
			return 2
		}
		return 0.8
	}
	serves := func(t org.TeamSpec, home org.NodeID) bool {
		area := t.Area
		if area == "" {
			area = t.Anchor
		}
		for n := home; n != ""; n = parent[n] {
			if n == area {
				return true
			}
		}
		return false
	}
	for i := range w.cfg.Volunteers {
		id := org.VolunteerID(fmt.Sprintf("V320482%07d", 1000+i))
		home := stations[w.rng.IntN(len(stations))]
		name := string(surnames[w.rng.IntN(len(surnames))]) + string(given[w.rng.IntN(len(given))])
		if w.rng.IntN(2) == 0 {
			name += string(given[w.rng.IntN(len(given))])
		}
		net.Volunteers = append(net.Volunteers, org.VolunteerSpec{
			ID: id, Name: name, Home: home, Contact: fmt.Sprintf("139%08d", w.rng.IntN(100000000)),
		})
		var total float64
		for _, t := range net.Teams {
			if serves(t, home) {
				total += weight(t)
			}
		}
		x := w.rng.Float64() * total
		for k := range net.Teams {
			t := &net.Teams[k]
			if !serves(*t, home) {
				continue
			}
			if x -= weight(*t); x < 0 {
				if t.Leader == "" {
					t.Leader = id
				} else {
					t.Members = append(t.Members, id)
				}
				break
			}
		}
	}
	// A team no generated member joined gets the first volunteer living in
	// its area as leader, so that every team can answer its orders.
	for k := range net.Teams {
		t := &net.Teams[k]
		for i := 0; t.Leader == "" && i < len(net.Volunteers); i++ {
			if v := net.Volunteers[i]; serves(*t, v.Home) && !slices.Contains(t.Members, v.ID) {
				t.Leader = v.ID
			}
		}
	}
}

// spread returns n elements of list spread evenly over it (all of them
// when n is at least its length), keeping their order.
func spread[T any](list []T, n int) []T {
	if n >= len(list) {
		return list
	}
	out := make([]T, 0, n)
	for i := range n {
		out = append(out, list[i*len(list)/n])
	}
	return out
}

// load reads the district back from the store: what the simulation needs
// to decide, whether it built the district a moment ago or a month ago.
func (w *world) load(ctx context.Context) error {
	insts, err := w.subtree(ctx, org.Institute)
	if err != nil {
		return err
	}
	w.institutes = insts
	all, err := w.subtree(ctx, org.Station)
	if err != nil {
		return err
	}
	w.instOf = map[org.NodeID]org.NodeID{}
	w.names = map[org.NodeID]string{centre: "金坛区新时代文明实践中心"}
	for _, n := range all {
		w.instOf[n.ID] = n.Parent
		w.names[n.ID] = n.Name
	}
	for _, n := range insts {
		w.instOf[n.ID] = n.ID
		w.names[n.ID] = n.Name
	}
	slices.SortFunc(all, func(a, b org.Node) int { return strings.Compare(string(a.ID), string(b.ID)) })
	w.stations, w.weights = nil, nil
	var cum float64
	for _, n := range spread(all, w.cfg.Stations) {
		u := chance(w.seed, "station", n.ID)
		cum += 0.3 + 3*u*u
		w.stations = append(w.stations, n.ID)
		w.weights = append(w.weights, cum)
	}
	if err := w.loadTeams(ctx); err != nil {
		return err
	}
	w.volunteers = nil
	w.homes = map[org.VolunteerID]org.NodeID{}
	for p := (org.Page{Limit: org.MaxLimit}); ; {
		page, err := w.org.Volunteers(ctx, centre, p)
		if err != nil {
			return err
		}
		for _, v := range page.Volunteers {
			w.volunteers = append(w.volunteers, v.ID)
			if v.Status == org.VolunteerActive {
				w.homes[v.ID] = v.Home
			}
		}
		if page.Next == "" {
			break
		}
		p.After = page.Next
	}
	if w.menu, err = w.dsp.Menu(ctx, "", 1000); err != nil {
		return err
	}
	if w.items, err = w.pts.Catalogue(ctx, ""); err != nil {
		return err
	}
	pairs, err := w.org.Pairings(ctx, org.PairingQuery{})
	w.pairings = len(pairs)
	return err
}

func (w *world) loadTeams(ctx context.Context) error {
	w.teams = nil
	w.members = map[org.TeamID][]org.VolunteerID{}
	w.leaders = map[org.TeamID]org.VolunteerID{}
	for q := (org.TeamQuery{Node: centre, Limit: org.MaxLimit}); ; {
		page, err := w.org.Teams(ctx, q)
		if err != nil {
			return err
		}
		w.teams = append(w.teams, page.Teams...)
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	for _, t := range w.teams {
		ms, err := w.org.Members(ctx, t.ID)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if m.Role != org.Leader {
				w.members[t.ID] = append(w.members[t.ID], m.Volunteer)
			}
		}
		if t.Leader == "" {
			return fmt.Errorf("sim: team %s has no leader to accept orders: %w", t.ID, ErrConfig)
		}
		w.leaders[t.ID] = t.Leader
	}
	return nil
}

func (w *world) subtree(ctx context.Context, k org.Kind) ([]org.Node, error) {
	var out []org.Node
	for q := (org.SubtreeQuery{Kinds: []org.Kind{k}, Limit: org.MaxLimit}); ; {
		page, err := w.org.Subtree(ctx, centre, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Nodes...)
		if page.Next == "" {
			return out, nil
		}
		q.After = page.Next
	}
}

// resumeOpen collects the orders of an earlier period that still need a
// decision.
func (w *world) resumeOpen(ctx context.Context) error {
	var after dispatch.OrderID
	for {
		page, err := w.st.dispatch.Orders(ctx, after, 1000)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for _, o := range page {
			if needsDecision(o.State) {
				w.open = append(w.open, o.ID)
				w.orders[o.ID] = o
			}
		}
		after = page[len(page)-1].ID
	}
}

// needsDecision reports whether the simulation still acts on an order in
// state s: evaluated and showcased orders were decided on when they got
// there.
func needsDecision(s dispatch.State) bool {
	return !s.Terminal() && s != dispatch.Evaluated && s != dispatch.Showcased
}
