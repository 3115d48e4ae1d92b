package pointstest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
	"github.com/stretchr/testify/require"
)

// requireStock checks an item's stock.
func requireStock(t *testing.T, e *Env, id string, want int64) {
	t.Helper()
	it, err := e.Svc.Item(e.Ctx, id)
	require.NoError(t, err)
	require.Equal(t, want, it.Stock)
}

func redeemCases() []Case {
	return []Case{
		{Name: "RedeemHoldsPointsAndReservesStock", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 300)) // 50
			it := e.Item("30", 2, nil)
			red, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.NoError(t, err)
			require.Equal(t, points.RedemptionHeld, red.Status)
			require.NotEmpty(t, red.PickupCode)
			requireStock(t, e, it.ID, 1)
			bal, avail := e.Balance("V1", points.PointsAsset)
			RequireDec(t, "50", bal, "posted balance unchanged while held")
			RequireDec(t, "20", avail, "available less the hold")
		}},
		{Name: "FulfilPostsHoldAgainstPickupCode", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 300))
			it := e.Item("30", 2, nil)
			red, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.NoError(t, err)
			_, err = e.Svc.Fulfil(e.Ctx, Admin("S1"), red.ID, "wrong")
			require.ErrorIs(t, err, points.ErrPickupCode)
			_, err = e.Svc.Fulfil(e.Ctx, Vol("V1"), red.ID, red.PickupCode)
			require.ErrorIs(t, err, points.ErrForbidden)
			red, err = e.Svc.Fulfil(e.Ctx, Admin("S1"), red.ID, red.PickupCode)
			require.NoError(t, err)
			require.Equal(t, points.RedemptionFulfilled, red.Status)
			e.RequireBalances("V1", "5", "20")
			_, err = e.Svc.Fulfil(e.Ctx, Admin("S1"), red.ID, red.PickupCode)
			require.ErrorIs(t, err, points.ErrState)
			requireStock(t, e, it.ID, 1)
		}},
		{Name: "CancelReleasesPointsAndStock", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 300))
			it := e.Item("30", 1, nil)
			red, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.NoError(t, err)
			_, err = e.Svc.Cancel(e.Ctx, Vol("V2"), red.ID, "not mine")
			require.ErrorIs(t, err, points.ErrForbidden)
			red, err = e.Svc.Cancel(e.Ctx, Vol("V1"), red.ID, "changed my mind")
			require.NoError(t, err)
			require.Equal(t, points.RedemptionCancelled, red.Status)
			requireStock(t, e, it.ID, 1)
			bal, avail := e.Balance("V1", points.PointsAsset)
			RequireDec(t, "50", bal, "balance")
			RequireDec(t, "50", avail, "available again")
			_, err = e.Svc.Cancel(e.Ctx, Vol("V1"), red.ID, "twice")
			require.ErrorIs(t, err, points.ErrState)
		}},
		{Name: "ExpireRedemptionsAfterPickupWindow", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 300))
			it := e.Item("30", 1, func(it *points.Item) { it.PickupWindow = 48 * time.Hour })
			red, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.NoError(t, err)
			n, err := e.Svc.ExpireRedemptions(e.Ctx, e.Clock.Now().Add(47*time.Hour))
			require.NoError(t, err)
			require.Zero(t, n)
			e.Clock.Advance(49 * time.Hour)
			_, err = e.Svc.Fulfil(e.Ctx, Admin("S1"), red.ID, red.PickupCode)
			require.ErrorIs(t, err, points.ErrState, "too late to fulfil")
			n, err = e.Svc.ExpireRedemptions(e.Ctx, e.Clock.Now())
			require.NoError(t, err)
			require.Equal(t, 1, n)
			n, err = e.Svc.ExpireRedemptions(e.Ctx, e.Clock.Now())
			require.NoError(t, err)
			require.Zero(t, n)
			got, err := e.Svc.Redemption(e.Ctx, red.ID)
			require.NoError(t, err)
			require.Equal(t, points.RedemptionExpired, got.Status)
			requireStock(t, e, it.ID, 1)
			_, avail := e.Balance("V1", points.PointsAsset)
			RequireDec(t, "50", avail, "available again")
		}},
		{Name: "RedeemWithoutEnoughPointsRefused", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 120)) // 20
			it := e.Item("30", 1, nil)
			_, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.ErrorIs(t, err, points.ErrInsufficientPoints)
			require.ErrorContains(t, err, "price")
			requireStock(t, e, it.ID, 1)
			_, avail := e.Balance("V1", points.PointsAsset)
			RequireDec(t, "20", avail, "nothing held")
		}},
		{Name: "RedeemOutOfStockRefused", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 300))
			it := e.Item("10", 1, nil)
			_, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.NoError(t, err)
			_, err = e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.ErrorIs(t, err, points.ErrOutOfStock)
			_, avail := e.Balance("V1", points.PointsAsset)
			RequireDec(t, "40", avail, "only the first is held")
			it, err = e.Svc.Restock(e.Ctx, Admin("S1"), it.ID, 2)
			require.NoError(t, err)
			require.Equal(t, int64(2), it.Stock)
		}},
		{Name: "RedeemBelowStarLevelRefused", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 180)) // 3 h: 0 stars
			it := e.Item("10", 5, func(it *points.Item) { it.MinLevel = 1 })
			_, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.ErrorIs(t, err, points.ErrLevel)
			require.ErrorContains(t, err, "field min_level")
			requireStock(t, e, it.ID, 5)
			_, avail := e.Balance("V1", points.PointsAsset)
			RequireDec(t, "30", avail, "nothing held")
			e.Confirmed(Input("V1", 1, 60)) // 4 h: 1 star
			_, err = e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.NoError(t, err)
		}},
		{Name: "RedeemOverPerPersonLimitRefused", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 300))
			it := e.Item("5", 10, func(it *points.Item) { it.Limit, it.LimitPeriod = 2, points.PeriodMonth })
			a, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.NoError(t, err)
			_, err = e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.NoError(t, err)
			_, err = e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.ErrorIs(t, err, points.ErrLimit)
			require.ErrorContains(t, err, "field limit")
			requireStock(t, e, it.ID, 8)
			_, avail := e.Balance("V1", points.PointsAsset)
			RequireDec(t, "40", avail, "only the two redemptions are held")
			_, err = e.Svc.Cancel(e.Ctx, Vol("V1"), a.ID, "make room")
			require.NoError(t, err)
			_, err = e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.NoError(t, err, "a cancelled redemption does not count")
			e.Clock.Set(time.Date(2026, 4, 1, 1, 0, 0, 0, time.UTC))
			_, err = e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.NoError(t, err, "a new month")
			requireStock(t, e, it.ID, 7)
		}},
		{Name: "RedeemOutsideValidityRefused", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 300))
			now := e.Clock.Now()
			expired := e.Item("5", 10, func(it *points.Item) { it.ValidFrom, it.ValidUntil = now.Add(-48*time.Hour), now.Add(-time.Hour) })
			_, err := e.Svc.Redeem(e.Ctx, Vol("V1"), expired.ID, "V1")
			require.ErrorIs(t, err, points.ErrUnavailable)
			require.ErrorContains(t, err, "valid_until")
			future := e.Item("5", 10, func(it *points.Item) { it.ValidFrom = now.Add(time.Hour) })
			_, err = e.Svc.Redeem(e.Ctx, Vol("V1"), future.ID, "V1")
			require.ErrorIs(t, err, points.ErrUnavailable)
			requireStock(t, e, expired.ID, 10)
			_, avail := e.Balance("V1", points.PointsAsset)
			RequireDec(t, "50", avail, "nothing held")
		}},
		{Name: "ConcurrentRedemptionsNeverOversell", Run: func(t *testing.T, e *Env) {
			const n = 24
			var vs []org.VolunteerID
			for i := 0; i < n; i++ {
				v := org.VolunteerID(fmt.Sprintf("C%02d", i))
				e.Dir.Add(v)
				e.Confirmed(Input(v, 0, 60))
				vs = append(vs, v)
			}
			it := e.Item("10", 3, nil)
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i, v := range vs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = e.Svc.Redeem(e.Ctx, Vol(v), it.ID, v)
				}()
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				if err == nil {
					ok++
				} else {
					require.True(t, errors.Is(err, points.ErrOutOfStock), "%v", err)
				}
			}
			require.Equal(t, 3, ok)
			requireStock(t, e, it.ID, 0)
		}},
		{Name: "ConcurrentRedemptionsNeverOverspend", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 300)) // 50 points
			it := e.Item("10", 100, nil)
			const n = 12
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
				}()
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				if err == nil {
					ok++
				} else {
					require.True(t, errors.Is(err, points.ErrInsufficientPoints), "%v", err)
				}
			}
			require.Equal(t, 5, ok)
			requireStock(t, e, it.ID, 95)
			_, avail := e.Balance("V1", points.PointsAsset)
			RequireDec(t, "0", avail, "all held")
		}},
		{Name: "UnlimitedPrivilegeHasNoStock", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 300))
			it := e.Item("10", 0, func(it *points.Item) { it.Unlimited = true; it.Name = "免费入园" })
			for i := 0; i < 3; i++ {
				_, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
				require.NoError(t, err)
			}
			_, avail := e.Balance("V1", points.PointsAsset)
			RequireDec(t, "20", avail, "three held")
		}},
		{Name: "SpendingTakesOldestLotFirst", Run: func(t *testing.T, e *Env) {
			first := e.Confirmed(Input("V1", 0, 60)) // 10
			e.Clock.Advance(time.Hour)
			second := e.Confirmed(Input("V1", 1, 120)) // 20
			it := e.Item("15", 5, nil)
			red, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.NoError(t, err)
			require.Len(t, red.Allocations, 2)
			require.Equal(t, first.Award, red.Allocations[0].Lot)
			RequireDec(t, "10", red.Allocations[0].Points, "all of the older lot")
			require.Equal(t, second.Award, red.Allocations[1].Lot)
			RequireDec(t, "5", red.Allocations[1].Points, "the rest from the newer")
		}},
		{Name: "ItemValidation", Run: func(t *testing.T, e *Env) {
			for name, tc := range map[string]struct {
				edit  func(*points.Item)
				err   error
				field string
			}{
				"zero price":   {func(it *points.Item) { it.Price = Dec("0") }, points.ErrInvalidAmount, "price"},
				"fine price":   {func(it *points.Item) { it.Price = Dec("1.005") }, points.ErrInvalidAmount, "price"},
				"no owner":     {func(it *points.Item) { it.Owner = "" }, points.ErrInvalid, "owner"},
				"no name":      {func(it *points.Item) { it.Name = "" }, points.ErrInvalid, "name"},
				"neg stock":    {func(it *points.Item) { it.Stock = -1 }, points.ErrInvalid, "stock"},
				"level":        {func(it *points.Item) { it.MinLevel = 9 }, points.ErrInvalid, "min_level"},
				"period":       {func(it *points.Item) { it.Limit, it.LimitPeriod = 1, "decade" }, points.ErrInvalid, "limit_period"},
				"window order": {func(it *points.Item) { it.ValidFrom, it.ValidUntil = Day(2), Day(1) }, points.ErrInvalidTime, "valid_until"},
			} {
				it := points.Item{Owner: "S1", Name: "书", Price: Dec("5"), Stock: 1}
				tc.edit(&it)
				_, err := e.Svc.PutItem(e.Ctx, Admin("S1"), it)
				require.ErrorIs(t, err, tc.err, name)
				require.ErrorContains(t, err, tc.field, name)
			}
			_, err := e.Svc.PutItem(e.Ctx, Admin("S2"), points.Item{Owner: "S1", Name: "书", Price: Dec("5")})
			require.ErrorIs(t, err, points.ErrForbidden)
			items, err := e.Svc.Catalogue(e.Ctx, "")
			require.NoError(t, err)
			require.Empty(t, items)
		}},
		{Name: "ItemUpdateKeepsStock", Run: func(t *testing.T, e *Env) {
			it := e.Item("5", 4, nil)
			it.Name, it.Stock = "新名字", 100
			up, err := e.Svc.PutItem(e.Ctx, Admin("S1"), it)
			require.NoError(t, err)
			require.Equal(t, "新名字", up.Name)
			require.Equal(t, int64(4), up.Stock)
			_, err = e.Svc.PutItem(e.Ctx, Admin("S1"), it) // stale version
			require.ErrorIs(t, err, points.ErrConflict)
			items, err := e.Svc.Catalogue(e.Ctx, "S1")
			require.NoError(t, err)
			require.Len(t, items, 1)
		}},
		{Name: "RedeemStoredWhileLedgerDownIsReturned", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 120)) // 20 points
			it := e.Item("5", 5, nil)
			e.LStore.Fail.Store(true)
			red, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.ErrorIs(t, err, points.ErrLedger)
			require.NotEmpty(t, red.ID, "the stored redemption comes back with the error")
			require.NotEmpty(t, red.PickupCode)
			requireStock(t, e, it.ID, 4)
			stored, err := e.Store.Redemption(e.Ctx, red.ID)
			require.NoError(t, err)
			require.Equal(t, points.RedemptionHeld, stored.Status)
			e.LStore.Fail.Store(false)
			n, err := e.Svc.Sync(e.Ctx)
			require.NoError(t, err)
			require.Equal(t, 1, n, "the hold")
			_, avail := e.Balance("V1", points.PointsAsset)
			RequireDec(t, "15", avail, "5 held")
			_, err = e.Svc.Fulfil(e.Ctx, Admin("S1"), red.ID, red.PickupCode)
			require.NoError(t, err)
			e.RequireBalances("V1", "2", "15")
		}},
		{Name: "ItemCannotSwitchUnlimited", Run: func(t *testing.T, e *Env) {
			limited := e.Item("10", 3, nil)
			sw := limited
			sw.Unlimited = true
			_, err := e.Svc.PutItem(e.Ctx, Admin("S1"), sw)
			require.ErrorIs(t, err, points.ErrInvalid)
			require.ErrorContains(t, err, "field unlimited")
			got, err := e.Store.Item(e.Ctx, limited.ID)
			require.NoError(t, err)
			require.False(t, got.Unlimited, "unchanged")
			require.Equal(t, int64(3), got.Stock)
			require.Equal(t, limited.Version, got.Version)

			unlimited := e.Item("10", 0, func(it *points.Item) { it.Unlimited = true })
			sw = unlimited
			sw.Unlimited, sw.Stock = false, 5
			_, err = e.Svc.PutItem(e.Ctx, Admin("S1"), sw)
			require.ErrorIs(t, err, points.ErrInvalid)
			require.ErrorContains(t, err, "field unlimited")
			got, err = e.Store.Item(e.Ctx, unlimited.ID)
			require.NoError(t, err)
			require.True(t, got.Unlimited, "unchanged")
			require.Equal(t, unlimited.Version, got.Version)
		}},
	}
}
