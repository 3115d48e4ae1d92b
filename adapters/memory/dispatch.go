package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
)

var _ dispatch.Store = (*DispatchStore)(nil)

// DispatchStore keeps the dispatch menu, orders, history and change feed in
// memory. It is safe for concurrent use: one mutex serialises writes, so a
// Commit's version check, capacity count and write are one atomic step.
type DispatchStore struct {
	mu        sync.Mutex
	menu      map[dispatch.ItemCode]dispatch.MenuItem
	orders    map[dispatch.OrderID]*orderRow
	ids       []dispatch.OrderID // sorted when !idsDirty
	idsDirty  bool
	events    eventLog
	positions map[string]uint64
	active    map[org.TeamID]int
	assigned  map[org.TeamID]uint64
	due       dueHeap
	lent      []dueEntry // popped by the last Due, see Due
	showcased map[dispatch.OrderID]struct{}
}

type orderRow struct {
	order   dispatch.Order
	history []dispatch.HistoryEntry
}

// NewDispatchStore returns an empty in-memory dispatch store.
func NewDispatchStore() *DispatchStore {
	return &DispatchStore{
		menu:      map[dispatch.ItemCode]dispatch.MenuItem{},
		orders:    map[dispatch.OrderID]*orderRow{},
		positions: map[string]uint64{},
		active:    map[org.TeamID]int{},
		assigned:  map[org.TeamID]uint64{},
		showcased: map[dispatch.OrderID]struct{}{},
	}
}

// SaveMenuItem implements dispatch.Store.
func (s *DispatchStore) SaveMenuItem(ctx context.Context, item dispatch.MenuItem, expected uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.menu[item.Code]
	switch {
	case expected == 0 && ok:
		return fmt.Errorf("menu item %q exists: %w", item.Code, dispatch.ErrDuplicate)
	case expected > 0 && !ok:
		return fmt.Errorf("menu item %q: %w", item.Code, dispatch.ErrNotFound)
	case expected > 0 && old.Version != expected:
		return fmt.Errorf("menu item %q: stored version %d, expected %d: %w", item.Code, old.Version, expected, dispatch.ErrConflict)
	}
	s.menu[item.Code] = item.Clone()
	return nil
}

