package dispatchtest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// Clock is a settable clock for deterministic tests.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t.UTC()} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// The fixture's network: centre C with institutes I1 (stations S1, S2) and
// I2 (station S3), and four teams.
const (
	NodeC  org.NodeID = "C"
	NodeI1 org.NodeID = "I1"
	NodeI2 org.NodeID = "I2"
	NodeS1 org.NodeID = "S1"
	NodeS2 org.NodeID = "S2"
	NodeS3 org.NodeID = "S3"

	// TeamS1 serves station S1 with skill "elder", capacity 2.
	TeamS1 org.TeamID = "T-S1"
	// TeamI1 serves institute I1 with skill "elder", capacity 2.
	TeamI1 org.TeamID = "T-I1"
	// TeamC serves the whole centre with "elder" and "health", capacity 3.
	TeamC org.TeamID = "T-C"
	// TeamH serves institute I2 with "health", capacity 1.
	TeamH org.TeamID = "T-H"

	// ItemMeal is offered by C in its whole area, category "elder".
	ItemMeal dispatch.ItemCode = "MEAL"
	// ItemCheckup is offered by I2 in its area, category "health".
	ItemCheckup dispatch.ItemCode = "CHECKUP"
)

// Start is the fixture clock's initial time.
var Start = time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)

// Fixture is a dispatch service over a store, the small network above, a
// settable clock and one actor per role.
type Fixture struct {
	Store   dispatch.Store
	Service *dispatch.Service
	Tree    *Tree
	Clock   *Clock

	Resident org.Actor // orders everything in the fixture
	Other    org.Actor // another resident
	Admin    org.Actor // admin of C
	AdminI2  org.Actor // admin of I2 (S1 is outside his scope)
	Desk     org.Actor // dispatch desk of C
	System   org.Actor
	Leaders  map[org.TeamID]org.Actor

	mu  sync.Mutex
	seq int
}

// NewFixture builds the fixture on store, with the menu items added. opts
// may set MaxReturns and Deadlines; Now, NewID and Matcher are set by the
// fixture unless given.
func NewFixture(tb testing.TB, store dispatch.Store, opts *dispatch.Options) *Fixture {
	tb.Helper()
	tree := NewTree()
	tree.AddNode(NodeC, org.Centre, "")
	tree.AddNode(NodeI1, org.Institute, NodeC)
	tree.AddNode(NodeI2, org.Institute, NodeC)
	tree.AddNode(NodeS1, org.Station, NodeI1)
	tree.AddNode(NodeS2, org.Station, NodeI1)
	tree.AddNode(NodeS3, org.Station, NodeI2)
	tree.SetTeam(org.Team{ID: TeamS1, Tier: org.Specialty, Anchor: NodeS1, Skills: []string{"elder"}, Capacity: 2})
	tree.SetTeam(org.Team{ID: TeamI1, Tier: org.Detachment, Anchor: NodeI1, Skills: []string{"elder"}, Capacity: 2})
	tree.SetTeam(org.Team{ID: TeamC, Tier: org.Corps, Anchor: NodeC, Skills: []string{"elder", "health"}, Capacity: 3})
	tree.SetTeam(org.Team{ID: TeamH, Tier: org.Detachment, Anchor: NodeI2, Skills: []string{"health"}, Capacity: 1})
	f := &Fixture{
		Store: store, Tree: tree, Clock: NewClock(Start),
		Resident: org.Actor{ID: "res-1", Role: org.RoleResident},
		Other:    org.Actor{ID: "res-2", Role: org.RoleResident},
		Admin:    org.Actor{ID: "admin-c", Role: org.RoleAdmin, Scope: NodeC},
		AdminI2:  org.Actor{ID: "admin-i2", Role: org.RoleAdmin, Scope: NodeI2},
		Desk:     org.Actor{ID: "desk-c", Role: org.RoleDesk, Scope: NodeC},
		System:   org.Actor{ID: "dispatch.sweep", Role: org.RoleSystem},
		Leaders:  map[org.TeamID]org.Actor{},
	}
	for _, id := range []org.TeamID{TeamS1, TeamI1, TeamC, TeamH} {
		f.Leaders[id] = org.Actor{ID: "lead-" + string(id), Role: org.RoleTeamLeader, Team: id}
	}
	var o dispatch.Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = f.Clock.Now
	}
	if o.NewID == nil {
		o.NewID = f.nextID
	}
	svc, err := dispatch.New(store, tree, org.NewDefaultPolicy(tree), &o)
	require.NoError(tb, err)
	f.Service = svc
	ctx := context.Background()
	_, err = svc.AddMenuItem(ctx, f.Admin, MealItem())
	require.NoError(tb, err)
	_, err = svc.AddMenuItem(ctx, f.Admin, dispatch.MenuItem{
		Code: ItemCheckup, Name: "Health check-up", Category: "health", Offeror: NodeI2,
		Fields: []dispatch.Field{{Name: "address", Kind: dispatch.FieldText, Required: true}},
	})
	require.NoError(tb, err)
	return f
}

