package org

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// ImportResult counts what an Import created.
type ImportResult struct {
	Nodes, Teams, Volunteers, Memberships, Pairings int
}

// Import applies a Network in one store call (BulkStore.Load), after
// validating every row against the rules of the single commands (fields,
// tiers, references, areas, duplicates within the Network and against the
// store). If any row is bad nothing is applied and the error is an
// *ImportError listing every bad row with its section, index and line.
// Policy: ActImport on every existing node the Network hangs below or
// refers to, and on Target{Node: ""} when it creates a centre.
func (s *Service) Import(ctx context.Context, a Actor, net Network) (ImportResult, error) {
	if err := ctx.Err(); err != nil {
		return ImportResult{}, err
	}
	b := &Bulk{}
	im := importer{s: s, ctx: ctx, b: b, batch: make(map[NodeID]int32, len(net.Nodes)), stored: map[NodeID]nodeRef{}, attach: map[NodeID]bool{}}
	im.importNodes(net.Nodes, b)
	im.importVolunteers(net.Volunteers, b)
	im.importTeams(net.Teams, b)
	im.importPairings(net.Pairings, b)
	if im.err != nil {
		return ImportResult{}, im.err
	}
	if len(im.bad) > 0 {
		return ImportResult{}, &ImportError{Rows: im.bad}
	}
	for _, n := range slices.Sorted(maps.Keys(im.attach)) {
		if err := s.authorize(ctx, a, ActImport, Target{Node: n}); err != nil {
			return ImportResult{}, err
		}
	}
	c := s.change(a, ActImport, im.now)
	c.Detail = fmt.Sprintf("imported %d nodes, %d teams, %d volunteers, %d pairings", len(b.Nodes), len(b.Teams), len(b.Volunteers), len(b.Pairings))
	if err := s.store.Load(ctx, b, c); err != nil {
		return ImportResult{}, fmt.Errorf("org: import: %w", err)
	}
	return ImportResult{Nodes: len(b.Nodes), Teams: len(b.Teams), Volunteers: len(b.Volunteers),
		Memberships: len(b.Memberships), Pairings: len(b.Pairings)}, nil
}

type nodeRef struct {
	kind   Kind
	path   string
	active bool
	stored bool
}

type importer struct {
	s      *Service
	ctx    context.Context
	now    time.Time
	b      *Bulk
	batch  map[NodeID]int32 // index in b.Nodes
	stored map[NodeID]nodeRef
	teams  map[TeamID]Team
	vols   map[VolunteerID]Volunteer
	attach map[NodeID]bool
	bad    []RowError
	err    error // infrastructure failure or cancellation: stops the import
}

func (im *importer) fail(section string, i, line int, id string, err error) {
	im.bad = append(im.bad, RowError{Section: section, Index: i, Line: line, ID: id, Err: err})
}

// lookupErr sorts a store error: ErrNotFound is a row error, anything else
// stops the import.
func (im *importer) lookupErr(err error) bool {
	if errors.Is(err, ErrNotFound) {
		return false
	}
	if im.err == nil {
		im.err = fmt.Errorf("org: import: %w", err)
	}
	return true
}

// node resolves a node reference in the Network or the store.
func (im *importer) node(id NodeID) (nodeRef, error) {
	if k, ok := im.batch[id]; ok {
		n := &im.b.Nodes[k]
		return nodeRef{kind: n.Kind, path: n.Path, active: true}, nil
	}
	if r, ok := im.stored[id]; ok {
		return r, nil
	}
	n, err := im.s.store.Node(im.ctx, id)
	if err != nil {
		if im.lookupErr(err) {
			return nodeRef{}, err
		}
		return nodeRef{}, fmt.Errorf("node %q: %w", id, ErrNotFound)
	}
	r := nodeRef{kind: n.Kind, path: n.Path, active: n.Status == Active, stored: true}
	im.stored[id] = r
	return r, nil
}

// nodeExists reports whether id is in the Network or the store, without
// building errors for the common case of a new ID.
func (im *importer) nodeExists(id NodeID) bool {
	if _, ok := im.batch[id]; ok {
		return true
	}
	if _, ok := im.stored[id]; ok {
		return true
	}
	_, err := im.s.store.Node(im.ctx, id)
	if err == nil {
		return true
	}
	im.lookupErr(err)
	return false
}

