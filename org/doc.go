// Package org models who is where in a New Era Civilization Practice
// network (新时代文明实践): the tree of centre (中心) → institute (所) →
// station (站) → practice point (实践点), the volunteer teams in three
// tiers (general corps 总队 → detachments 支队 → specialty teams 特色队, as
// in Jintan's "1822" system), the volunteers, and the pairing (结对共建) of
// civilised units with institutes and stations.
//
// Other packages ask org: dispatch for the teams serving a node
// (Service.TeamsServing), points for volunteers and their status
// (Service.Volunteer), everyone for "is X within Y" (Service.Within) and
// for authorization (Policy, DefaultPolicy). Points and dispatch feed
// subtree roll-ups through the small CounterSink interface
// (Service.AddCounters), idempotent per key.
//
// The rules:
//
//   - Tiers: an institute's parent is a centre, a station's an institute, a
//     point's a station; a centre is a root. Moves re-check the tier and
//     carry the whole subtree; a retirement is refused while active children
//     or teams remain (ErrInUse).
//   - Teams: a corps has no parent team, a detachment belongs to one corps,
//     a specialty team to a corps or a detachment. A team serves an area (a
//     subtree root) inside its parent team's area; corps and detachments
//     serve within their anchor's subtree, specialty teams may serve across
//     institutes. A member's home lies within the team's area.
//   - Volunteers have a unified number, a home node and a status; an
//     identity-document number is kept only as an HMAC-SHA256 under
//     Options.IdentityKey, and a document registers once.
//   - Pairings join a unit (文明单位, 文明校园, other) to an institute or a
//     station for a period; overlapping pairings of the same unit and node
//     are refused.
//   - Every mutating command takes an Actor, asks the Policy (refusals are
//     returned as ErrForbidden, written to the store's refusal log and
//     logged), and writes one Change to the change log with the actor and
//     the time.
//   - Bad input is refused with a wrapped sentinel (errors.go) naming the
//     field and the reason; a refused command changes nothing. Import
//     validates a whole Network and reports every bad row.
//
// Storage is behind Store (store.go), shaped for SQL: ancestry is a
// materialised path, roll-ups are kept per node as subtree totals.
// adapters/memory, adapters/sqlite and adapters/postgres implement it;
// org/orgtest is the conformance suite they all pass.
//
// # Usage
//
//	store := memory.NewOrgStore()
//	svc, err := org.New(store, &org.Options{IdentityKey: key})
//	if err != nil { ... }
//	sys := org.Actor{ID: "setup", Role: org.RoleSystem}
//	if _, err := svc.Import(ctx, sys, org.JintanNetwork()); err != nil { ... }
//	r, _ := svc.Rollup(ctx, "jt")                   // 1 centre, 9 institutes, 123 stations
//	ok, _ := svc.Within(ctx, "jt-xc", "jt-xc-hj")   // true
//	teams, _ := svc.TeamsServing(ctx, "jt-xc-hj", "legal")
//	admin := org.Actor{ID: "wang", Role: org.RoleAdmin, Scope: "jt-xc"}
//	_, err = svc.CreateNode(ctx, admin, org.NewNode{ID: "jt-xc-hj-p1",
//		Kind: org.Point, Name: "华胜社区德法文化广场", Parent: "jt-xc-hj"})
package org
