package memory

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
)

var (
	_ dispatch.Store     = (*DispatchStore)(nil)
	_ dispatch.DueSharer = (*DispatchStore)(nil)
)

// DispatchStore keeps the dispatch menu, orders, history and change feed in
// memory. It is safe for concurrent use: one mutex serialises writes, so a
// Commit's version check, capacity count and write are one atomic step.
//
// What it stores it never modifies in place: a commit replaces an order's
// value, and the parts that did not change (the menu item snapshot, the
// fields, the completion report, ...) are shared with the previous version,
// the change-feed event and other orders instead of being copied again.
// Everything handed out is a deep copy.
type DispatchStore struct {
	mu        sync.Mutex
	menu      map[dispatch.ItemCode]dispatch.MenuItem
	index     map[dispatch.OrderID]int // row number in rows
	rows      chunks[orderRow]
	history   chunks[historyRow]
	items     map[dispatch.ItemCode]dispatch.MenuItem // last snapshot stored per code
	ids       []dispatch.OrderID                      // sorted when !idsDirty
	idsDirty  bool
	events    chunks[eventRow]
	actors    []actorRow       // the actors of compact events
	actorIdx  map[string]int32 // actor ID → first index in actors with that ID
	positions map[string]uint64
	active    map[org.TeamID]int
	assigned  map[org.TeamID]uint64
	due       dueHeap
	lent      []dueEntry // popped by the last Due, see Due
	showcased map[dispatch.OrderID]struct{}

	// Hints that spare Commit the index lookup in the usual patterns: a
	// command commits the order it has just read, Sweep commits the due
	// orders in the order Due lent them. Rows never move, so a hint that
	// names the right ID is always right.
	lastRead int // row number + 1 of the last order read; 0 if none
	lentNext int // the next entry of lent Sweep is expected to commit
}

// orderRow is an order's current version and the position of its latest
// history entry.
type orderRow struct {
	order dispatch.Order
	last  int        // history row number + 1 of the newest entry; 0 if none
	n     int        // the row's own number
	node  org.NodeID // the order's node when created, for compact events
}

// historyRow is one history entry, linked to the order's previous one, so
// that history needs no slice per order. An entry that repeats its commit's
// event (as the service's entries do) is kept as the event's position and
// the reason; any other is kept whole in full.
type historyRow struct {
	event  int // the commit's event, 0-based
	reason string
	full   *dispatch.HistoryEntry
	prev   int // history row number + 1 of the previous entry; 0 if none
}

// entry returns the history entry the row stands for.
func (s *DispatchStore) entry(r *historyRow) dispatch.HistoryEntry {
	if r.full != nil {
		return *r.full
	}
	ev := s.event(r.event)
	return dispatch.HistoryEntry{Version: ev.Version, Actor: ev.Actor, Trigger: ev.Trigger, From: ev.From, To: ev.To, At: ev.At, Reason: r.reason, Team: ev.Team}
}

// historyOf returns the row keeping entry e of the commit whose event is
// stored at position event.
func historyOf(e *dispatch.HistoryEntry, ev *dispatch.Event, event, prev int) historyRow {
	r := historyRow{event: event, reason: e.Reason, prev: prev}
	if e.Version != ev.Version || e.Actor != ev.Actor || e.Trigger != ev.Trigger || e.From != ev.From || e.To != ev.To || e.At != ev.At || e.Team != ev.Team {
		full := *e
		r.full = &full
	}
	return r
}

// NewDispatchStore returns an empty in-memory dispatch store.
func NewDispatchStore() *DispatchStore {
	s := &DispatchStore{
		menu:      map[dispatch.ItemCode]dispatch.MenuItem{},
		index:     map[dispatch.OrderID]int{},
		items:     map[dispatch.ItemCode]dispatch.MenuItem{},
		positions: map[string]uint64{},
		active:    map[org.TeamID]int{},
		assigned:  map[org.TeamID]uint64{},
		showcased: map[dispatch.OrderID]struct{}{},
		actorIdx:  map[string]int32{},
	}
	s.due.rows = &s.rows
	return s
}

// row returns the stored row of the order id, or nil.
func (s *DispatchStore) row(id dispatch.OrderID) *orderRow {
	i, ok := s.index[id]
	if !ok {
		return nil
	}
	return s.rows.at(i)
}

