package dispatch_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/civicloop/civicloop/adapters/memory"
	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/dispatch/dispatchtest"
	"github.com/civicloop/civicloop/org"
	"github.com/stretchr/testify/require"
)

// org's service is what users pass as the Directory and its policy as the
// Policy.
var (
	_ dispatch.Directory = (*org.Service)(nil)
	_ org.Policy         = (*org.DefaultPolicy)(nil)
)

func TestTableIsConsistent(t *testing.T) {
	seen := map[[3]string]bool{}
	for _, row := range dispatch.Transitions() {
		key := [3]string{string(row.From), string(row.Trigger), string(row.To)}
		require.False(t, seen[key], "row %v twice", key)
		seen[key] = true
		require.NotEmpty(t, row.Roles, "row %v has no roles", key)
		require.False(t, row.From.Terminal(), "row %v leaves a terminal state", key)
	}
	// Every state but the start is reachable from the start.
	reach := map[dispatch.State]bool{"": true}
	for changed := true; changed; {
		changed = false
		for _, row := range dispatch.Transitions() {
			if reach[row.From] && !reach[row.To] {
				reach[row.To], changed = true, true
			}
		}
	}
	for _, s := range dispatch.States() {
		require.True(t, reach[s], "state %s unreachable", s)
	}
	// Mutating the copy does not change the table.
	rows := dispatch.Transitions()
	rows[0].Roles[0] = org.RoleSystem
	require.Equal(t, org.RoleResident, dispatch.Transitions()[0].Roles[0])
}

func TestStateProperties(t *testing.T) {
	cases := []struct {
		s        dispatch.State
		active   bool
		public   dispatch.PublicStatus
		terminal bool
	}{
		{dispatch.Ordered, false, dispatch.StatusOpen, false},
		{dispatch.Published, false, dispatch.StatusOpen, false},
		{dispatch.Dispatched, true, dispatch.StatusOpen, false},
		{dispatch.Accepted, true, dispatch.StatusOpen, false},
		{dispatch.InService, true, dispatch.StatusOpen, false},
		{dispatch.Returned, false, dispatch.StatusOpen, false},
		{dispatch.Completed, false, dispatch.StatusClosed, false},
		{dispatch.Evaluated, false, dispatch.StatusClosed, false},
		{dispatch.Showcased, false, dispatch.StatusClosed, false},
		{dispatch.Rejected, false, dispatch.StatusClosed, true},
		{dispatch.Hidden, false, dispatch.StatusClosed, true},
		{dispatch.Cancelled, false, dispatch.StatusClosed, true},
		{dispatch.Closed, false, dispatch.StatusClosed, true},
	}
	require.Len(t, cases, len(dispatch.States()))
	for _, tc := range cases {
		require.Equal(t, tc.active, tc.s.Active(), tc.s)
		require.Equal(t, tc.public, tc.s.Public(), tc.s)
		require.Equal(t, tc.terminal, tc.s.Terminal(), tc.s)
	}
}

func TestOrderDue(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		o    dispatch.Order
		want time.Time
	}{
		{"dispatched", dispatch.Order{State: dispatch.Dispatched, AcceptBy: t0}, t0},
		{"accepted", dispatch.Order{State: dispatch.Accepted, CompleteBy: t0}, t0},
		{"accepted, urged", dispatch.Order{State: dispatch.InService, CompleteBy: t0, UrgedFor: t0}, time.Time{}},
		{"accepted, extended after urge", dispatch.Order{State: dispatch.InService, CompleteBy: t0.Add(time.Hour), UrgedFor: t0}, t0.Add(time.Hour)},
		{"completed", dispatch.Order{State: dispatch.Completed, EvaluateBy: t0}, t0},
		{"evaluated", dispatch.Order{State: dispatch.Evaluated, EvaluateBy: t0}, time.Time{}},
		{"ordered", dispatch.Order{State: dispatch.Ordered}, time.Time{}},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, tc.o.Due(), tc.name)
	}
}

