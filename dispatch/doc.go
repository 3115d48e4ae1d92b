// Package dispatch runs the "five orders" closed loop (五单闭环) of a New Era
// Civilization Practice network: residents order services from a menu
// (点单), the integrated desk dispatches them to volunteer teams (派单) or
// publishes them for teams to claim (抢单), a team accepts (接单) and
// completes them, the resident evaluates (评单) and the desk showcases the
// good ones (晒单). Side paths: reject, return (退单), forced assignment,
// reassignment (改派), extension (延期), urging (催办), reopening, hiding
// and cancelling.
//
// The transition table (Transitions, printed by Mermaid) is the one place
// that says which trigger moves an order from which state to which, and
// which roles may fire it. Every command goes through Service.Fire, which
// checks the table, the actor (his role, his own order or his own team, and
// the org.Policy), the trigger's guards, and then writes the new order, a
// history entry and a change-feed event in one Store.Commit with an
// optimistic version check. A refused command changes nothing.
//
// Deadlines are data on the order (accept-by, complete-by, evaluate-by);
// Service.Sweep fires the due ones at a given time, idempotently. The core
// runs no goroutines or timers.
//
// Routing is a Matcher; the default TeamMatcher keeps the teams that serve
// the order's node with the item's skill and free capacity and ranks them
// by load, tier proximity and fairness. Capacity is enforced by the store
// at commit, so concurrent dispatches never overfill a team.
//
// Completed orders reach the points scheme through the change feed: a
// Relay hands each participant's hours to a RecordSink under a key derived
// from the order, the completion and the volunteer, and acknowledges its
// position afterwards; replays are absorbed by the sink's idempotency.
//
// dispatch depends on org only through small interfaces defined here
// (Directory, and org.Policy); *org.Service satisfies Directory.
//
// # Usage
//
//	store := memory.NewDispatchStore()
//	svc, err := dispatch.New(store, orgService, orgService.Policy(), nil)
//	item, err := svc.AddMenuItem(ctx, admin, dispatch.MenuItem{Code: "MEAL", ...})
//	o, err := svc.PlaceOrder(ctx, resident, dispatch.OrderRequest{Item: "MEAL", Node: "S1", Fields: ...})
//	o, err = svc.Fire(ctx, desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerDispatch})
//	o, err = svc.Fire(ctx, leader, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerAccept})
//	o, err = svc.Fire(ctx, leader, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerComplete, Completion: report})
//	o, err = svc.Fire(ctx, resident, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerEvaluate, Evaluation: verdict})
//	res, err := svc.Sweep(ctx, time.Now())          // from your scheduler
//	relay, err := dispatch.NewRelay(store, sink, nil)
//	n, err := relay.Drain(ctx)                      // completed hours → points
//
// Storage is behind Store; adapters/memory, adapters/sqlite and
// adapters/postgres implement it, and dispatch/dispatchtest is the suite
// they all pass.
package dispatch
