package dispatchtest

import (
	"context"
	"testing"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
	"github.com/stretchr/testify/require"
)

func orderTests() []test {
	ctx := context.Background()
	nothingStored := func(t *testing.T, f *Fixture) {
		t.Helper()
		orders, err := f.Store.Orders(ctx, "", 100)
		require.NoError(t, err)
		require.Empty(t, orders, "a refused order was stored")
		ev, err := f.Store.Events(ctx, 0, 100)
		require.NoError(t, err)
		require.Empty(t, ev, "a refused order wrote an event")
	}
	return []test{
		{"order/place", func(t *testing.T, f *Fixture) {
			o := f.Place(t, NodeS1)
			require.Equal(t, dispatch.OrderID("o-00001"), o.ID)
			require.Equal(t, dispatch.Ordered, o.State)
			require.Equal(t, uint64(1), o.Version)
			require.Equal(t, dispatch.StatusOpen, o.Public())
			require.Equal(t, f.Resident.ID, o.Resident)
			require.Equal(t, Start, o.OrderedAt)
			got, err := f.Store.Order(ctx, o.ID)
			require.NoError(t, err)
			require.Equal(t, o, got)
			h, err := f.Store.History(ctx, o.ID)
			require.NoError(t, err)
			require.Equal(t, []dispatch.HistoryEntry{{Version: 1, Actor: f.Resident, Trigger: dispatch.TriggerOrder, To: dispatch.Ordered, At: Start}}, h)
			ev, err := f.Store.Events(ctx, 0, 10)
			require.NoError(t, err)
			require.Len(t, ev, 1)
			require.Equal(t, uint64(1), ev[0].Seq)
			require.Equal(t, dispatch.TriggerOrder, ev[0].Trigger)
			require.Equal(t, ItemMeal, ev[0].Item)
		}},
		{"order/unknown-item", func(t *testing.T, f *Fixture) {
			_, err := f.Service.PlaceOrder(ctx, f.Resident, dispatch.OrderRequest{Item: "NOPE", Node: NodeS1, Fields: MealFields()})
			require.ErrorIs(t, err, dispatch.ErrNotFound)
			require.Contains(t, err.Error(), "field item")
			nothingStored(t, f)
		}},
		{"order/bad-fields", func(t *testing.T, f *Fixture) {
			cases := []struct {
				name, key, value, field string
				drop                    bool
			}{
				{"missing address", "address", "", "address", true},
				{"blank address", "address", "  ", "address", false},
				{"missing people", "people", "", "people", true},
				{"people not a number", "people", "two", "people", false},
				{"people NaN", "people", "NaN", "people", false},
				{"bad date", "day", "06/03/2026", "day", false},
				{"bad choice", "diet", "vegan", "diet", false},
				{"unknown field", "colour", "red", "colour", false},
			}
			for _, tc := range cases {
				fields := MealFields()
				if tc.drop {
					delete(fields, tc.key)
				} else {
					fields[tc.key] = tc.value
				}
				_, err := f.Service.PlaceOrder(ctx, f.Resident, dispatch.OrderRequest{Item: ItemMeal, Node: NodeS1, Fields: fields})
				require.ErrorIs(t, err, dispatch.ErrInvalid, tc.name)
				require.Contains(t, err.Error(), "field "+tc.field, tc.name)
			}
			nothingStored(t, f)
		}},
		{"order/optional-fields-may-be-left-out", func(t *testing.T, f *Fixture) {
			o, err := f.Service.PlaceOrder(ctx, f.Resident, dispatch.OrderRequest{Item: ItemMeal, Node: NodeS2,
				Fields: map[string]string{"address": "x", "people": "1.5"}})
			require.NoError(t, err)
			require.Equal(t, dispatch.Ordered, o.State)
		}},
		{"order/outside-area", func(t *testing.T, f *Fixture) {
			_, err := f.Service.PlaceOrder(ctx, f.Resident, dispatch.OrderRequest{Item: ItemCheckup, Node: NodeS1, Fields: map[string]string{"address": "x"}})
			require.ErrorIs(t, err, dispatch.ErrOutOfArea)
			require.Contains(t, err.Error(), "field node")
			_, err = f.Service.PlaceOrder(ctx, f.Resident, dispatch.OrderRequest{Item: ItemMeal, Node: "S404", Fields: MealFields()})
			require.ErrorIs(t, err, dispatch.ErrNotFound)
			_, err = f.Service.PlaceOrder(ctx, f.Resident, dispatch.OrderRequest{Item: ItemMeal, Fields: MealFields()})
			require.ErrorIs(t, err, dispatch.ErrInvalid)
			nothingStored(t, f)
		}},
		{"order/only-residents", func(t *testing.T, f *Fixture) {
			for _, a := range []org.Actor{f.Desk, f.Admin, f.Leaders[TeamS1], {Role: org.RoleResident}} {
				_, err := f.Service.PlaceOrder(ctx, a, dispatch.OrderRequest{Item: ItemMeal, Node: NodeS1, Fields: MealFields()})
				require.ErrorIs(t, err, dispatch.ErrForbidden, a.ID)
				require.ErrorIs(t, err, org.ErrForbidden, a.ID)
			}
			nothingStored(t, f)
		}},
		{"order/duplicate-id", func(t *testing.T, f *Fixture) {
			req := dispatch.OrderRequest{ID: "mine-1", Item: ItemMeal, Node: NodeS1, Fields: MealFields()}
			_, err := f.Service.PlaceOrder(ctx, f.Resident, req)
			require.NoError(t, err)
			_, err = f.Service.PlaceOrder(ctx, f.Resident, req)
			require.ErrorIs(t, err, dispatch.ErrDuplicate)
			h, err := f.Store.History(ctx, "mine-1")
			require.NoError(t, err)
			require.Len(t, h, 1)
		}},
		{"order/returned-values-are-copies", func(t *testing.T, f *Fixture) {
			o := f.Drive(t, dispatch.Completed)
			o.Fields[0].Value = "changed"
			o.Completion.Participants[0].Volunteer = "X"
			o.Item.Fields[0].Name = "changed"
			got, err := f.Store.Order(ctx, o.ID)
			require.NoError(t, err)
			addr, ok := got.Field("address")
			require.True(t, ok)
			require.Equal(t, "No. 3 Elm Lane", addr)
			require.Equal(t, org.VolunteerID("V-001"), got.Completion.Participants[0].Volunteer)
			require.Equal(t, "address", got.Item.Fields[0].Name)
		}},
		{"order/unknown-order", func(t *testing.T, f *Fixture) {
			_, err := f.Service.Fire(ctx, f.Desk, dispatch.Command{Order: "none", Trigger: dispatch.TriggerPublish})
			require.ErrorIs(t, err, dispatch.ErrNotFound)
			_, err = f.Service.Fire(ctx, f.Desk, dispatch.Command{Trigger: dispatch.TriggerPublish})
			require.ErrorIs(t, err, dispatch.ErrInvalid)
			o := f.Place(t, NodeS1)
			f.refused(t, f.Desk, dispatch.Command{Order: o.ID, Trigger: "teleport"}, dispatch.ErrInvalid, "trigger")
			f.refused(t, f.Desk, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerOrder}, dispatch.ErrInvalid, "trigger")
		}},
	}
}
