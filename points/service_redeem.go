package points

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/civicloop/civicloop/org"
)

// holdGrace keeps a ledger hold alive past its redemption's deadline, so
// that the points scheme, not the ledger's own expiry, closes redemptions.
const holdGrace = 30 * 24 * time.Hour

// Redeem redeems one unit of an item for a volunteer in one store write:
// it reserves the stock, allocates the points from his lots oldest first
// and holds them on the ledger (two-phase). The volunteer himself, or an
// actor of the owning node, may redeem. It refuses with ErrUnavailable
// outside the item's validity window, ErrLevel below its star level,
// ErrLimit over the per-person limit, ErrInsufficientPoints without enough
// available points and ErrOutOfStock when the stock is used up; concurrent
// redemptions never take more than the stock. When the redemption is
// stored but its hold could not be placed on the ledger yet, Redeem returns
// it together with an error wrapping ErrLedger: it stands (do not redeem
// again), and Sync places the hold.
func (s *Service) Redeem(ctx context.Context, a org.Actor, item string, v org.VolunteerID) (Redemption, error) {
	it, err := s.store.Item(ctx, item)
	if err != nil {
		return Redemption{}, fmt.Errorf("points: redeem: field item: %q: %w", item, err)
	}
	if err := s.authorize(ctx, a, ActRedeem, org.Target{Node: it.Owner, Owner: string(v)}); err != nil {
		return Redemption{}, err
	}
	if _, err := s.volunteer(ctx, "volunteer", v); err != nil {
		return Redemption{}, err
	}
	var red Redemption
	saved, err := s.commitSaved(ctx, func() (*Change, error) {
		now := s.now()
		// The wallet, then the item: the item read above serves only the
		// authorisation. A redemption of this volunteer stored after the
		// wallet read bumps its version, so this change then conflicts
		// and runs again; so the limit below is checked against an item
		// read no earlier than every redemption it counts (an update that
		// lowers the limit is never missed by both of two racing calls).
		w, lots, err := s.wallet(ctx, v, true)
		if err != nil {
			return nil, err
		}
		if it, err = s.store.Item(ctx, item); err != nil {
			return nil, fmt.Errorf("points: redeem: field item: %q: %w", item, err)
		}
		switch {
		case now.Before(it.ValidFrom):
			return nil, fmt.Errorf("points: redeem: item %s: field valid_from: not valid before %s: %w", item, it.ValidFrom.Format(time.RFC3339), ErrUnavailable)
		case !it.ValidUntil.IsZero() && !now.Before(it.ValidUntil):
			return nil, fmt.Errorf("points: redeem: item %s: field valid_until: expired at %s: %w", item, it.ValidUntil.Format(time.RFC3339), ErrUnavailable)
		case !it.Unlimited && it.Stock < 1:
			return nil, fmt.Errorf("points: redeem: item %s: field stock: none left: %w", item, ErrOutOfStock)
		}
		if w.Level < it.MinLevel {
			return nil, fmt.Errorf("points: redeem: item %s: field min_level: needs %d stars, volunteer %q has %d: %w", item, it.MinLevel, v, w.Level, ErrLevel)
		}
		if it.Limit > 0 {
			prior, err := s.store.Redemptions(ctx, v, item, s.periodStart(it.LimitPeriod, now))
			if err != nil {
				return nil, err
			}
			n := 0
			for _, p := range prior {
				if p.Status == RedemptionHeld || p.Status == RedemptionFulfilled {
					n++
				}
			}
			if n >= it.Limit {
				return nil, fmt.Errorf("points: redeem: item %s: field limit: %d per %s reached by volunteer %q: %w", item, it.Limit, it.LimitPeriod, v, ErrLimit)
			}
		}
		if !coversPrice(w, lots, it.Price) {
			avail := Available(w, lots)
			return nil, fmt.Errorf("points: redeem: item %s: field price: %s points, volunteer %q has %s available: %w", item, it.Price, v, avail, ErrInsufficientPoints)
		}
		c := newRedeemChange()
		allocs, changed, _ := take(lots, it.Price, "", c.Lots)
		red = Redemption{ID: s.opts.NewID(), Item: item, Owner: it.Owner, Volunteer: v, Price: it.Price, Status: RedemptionHeld,
			Allocations: allocs, PickupCode: s.opts.NewCode(), HeldAt: now, Deadline: now.Add(it.PickupWindow), Version: 1}
		c.Wallets = append(c.Wallets, w)
		c.Lots = changed
		c.Redemptions = append(c.Redemptions, red)
		c.Ops = append(c.Ops, Op{ID: "hold:" + red.ID, Kind: OpHold, Volunteer: v, Hours: zero, Points: it.Price.Neg(), Counterparty: Redeemed,
			Deadline: red.Deadline.Add(holdGrace), Reason: "points.redeem", At: now, Principal: a.ID})
		if !it.Unlimited {
			c.Stock = append(c.Stock, StockDelta{Item: item, Delta: -1})
		}
		return c, nil
	})
	if err != nil && !saved {
		return Redemption{}, err
	}
	// Stored: a ledger failure leaves the hold pending, and the caller has
	// the redemption (and its pickup code) all the same.
	return red, err
}