// hinted is row for Commit, trying the hints first.
func (s *DispatchStore) hinted(id dispatch.OrderID) *orderRow {
	if s.lentNext < len(s.lent) {
		if r := s.rows.at(s.lent[s.lentNext].row); r.order.ID == id {
			s.lentNext++
			return r
		}
	}
	if s.lastRead > 0 {
		if r := s.rows.at(s.lastRead - 1); r.order.ID == id {
			return r
		}
	}
	return s.row(id)
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
	o := &c.Order
	if o.Version != c.Expected+1 || c.Entry.Version != o.Version {
		return 0, fmt.Errorf("order %q: version %d and history version %d must be %d: %w", o.ID, o.Version, c.Entry.Version, c.Expected+1, dispatch.ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	row := s.hinted(o.ID)
	exists := row != nil
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
	// Nothing can fail from here on.
	if !exists {
		s.index[o.ID] = s.rows.len()
		row = s.rows.grow()
		row.n = s.rows.len() - 1
		row.node = o.Node
		s.ids = append(s.ids, o.ID)
		s.idsDirty = true
	}
	prevState := row.order.State
	// Most transitions leave an active order with its team: the count
	// stays.
	wasActive := exists && prevState.Active() && row.order.Team != ""
	isActive := o.State.Active() && o.Team != ""
	if !wasActive || !isActive || row.order.Team != o.Team {
		if wasActive {
			s.active[row.order.Team]--
		}
		if isActive {
			s.active[o.Team]++
		}
	}
	s.keep(&row.order, o, exists)
	seq := uint64(s.events.len() + 1)
	// The service's event carries the order's own completion and
	// evaluation: share the stored ones.
	completion, evaluation := row.order.Completion, row.order.Evaluation
	if c.Event.Completion != o.Completion {
		completion = keepCompletion(row.order.Completion, c.Event.Completion)
	}
	if c.Event.Evaluation != o.Evaluation {
		evaluation = keepEvaluation(row.order.Evaluation, c.Event.Evaluation)
	}
	s.putEvent(s.events.grow(), &c.Event, row, seq, completion, evaluation)
	if c.Assigned && o.Team != "" {
		s.assigned[o.Team] = seq
	}
	if o.State == dispatch.Showcased {
		s.showcased[o.ID] = struct{}{}
	} else if prevState == dispatch.Showcased {
		delete(s.showcased, o.ID)
	}
	*s.history.grow() = historyOf(&c.Entry, &c.Event, int(seq-1), row.last)
	row.last = s.history.len()
	if due := o.Due(); !due.IsZero() {
		s.due.push(newDueEntry(due, o.ID, row.n, o.Version))
		if s.due.len() > 1024 && s.due.len() > 2*s.rows.len() {
			s.compactDue()
		}
	}
	return seq, nil
}

// keep overwrites dst, the stored version of the order (zero when exists
// is false), with o: every part of o that equals dst's shares dst's copy,
// every other part is copied. The menu item snapshot is fixed when the
// order is created; later versions keep it. Orders created from the same
// menu item version share one snapshot.
func (s *DispatchStore) keep(dst, o *dispatch.Order, exists bool) {
	item, fields, returnedBy := dst.Item, dst.Fields, dst.ReturnedBy
	pending, completion, evaluation := dst.Pending, dst.Completion, dst.Evaluation
	*dst = *o
	if !exists {
		var ok bool
		item, ok = s.items[o.Item.Code]
		if !ok || !sameItem(item, o.Item) {
			item = o.Item.Clone()
			s.items[o.Item.Code] = item
		}
	}
	dst.Item = item
	dst.Fields = keepSlice(fields, o.Fields)
	dst.ReturnedBy = keepSlice(returnedBy, o.ReturnedBy)
	switch {
	case o.Pending == nil:
	case pending != nil && *pending == *o.Pending:
		dst.Pending = pending
	default:
		p := *o.Pending
		dst.Pending = &p
	}
	dst.Completion = keepCompletion(completion, o.Completion)
	dst.Evaluation = keepEvaluation(evaluation, o.Evaluation)
}

// keepSlice returns old if it holds what s holds (nil-ness included), or
// else a copy of s.
func keepSlice[T comparable](old, s []T) []T {
	if len(old) == len(s) && len(s) > 0 && &old[0] == &s[0] {
		return old // the caller's order shares the store's (DueShared)
	}
	if (old == nil) == (s == nil) && slices.Equal(old, s) {
		return old
	}
	return slices.Clone(s)
}

// keepCompletion returns old if it equals c, or else a deep copy of c.
func keepCompletion(old, c *dispatch.Completion) *dispatch.Completion {
	switch {
	case c == nil:
		return nil
	case old != nil && sameCompletion(old, c):
		return old
	}
	cp := *c
	cp.Participants = slices.Clone(c.Participants)
	cp.Photos = slices.Clone(c.Photos)
	return &cp
}

func sameCompletion(a, b *dispatch.Completion) bool {
	if a == b {
		return true
	}
	if a.Report != b.Report || (a.Photos == nil) != (b.Photos == nil) || !slices.Equal(a.Photos, b.Photos) {
		return false
	}
	if (a.Participants == nil) != (b.Participants == nil) || len(a.Participants) != len(b.Participants) {
		return false
	}
	for i, p := range a.Participants {
		q := b.Participants[i]
		// Same exponent and same value: the same representation.
		if p.Volunteer != q.Volunteer || p.Hours.Exponent() != q.Hours.Exponent() || !p.Hours.Equal(q.Hours) {
			return false
		}
	}
	return true
}

// keepEvaluation returns old if it equals e, or else a copy of e.
func keepEvaluation(old, e *dispatch.Evaluation) *dispatch.Evaluation {
	switch {
	case e == nil:
		return nil
	case old != nil && *old == *e:
		return old
	}
	v := *e
	return &v
}

// sameItem reports whether two menu items are equal in every field,
// nil-ness of slices included.
func sameItem(a, b dispatch.MenuItem) bool {
	if a.Code != b.Code || a.Name != b.Name || a.Category != b.Category || a.Offeror != b.Offeror || a.Area != b.Area ||
		a.Deadlines != b.Deadlines || a.Retired != b.Retired || a.Version != b.Version ||
		(a.Fields == nil) != (b.Fields == nil) || len(a.Fields) != len(b.Fields) {
		return false
	}
	for i, f := range a.Fields {
		g := b.Fields[i]
		if f.Name != g.Name || f.Label != g.Label || f.Kind != g.Kind || f.Required != g.Required ||
			(f.Choices == nil) != (g.Choices == nil) || !slices.Equal(f.Choices, g.Choices) {
			return false
		}
	}
	return true
}

// Order implements dispatch.Store.
func (s *DispatchStore) Order(ctx context.Context, id dispatch.OrderID) (dispatch.Order, error) {
	if err := ctx.Err(); err != nil {
		return dispatch.Order{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.index[id]
	if !ok {
		return dispatch.Order{}, fmt.Errorf("order %q: %w", id, dispatch.ErrNotFound)
	}
	s.lastRead = i + 1
	return s.rows.at(i).order.Clone(), nil
}

// History implements dispatch.Store.
func (s *DispatchStore) History(ctx context.Context, id dispatch.OrderID) ([]dispatch.HistoryEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	row := s.row(id)
	if row == nil {
		return nil, fmt.Errorf("order %q: %w", id, dispatch.ErrNotFound)
	}
	out := make([]dispatch.HistoryEntry, row.order.Version)
	i := len(out)
	for h := row.last; h != 0 && i > 0; {
		r := s.history.at(h - 1)
		i--
		out[i] = s.entry(r)
		h = r.prev
	}
	return out[i:], nil
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
		out = append(out, s.row(s.ids[i]).order.Clone())
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
	return s.dueOrders(ctx, now, limit, nil, true)
}

// DueShared implements dispatch.DueSharer: Due without the deep copies.
// What the store keeps it never modifies in place, so the orders stay
// valid after later commits.
func (s *DispatchStore) DueShared(ctx context.Context, now time.Time, limit int, buf []dispatch.Order) ([]dispatch.Order, error) {
	clear(buf)
	return s.dueOrders(ctx, now, limit, buf[:0], false)
}

func (s *DispatchStore) dueOrders(ctx context.Context, now time.Time, limit int, out []dispatch.Order, deep bool) ([]dispatch.Order, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.lent {
		if s.rows.at(e.row).order.Version == e.version {
			s.due.push(e)
		}
	}
	s.lent = s.lent[:0]
	s.lentNext = 0
	if out == nil {
		out = make([]dispatch.Order, 0, min(limit, s.due.len()))
	}
	until := now.UnixNano()
	for len(out) < limit && s.due.len() > 0 && s.due.a[0].at <= until {
		e := s.due.pop()
		row := s.rows.at(e.row)
		if row.order.Version != e.version {
			continue // stale: a later commit pushed a fresh entry if due
		}
		s.lent = append(s.lent, e)
		if deep {
			out = append(out, row.order.Clone())
		} else {
			out = append(out, row.order)
		}
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
	for seq := after + 1; seq <= uint64(s.events.len()) && len(out) < limit; seq++ {
		out = append(out, s.event(int(seq-1)).Clone())
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
	if seq > uint64(s.events.len()) {
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
		o := s.row(id).order
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

// chunks is an append-only sequence in fixed-size chunks, so that growing
// it never copies (or rescans) old elements and pointers into it stay
// valid.
type chunks[T any] struct {
	list [][]T
	n    int
}

const chunkSize = 4096

func (c *chunks[T]) len() int { return c.n }

// grow appends a zero element and returns it.
func (c *chunks[T]) grow() *T {
	if c.n%chunkSize == 0 {
		c.list = append(c.list, make([]T, chunkSize))
	}
	p := &c.list[c.n/chunkSize][c.n%chunkSize]
	c.n++
	return p
}

// at returns element i (0..len-1).
func (c *chunks[T]) at(i int) *T { return &c.list[i/chunkSize][i%chunkSize] }

// dueEntry indexes an order version by its due time. It holds no pointer,
// so the heap costs the garbage collector nothing to scan and moving
// entries needs no write barriers: the order's ID is kept as its first 16
// bytes, enough to order almost all IDs without looking at the row.
type dueEntry struct {
	at      int64 // Unix nanoseconds
	key     [2]uint64
	idLen   int
	row     int // the order's row number
	version uint64
}

func newDueEntry(at time.Time, id dispatch.OrderID, row int, version uint64) dueEntry {
	var b [16]byte
	copy(b[:], id)
	return dueEntry{
		at: at.UnixNano(), idLen: len(id), row: row, version: version,
		key: [2]uint64{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])},
	}
}

// dueHeap is a binary min-heap of due entries by (at, order ID), typed to
// avoid boxing entries in interfaces.
type dueHeap struct {
	a    []dueEntry
	rows *chunks[orderRow] // to compare IDs longer than 16 bytes
}

func (h *dueHeap) len() int { return len(h.a) }

func (h *dueHeap) less(i, j int) bool {
	x, y := &h.a[i], &h.a[j]
	switch {
	case x.at != y.at:
		return x.at < y.at
	case x.key[0] != y.key[0]:
		return x.key[0] < y.key[0]
	case x.key[1] != y.key[1]:
		return x.key[1] < y.key[1]
	case x.idLen <= 16 && y.idLen <= 16:
		// Equal zero-padded prefixes: the shorter ID is a prefix of the
		// longer one.
		return x.idLen < y.idLen
	}
	return h.rows.at(x.row).order.ID < h.rows.at(y.row).order.ID
}

func (h *dueHeap) push(e dueEntry) {
	h.a = append(h.a, e)
	h.up(len(h.a) - 1)
}

// compactDue drops the heap's stale entries (whose order has moved on), so
// that the heap of a store that is seldom swept does not grow with every
// commit. A current entry is one per order at most.
func (s *DispatchStore) compactDue() {
	live := s.due.a[:0]
	for _, e := range s.due.a {
		if s.rows.at(e.row).order.Version == e.version {
			live = append(live, e)
		}
	}
	s.due.a = live
	for i := len(live)/2 - 1; i >= 0; i-- {
		s.due.down(i)
	}
}

// pop removes and returns the earliest entry. It moves the hole left by
// the top down along the smaller children to a leaf and then sifts the
// last entry up from there (Floyd): about half the comparisons of the
// textbook sift-down, which matters when many entries tie on the time and
// are compared by ID.
func (h *dueHeap) pop() dueEntry {
	top := h.a[0]
	n := len(h.a) - 1
	last := h.a[n]
	h.a = h.a[:n]
	if n == 0 {
		return top
	}
	a := h.a
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && h.less(c+1, c) {
			c++
		}
		a[i] = a[c]
		i = c
	}
	a[i] = last
	h.up(i)
	return top
}

// up restores the heap order above i.
func (h *dueHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.a[i], h.a[p] = h.a[p], h.a[i]
		i = p
	}
}

// down restores the heap order below i.
func (h *dueHeap) down(i int) {
	n := len(h.a)
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && h.less(l, m) {
			m = l
		}
		if r < n && h.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		h.a[i], h.a[m] = h.a[m], h.a[i]
		i = m
	}
}
