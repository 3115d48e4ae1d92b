// Package points runs the volunteer incentive scheme (益+积分 金•礼遇):
// confirmed service becomes hours and points on the ledger, points become
// gifts and privileges (礼遇), and every step can be explained and audited.
//
// # Model
//
//   - A Record (志愿服务记录) holds the volunteer, the activity, the
//     organising unit and the hours actually served (sign-in to sign-out
//     less travel, rounded and capped by the Scheme). Only the organising
//     unit records and confirms (谁组织谁记录), never the volunteer himself.
//   - Confirming a record books an Award: its hours and points, the Rule
//     that produced them and the arithmetic as statement Lines. Hours and
//     points go to the volunteer's HOURS and POINTS ledger accounts in one
//     transfer keyed "rec:<record>", so confirming twice changes nothing.
//   - A volunteer may object to a confirmed record; the organiser resolves
//     the Objection with a compensating record (reversal + corrected
//     record), never an edit.
//   - Points are kept as Lots, one per award, spent oldest first and
//     expired by ExpireLots after Scheme.PointsLifetime.
//   - Star levels (星级志愿者) follow cumulative confirmed hours; every
//     change is a LevelChange with its time and cause.
//   - Catalogue Items belong to a node; Redeem holds the points (a ledger
//     hold) and reserves stock in one step; Fulfil posts the hold against
//     the pickup code, Cancel and ExpireRedemptions void it and restore the
//     stock.
//   - Certificates (志愿服务记录证明, 民发〔2015〕149号) are numbered and
//     kept in a register, rendered as plain text or JSON.
//
// # Consistency
//
// The points Store decides: every command writes one atomic Change, guarded
// by the volunteer's Wallet version, that also carries the ledger
// operations (Op) it implies, as an outbox. The Service then applies them to
// the ledger and acknowledges them. Each Op's ledger ID is derived from its
// source, so applying it again returns the ledger's first outcome; after a
// crash, Service.Sync (or retrying the command) finishes the job. A
// redemption whose hold or post reached the ledger too late, and was
// refused for good, is settled by an operator with
// Service.SettleRedemption.
//
// # Usage
//
//	led, _ := ledger.New(memory.NewLedgerStore(), nil)
//	orgs, _ := org.New(memory.NewOrgStore(), nil)
//	svc, _ := points.New(memory.NewPointsStore(), led, orgs, &points.Options{Scheme: scheme})
//
//	rec, _ := svc.RecordService(ctx, stationAdmin, points.RecordInput{...})
//	rec, _ = svc.Confirm(ctx, stationAdmin, rec.ID)
//	red, _ := svc.Redeem(ctx, volunteer, itemID, volunteerID)
//	red, _ = svc.Fulfil(ctx, stationAdmin, red.ID, red.PickupCode)
package points
