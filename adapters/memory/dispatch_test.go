package memory

import (
	"cmp"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/dispatch/dispatchtest"
	"github.com/civicloop/civicloop/org"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestDispatchConformance(t *testing.T) {
	dispatchtest.Run(t, func(t *testing.T) dispatch.Store { return NewDispatchStore() })
}

// plainDispatchStore hides the optional extensions of DispatchStore (DueSharer),
// so that the service's generic path, the one SQL stores take, runs the
// suite too.
type plainDispatchStore struct{ dispatch.Store }

func TestDispatchConformancePlainStore(t *testing.T) {
	dispatchtest.Run(t, func(t *testing.T) dispatch.Store { return plainDispatchStore{NewDispatchStore()} })
}

var dueBase = time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)

// commitDue creates order id, dispatched with accept-by at.
func commitDue(t require.TestingT, s *DispatchStore, id dispatch.OrderID, at time.Time) {
	o := dispatch.Order{ID: id, State: dispatch.Dispatched, Team: "T", Version: 1, AcceptBy: at, Fields: []dispatch.FieldValue{{Name: "a", Value: "b"}}}
	entry := dispatch.HistoryEntry{Version: 1, Trigger: dispatch.TriggerOrder, To: dispatch.Dispatched, At: at}
	_, err := s.Commit(context.Background(), dispatch.Commit{Order: o, Entry: entry})
	require.NoError(t, err)
}

// TestDueOrder checks the heap's order (due time, then ID) against a sort,
// with IDs that tie on their first 16 bytes, are prefixes of each other or
// hold zero bytes, through both Due and DueShared.
func TestDueOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := NewDispatchStore()
		type want struct {
			at time.Time
			id dispatch.OrderID
		}
		var all []want
		ids := rapid.SliceOfNDistinct(rapid.SampledFrom([]string{
			"a", "a\x00", "b", "o0000000000000001", "o0000000000000001x", "o0000000000000001y",
			"o000000000000000", "o000000000000000\x00", "o0000000000000002", "zz", "0123456789abcdef", "0123456789abcdeg",
		}), 1, 12, rapid.ID).Draw(t, "ids")
		for _, id := range ids {
			at := dueBase.Add(time.Duration(rapid.IntRange(0, 2).Draw(t, "at")) * time.Second)
			commitDue(t, s, dispatch.OrderID(id), at)
			all = append(all, want{at, dispatch.OrderID(id)})
		}
		slices.SortFunc(all, func(a, b want) int {
			if c := a.at.Compare(b.at); c != 0 {
				return c
			}
			return cmp.Compare(a.id, b.id)
		})
		limit := rapid.IntRange(1, 13).Draw(t, "limit")
		now := dueBase.Add(time.Duration(rapid.IntRange(0, 2).Draw(t, "now")) * time.Second)
		var exp []dispatch.OrderID
		for _, w := range all {
			if !w.at.After(now) && len(exp) < limit {
				exp = append(exp, w.id)
			}
		}
		idsOf := func(os []dispatch.Order) []dispatch.OrderID {
			out := []dispatch.OrderID{}
			for _, o := range os {
				out = append(out, o.ID)
			}
			return out
		}
		due, err := s.Due(context.Background(), now, limit)
		require.NoError(t, err)
		require.Equal(t, append([]dispatch.OrderID{}, exp...), idsOf(due))
		shared, err := s.DueShared(context.Background(), now, limit, nil)
		require.NoError(t, err)
		require.Equal(t, idsOf(due), idsOf(shared))
		require.Equal(t, due, shared)
	})
}

// TestDueSharedStaysValid checks that what DueShared lends is not changed
// by later commits of the same order, and that Due's copies are the
// caller's own.
func TestDueSharedStaysValid(t *testing.T) {
	ctx := context.Background()
	s := NewDispatchStore()
	commitDue(t, s, "o1", dueBase)
	shared, err := s.DueShared(ctx, dueBase, 10, nil)
	require.NoError(t, err)
	require.Len(t, shared, 1)
	before := shared[0].Clone()

	next := shared[0]
	next.Version = 2
	next.State = dispatch.Returned
	next.ReturnedBy = append(slices.Clip(next.ReturnedBy), "T")
	next.Fields = []dispatch.FieldValue{{Name: "a", Value: "changed"}}
	entry := dispatch.HistoryEntry{Version: 2, Trigger: dispatch.TriggerReturn, From: dispatch.Dispatched, To: dispatch.Returned, At: dueBase}
	_, err = s.Commit(ctx, dispatch.Commit{Order: next, Expected: 1, Entry: entry})
	require.NoError(t, err)
	require.Equal(t, before, shared[0], "a commit changed an order DueShared had lent")

	got, err := s.Order(ctx, "o1")
	require.NoError(t, err)
	require.Equal(t, "changed", got.Fields[0].Value)
	got.Fields[0].Value = "mutated by the caller"
	got.ReturnedBy[0] = "X"
	again, err := s.Order(ctx, "o1")
	require.NoError(t, err)
	require.Equal(t, "changed", again.Fields[0].Value)
	require.Equal(t, []org.TeamID{"T"}, again.ReturnedBy)
}