// MenuItem implements dispatch.Store.
func (s *DispatchStore) MenuItem(ctx context.Context, code dispatch.ItemCode) (dispatch.MenuItem, error) {
	if err := ctx.Err(); err != nil {
		return dispatch.MenuItem{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	item, ok := s.menu[code]
	if !ok {
		return dispatch.MenuItem{}, fmt.Errorf("menu item %q: %w", code, dispatch.ErrNotFound)
	}
	return item.Clone(), nil
}

// Menu implements dispatch.Store.
func (s *DispatchStore) Menu(ctx context.Context, after dispatch.ItemCode, limit int) ([]dispatch.MenuItem, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []dispatch.MenuItem{}
	for _, item := range s.menu {
		if item.Code > after {
			out = append(out, item.Clone())
		}
	}
	slices.SortFunc(out, func(a, b dispatch.MenuItem) int { return cmp.Compare(a.Code, b.Code) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Commit implements dispatch.Store.
func (s *DispatchStore) Commit(ctx context.Context, c dispatch.Commit) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	o := c.Order
	if o.Version != c.Expected+1 || c.Entry.Version != o.Version {
		return 0, fmt.Errorf("order %q: version %d and history version %d must be %d: %w", o.ID, o.Version, c.Entry.Version, c.Expected+1, dispatch.ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	row, exists := s.orders[o.ID]
	switch {
	case c.Expected == 0 && exists:
		return 0, fmt.Errorf("order %q exists: %w", o.ID, dispatch.ErrDuplicate)
	case c.Expected > 0 && !exists:
		return 0, fmt.Errorf("order %q: %w", o.ID, dispatch.ErrNotFound)
	case exists && row.order.Version != c.Expected:
		return 0, fmt.Errorf("order %q: stored version %d, expected %d: %w", o.ID, row.order.Version, c.Expected, dispatch.ErrConflict)
	}
	// Capacity: count the team's active orders as they would be after the
	// write.
	held := exists && row.order.State.Active() && row.order.Team == o.Team
	if c.CheckCapacity && o.State.Active() && o.Team != "" {
		n := s.active[o.Team]
		if !held {
			n++
		}
		if n > c.Capacity {
			return 0, fmt.Errorf("team %q: %d active orders, capacity %d: %w", o.Team, s.active[o.Team], c.Capacity, dispatch.ErrCapacity)
		}
	}
	if exists && row.order.State.Active() && row.order.Team != "" {
		s.active[row.order.Team]--
	}
	if o.State.Active() && o.Team != "" {
		s.active[o.Team]++
	}
	ev := c.Event.Clone()
	ev.Seq = s.events.len() + 1
	s.events.append(ev)
	if c.Assigned && o.Team != "" {
		s.assigned[o.Team] = ev.Seq
	}
	if !exists {
		row = &orderRow{history: make([]dispatch.HistoryEntry, 0, 4)}
		s.orders[o.ID] = row
		s.ids = append(s.ids, o.ID)
		s.idsDirty = true
	}
	if o.State == dispatch.Showcased {
		s.showcased[o.ID] = struct{}{}
	} else if row.order.State == dispatch.Showcased {
		delete(s.showcased, o.ID)
	}
	// The menu item snapshot is fixed when the order is created; later
	// versions share the stored copy instead of cloning it again.
	item := row.order.Item
	if !exists {
		item = o.Item.Clone()
	}
	o.Item = dispatch.MenuItem{}
	row.order = o.Clone()
	row.order.Item = item
	row.history = append(row.history, c.Entry)
	if due := o.Due(); !due.IsZero() {
		s.due.push(dueEntry{at: due.UnixNano(), id: o.ID, version: o.Version})
	}
	return ev.Seq, nil
}

// Order implements dispatch.Store.
func (s *DispatchStore) Order(ctx context.Context, id dispatch.OrderID) (dispatch.Order, error) {
	if err := ctx.Err(); err != nil {
		return dispatch.Order{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	row, ok := s.orders[id]
	if !ok {
		return dispatch.Order{}, fmt.Errorf("order %q: %w", id, dispatch.ErrNotFound)
	}
	return row.order.Clone(), nil
}

// History implements dispatch.Store.
func (s *DispatchStore) History(ctx context.Context, id dispatch.OrderID) ([]dispatch.HistoryEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	row, ok := s.orders[id]
	if !ok {
		return nil, fmt.Errorf("order %q: %w", id, dispatch.ErrNotFound)
	}
	return slices.Clone(row.history), nil
}

// Orders implements dispatch.Store.
func (s *DispatchStore) Orders(ctx context.Context, after dispatch.OrderID, limit int) ([]dispatch.Order, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idsDirty {
		slices.Sort(s.ids)
		s.idsDirty = false
	}
	i, found := slices.BinarySearch(s.ids, after)
	if found {
		i++
	}
	out := []dispatch.Order{}
	for ; i < len(s.ids) && len(out) < limit; i++ {
		out = append(out, s.orders[s.ids[i]].order.Clone())
	}
	return out, nil
}

// Due implements dispatch.Store. Orders are indexed in a heap keyed by due
// time; an entry whose order has moved on since is dropped when met. The
// entries Due hands out are lent, not popped for good: the next Due puts
// back those whose order has not changed meanwhile, so a caller that does
// not act on an order sees it again, while the usual caller (Sweep, which
// commits each one) costs no second heap insertion.
func (s *DispatchStore) Due(ctx context.Context, now time.Time, limit int) ([]dispatch.Order, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.lent {
		if s.orders[e.id].order.Version == e.version {
			s.due.push(e)
		}
	}
	s.lent = s.lent[:0]
	out := make([]dispatch.Order, 0, min(limit, len(s.due)))
	until := now.UnixNano()
	for len(out) < limit && len(s.due) > 0 && s.due[0].at <= until {
		e := s.due.pop()
		row := s.orders[e.id]
		if row.order.Version != e.version {
			continue // stale: a later commit pushed a fresh entry if due
		}
		s.lent = append(s.lent, e)
		out = append(out, row.order.Clone())
	}
	return out, nil
}

// Loads implements dispatch.Store.
func (s *DispatchStore) Loads(ctx context.Context, teams []org.TeamID) ([]dispatch.Load, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]dispatch.Load, len(teams))
	for i, t := range teams {
		out[i] = dispatch.Load{Team: t, Active: s.active[t], LastAssigned: s.assigned[t]}
	}
	return out, nil
}

// Events implements dispatch.Store.
func (s *DispatchStore) Events(ctx context.Context, after uint64, limit int) ([]dispatch.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []dispatch.Event{}
	for seq := after + 1; seq <= s.events.len() && len(out) < limit; seq++ {
		out = append(out, s.events.at(seq).Clone())
	}
	return out, nil
}

// Position implements dispatch.Store.
func (s *DispatchStore) Position(ctx context.Context, relay string) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.positions[relay], nil
}

// Ack implements dispatch.Store.
func (s *DispatchStore) Ack(ctx context.Context, relay string, seq uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq > s.events.len() {
		return fmt.Errorf("relay %q: ack %d beyond the last event %d: %w", relay, seq, s.events.len(), dispatch.ErrInvalid)
	}
	if seq > s.positions[relay] {
		s.positions[relay] = seq
	}
	return nil
}

// Showcase implements dispatch.Store.
func (s *DispatchStore) Showcase(ctx context.Context, after dispatch.FeedCursor, limit int) ([]dispatch.Order, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []dispatch.Order{}
	for id := range s.showcased {
		o := s.orders[id].order
		if after.At.IsZero() && after.ID == "" || feedBefore(o, after) {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b dispatch.Order) int {
		if c := b.ShowcasedAt.Compare(a.ShowcasedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	for i := range out {
		out[i] = out[i].Clone()
	}
	return out, nil
}

// feedBefore reports whether o comes after the cursor in the feed's
// newest-first order.
func feedBefore(o dispatch.Order, c dispatch.FeedCursor) bool {
	if o.ShowcasedAt.Equal(c.At) {
		return o.ID < c.ID
	}
	return o.ShowcasedAt.Before(c.At)
}

// eventLog is the change feed in fixed-size chunks, so that growing it
// never copies old events.
type eventLog struct {
	chunks [][]dispatch.Event
	n      uint64
}

const eventChunk = 4096

func (l *eventLog) len() uint64 { return l.n }

func (l *eventLog) append(e dispatch.Event) {
	if l.n%eventChunk == 0 {
		l.chunks = append(l.chunks, make([]dispatch.Event, 0, eventChunk))
	}
	last := len(l.chunks) - 1
	l.chunks[last] = append(l.chunks[last], e)
	l.n++
}

// at returns the event with the given Seq (1..len).
func (l *eventLog) at(seq uint64) *dispatch.Event {
	i := seq - 1
	return &l.chunks[i/eventChunk][i%eventChunk]
}

// dueEntry indexes an order version by its due time.
type dueEntry struct {
	at int64 // Unix nanoseconds

	id      dispatch.OrderID
	version uint64
}

// dueHeap is a binary min-heap of due entries by (at, id), typed to avoid
// boxing entries in interfaces.
type dueHeap []dueEntry

func (h dueHeap) less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].id < h[j].id
}

func (h *dueHeap) push(e dueEntry) {
	*h = append(*h, e)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if !a.less(i, p) {
			break
		}
		a[i], a[p] = a[p], a[i]
		i = p
	}
}

func (h *dueHeap) pop() dueEntry {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && a.less(l, m) {
			m = l
		}
		if r < n && a.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
	return top
}