func TestNewValidates(t *testing.T) {
	tree := dispatchtest.NewTree()
	pol := org.NewDefaultPolicy(tree)
	store := memory.NewDispatchStore()
	cases := []struct {
		name string
		err  error
		run  func() error
	}{
		{"nil store", dispatch.ErrInvalid, func() error { _, err := dispatch.New(nil, tree, pol, nil); return err }},
		{"nil directory", dispatch.ErrInvalid, func() error { _, err := dispatch.New(store, nil, pol, nil); return err }},
		{"nil policy", dispatch.ErrInvalid, func() error { _, err := dispatch.New(store, tree, nil, nil); return err }},
		{"negative returns", dispatch.ErrInvalid, func() error {
			_, err := dispatch.New(store, tree, pol, &dispatch.Options{MaxReturns: -1})
			return err
		}},
		{"negative deadline", dispatch.ErrInvalid, func() error {
			_, err := dispatch.New(store, tree, pol, &dispatch.Options{Deadlines: dispatch.Deadlines{EvaluateWithin: -time.Hour}})
			return err
		}},
		{"relay batch", dispatch.ErrInvalid, func() error {
			_, err := dispatch.NewRelay(store, dispatchtest.NewSink(), &dispatch.RelayOptions{Batch: 5000})
			return err
		}},
		{"defaults", nil, func() error { _, err := dispatch.New(store, tree, pol, nil); return err }},
	}
	for _, tc := range cases {
		err := tc.run()
		if tc.err == nil {
			require.NoError(t, err, tc.name)
		} else {
			require.ErrorIs(t, err, tc.err, tc.name)
		}
	}
}

// FuzzPlaceOrderFields feeds arbitrary field values to PlaceOrder: it
// either stores exactly the values given, or refuses with ErrInvalid
// naming a field and stores nothing.
func FuzzPlaceOrderFields(f *testing.F) {
	f.Add("No. 3 Elm Lane", "2", "2026-03-06", "soft", "")
	f.Add("", "2", "", "", "")
	f.Add("x", "1e3", "2026-02-30", "vegan", "colour")
	f.Add("x", "NaN", "06/03/2026", "normal", "address")
	f.Fuzz(func(t *testing.T, address, people, day, diet, extra string) {
		ctx := context.Background()
		fx := dispatchtest.NewFixture(t, memory.NewDispatchStore(), nil)
		fields := map[string]string{"address": address, "people": people, "day": day, "diet": diet}
		if extra != "" {
			fields[extra] = "?"
		}
		o, err := fx.Service.PlaceOrder(ctx, fx.Resident, dispatch.OrderRequest{Item: dispatchtest.ItemMeal, Node: dispatchtest.NodeS1, Fields: fields})
		orders, lerr := fx.Store.Orders(ctx, "", 10)
		require.NoError(t, lerr)
		if err != nil {
			require.True(t, errors.Is(err, dispatch.ErrInvalid), "%v", err)
			require.Contains(t, err.Error(), "field ")
			require.Empty(t, orders)
			return
		}
		require.Len(t, orders, 1)
		require.Len(t, orders[0].Fields, len(fields))
		for name, value := range fields {
			got, ok := orders[0].Field(name)
			require.True(t, ok, name)
			require.Equal(t, value, got)
		}
		require.Equal(t, o, orders[0])
		require.NotEmpty(t, strings.TrimSpace(address))
	})
}

// A refusal is recorded in the log with the actor and the reason.
func TestRefusalsAreLogged(t *testing.T) {
	var buf strings.Builder
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	f := dispatchtest.NewFixture(t, memory.NewDispatchStore(), &dispatch.Options{Logger: logger})
	o := f.Place(t, dispatchtest.NodeS1)
	_, err := f.Service.Fire(context.Background(), f.Other, dispatch.Command{Order: o.ID, Trigger: dispatch.TriggerCancel, Reason: "mine now"})
	require.ErrorIs(t, err, dispatch.ErrForbidden)
	require.ErrorIs(t, err, org.ErrForbidden)
	require.Contains(t, buf.String(), "dispatch: refused")
	require.Contains(t, buf.String(), "actor=res-2")
	require.Contains(t, buf.String(), "is not the order's resident")
}
