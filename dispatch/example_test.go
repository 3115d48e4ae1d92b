package dispatch_test

import (
	"context"
	"fmt"
	"time"

	"github.com/civicloop/civicloop/adapters/memory"
	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/dispatch/dispatchtest"
	"github.com/civicloop/civicloop/org"
	"github.com/shopspring/decimal"
)

// exampleWorld builds a tiny Jintan network in org (a centre, an
// institute, a station, a corps and a meal team) and a dispatch service on
// memory stores with a fixed clock.
func exampleWorld() (*dispatch.Service, *memory.DispatchStore, *dispatchtest.Clock) {
	w := newWorld()
	return w.svc, w.store, w.clock
}

type world struct {
	svc   *dispatch.Service
	store *memory.DispatchStore
	clock *dispatchtest.Clock
	orgs  *org.Service
}

func newWorld() world {
	ctx := context.Background()
	clock := dispatchtest.NewClock(time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC))
	orgs, err := org.New(memory.NewOrgStore(), &org.Options{Now: clock.Now})
	if err != nil {
		panic(err)
	}
	sys := org.Actor{ID: "setup", Role: org.RoleSystem}
	for _, n := range []org.NewNode{
		{ID: "jt", Kind: org.Centre, Name: "Jintan centre"},
		{ID: "jt-xc", Kind: org.Institute, Name: "Xicheng institute", Parent: "jt"},
		{ID: "jt-xc-hj", Kind: org.Station, Name: "Huangjia station", Parent: "jt-xc"},
	} {
		if _, err := orgs.CreateNode(ctx, sys, n); err != nil {
			panic(err)
		}
	}
	for _, t := range []org.NewTeam{
		{ID: "corps", Name: "General corps", Tier: org.Corps, Anchor: "jt", Skills: []string{"elder"}, Capacity: 5},
		{ID: "meals", Name: "Meal team", Tier: org.Specialty, Parent: "corps", Anchor: "jt-xc-hj", Skills: []string{"elder"}, Capacity: 2},
	} {
		if _, err := orgs.CreateTeam(ctx, sys, t); err != nil {
			panic(err)
		}
	}
	store := memory.NewDispatchStore()
	n := 0
	svc, err := dispatch.New(store, orgs, orgs.Policy(), &dispatch.Options{
		Now:   clock.Now,
		NewID: func() string { n++; return fmt.Sprintf("order-%d", n) },
	})
	if err != nil {
		panic(err)
	}
	admin := org.Actor{ID: "admin", Role: org.RoleAdmin, Scope: "jt"}
	if _, err := svc.AddMenuItem(ctx, admin, dispatch.MenuItem{
		Code: "MEAL", Name: "Meal delivery", Category: "elder", Offeror: "jt",
		Fields:    []dispatch.Field{{Name: "address", Kind: dispatch.FieldText, Required: true}},
		Deadlines: dispatch.Deadlines{AcceptWithin: 2 * time.Hour},
	}); err != nil {
		panic(err)
	}
	return world{svc: svc, store: store, clock: clock, orgs: orgs}
}

