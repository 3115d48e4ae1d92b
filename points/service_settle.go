package points

import (
	"context"
	"errors"
	"fmt"

	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/org"
	"github.com/shopspring/decimal"
)

// Settlement is what SettleRedemption did for a redemption whose hold the
// ledger refused.
type Settlement struct {
	// Redemption is the settled redemption as stored; settling does not
	// change it.
	Redemption Redemption
	// Transfer is the ledger transfer "settle:<redemption>" that spent the
	// points of a fulfilled redemption; empty for a cancelled or expired
	// one, whose points neither the ledger nor the store took.
	Transfer ledger.TransferID
	// Points is what Transfer moved from the volunteer's POINTS account to
	// the Redeemed account: the redemption's price, or zero.
	Points decimal.Decimal
	// Dropped are the IDs of the ops the ledger refused and the outbox no
	// longer holds as pending: the hold and the post (fulfilled) or the
	// void (cancelled, expired).
	Dropped []string
}

// SettleRedemption settles a redemption whose hold the ledger refused for
// good, typically because the hold reached the ledger after the
// redemption's deadline and the 30 days of grace past it (see Sync): the
// ledger never held the points, and refuses the redemption's post or void
// as well. Sync reports those ops on every run and applies no later op of
// the volunteer; the operator settles them here, once the redemption is
// fulfilled, cancelled or expired in the store.
//
// For a fulfilled redemption the store spent the points and the ledger
// never moved them: SettleRedemption stores one more op, "settle:<id>", a
// plain transfer of the redemption's price from the volunteer to the
// Redeemed account, effective at the redemption's ClosedAt, with a as the
// principal (the ledger records who settled), and applies it after the
// volunteer's earlier pending ops. A cancelled or expired redemption gave
// its points back in the store and the ledger moved none: nothing is
// moved. Either way the refused hold and post or void are then
// acknowledged, so they leave the outbox and Sync never applies them
// again. The redemption itself, its wallet and lots are not changed.
// reason must not be empty; it goes to the Logger with the actor, at Warn
// (the store keeps no reason for a settlement, as for a cancellation).
//
// Order and retries: the settle op is stored before the refused ops are
// acknowledged, and applied after, so until SettleRedemption has
// finished, Sync keeps reporting the redemption. Calling it again
// finishes an interrupted settlement and moves nothing twice: the settle
// op's ID is used once in the store and is its ledger idempotency key. A
// redemption settled already is settled again without effect, and the
// same Settlement is returned.
//
// An actor of the redemption's owning node settles (the policy is asked
// for ActSettle on the owning node), or the system; never the volunteer
// himself. Errors, with nothing changed:
//   - ErrInvalid: reason is empty;
//   - ErrNotFound: no redemption id;
//   - ErrForbidden: the actor may not settle it (the refusal is recorded);
//   - ErrState: the ledger has no transfer "hold:<id>" yet (Sync applies
//     it first), or holds it with another status than refused (nothing to
//     settle), or the redemption is still held: fulfil or cancel it first
//     (its post or void is refused too, as expected), then settle;
//   - ErrLedger together with the ledger's error: the ledger could not be
//     read.
//
// After the settle op is stored, an error wraps ErrLedger: the settlement
// stands but is not finished (the ledger failed or refused the op, an
// earlier pending op of the volunteer failed before it, or the store took
// no acknowledgement). Call SettleRedemption again, or let Sync apply the
// settle op once the refused ops are acknowledged. Other errors are the
// store's, wrapped.
func (s *Service) SettleRedemption(ctx context.Context, a org.Actor, id, reason string) (Settlement, error) {
	if reason == "" {
		return Settlement{}, fmt.Errorf("points: settle: field reason: must not be empty: %w", ErrInvalid)
	}
	red, err := s.store.Redemption(ctx, id)
	if err != nil {
		return Settlement{}, fmt.Errorf("points: settle: field id: %q: %w", id, err)
	}
	t := org.Target{Node: red.Owner}
	if a.ID == string(red.Volunteer) {
		return Settlement{}, s.refuse(ctx, a, ActSettle, t, errors.New("the volunteer does not settle his own redemption"))
	}
	if err := s.authorize(ctx, a, ActSettle, t); err != nil {
		return Settlement{}, err
	}
	hold := "hold:" + red.ID
	if err := s.holdRefused(ctx, red.ID, hold); err != nil {
		return Settlement{}, err
	}
	out := Settlement{Redemption: red, Points: zero}
	switch red.Status {
	case RedemptionHeld:
		return Settlement{}, fmt.Errorf("points: settle: redemption %s: field status: held: fulfil or cancel it first (the ledger refuses its post or void too, as expected), then settle it: %w", id, ErrState)
	case RedemptionFulfilled:
		out.Dropped = []string{hold, "post:" + red.ID}
	default:
		out.Dropped = []string{hold, "void:" + red.ID}
	}
	var ops []Op // the settle op, when it is still to be applied
	if red.Status == RedemptionFulfilled {
		op := Op{ID: "settle:" + red.ID, Kind: OpTransfer, Volunteer: red.Volunteer, Hours: zero, Points: red.Price.Neg(),
			Counterparty: Redeemed, Reason: "points.settle", At: red.ClosedAt, Principal: a.ID}
		out.Transfer, out.Points = ledger.TransferID(op.ID), red.Price
		err := s.store.Commit(ctx, &Change{Ops: []Op{op}})
		switch {
		case err == nil:
			ops = []Op{op}
		case isDuplicate(err):
			// Stored by an earlier call: apply the stored op (its content
			// is what the ledger knows), unless it is applied already.
			stored, ok, err := s.pendingOp(ctx, op.ID)
			if err != nil {
				return out, fmt.Errorf("points: settle: redemption %s: %w", id, err)
			}
			if ok {
				ops = []Op{stored}
			}
		default:
			return Settlement{}, fmt.Errorf("points: settle: redemption %s: store op %s: %w", id, op.ID, err)
		}
	}
	if err := s.store.AckOps(ctx, out.Dropped); err != nil {
		err = fmt.Errorf("points: settle: redemption %s: acknowledge %v: %w", id, out.Dropped, err)
		if red.Status == RedemptionFulfilled {
			err = fmt.Errorf("%w: %w", ErrLedger, err)
		}
		return out, err
	}
	s.log.WarnContext(ctx, "points: redemption settled", "redemption", red.ID, "status", red.Status, "volunteer", red.Volunteer,
		"actor", a.ID, "role", a.Role, "reason", reason, "transfer", out.Transfer, "points", out.Points.String())
	if len(ops) == 0 {
		return out, nil
	}
	ops, err = s.inOrder(ctx, ops)
	if err == nil {
		_, err = s.applyOps(ctx, ops, nil, nil)
	}
	if err != nil && !errors.Is(err, ErrLedger) {
		err = fmt.Errorf("%w: %w", ErrLedger, err)
	}
	return out, err
}

