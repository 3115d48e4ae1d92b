package dispatchtest

import (
	"context"
	"testing"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/stretchr/testify/require"
)

func menuTests() []test {
	ctx := context.Background()
	return []test{
		{"menu/add-and-read", func(t *testing.T, f *Fixture) {
			got, err := f.Store.MenuItem(ctx, ItemMeal)
			require.NoError(t, err)
			want := MealItem()
			want.Version = 1
			require.Equal(t, want, got)
		}},
		{"menu/invalid-items", func(t *testing.T, f *Fixture) {
			cases := []struct {
				name  string
				edit  func(*dispatch.MenuItem)
				field string
			}{
				{"empty code", func(m *dispatch.MenuItem) { m.Code = " " }, "code"},
				{"no name", func(m *dispatch.MenuItem) { m.Name = "" }, "name"},
				{"no category", func(m *dispatch.MenuItem) { m.Category = "" }, "category"},
				{"no offeror", func(m *dispatch.MenuItem) { m.Offeror = "" }, "offeror"},
				{"negative deadline", func(m *dispatch.MenuItem) { m.Deadlines.AcceptWithin = -1 }, "deadlines"},
				{"unknown kind", func(m *dispatch.MenuItem) { m.Fields[0].Kind = "colour" }, "fields[0].kind"},
				{"choice without choices", func(m *dispatch.MenuItem) { m.Fields[3].Choices = nil }, "fields[3].choices"},
				{"text with choices", func(m *dispatch.MenuItem) { m.Fields[0].Choices = []string{"x"} }, "fields[0].choices"},
				{"repeated field", func(m *dispatch.MenuItem) { m.Fields[1].Name = "address" }, "fields[1].name"},
			}
			for _, tc := range cases {
				item := MealItem()
				item.Code = "NEW"
				tc.edit(&item)
				_, err := f.Service.AddMenuItem(ctx, f.Admin, item)
				require.ErrorIs(t, err, dispatch.ErrInvalid, tc.name)
				require.Contains(t, err.Error(), "field "+tc.field, tc.name)
			}
			items, err := f.Store.Menu(ctx, "", 100)
			require.NoError(t, err)
			require.Len(t, items, 2, "a refused item was stored")
		}},
		{"menu/duplicate-code", func(t *testing.T, f *Fixture) {
			_, err := f.Service.AddMenuItem(ctx, f.Admin, MealItem())
			require.ErrorIs(t, err, dispatch.ErrDuplicate)
		}},
		{"menu/only-admins-in-scope", func(t *testing.T, f *Fixture) {
			item := MealItem()
			item.Code = "NEW"
			_, err := f.Service.AddMenuItem(ctx, f.Desk, item)
			require.ErrorIs(t, err, dispatch.ErrForbidden)
			_, err = f.Service.AddMenuItem(ctx, f.AdminI2, item) // offered by C, outside I2
			require.ErrorIs(t, err, dispatch.ErrForbidden)
			_, err = f.Store.MenuItem(ctx, "NEW")
			require.ErrorIs(t, err, dispatch.ErrNotFound)
		}},
		{"menu/area-within-offeror", func(t *testing.T, f *Fixture) {
			item := MealItem()
			item.Code, item.Offeror, item.Area = "NEW", NodeI1, NodeS3
			_, err := f.Service.AddMenuItem(ctx, f.Admin, item)
			require.ErrorIs(t, err, dispatch.ErrOutOfArea)
			item.Area = "nowhere"
			_, err = f.Service.AddMenuItem(ctx, f.Admin, item)
			require.ErrorIs(t, err, dispatch.ErrNotFound)
		}},
		{"menu/retire-keeps-snapshot", func(t *testing.T, f *Fixture) {
			o := f.Place(t, NodeS1)
			m, err := f.Service.RetireMenuItem(ctx, f.Admin, ItemMeal)
			require.NoError(t, err)
			require.True(t, m.Retired)
			require.Equal(t, uint64(2), m.Version)
			_, err = f.Service.PlaceOrder(ctx, f.Resident, dispatch.OrderRequest{Item: ItemMeal, Node: NodeS1, Fields: MealFields()})
			require.ErrorIs(t, err, dispatch.ErrRetired)
			require.Contains(t, err.Error(), "field item")
			got, err := f.Store.Order(ctx, o.ID)
			require.NoError(t, err)
			require.False(t, got.Item.Retired, "the order's copy of the item changed")
			require.Equal(t, uint64(1), got.Item.Version)
			_, err = f.Service.RetireMenuItem(ctx, f.Admin, ItemMeal)
			require.ErrorIs(t, err, dispatch.ErrRetired)
		}},
		{"menu/stale-version", func(t *testing.T, f *Fixture) {
			item := MealItem()
			item.Version = 2
			require.ErrorIs(t, f.Store.SaveMenuItem(ctx, item, 7), dispatch.ErrConflict)
			item.Code = "NONE"
			require.ErrorIs(t, f.Store.SaveMenuItem(ctx, item, 1), dispatch.ErrNotFound)
		}},
		{"menu/paging", func(t *testing.T, f *Fixture) {
			for _, code := range []dispatch.ItemCode{"A1", "B2", "Z9"} {
				item := MealItem()
				item.Code = code
				_, err := f.Service.AddMenuItem(ctx, f.Admin, item)
				require.NoError(t, err)
			}
			page, err := f.Service.Menu(ctx, "", 2)
			require.NoError(t, err)
			require.Equal(t, []dispatch.ItemCode{"A1", "B2"}, codes(page))
			page, err = f.Service.Menu(ctx, "B2", 10)
			require.NoError(t, err)
			require.Equal(t, []dispatch.ItemCode{ItemCheckup, ItemMeal, "Z9"}, codes(page))
			page, err = f.Service.Menu(ctx, "Z9", 10)
			require.NoError(t, err)
			require.NotNil(t, page)
			require.Empty(t, page)
		}},
	}
}

func codes(items []dispatch.MenuItem) []dispatch.ItemCode {
	out := make([]dispatch.ItemCode, len(items))
	for i, m := range items {
		out[i] = m.Code
	}
	return out
}