// TestHistoryKeepsEntriesUnlikeTheEvent checks that a history entry that
// does not repeat its event (the store keeps those whole) reads back as
// committed, next to one that does.
func TestHistoryKeepsEntriesUnlikeTheEvent(t *testing.T) {
	ctx := context.Background()
	s := NewDispatchStore()
	resident := org.Actor{ID: "r", Role: org.RoleResident}
	o := dispatch.Order{ID: "o1", State: dispatch.Ordered, Version: 1}
	e1 := dispatch.HistoryEntry{Version: 1, Actor: resident, Trigger: dispatch.TriggerOrder, To: dispatch.Ordered, At: dueBase, Reason: "first"}
	_, err := s.Commit(ctx, dispatch.Commit{Order: o, Entry: e1}) // zero event
	require.NoError(t, err)
	o.Version, o.State = 2, dispatch.Cancelled
	e2 := dispatch.HistoryEntry{Version: 2, Actor: resident, Trigger: dispatch.TriggerCancel, From: dispatch.Ordered, To: dispatch.Cancelled, At: dueBase, Reason: "second"}
	ev := dispatch.Event{Order: "o1", Version: 2, Trigger: dispatch.TriggerCancel, From: dispatch.Ordered, To: dispatch.Cancelled, At: dueBase, Actor: resident}
	_, err = s.Commit(ctx, dispatch.Commit{Order: o, Expected: 1, Entry: e2, Event: ev})
	require.NoError(t, err)
	h, err := s.History(ctx, "o1")
	require.NoError(t, err)
	require.Equal(t, []dispatch.HistoryEntry{e1, e2}, h)
}

// TestDueHeapIsCompacted checks that commits moving orders from one
// deadline to the next, with no Due call in between, do not grow the due
// index without bound, and that it still answers right.
func TestDueHeapIsCompacted(t *testing.T) {
	ctx := context.Background()
	s := NewDispatchStore()
	const n = 100
	for i := range n {
		commitDue(t, s, dispatch.OrderID(rune('A'+i%26))+dispatch.OrderID(rune('a'+i/26)), dueBase.Add(time.Duration(i)*time.Second))
	}
	ids := make([]dispatch.OrderID, 0, n)
	for _, o := range dispatchMust(s.Orders(ctx, "", n)) {
		ids = append(ids, o.ID)
	}
	for round := range 50 { // each order gets a new accept-by 50 times
		for _, id := range ids {
			o := dispatchMust(s.Order(ctx, id))
			o.Version++
			o.AcceptBy = o.AcceptBy.Add(time.Hour)
			entry := dispatch.HistoryEntry{Version: o.Version, Trigger: dispatch.TriggerReassign, From: o.State, To: o.State, At: dueBase}
			_, err := s.Commit(ctx, dispatch.Commit{Order: o, Expected: o.Version - 1, Entry: entry})
			require.NoError(t, err, "round %d", round)
		}
	}
	require.LessOrEqual(t, s.due.len(), 2*n+1024)
	due := dispatchMust(s.Due(ctx, dueBase.Add(50*time.Hour+time.Duration(n)*time.Second), 2*n))
	require.Len(t, due, n)
	for i := 1; i < len(due); i++ {
		require.True(t, due[i-1].AcceptBy.Before(due[i].AcceptBy))
	}
}