// Fulfil hands the item over against its pickup code and spends the held
// points (posts the hold). An actor of the owning node fulfils; a
// redemption past its deadline cannot be fulfilled.
func (s *Service) Fulfil(ctx context.Context, a org.Actor, id, code string) (Redemption, error) {
	var red Redemption
	err := s.commit(ctx, func() (*Change, error) {
		var err error
		if red, err = s.store.Redemption(ctx, id); err != nil {
			return nil, fmt.Errorf("points: fulfil: field id: %q: %w", id, err)
		}
		if a.ID == string(red.Volunteer) {
			return nil, s.refuse(ctx, a, ActFulfil, org.Target{Node: red.Owner, Owner: string(red.Volunteer)}, errors.New("the volunteer does not hand over his own gift"))
		}
		if err := s.authorize(ctx, a, ActFulfil, org.Target{Node: red.Owner}); err != nil {
			return nil, err
		}
		now := s.now()
		switch {
		case red.Status != RedemptionHeld:
			return nil, fmt.Errorf("points: fulfil: redemption %s: status: %s: %w", id, red.Status, ErrState)
		case !now.Before(red.Deadline):
			return nil, fmt.Errorf("points: fulfil: redemption %s: field deadline: passed at %s: %w", id, red.Deadline.Format(time.RFC3339), ErrState)
		case code != red.PickupCode:
			return nil, fmt.Errorf("points: fulfil: redemption %s: field code: does not match: %w", id, ErrPickupCode)
		}
		red.Status, red.ClosedAt, red.ClosedBy = RedemptionFulfilled, now, a.ID
		red.Version++
		c := newSettleChange()
		c.Redemptions = append(c.Redemptions, red)
		// "post:<id>" and "hold:<id>" cut from one string.
		ids := "post:" + red.ID + "hold:" + red.ID
		post, hold := ids[:len(ids)/2], ids[len(ids)/2:]
		c.Ops = append(c.Ops, Op{ID: post, Kind: OpPost, Volunteer: red.Volunteer, Points: red.Price.Neg(), Hold: hold, Counterparty: Redeemed, Reason: "points.fulfil", At: now, Principal: a.ID})
		return c, nil
	})
	if err != nil {
		return Redemption{}, err
	}
	return red, nil
}

// Cancel cancels a held redemption: the points go back to their lots, the
// hold is voided and the stock restored. The volunteer himself or an actor
// of the owning node cancels.
func (s *Service) Cancel(ctx context.Context, a org.Actor, id, reason string) (Redemption, error) {
	if reason == "" {
		return Redemption{}, fmt.Errorf("points: cancel: field reason: must not be empty: %w", ErrInvalid)
	}
	red, err := s.store.Redemption(ctx, id)
	if err != nil {
		return Redemption{}, fmt.Errorf("points: cancel: field id: %q: %w", id, err)
	}
	if err := s.authorize(ctx, a, ActCancel, org.Target{Node: red.Owner, Owner: string(red.Volunteer)}); err != nil {
		return Redemption{}, err
	}
	return s.release(ctx, id, RedemptionCancelled, a.ID)
}

// ExpireRedemptions closes every held redemption whose pickup deadline is
// at or before now, like Cancel, and returns how many it closed. Running it
// again closes nothing twice.
func (s *Service) ExpireRedemptions(ctx context.Context, now time.Time) (int, error) {
	n := 0
	for {
		due, err := s.store.DueRedemptions(ctx, now, 500)
		if err != nil || len(due) == 0 {
			return n, err
		}
		for _, r := range due {
			_, err := s.release(ctx, r.ID, RedemptionExpired, "system")
			if errors.Is(err, ErrState) {
				continue // fulfilled or cancelled meanwhile
			}
			if err != nil {
				return n, err
			}
			n++
		}
	}
}

// release returns a held redemption's points to its lots, voids the hold
// and restores the stock.
func (s *Service) release(ctx context.Context, id string, to RedemptionStatus, by string) (Redemption, error) {
	var red Redemption
	err := s.commit(ctx, func() (*Change, error) {
		var err error
		if red, err = s.store.Redemption(ctx, id); err != nil {
			return nil, err
		}
		if red.Status != RedemptionHeld {
			return nil, fmt.Errorf("points: %s: redemption %s: status: %s: %w", to, id, red.Status, ErrState)
		}
		w, _, err := s.wallet(ctx, red.Volunteer, false)
		if err != nil {
			return nil, err
		}
		c := &Change{Wallets: []Wallet{w}}
		for _, al := range red.Allocations {
			lot, err := s.store.Lot(ctx, al.Lot)
			if err != nil {
				return nil, err
			}
			lot.Remaining = lot.Remaining.Add(al.Points)
			c.Lots = append(c.Lots, lot)
		}
		it, err := s.store.Item(ctx, red.Item)
		if err != nil {
			return nil, err
		}
		if !it.Unlimited {
			c.Stock = []StockDelta{{Item: red.Item, Delta: 1}}
		}
		now := s.now()
		red.Status, red.ClosedAt, red.ClosedBy = to, now, by
		red.Version++
		c.Redemptions = []Redemption{red}
		c.Ops = []Op{{ID: "void:" + red.ID, Kind: OpVoid, Volunteer: red.Volunteer, Points: red.Price, Hold: "hold:" + red.ID, Counterparty: Redeemed, Reason: "points." + string(to), At: now, Principal: by}}
		return c, nil
	})
	if err != nil {
		return Redemption{}, err
	}
	return red, nil
}

// Redemption returns a redemption by ID.
func (s *Service) Redemption(ctx context.Context, id string) (Redemption, error) {
	return s.store.Redemption(ctx, id)
}