// The whole loop: order, dispatch (the matcher picks the nearest idle
// team), accept, complete, evaluate, showcase; then the relay hands the
// hours to the points side and the order appears in the public feed.
func Example() {
	ctx := context.Background()
	svc, store, clock := exampleWorld()
	resident := org.Actor{ID: "wang", Role: org.RoleResident}
	desk := org.Actor{ID: "desk", Role: org.RoleDesk, Scope: "jt"}
	leader := org.Actor{ID: "li", Role: org.RoleTeamLeader, Team: "meals"}

	o, err := svc.PlaceOrder(ctx, resident, dispatch.OrderRequest{Item: "MEAL", Node: "jt-xc-hj", Fields: map[string]string{"address": "No. 3 Elm Lane"}})
	if err != nil {
		panic(err)
	}
	show := func(o dispatch.Order, err error) dispatch.Order {
		if err != nil {
			panic(err)
		}
		fmt.Printf("v%d %-10s team=%-5s %s\n", o.Version, o.State, o.Team, o.Public())
		return o
	}
	show(o, nil)
	o = show(svc.Fire(ctx, desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerDispatch}))
	clock.Advance(30 * time.Minute)
	o = show(svc.Fire(ctx, leader, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerAccept}))
	clock.Advance(2 * time.Hour)
	o = show(svc.Fire(ctx, leader, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerComplete, Completion: &dispatch.Completion{
		Report:       "Hot lunch delivered",
		Participants: []dispatch.Participant{{Volunteer: "V-7", Hours: decimal.RequireFromString("1.5")}},
	}}))
	o = show(svc.Fire(ctx, resident, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerEvaluate,
		Evaluation: &dispatch.Evaluation{Score: 5, Comment: "Still warm!", Consent: true}}))
	show(svc.Fire(ctx, desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerShowcase}))

	sink := dispatchtest.NewSink()
	relay, err := dispatch.NewRelay(store, sink, nil)
	if err != nil {
		panic(err)
	}
	n, err := relay.Drain(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Printf("relayed %d events: %s hours, %d bonus\n", n, sink.Hours(), len(sink.Bonuses))

	page, err := svc.Feed(ctx, dispatch.FeedCursor{}, 10)
	if err != nil {
		panic(err)
	}
	for _, e := range page.Entries {
		fmt.Printf("feed: %s at %s by %s, %d stars: %q\n", e.Service, e.Station, e.Team, e.Score, e.Comment)
	}
	// Output:
	// v1 ordered    team=      open
	// v2 dispatched team=meals open
	// v3 accepted   team=meals open
	// v4 completed  team=meals closed
	// v5 evaluated  team=meals closed
	// v6 showcased  team=meals closed
	// relayed 6 events: 1.5 hours, 1 bonus
	// feed: Meal delivery at jt-xc-hj by meals, 5 stars: "Still warm!"
}

// Grab-from-pool (抢单): the desk publishes, the first valid claim wins.
func ExampleService_Fire_pool() {
	ctx := context.Background()
	svc, _, _ := exampleWorld()
	resident := org.Actor{ID: "wang", Role: org.RoleResident}
	desk := org.Actor{ID: "desk", Role: org.RoleDesk, Scope: "jt"}
	o, _ := svc.PlaceOrder(ctx, resident, dispatch.OrderRequest{Item: "MEAL", Node: "jt-xc-hj", Fields: map[string]string{"address": "x"}})
	o, _ = svc.Fire(ctx, desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerPublish})
	fmt.Println(o.State, o.Mode)
	o, err := svc.Fire(ctx, org.Actor{ID: "zhao", Role: org.RoleTeamLeader, Team: "corps"}, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerClaim})
	fmt.Println(o.State, o.Team, err)
	_, err = svc.Fire(ctx, org.Actor{ID: "li", Role: org.RoleTeamLeader, Team: "meals"}, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerClaim})
	fmt.Println(err)
	// Output:
	// published pool
	// accepted corps <nil>
	// dispatch: claim order "order-1": field trigger: claim is not allowed in state accepted: dispatch: trigger not allowed in state
}

// Explain shows why routing kept or dropped each team; Sweep returns an
// order whose accept-by passed.
func ExampleService_Explain() {
	ctx := context.Background()
	svc, _, clock := exampleWorld()
	resident := org.Actor{ID: "wang", Role: org.RoleResident}
	desk := org.Actor{ID: "desk", Role: org.RoleDesk, Scope: "jt"}
	o, _ := svc.PlaceOrder(ctx, resident, dispatch.OrderRequest{Item: "MEAL", Node: "jt-xc-hj", Fields: map[string]string{"address": "x"}})
	o, _ = svc.Fire(ctx, desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerDispatch})
	clock.Advance(3 * time.Hour)
	res, _ := svc.Sweep(ctx, clock.Now())
	fmt.Printf("sweep returned %d\n", res.Returned)
	cands, _ := svc.Explain(ctx, o.ID)
	for _, c := range cands {
		fmt.Printf("%-5s %s\n", c.Team, c.Reason())
	}
	// Output:
	// sweep returned 1
	// corps kept: load 0/5, distance 2, last assigned at 0
	// meals dropped: returned this order before (load 0/2)
}
