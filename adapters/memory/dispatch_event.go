package memory

import (
	"math"
	"time"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
)

// eventRow is a change-feed event as the store keeps it. The feed is the
// bulk of what the store holds (one event per commit), so an event that
// repeats its order's ID, node and menu item, uses the table's states and
// triggers and carries times in UTC is kept in a compact form: those
// strings are taken from the order's row, states and triggers become
// codes, times Unix nanoseconds and the actor an index into the store's
// actors. It is about a quarter of a dispatch.Event and holds a quarter of
// its pointers, which the garbage collector would otherwise scan at every
// cycle. Any other event is kept whole in full.
type eventRow struct {
	version    uint64
	at         int64 // Unix nanoseconds
	since      int64 // Unix nanoseconds; valid if hasSince
	row        int32 // the order's row number
	actor      int32 // index into DispatchStore.actors
	trigger    uint8 // index into triggerNames
	from, to   uint8 // indexes into stateNames
	hasSince   bool
	team       org.TeamID
	completion *dispatch.Completion
	evaluation *dispatch.Evaluation
	full       *dispatch.Event // the whole event, Seq included, when not compact
}

// stateNames and triggerNames are the table's states and triggers, with
// the empty state (the start) as state 0; stateCodes and triggerCodes
// invert them.
var (
	stateNames   = append([]dispatch.State{""}, dispatch.States()...)
	triggerNames = dispatch.Triggers()
	stateCodes   = codes(stateNames)
	triggerCodes = codes(triggerNames)
)

// codes maps each name to its index; names fit a byte.
func codes[T ~string](names []T) map[T]uint8 {
	m := make(map[T]uint8, len(names))
	for i, n := range names {
		m[n] = uint8(i)
	}
	return m
}

// unixNano returns t as Unix nanoseconds if that represents t exactly: a
// UTC time without monotonic reading within the range of int64
// nanoseconds.
func unixNano(t time.Time) (int64, bool) {
	n := t.UnixNano()
	return n, time.Unix(0, n).UTC() == t
}

// putEvent stores ev, the event of a commit of the order in row, at seq,
// with its completion and evaluation replaced by the store's copies.
func (s *DispatchStore) putEvent(dst *eventRow, ev *dispatch.Event, row *orderRow, seq uint64, completion *dispatch.Completion, evaluation *dispatch.Evaluation) {
	*dst = eventRow{version: ev.Version, team: ev.Team, completion: completion, evaluation: evaluation}
	ok := ev.Order == row.order.ID && ev.Node == row.node && ev.Item == row.order.Item.Code &&
		ev.Category == row.order.Item.Category && row.n <= math.MaxInt32
	var trigger, from, to uint8
	if ok {
		var k1, k2, k3 bool
		trigger, k1 = triggerCodes[ev.Trigger]
		from, k2 = stateCodes[ev.From]
		to, k3 = stateCodes[ev.To]
		ok = k1 && k2 && k3
	}
	if ok {
		dst.at, ok = unixNano(ev.At)
	}
	if ok && !ev.Since.IsZero() {
		dst.since, ok = unixNano(ev.Since)
		dst.hasSince = true
	}
	if !ok {
		full := *ev
		full.Seq = seq
		full.Completion, full.Evaluation = completion, evaluation
		*dst = eventRow{full: &full}
		return
	}
	dst.row = int32(row.n)
	dst.trigger, dst.from, dst.to = trigger, from, to
	dst.actor = s.actorIndex(ev.Actor)
}

// actorIndex returns a's index in s.actors, adding it if new.
func (s *DispatchStore) actorIndex(a org.Actor) int32 {
	if i, ok := s.actorIdx[a]; ok {
		return i
	}
	i := int32(len(s.actors))
	s.actors = append(s.actors, a)
	s.actorIdx[a] = i
	return i
}

// event returns the event stored at position i (0-based), sharing its
// completion and evaluation with the store.
func (s *DispatchStore) event(i int) dispatch.Event {
	e := s.events.at(i)
	if e.full != nil {
		return *e.full
	}
	r := s.rows.at(int(e.row))
	ev := dispatch.Event{
		Seq: uint64(i + 1), Order: r.order.ID, Version: e.version,
		Trigger: triggerNames[e.trigger], From: stateNames[e.from], To: stateNames[e.to],
		At: time.Unix(0, e.at).UTC(), Actor: s.actors[e.actor], Team: e.team, Node: r.node,
		Item: r.order.Item.Code, Category: r.order.Item.Category,
		Completion: e.completion, Evaluation: e.evaluation,
	}
	if e.hasSince {
		ev.Since = time.Unix(0, e.since).UTC()
	}
	return ev
}
