// Package sim plays a month in the life of a district practice network
// shaped like Jintan's (金坛区新时代文明实践中心: "1+9+123" nodes, the "1822"
// team system, 57 paired units) through the public APIs of org, dispatch,
// points and ledger, then audits everything it can and reports what a centre
// director would want to see.
//
// Everything is deterministic from Config.Seed: the simulation owns the
// clock (it is injected as Now into every service) and draws every decision
// from the seed, so the same configuration gives the same Report. Each
// simulated day runs in fixed phases:
//
//	06:00  sweep: dispatch deadlines, redemption and points expiry, ledger holds
//	08:00  morning services start
//	09:00  teams accept (接单) or return (退单) what was dispatched, claim from
//	       the pool (抢单); residents and the centre cancel a few orders
//	11:30  morning services complete
//	12:00  residents evaluate (评单); the desk reopens or showcases (晒单);
//	       the relay books the morning's hours and points and the bonuses
//	13:30  afternoon services start
//	15:00  objections and corrections; 15:30 redemptions (礼遇) and pickups
//	17:00  afternoon services complete; the relay books their hours
//	18:00  residents order (点单) until 20:00
//	20:30  on the period's 5th day (and every 30 days) a centre-wide action day
//	20:45  the desk routes new and returned orders (派单, pool, 改派, forced)
//	21:00  extensions (延期) asked and approved; withdrawn showcases hidden
//
// # Concurrency
//
// Within a phase, the independent work runs on a pool of Config.Workers
// goroutines: the relay's deliveries (one job per volunteer), placing
// orders, starting, completing and evaluating services, answering
// dispatches, rejecting and publishing, pickups and cancellations of
// redemptions, and the audit's reads. On SQLite the adapter's single writer
// commits the writes of all the goroutines waiting on it in one transaction,
// so a phase pays one disk sync per round of writes instead of one per write:
// that is what makes the default month on durable SQLite take seconds, not
// minutes. What competes for a team's capacity (dispatching, claiming,
// reassigning, reopening, forcing) and what draws from the shared random
// generator (placing's choices, new redemptions) stays in order. Decisions
// are made before the work starts and IDs come from the job, not from the
// worker (see lanes.go), so the report does not depend on the number of
// workers or on their scheduling.
//
// At the end it audits: the ledger's invariants and hash chains; every
// service record against the completed order or the organiser's
// confirmation behind it; every wallet against its records and ledger
// balances; every order's history against the transition table; the org
// roll-ups and the dispatch statistics against recounts.
//
// Run on a store that already holds a month continues with the next one.
//
// # Usage
//
//	cfg := sim.DefaultConfig()               // SQLite, durable, a new temporary file
//	cfg.Seed = 7
//	rep, err := sim.Run(ctx, cfg, os.Stderr) // a progress line per day
//	if err != nil { ... }                    // includes audit violations
//	rep.Write(os.Stdout)
package sim