// activeNode resolves a reference that must be active, noting stored
// nodes as attachment points for authorization.
func (im *importer) activeNode(field string, id NodeID) (nodeRef, error) {
	r, err := im.node(id)
	if err != nil {
		return r, fmt.Errorf("field %s: %w", field, err)
	}
	if !r.active {
		return r, fmt.Errorf("field %s: node %q is retired: %w", field, id, ErrRetired)
	}
	if r.stored {
		im.attach[id] = true
	}
	return r, nil
}

func (im *importer) importNodes(rows []NodeSpec, b *Bulk) {
	im.now = im.s.now()
	b.Nodes = make([]Node, 0, len(rows))
	for i, r := range rows {
		if im.err != nil {
			return
		}
		n, err := im.nodeRow(r)
		if err != nil {
			im.fail("nodes", i, r.Line, string(r.ID), err)
			continue
		}
		im.batch[n.ID] = int32(len(b.Nodes))
		b.Nodes = append(b.Nodes, n)
	}
}

func (im *importer) nodeRow(r NodeSpec) (Node, error) {
	in := NewNode{ID: r.ID, Kind: r.Kind, Name: r.Name, Parent: r.Parent}
	if err := in.Validate(); err != nil {
		return Node{}, err
	}
	if im.nodeExists(r.ID) {
		return Node{}, fmt.Errorf("field id: %q already exists: %w", r.ID, ErrDuplicate)
	}
	parentPath := ""
	if r.Parent == "" {
		im.attach[""] = true
	} else {
		p, err := im.activeNode("parent", r.Parent)
		if err != nil {
			return Node{}, err
		}
		if err := CheckParent(r.Kind, p.kind); err != nil {
			return Node{}, err
		}
		parentPath = p.path
	}
	path := PathOf(parentPath, r.ID)
	return Node{ID: r.ID, Kind: r.Kind, Name: r.Name, Parent: r.Parent, Path: path, Status: Active, Created: im.now, Updated: im.now}, nil
}

func (im *importer) volunteer(id VolunteerID) (Volunteer, error) {
	if v, ok := im.vols[id]; ok {
		return v, nil
	}
	v, err := im.s.store.Volunteer(im.ctx, id)
	if err != nil {
		if im.lookupErr(err) {
			return Volunteer{}, err
		}
		return Volunteer{}, fmt.Errorf("volunteer %q: %w", id, ErrNotFound)
	}
	im.vols[id] = v
	return v, nil
}

func (im *importer) importVolunteers(rows []VolunteerSpec, b *Bulk) {
	im.vols = make(map[VolunteerID]Volunteer, len(rows))
	docs := map[string]int{}
	for i, r := range rows {
		if im.err != nil {
			return
		}
		v, err := im.volunteerRow(r, docs, i)
		if err != nil {
			im.fail("volunteers", i, r.Line, string(r.ID), err)
			continue
		}
		b.Volunteers = append(b.Volunteers, v)
	}
}

func (im *importer) volunteerRow(r VolunteerSpec, docs map[string]int, i int) (Volunteer, error) {
	hash, err := im.s.validateNewVolunteer(NewVolunteer{ID: r.ID, Name: r.Name, Contact: r.Contact, Home: r.Home, Document: r.Document})
	if err != nil {
		return Volunteer{}, err
	}
	if _, err := im.volunteer(r.ID); err == nil {
		return Volunteer{}, fmt.Errorf("field id: volunteer %q already exists: %w", r.ID, ErrDuplicate)
	}
	if _, err := im.activeNode("home", r.Home); err != nil {
		return Volunteer{}, err
	}
	if hash != "" {
		if j, ok := docs[hash]; ok {
			return Volunteer{}, fmt.Errorf("field document: same document as volunteers[%d]: %w", j, ErrDuplicate)
		}
		if _, err := im.s.store.VolunteerByDocument(im.ctx, hash); err == nil {
			return Volunteer{}, fmt.Errorf("field document: already registered: %w", ErrDuplicate)
		} else if im.lookupErr(err) {
			return Volunteer{}, err
		}
		docs[hash] = i
	}
	v := Volunteer{ID: r.ID, Name: r.Name, Contact: r.Contact, Home: r.Home, Status: VolunteerActive,
		DocumentHash: hash, Version: 1, Created: im.now, Updated: im.now}
	im.vols[r.ID] = v
	return v, nil
}