// holdRefused returns nil when the ledger keeps the transfer hold, the
// hold of redemption id, as refused, else an error wrapping ErrState (or
// ErrLedger when the ledger cannot be read).
func (s *Service) holdRefused(ctx context.Context, id, hold string) error {
	tr, err := s.book.led.TransferByID(ctx, ledger.TransferID(hold))
	switch {
	case errors.Is(err, ledger.ErrTransferNotFound):
		return fmt.Errorf("points: settle: redemption %s: field hold: the ledger has no transfer %s yet; Sync applies it: %w", id, hold, ErrState)
	case err != nil:
		return fmt.Errorf("points: settle: redemption %s: read ledger transfer %s: %w: %w", id, hold, ErrLedger, err)
	case tr.Status != ledger.StatusRefused:
		return fmt.Errorf("points: settle: redemption %s: field hold: the ledger holds %s as %s, not refused: nothing to settle: %w", id, hold, tr.Status, ErrState)
	}
	return nil
}

// pendingOp returns the pending op with the given ID and true, or false
// when the store holds no such op as pending. It reads the pending ops
// from the oldest, up to pendingOpMax of them; past them it reports
// ErrLedger (the ledger is far behind; Sync applies the op).
func (s *Service) pendingOp(ctx context.Context, id string) (Op, bool, error) {
	for limit := inOrderWindow; ; limit *= 16 {
		pending, err := s.store.PendingOps(ctx, limit)
		if err != nil {
			return Op{}, false, fmt.Errorf("points: read pending ledger ops: %w: %w", ErrLedger, err)
		}
		for i := range pending {
			if pending[i].ID == id {
				return pending[i], true, nil
			}
		}
		if len(pending) < limit {
			return Op{}, false, nil
		}
		if limit >= inOrderMax {
			return Op{}, false, fmt.Errorf("points: ledger op %s: not among the first %d pending ops; Sync applies them in order: %w", id, limit, ErrLedger)
		}
	}
}
