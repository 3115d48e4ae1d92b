package points

import (
	"context"
	"errors"
	"fmt"

	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/org"
	"github.com/shopspring/decimal"
)

// Settlement is what SettleRedemption did for a redemption whose ledger
// ops the ledger refused for good.
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
	// Dropped are the IDs of the redemption's ops the ledger refused for
	// good and the outbox no longer holds as pending: the hold, when the
	// ledger refused it, then the post (fulfilled) or the void (cancelled,
	// expired). A hold the ledger placed is not among them: it was applied.
	Dropped []string
}

// SettleRedemption settles a redemption whose ledger ops the ledger
// refused for good, typically because they reached it too late: after the
// redemption's deadline and the 30 days of grace past it, when the ledger
// no longer takes the hold, nor a post of it (see Sync). Sync reports
// such an op on every run and applies no later op of the volunteer; the
// operator settles it here, once the redemption is fulfilled, cancelled
// or expired in the store. The states it settles, read from the ledger:
//
//   - fulfilled, the hold refused because it reached the ledger at or
//     after its due time (its recorded time not before its HoldUntil; the
//     post, when the ledger has it, is refused as well): the ledger never
//     held the points;
//   - fulfilled, the hold placed on time and the post "post:<id>" refused
//     because the hold was due (ledger.ErrHoldExpired) or had expired
//     (ledger.ErrNotPending, the hold expired): the ledger gave the points
//     back to the volunteer, or still holds them past their due time;
//   - cancelled or expired, the hold refused, for any reason, or the hold
//     expired and the void "void:<id>" refused: neither the store nor the
//     ledger took the points.
//
// For a fulfilled redemption the store spent the points and the ledger
// did not move them: SettleRedemption stores "settle:<id>", a plain
// transfer of the redemption's price from the volunteer to the Redeemed
// account, effective at the redemption's ClosedAt, with a as the principal
// (the ledger records who settled). When the ledger still holds the points
// (the hold is pending, due), it stores before it, in the same change,
// "void:<id>", which releases the hold (a void is not refused for being
// late; a hold the ledger expired meanwhile counts as released). It
// applies them after the volunteer's earlier pending ops. A cancelled or
// expired redemption moves nothing. Either way the refused ops (see
// Settlement.Dropped) are then acknowledged, so they leave the outbox and
// Sync never applies them again. The redemption itself, its wallet and
// lots are not changed. reason must not be empty; it goes to the Logger
// with the actor, at Warn (the store keeps no reason for a settlement, as
// for a cancellation).
//
// Order and retries: the void and settle ops are stored before the refused
// ops are acknowledged, and applied after, so until SettleRedemption has
// finished, Sync keeps reporting the redemption. Calling it again
// finishes an interrupted settlement and moves nothing twice: each op's
// ID is used once in the store and is its ledger idempotency key, and the
// ledger state that admits a settlement stays admitted (a hold voided by
// "void:<id>" counts as pending). A redemption settled already is settled
// again without effect, and the same Settlement is returned.
//
// An actor of the redemption's owning node settles (the policy is asked
// for ActSettle on the owning node), or the system; never the volunteer
// himself. Errors, with nothing changed:
//   - ErrInvalid: reason is empty;
//   - ErrNotFound: no redemption id;
//   - ErrForbidden: the actor may not settle it (the refusal is recorded);
//   - ErrState: the redemption is in none of the states above. Among
//     them: it is still held (fulfil or cancel it first; its post or void
//     is refused too, as expected); the ledger has no transfer "hold:<id>",
//     or no post or void the settlement needs, yet (Sync applies it
//     first); the ledger applied the hold and its post or void (nothing to
//     settle); or the ledger refused the hold of a fulfilled redemption, or
//     its post, for another reason than lateness, such as
//     ledger.ErrInsufficientFunds: the ledger and the store disagree
//     beyond this redemption, and a settle op could be refused for the
//     same reason once the refused ops were dropped. SettleRedemption does
//     not settle such a redemption, even later: the ledger keeps the
//     refusal; the ledger and the outbox are reconciled by other means;
//   - ErrLedger together with the ledger's error: the ledger could not be
//     read.
//
// After the ops are stored, an error wraps ErrLedger: the settlement
// stands but is not finished (the ledger failed or refused an op, an
// earlier pending op of the volunteer failed before them, or the store
// took no acknowledgement). Call SettleRedemption again, or let Sync apply
// the ops once the refused ones are acknowledged. Other errors are the
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
	hold, err := s.ledgerTransfer(ctx, red.ID, "hold", "hold:"+red.ID)
	if err != nil {
		return Settlement{}, err
	}
	out := Settlement{Redemption: red, Points: zero}
	var ops []Op // the void and settle ops of a fulfilled redemption
	switch red.Status {
	case RedemptionHeld:
		if hold.Status == ledger.StatusRefused {
			return Settlement{}, fmt.Errorf("points: settle: redemption %s: field status: held: fulfil or cancel it first (the ledger refuses its post or void too, as expected), then settle it: %w", id, ErrState)
		}
		return Settlement{}, fmt.Errorf("points: settle: redemption %s: field hold: the ledger holds %s as %s, not refused: nothing to settle: %w", id, hold.ID, hold.Status, ErrState)
	case RedemptionFulfilled:
		if out.Dropped, err = s.fulfilledDropped(ctx, &red, &hold); err != nil {
			return Settlement{}, err
		}
		if hold.Status == ledger.StatusPending {
			ops = append(ops, Op{ID: "void:" + red.ID, Kind: OpVoid, Volunteer: red.Volunteer, Hours: zero, Points: red.Price,
				Hold: string(hold.ID), Counterparty: Redeemed, Reason: "points.settle", At: s.now(), Principal: a.ID})
		}
		ops = append(ops, Op{ID: "settle:" + red.ID, Kind: OpTransfer, Volunteer: red.Volunteer, Hours: zero, Points: red.Price.Neg(),
			Counterparty: Redeemed, Reason: "points.settle", At: red.ClosedAt, Principal: a.ID})
		out.Transfer, out.Points = ledger.TransferID("settle:"+red.ID), red.Price
	default:
		if out.Dropped, err = s.releasedDropped(ctx, &red, &hold); err != nil {
			return Settlement{}, err
		}
	}
	if len(ops) > 0 {
		err := s.store.Commit(ctx, &Change{Ops: ops})
		switch {
		case err == nil:
		case isDuplicate(err):
			// Stored by an earlier call: apply the stored ops (their
			// content is what the ledger knows) still pending.
			if ops, err = s.pendingOps(ctx, ops); err != nil {
				return out, fmt.Errorf("points: settle: redemption %s: %w", id, err)
			}
		default:
			return Settlement{}, fmt.Errorf("points: settle: redemption %s: store ops: %w", id, err)
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
		"actor", a.ID, "role", a.Role, "reason", reason, "transfer", out.Transfer, "points", out.Points.String(), "dropped", out.Dropped)
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

// fulfilledDropped returns the ops to acknowledge for a fulfilled
// redemption whose hold the ledger holds as hold, or an error wrapping
// ErrState when the ledger's state admits no settlement (ErrLedger when it
// cannot be read).
func (s *Service) fulfilledDropped(ctx context.Context, red *Redemption, hold *ledger.Transfer) ([]string, error) {
	post := "post:" + red.ID
	switch {
	case hold.Status == ledger.StatusRefused && !hold.RecordedAt.Before(hold.HoldUntil):
		// Refused for lateness, the first rule a hold meets: the post
		// is refused too, or will be.
		return []string{string(hold.ID), post}, nil
	case hold.Status == ledger.StatusRefused:
		return nil, fmt.Errorf("points: settle: redemption %s: field hold: the ledger refused %s on time, for another reason than lateness (%v): the ledger and the store disagree and a settle op would be refused too; reconcile the ledger first: %w",
			red.ID, hold.ID, hold.Refusal, ErrState)
	case hold.Status == ledger.StatusPending, hold.Status == ledger.StatusExpired,
		hold.Status == ledger.StatusVoided && hold.ResolvedBy == ledger.TransferID("void:"+red.ID):
		// Placed on time; voided, if at all, by an earlier settlement.
	default:
		return nil, fmt.Errorf("points: settle: redemption %s: field hold: the ledger holds %s as %s, not refused: nothing to settle: %w", red.ID, hold.ID, hold.Status, ErrState)
	}
	tr, err := s.ledgerTransfer(ctx, red.ID, "post", post)
	switch {
	case err != nil:
		return nil, err
	case tr.Status != ledger.StatusRefused:
		return nil, fmt.Errorf("points: settle: redemption %s: field post: the ledger holds %s as %s and %s as %s, not refused: nothing to settle: %w",
			red.ID, hold.ID, hold.Status, tr.ID, tr.Status, ErrState)
	case errors.Is(tr.Refusal, ledger.ErrHoldExpired),
		errors.Is(tr.Refusal, ledger.ErrNotPending) && hold.Status == ledger.StatusExpired:
		return []string{post}, nil
	}
	return nil, fmt.Errorf("points: settle: redemption %s: field post: the ledger refused %s for another reason than lateness (%v): the ledger and the store disagree; reconcile the ledger first: %w",
		red.ID, tr.ID, tr.Refusal, ErrState)
}

// releasedDropped returns the ops to acknowledge for a cancelled or
// expired redemption whose hold the ledger holds as hold, or an error
// wrapping ErrState when there is nothing to settle (ErrLedger when the
// ledger cannot be read).
func (s *Service) releasedDropped(ctx context.Context, red *Redemption, hold *ledger.Transfer) ([]string, error) {
	void := "void:" + red.ID
	switch hold.Status {
	case ledger.StatusRefused:
		// The ledger never held the points, whatever the reason.
		return []string{string(hold.ID), void}, nil
	case ledger.StatusExpired:
		// The ledger released the points before the void reached it.
		tr, err := s.ledgerTransfer(ctx, red.ID, "void", void)
		if err != nil {
			return nil, err
		}
		if tr.Status == ledger.StatusRefused {
			return []string{void}, nil
		}
		return nil, fmt.Errorf("points: settle: redemption %s: field void: the ledger holds %s as expired and %s as %s, not refused: nothing to settle: %w",
			red.ID, hold.ID, tr.ID, tr.Status, ErrState)
	}
	return nil, fmt.Errorf("points: settle: redemption %s: field hold: the ledger holds %s as %s, not refused: nothing to settle: %w", red.ID, hold.ID, hold.Status, ErrState)
}

// ledgerTransfer reads the ledger transfer id, the op field of redemption
// red; an unknown transfer is ErrState (Sync applies it first), a failed
// read ErrLedger.
func (s *Service) ledgerTransfer(ctx context.Context, red, field, id string) (ledger.Transfer, error) {
	tr, err := s.book.led.TransferByID(ctx, ledger.TransferID(id))
	switch {
	case errors.Is(err, ledger.ErrTransferNotFound):
		return tr, fmt.Errorf("points: settle: redemption %s: field %s: the ledger has no transfer %s yet; Sync applies it: %w", red, field, id, ErrState)
	case err != nil:
		return tr, fmt.Errorf("points: settle: redemption %s: read ledger transfer %s: %w: %w", red, id, ErrLedger, err)
	}
	return tr, nil
}

// pendingOps returns those of ops the store holds as pending, as stored,
// in Seq order. It reads the pending ops from the oldest, up to
// inOrderMax of them; past them it reports ErrLedger (the ledger is far
// behind; Sync applies the ops).
func (s *Service) pendingOps(ctx context.Context, ops []Op) ([]Op, error) {
	for limit := inOrderWindow; ; limit *= 16 {
		pending, err := s.store.PendingOps(ctx, limit)
		if err != nil {
			return nil, fmt.Errorf("points: read pending ledger ops: %w: %w", ErrLedger, err)
		}
		var out []Op
		for i := range pending {
			for j := range ops {
				if pending[i].ID == ops[j].ID {
					out = append(out, pending[i])
				}
			}
		}
		if len(out) == len(ops) || len(pending) < limit {
			return out, nil
		}
		if limit >= inOrderMax {
			return nil, fmt.Errorf("points: ledger op %s: not among the first %d pending ops; Sync applies them in order: %w", ops[len(ops)-1].ID, limit, ErrLedger)
		}
	}
}