func (im *importer) team(id TeamID) (Team, error) {
	if t, ok := im.teams[id]; ok {
		return t, nil
	}
	t, err := im.s.store.Team(im.ctx, id)
	if err != nil {
		if im.lookupErr(err) {
			return Team{}, err
		}
		return Team{}, fmt.Errorf("team %q: %w", id, ErrNotFound)
	}
	im.teams[id] = t
	return t, nil
}

func (im *importer) importTeams(rows []TeamSpec, b *Bulk) {
	im.teams = make(map[TeamID]Team, len(rows))
	for i, r := range rows {
		if im.err != nil {
			return
		}
		t, ms, err := im.teamRow(r)
		if err != nil {
			im.fail("teams", i, r.Line, string(r.ID), err)
			continue
		}
		b.Teams = append(b.Teams, t)
		b.Memberships = append(b.Memberships, ms...)
	}
}

func within(scopePath, path string) bool { return strings.HasPrefix(path, scopePath) }

func (im *importer) teamRow(r TeamSpec) (Team, []Membership, error) {
	in := NewTeam{ID: r.ID, Name: r.Name, Tier: r.Tier, Parent: r.Parent, Anchor: r.Anchor, Area: r.Area, Skills: r.Skills, Capacity: r.Capacity}
	if err := im.s.validateNewTeam(&in); err != nil {
		return Team{}, nil, err
	}
	if _, err := im.team(r.ID); err == nil {
		return Team{}, nil, fmt.Errorf("field id: team %q already exists: %w", r.ID, ErrDuplicate)
	}
	anchor, err := im.activeNode("anchor", in.Anchor)
	if err != nil {
		return Team{}, nil, err
	}
	area, err := im.activeNode("area", in.Area)
	if err != nil {
		return Team{}, nil, err
	}
	if in.Tier != Specialty && !within(anchor.path, area.path) {
		return Team{}, nil, fmt.Errorf("field area: a %s serves within its anchor %q, area %q is outside: %w", in.Tier, in.Anchor, in.Area, ErrOutOfArea)
	}
	if in.Parent != "" {
		p, err := im.team(in.Parent)
		if err != nil {
			return Team{}, nil, fmt.Errorf("field parent: %w", err)
		}
		if err := CheckTeamParent(in.Tier, p.Tier); err != nil {
			return Team{}, nil, err
		}
		if p.Status != Active {
			return Team{}, nil, fmt.Errorf("field parent: team %q is retired: %w", p.ID, ErrRetired)
		}
		pa, err := im.node(p.Area)
		if err != nil {
			return Team{}, nil, fmt.Errorf("field parent: %w", err)
		}
		if !within(pa.path, anchor.path) || !within(pa.path, area.path) {
			return Team{}, nil, fmt.Errorf("field area: anchor %q or area %q is outside parent team %q's area %q: %w", in.Anchor, in.Area, p.ID, p.Area, ErrOutOfArea)
		}
	}
	t := Team{ID: in.ID, Name: in.Name, Tier: in.Tier, Parent: in.Parent, Anchor: in.Anchor, Area: in.Area,
		Skills: normSkills(in.Skills), Capacity: in.Capacity, Status: Active, Version: 1, Created: im.now, Updated: im.now}
	ms, err := im.members(r, t, area.path)
	if err != nil {
		return Team{}, nil, err
	}
	im.teams[t.ID] = t
	return t, ms, nil
}