func dispatchMust[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestEventsReadBackAsCommitted checks that events the store keeps in the
// compact form and those it keeps whole (a time with a zone or a monotonic
// reading, a trigger or state outside the table, another node) read back
// exactly as committed, with their history entries.
func TestEventsReadBackAsCommitted(t *testing.T) {
	ctx := context.Background()
	s := NewDispatchStore()
	desk := org.Actor{ID: "desk", Role: org.RoleDesk, Scope: "C"}
	lead := org.Actor{ID: "lead", Role: org.RoleTeamLeader, Team: "T"}
	item := dispatch.MenuItem{Code: "MEAL", Category: "elder"}
	o := dispatch.Order{ID: "o1", Item: item, Node: "S1", State: dispatch.Ordered, Version: 1}
	completion := &dispatch.Completion{Report: "done", Participants: []dispatch.Participant{{Volunteer: "V"}}}
	base := dispatch.Event{Order: "o1", Node: "S1", Item: "MEAL", Category: "elder", Team: "T"}
	zone := time.FixedZone("CST", 8*3600)
	steps := []struct {
		name string
		ev   func(e *dispatch.Event)
	}{
		{"compact", func(e *dispatch.Event) {
			e.Trigger, e.To, e.At, e.Actor = dispatch.TriggerOrder, dispatch.Ordered, dueBase, desk
		}},
		{"compact with since and completion", func(e *dispatch.Event) {
			e.Trigger, e.From, e.To, e.At, e.Actor = dispatch.TriggerComplete, dispatch.Accepted, dispatch.Completed, dueBase.Add(time.Hour), lead
			e.Since, e.Completion = dueBase, completion
		}},
		{"zone", func(e *dispatch.Event) { e.Trigger, e.At, e.Actor = dispatch.TriggerUrge, dueBase.In(zone), lead }},
		{"monotonic", func(e *dispatch.Event) { e.Trigger, e.At = dispatch.TriggerUrge, time.Now() }},
		{"since with zone", func(e *dispatch.Event) { e.Trigger, e.At, e.Since = dispatch.TriggerUrge, dueBase, dueBase.In(zone) }},
		{"unknown trigger", func(e *dispatch.Event) { e.Trigger, e.At = "poke", dueBase }},
		{"unknown state", func(e *dispatch.Event) { e.Trigger, e.To, e.At = dispatch.TriggerUrge, "limbo", dueBase }},
		{"other node", func(e *dispatch.Event) { e.Trigger, e.At, e.Node = dispatch.TriggerUrge, dueBase, "S2" }},
		{"other order", func(e *dispatch.Event) { e.Trigger, e.At, e.Order = dispatch.TriggerUrge, dueBase, "o2" }},
		{"zero", func(e *dispatch.Event) { *e = dispatch.Event{} }},
	}
	var want []dispatch.Event
	var entries []dispatch.HistoryEntry
	for i, step := range steps {
		ev := base
		step.ev(&ev)
		ev.Version = uint64(i + 1)
		o.Version = ev.Version
		entry := dispatch.HistoryEntry{Version: ev.Version, Actor: ev.Actor, Trigger: ev.Trigger, From: ev.From, To: ev.To, At: ev.At, Team: ev.Team, Reason: step.name}
		seq, err := s.Commit(ctx, dispatch.Commit{Order: o, Expected: o.Version - 1, Entry: entry, Event: ev})
		require.NoError(t, err, step.name)
		ev.Seq = seq
		require.Equal(t, i >= 2, s.events.at(i).full != nil, "%s: kept whole", step.name)
		want = append(want, ev)
		entries = append(entries, entry)
	}
	got, err := s.Events(ctx, 0, 100)
	require.NoError(t, err)
	require.Len(t, got, len(want))
	for i := range want {
		require.True(t, want[i].At == got[i].At && want[i].Since == got[i].Since, steps[i].name)
		require.Equal(t, want[i], got[i], steps[i].name)
	}
	h, err := s.History(ctx, "o1")
	require.NoError(t, err)
	require.Equal(t, entries, h)
}

// TestEventCodes checks that every state and trigger of the table has a
// code that maps back to it, so that the service's events are all kept
// compact.
func TestEventCodes(t *testing.T) {
	for _, st := range append([]dispatch.State{""}, dispatch.States()...) {
		c, ok := stateCode(st)
		require.True(t, ok, st)
		require.Equal(t, st, stateNames[c])
	}
	for _, tr := range dispatch.Triggers() {
		c, ok := triggerCode(tr)
		require.True(t, ok, tr)
		require.Equal(t, tr, triggerNames[c])
	}
	_, ok := stateCode("limbo")
	require.False(t, ok)
	_, ok = triggerCode("poke")
	require.False(t, ok)
}

// TestDispatchHammer: services sharing one store move the same orders at
// once (see dispatchtest.Hammer).
func TestDispatchHammer(t *testing.T) {
	s := NewDispatchStore()
	dispatchtest.Hammer(t, []dispatch.Store{s, s}, dispatchtest.HammerOptions{})
}
