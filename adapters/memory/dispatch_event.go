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

// stateNames and triggerNames are the states and triggers of the
// transition table, with the empty state (the start) as state 0; a code is
// an index into them. stateCode and triggerCode invert them with a switch,
// quicker than a map. A state or trigger missing here is not an error:
// its events are kept whole.
var stateNames = []dispatch.State{
	"",
	dispatch.Ordered,
	dispatch.Rejected,
	dispatch.Published,
	dispatch.Dispatched,
	dispatch.Accepted,
	dispatch.InService,
	dispatch.Returned,
	dispatch.Completed,
	dispatch.Evaluated,
	dispatch.Showcased,
	dispatch.Hidden,
	dispatch.Cancelled,
	dispatch.Closed,
}

var triggerNames = []dispatch.Trigger{
	dispatch.TriggerOrder,
	dispatch.TriggerReject,
	dispatch.TriggerDispatch,
	dispatch.TriggerPublish,
	dispatch.TriggerClaim,
	dispatch.TriggerAccept,
	dispatch.TriggerReturn,
	dispatch.TriggerForceAssign,
	dispatch.TriggerReassign,
	dispatch.TriggerRequestExtension,
	dispatch.TriggerApprove,
	dispatch.TriggerUrge,
	dispatch.TriggerStart,
	dispatch.TriggerComplete,
	dispatch.TriggerEvaluate,
	dispatch.TriggerClose,
	dispatch.TriggerReopen,
	dispatch.TriggerShowcase,
	dispatch.TriggerHide,
	dispatch.TriggerCancel,
}

func stateCode(st dispatch.State) (uint8, bool) {
	switch st {
	case "":
		return 0, true
	case dispatch.Ordered:
		return 1, true
	case dispatch.Rejected:
		return 2, true
	case dispatch.Published:
		return 3, true
	case dispatch.Dispatched:
		return 4, true
	case dispatch.Accepted:
		return 5, true
	case dispatch.InService:
		return 6, true
	case dispatch.Returned:
		return 7, true
	case dispatch.Completed:
		return 8, true
	case dispatch.Evaluated:
		return 9, true
	case dispatch.Showcased:
		return 10, true
	case dispatch.Hidden:
		return 11, true
	case dispatch.Cancelled:
		return 12, true
	case dispatch.Closed:
		return 13, true
	}
	return 0, false
}

func triggerCode(tr dispatch.Trigger) (uint8, bool) {
	switch tr {
	case dispatch.TriggerOrder:
		return 0, true
	case dispatch.TriggerReject:
		return 1, true
	case dispatch.TriggerDispatch:
		return 2, true
	case dispatch.TriggerPublish:
		return 3, true
	case dispatch.TriggerClaim:
		return 4, true
	case dispatch.TriggerAccept:
		return 5, true
	case dispatch.TriggerReturn:
		return 6, true
	case dispatch.TriggerForceAssign:
		return 7, true
	case dispatch.TriggerReassign:
		return 8, true
	case dispatch.TriggerRequestExtension:
		return 9, true
	case dispatch.TriggerApprove:
		return 10, true
	case dispatch.TriggerUrge:
		return 11, true
	case dispatch.TriggerStart:
		return 12, true
	case dispatch.TriggerComplete:
		return 13, true
	case dispatch.TriggerEvaluate:
		return 14, true
	case dispatch.TriggerClose:
		return 15, true
	case dispatch.TriggerReopen:
		return 16, true
	case dispatch.TriggerShowcase:
		return 17, true
	case dispatch.TriggerHide:
		return 18, true
	case dispatch.TriggerCancel:
		return 19, true
	}
	return 0, false
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
		trigger, k1 = triggerCode(ev.Trigger)
		from, k2 = stateCode(ev.From)
		to, k3 = stateCode(ev.To)
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

// actorRow is an interned actor, chained to the next one with the same ID
// (an ID acting in several roles).
type actorRow struct {
	actor org.Actor
	next  int32 // index + 1 of the next actor with the same ID; 0 if none
}

// actorIndex returns a's index in s.actors, adding it if new. Actors are
// found by ID (one string to hash rather than four) and then compared.
func (s *DispatchStore) actorIndex(a org.Actor) int32 {
	i, ok := s.actorIdx[a.ID]
	if ok {
		for {
			r := &s.actors[i]
			if r.actor == a {
				return i
			}
			if r.next == 0 {
				break
			}
			i = r.next - 1
		}
	}
	n := int32(len(s.actors))
	s.actors = append(s.actors, actorRow{actor: a})
	if ok {
		s.actors[i].next = n + 1
	} else {
		s.actorIdx[a.ID] = n
	}
	return n
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
		At: time.Unix(0, e.at).UTC(), Actor: s.actors[e.actor].actor, Team: e.team, Node: r.node,
		Item: r.order.Item.Code, Category: r.order.Item.Category,
		Completion: e.completion, Evaluation: e.evaluation,
	}
	if e.hasSince {
		ev.Since = time.Unix(0, e.since).UTC()
	}
	return ev
}
