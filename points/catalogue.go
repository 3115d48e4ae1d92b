package points

import (
	"context"
	"fmt"
	"time"

	"github.com/civicloop/civicloop/org"
)

// defaultPickupWindow is how long a redemption waits for pickup by default.
const defaultPickupWindow = 7 * 24 * time.Hour

// validate checks an item's fields and fills defaults.
func (it *Item) validate(levels int) error {
	switch {
	case it.Owner == "":
		return fmt.Errorf("points: item: field owner: must not be empty: %w", ErrInvalid)
	case it.Name == "":
		return fmt.Errorf("points: item: field name: must not be empty: %w", ErrInvalid)
	case it.Stock < 0:
		return fmt.Errorf("points: item: field stock: %d is negative: %w", it.Stock, ErrInvalid)
	case it.MinLevel < 0 || it.MinLevel > levels:
		return fmt.Errorf("points: item: field min_level: %d is outside 0..%d: %w", it.MinLevel, levels, ErrInvalid)
	case it.Limit < 0:
		return fmt.Errorf("points: item: field limit: %d is negative: %w", it.Limit, ErrInvalid)
	case !it.ValidUntil.IsZero() && !it.ValidUntil.After(it.ValidFrom):
		return fmt.Errorf("points: item: field valid_until: not after valid_from: %w", ErrInvalidTime)
	case it.PickupWindow < 0:
		return fmt.Errorf("points: item: field pickup_window: %s is negative: %w", it.PickupWindow, ErrInvalid)
	}
	if err := checkPoints("item: field price", it.Price); err != nil {
		return err
	}
	switch it.LimitPeriod {
	case PeriodDay, PeriodWeek, PeriodMonth, PeriodYear, PeriodEver:
	case "":
		it.LimitPeriod = PeriodEver
	default:
		return fmt.Errorf("points: item: field limit_period: unknown period %q: %w", it.LimitPeriod, ErrInvalid)
	}
	if it.PickupWindow == 0 {
		it.PickupWindow = defaultPickupWindow
	}
	if it.Unlimited {
		it.Stock = 0
	}
	return nil
}

// PutItem adds an item to the catalogue (Version 0) or updates it (Version
// as read). An update keeps the stock, which changes only through Restock
// and redemptions, and whether the item is unlimited, which an update
// cannot change. The actor must act for the owning node.
func (s *Service) PutItem(ctx context.Context, a org.Actor, it Item) (Item, error) {
	if err := it.validate(len(s.scheme.StarThresholds)); err != nil {
		return Item{}, err
	}
	if err := s.authorize(ctx, a, ActItem, org.Target{Node: it.Owner}); err != nil {
		return Item{}, err
	}
	if it.ID == "" {
		if it.Version != 0 {
			return Item{}, fmt.Errorf("points: item: field id: empty on an update: %w", ErrInvalid)
		}
		it.ID = s.opts.NewID()
	}
	if it.Version == 0 {
		it.CreatedBy, it.CreatedAt = a.ID, s.now()
	} else {
		prev, err := s.store.Item(ctx, it.ID)
		if err != nil {
			return Item{}, fmt.Errorf("points: item: field id: %q: %w", it.ID, err)
		}
		if prev.Owner != it.Owner {
			return Item{}, fmt.Errorf("points: item %s: field owner: cannot move from %q to %q: %w", it.ID, prev.Owner, it.Owner, ErrInvalid)
		}
		if prev.Unlimited != it.Unlimited {
			// Held redemptions reserved stock, or did not, by what the item
			// was when they were made; a cancellation gives stock back by
			// what it is now. Switching would make or lose a unit.
			return Item{}, fmt.Errorf("points: item %s: field unlimited: cannot change from %t to %t on an update; add a new item: %w", it.ID, prev.Unlimited, it.Unlimited, ErrInvalid)
		}
		it.CreatedBy, it.CreatedAt, it.Stock = prev.CreatedBy, prev.CreatedAt, prev.Stock
	}
	it.ValidFrom, it.ValidUntil = micros(it.ValidFrom), micros(it.ValidUntil)
	it.Version++
	if err := s.store.Commit(ctx, &Change{Items: []Item{it}}); err != nil {
		return Item{}, err
	}
	return s.store.Item(ctx, it.ID)
}

// Restock adds n (positive) units to an item's stock.
func (s *Service) Restock(ctx context.Context, a org.Actor, id string, n int64) (Item, error) {
	if n <= 0 {
		return Item{}, fmt.Errorf("points: restock: field n: %d must be positive: %w", n, ErrInvalid)
	}
	it, err := s.store.Item(ctx, id)
	if err != nil {
		return Item{}, fmt.Errorf("points: restock: field id: %q: %w", id, err)
	}
	if err := s.authorize(ctx, a, ActItem, org.Target{Node: it.Owner}); err != nil {
		return Item{}, err
	}
	if it.Unlimited {
		return Item{}, fmt.Errorf("points: restock: item %s: field unlimited: an unlimited item has no stock: %w", id, ErrInvalid)
	}
	if err := s.store.Commit(ctx, &Change{Stock: []StockDelta{{Item: id, Delta: n}}}); err != nil {
		return Item{}, err
	}
	return s.store.Item(ctx, id)
}

// Item returns a catalogue item with its current stock.
func (s *Service) Item(ctx context.Context, id string) (Item, error) { return s.store.Item(ctx, id) }

// Catalogue returns the items a node owns (all items for an empty node).
func (s *Service) Catalogue(ctx context.Context, owner org.NodeID) ([]Item, error) {
	return s.store.Items(ctx, owner)
}

// periodStart returns the start of the limit period containing t.
func (s *Service) periodStart(p Period, t time.Time) time.Time {
	day, week, month, _ := s.scheme.Periods(t)
	switch p {
	case PeriodDay:
		return day
	case PeriodWeek:
		return week
	case PeriodMonth:
		return month
	case PeriodYear:
		return time.Date(month.Year(), 1, 1, 0, 0, 0, 0, s.scheme.Location)
	}
	return time.Time{}
}