func (im *importer) members(r TeamSpec, t Team, areaPath string) ([]Membership, error) {
	var ms []Membership
	seen := map[VolunteerID]bool{}
	add := func(field string, id VolunteerID, role MemberRole) error {
		if seen[id] {
			return fmt.Errorf("field %s: volunteer %q listed twice: %w", field, id, ErrDuplicate)
		}
		seen[id] = true
		v, err := im.volunteer(id)
		if err != nil {
			return fmt.Errorf("field %s: %w", field, err)
		}
		if v.Status != VolunteerActive {
			return fmt.Errorf("field %s: volunteer %q is %s: %w", field, id, v.Status, ErrRetired)
		}
		h, err := im.node(v.Home)
		if err != nil {
			return fmt.Errorf("field %s: %w", field, err)
		}
		if !within(areaPath, h.path) {
			return fmt.Errorf("field %s: volunteer %q's home %q is outside the team's area %q: %w", field, id, v.Home, t.Area, ErrOutOfArea)
		}
		ms = append(ms, Membership{Team: t.ID, Volunteer: id, Role: role, Since: im.now})
		return nil
	}
	if r.Leader != "" {
		if err := add("leader", r.Leader, Leader); err != nil {
			return nil, err
		}
	}
	for i, m := range r.Members {
		if err := add(fmt.Sprintf("members[%d]", i), m, Member); err != nil {
			return nil, err
		}
	}
	return ms, nil
}

func (im *importer) importPairings(rows []PairingSpec, b *Bulk) {
	// Earlier rows by unit and node, for the overlap check.
	earlier := map[[2]string][]Pairing{}
	ids := map[string]bool{}
	for i, r := range rows {
		if im.err != nil {
			return
		}
		p, err := im.pairingRow(r, earlier[[2]string{r.Unit, string(r.Node)}])
		if err == nil && ids[p.ID] {
			err = fmt.Errorf("field id: %q listed twice: %w", p.ID, ErrDuplicate)
		}
		if err != nil {
			im.fail("pairings", i, r.Line, r.ID, err)
			continue
		}
		k := [2]string{p.Unit, string(p.Node)}
		earlier[k] = append(earlier[k], p)
		ids[p.ID] = true
		b.Pairings = append(b.Pairings, p)
	}
}

func parseDay(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("field %s: %q is not a date YYYY-MM-DD: %w", field, s, ErrInvalid)
	}
	return t, nil
}

// pairingRow checks one pairing; earlier holds the accepted rows of the
// same unit and node.
func (im *importer) pairingRow(r PairingSpec, earlier []Pairing) (Pairing, error) {
	start, err := parseDay("start", r.Start)
	if err != nil {
		return Pairing{}, err
	}
	end, err := parseDay("end", r.End)
	if err != nil {
		return Pairing{}, err
	}
	in := NewPairing{ID: r.ID, Unit: r.Unit, UnitName: r.UnitName, UnitKind: r.UnitKind, Node: r.Node, Start: start, End: end}
	if err := in.Validate(); err != nil {
		return Pairing{}, err
	}
	n, err := im.activeNode("node", r.Node)
	if err != nil {
		return Pairing{}, err
	}
	if n.kind != Institute && n.kind != Station {
		return Pairing{}, fmt.Errorf("field node: a unit pairs with an institute or a station, not a %s: %w", n.kind, ErrTier)
	}
	if in.ID == "" {
		in.ID = im.s.newID()
	}
	p := Pairing{ID: in.ID, Unit: in.Unit, UnitName: in.UnitName, UnitKind: in.UnitKind, Node: in.Node, Start: day(start), End: day(end), Created: im.now}
	for _, q := range earlier {
		if q.Overlaps(p) {
			return Pairing{}, fmt.Errorf("field start: overlaps pairing %q of the same unit and node: %w", q.ID, ErrDuplicate)
		}
	}
	if _, err := im.s.store.Pairing(im.ctx, p.ID); err == nil {
		return Pairing{}, fmt.Errorf("field id: pairing %q already exists: %w", p.ID, ErrDuplicate)
	} else if im.lookupErr(err) {
		return Pairing{}, err
	}
	stored, err := im.s.store.Pairings(im.ctx, PairingQuery{Unit: p.Unit})
	if err != nil {
		im.lookupErr(err)
		return Pairing{}, err
	}
	for _, q := range stored {
		if q.Node == p.Node && q.Overlaps(p) {
			return Pairing{}, fmt.Errorf("field start: overlaps stored pairing %q of the same unit and node: %w", q.ID, ErrDuplicate)
		}
	}
	return p, nil
}