// MealItem is the fixture's main menu item.
func MealItem() dispatch.MenuItem {
	return dispatch.MenuItem{
		Code: ItemMeal, Name: "Meal delivery for the elderly", Category: "elder", Offeror: NodeC,
		Fields: []dispatch.Field{
			{Name: "address", Label: "Address", Kind: dispatch.FieldText, Required: true},
			{Name: "people", Label: "How many people", Kind: dispatch.FieldNumber, Required: true},
			{Name: "day", Label: "Which day", Kind: dispatch.FieldDate},
			{Name: "diet", Label: "Diet", Kind: dispatch.FieldChoice, Choices: []string{"normal", "soft"}},
		},
		Deadlines: dispatch.Deadlines{AcceptWithin: 2 * time.Hour, CompleteWithin: 48 * time.Hour, EvaluateWithin: 72 * time.Hour},
	}
}

func (f *Fixture) nextID() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	return fmt.Sprintf("o-%05d", f.seq)
}

// MealFields are valid values for ItemMeal.
func MealFields() map[string]string {
	return map[string]string{"address": "No. 3 Elm Lane", "people": "2", "day": "2026-03-06", "diet": "soft"}
}

// Place orders ItemMeal at node as f.Resident and requires success.
func (f *Fixture) Place(tb testing.TB, node org.NodeID) dispatch.Order {
	tb.Helper()
	o, err := f.Service.PlaceOrder(context.Background(), f.Resident, dispatch.OrderRequest{Item: ItemMeal, Node: node, Fields: MealFields()})
	require.NoError(tb, err)
	return o
}

// Fire fires c as a and requires success.
func (f *Fixture) Fire(tb testing.TB, a org.Actor, c dispatch.Command) dispatch.Order {
	tb.Helper()
	o, err := f.Service.Fire(context.Background(), a, c)
	require.NoError(tb, err, "%s as %s", c.Trigger, a.ID)
	return o
}

// Completion is a valid report with two participants (2.5 h and 1 h).
func Completion() *dispatch.Completion {
	return &dispatch.Completion{
		Report: "Delivered two soft meals and checked the stove.",
		Participants: []dispatch.Participant{
			{Volunteer: "V-001", Hours: decimal.RequireFromString("2.5")},
			{Volunteer: "V-002", Hours: decimal.RequireFromString("1")},
		},
		Photos: []string{"photos/o1-a.jpg"},
	}
}

// Drive creates an order at S1 and moves it into state s along the main
// paths, with team T-S1 wherever a team is needed.
func (f *Fixture) Drive(tb testing.TB, s dispatch.State) dispatch.Order {
	tb.Helper()
	o := f.Place(tb, NodeS1)
	lead := f.Leaders[TeamS1]
	step := func(a org.Actor, c dispatch.Command) {
		c.Order = o.ID
		o = f.Fire(tb, a, c)
	}
	switch s {
	case dispatch.Ordered:
		return o
	case dispatch.Rejected:
		step(f.Admin, dispatch.Command{Trigger: dispatch.TriggerReject, Reason: "not our service"})
		return o
	case dispatch.Published:
		step(f.Desk, dispatch.Command{Trigger: dispatch.TriggerPublish})
		return o
	case dispatch.Cancelled:
		step(f.Resident, dispatch.Command{Trigger: dispatch.TriggerCancel, Reason: "no longer needed"})
		return o
	}
	step(f.Desk, dispatch.Command{Trigger: dispatch.TriggerDispatch, Team: TeamS1})
	switch s {
	case dispatch.Dispatched:
		return o
	case dispatch.Returned:
		step(lead, dispatch.Command{Trigger: dispatch.TriggerReturn, Reason: "no driver today"})
		return o
	}
	step(lead, dispatch.Command{Trigger: dispatch.TriggerAccept})
	switch s {
	case dispatch.Accepted:
		return o
	case dispatch.InService:
		step(lead, dispatch.Command{Trigger: dispatch.TriggerStart})
		return o
	}
	step(lead, dispatch.Command{Trigger: dispatch.TriggerComplete, Completion: Completion()})
	switch s {
	case dispatch.Completed:
		return o
	case dispatch.Closed:
		f.Clock.Advance(73 * time.Hour)
		step(f.System, dispatch.Command{Trigger: dispatch.TriggerClose})
		return o
	}
	step(f.Resident, dispatch.Command{Trigger: dispatch.TriggerEvaluate, Evaluation: &dispatch.Evaluation{Score: 5, Comment: "Warm and on time", Consent: true}})
	if s == dispatch.Evaluated {
		return o
	}
	step(f.Desk, dispatch.Command{Trigger: dispatch.TriggerShowcase})
	if s == dispatch.Showcased {
		return o
	}
	step(f.Admin, dispatch.Command{Trigger: dispatch.TriggerHide, Reason: "photo shows a face"})
	if s == dispatch.Hidden {
		return o
	}
	tb.Fatalf("dispatchtest: cannot drive an order to state %q", s)
	return o
}
