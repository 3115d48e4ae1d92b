package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
)

var (
	_ points.Store             = (*PointsStore)(nil)
	_ points.UsageUnitsStore   = (*PointsStore)(nil)
	_ points.FirstPendingStore = (*PointsStore)(nil)
)

// PointsStore is an in-memory points.Store, safe for concurrent use. One
// mutex guards everything, so a Commit is atomic and isolated.
type PointsStore struct {
	mu sync.Mutex

	records   map[string]*points.Record
	bySource  map[string]string
	recsByVol map[org.VolunteerID][]*points.Record // by (At(), ID)
	// recRows are the rows of c.Records found by check, for apply.
	recRows []*points.Record

	wallets   map[org.VolunteerID]points.Wallet
	lots      map[string]*pointsLotRow            // the lots of no award; an award's lot hangs from its row
	lotsByVol map[org.VolunteerID][]*pointsLotRow // every lot, by (EarnedAt, ID)
	expIdx    []pointsExpEntry                    // lots that may expire, by (ExpiresAt, ID)
	expDirty  bool
	expHead   int
	// dueRows are the rows of the lots the last DueLots returned, in its
	// order: a sweep commits those lots back, and apply finds their rows
	// here instead of hashing a million IDs.
	dueRows []*pointsLotRow

	awards      map[string]*pointsAwardRow
	awardsByVol map[org.VolunteerID][]*pointsAwardRow // by (At, ID)
	levels      map[org.VolunteerID][]points.LevelChange
	usage       map[org.VolunteerID]*pointsUsage // by volunteer, then period
	usageUnits  []int64                          // the units of the usage deltas of the change being committed

	objections  map[string]points.Objection
	objByRecord map[string][]string

	items       map[string]points.Item
	redemptions map[string]*pointsRedRow
	redByVol    map[org.VolunteerID][]*pointsRedRow // by (HeldAt, ID)
	// redRows are the stored rows of c.Redemptions found by check (nil
	// for a new one), for apply; apply sets the new ones.
	redRows []*pointsRedRow
	held    map[string]struct{}

	certs    map[string]points.Certificate
	seqs     map[string]int64
	refusals []org.Refusal

	// The outbox: opIDs holds the Seq of every op ever committed, except
	// the ops committed with the award of the same ID, whose Seq is kept
	// in the award's row, and the ops "hold:<r>", "post:<r>" and
	// "void:<r>" of a redemption r stored by then, kept in its row (see
	// redOp). opLog holds every pending op and some acknowledged ones,
	// in Seq order; the pending ones are linked in Seq order through
	// their slots, from opFirst to opLast (-1 for none), so that
	// PendingOps reads what it returns and no acknowledged op between
	// them. opLive counts the pending ones; AckOps drops the acknowledged
	// slots once they outnumber them, so that an op that stays pending
	// does not keep every later one.
	opIDs   map[string]int64
	opLog   []pointsOpSlot
	opFirst int
	opLast  int
	opLive  int
	opSeq   int64
}

// pointsOpSlot is an outbox entry; prev and next are the indices in opLog
// of the pending ops before and after it (-1 for none) while it is pending.
type pointsOpSlot struct {
	op         points.Op
	prev, next int
	acked      bool
}

// pointsUsage is a volunteer's usage counters by period, in hundredths of
// a point. Short periods (the Service's "D:2026-03-02", "W:..." and
// "M:2026-03") are keys of their own bytes, which hash without a string and
// leave the collector nothing to scan; others are kept by string.
type pointsUsage struct {
	short map[usageKey]int64
	long  map[string]int64
}

// usageKey is a period of at most len(b) bytes: its bytes and length.
type usageKey struct {
	b [12]byte
	n uint8
}

func (u *pointsUsage) get(p string) int64 {
	if u == nil {
		return 0
	}
	if len(p) <= len(usageKey{}.b) {
		k := usageKey{n: uint8(len(p))}
		copy(k.b[:], p)
		return u.short[k]
	}
	return u.long[p]
}

func (u *pointsUsage) add(p string, n int64) {
	if len(p) <= len(usageKey{}.b) {
		k := usageKey{n: uint8(len(p))}
		copy(k.b[:], p)
		if u.short == nil {
			u.short = make(map[usageKey]int64, 4)
		}
		u.short[k] += n
		return
	}
	if u.long == nil {
		u.long = map[string]int64{}
	}
	u.long[p] += n
}

// pointsAwardRow holds an award, the Seq of the op committed with it under
// the same ID (0 for none) and the lot of the same ID, if any: the ops and
// lots of awards, the most frequent, need no entries of their own in opIDs
// and lots.
type pointsAwardRow struct {
	award points.Award
	opSeq int64
	lot   *pointsLotRow
}

func cmpAwardRow(a, b *pointsAwardRow) int {
	if c := a.award.At.Compare(b.award.At); c != 0 {
		return c
	}
	return cmp.Compare(a.award.ID, b.award.ID)
}

func cmpRecordRow(a, b *points.Record) int {
	if c := a.At().Compare(b.At()); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// insertRow inserts r into the list s sorted by cmp.
func insertRow[T any](s []*T, r *T, cmp func(a, b *T) int) []*T {
	if n := len(s); n == 0 || cmp(s[n-1], r) < 0 {
		return append(s, r)
	}
	i, _ := slices.BinarySearchFunc(s, r, cmp)
	return slices.Insert(s, i, r)
}

// rowsIn returns the rows of a list sorted by at with at in [from, to).
func rowsIn[T any](s []*T, from, to time.Time, at func(*T) time.Time) []*T {
	i := sort.Search(len(s), func(i int) bool { return !at(s[i]).Before(from) })
	j := i
	for j < len(s) && at(s[j]).Before(to) {
		j++
	}
	return s[i:j]
}

// lotRow returns the row of a lot, or nil.
func (s *PointsStore) lotRow(id string) *pointsLotRow {
	if row := s.lots[id]; row != nil {
		return row
	}
	if a := s.awards[id]; a != nil {
		return a.lot
	}
	return nil
}

// pointsLotRow holds a lot; gen numbers its latest expiry index entry, so
// that older entries for the same lot are recognised as stale.
type pointsLotRow struct {
	lot points.Lot
	gen uint32
}

// pointsExpEntry is an entry of the expiry index: the lot's ExpiresAt as
// Unix seconds and nanoseconds (no pointer for the collector to follow).
type pointsExpEntry struct {
	sec  int64
	row  *pointsLotRow
	nsec int32
	gen  uint32
}

// expAt returns t as the seconds and nanoseconds of an expiry entry; they
// order as t does.
func expAt(t time.Time) (int64, int32) { return t.Unix(), int32(t.Nanosecond()) }

// compare compares the entry's time with (sec, nsec).
func (e *pointsExpEntry) compare(sec int64, nsec int32) int {
	if c := cmp.Compare(e.sec, sec); c != 0 {
		return c
	}
	return cmp.Compare(e.nsec, nsec)
}

func cmpExpEntry(a, b pointsExpEntry) int {
	if c := a.compare(b.sec, b.nsec); c != 0 {
		return c
	}
	return cmp.Compare(a.row.lot.ID, b.row.lot.ID)
}

func cmpLotRow(a, b *pointsLotRow) int {
	if c := a.lot.EarnedAt.Compare(b.lot.EarnedAt); c != 0 {
		return c
	}
	return cmp.Compare(a.lot.ID, b.lot.ID)
}

// NewPointsStore returns an empty in-memory points store.
func NewPointsStore() *PointsStore {
	return &PointsStore{
		records: map[string]*points.Record{}, bySource: map[string]string{}, recsByVol: map[org.VolunteerID][]*points.Record{},
		wallets: map[org.VolunteerID]points.Wallet{}, lots: map[string]*pointsLotRow{}, lotsByVol: map[org.VolunteerID][]*pointsLotRow{},
		awards: map[string]*pointsAwardRow{}, awardsByVol: map[org.VolunteerID][]*pointsAwardRow{}, levels: map[org.VolunteerID][]points.LevelChange{}, usage: map[org.VolunteerID]*pointsUsage{},
		objections: map[string]points.Objection{}, objByRecord: map[string][]string{},
		items: map[string]points.Item{}, redemptions: map[string]*pointsRedRow{}, redByVol: map[org.VolunteerID][]*pointsRedRow{}, held: map[string]struct{}{},
		certs: map[string]points.Certificate{}, seqs: map[string]int64{},
		opIDs: map[string]int64{}, opFirst: -1, opLast: -1,
	}
}

func cloneAward(a points.Award) points.Award {
	a.Lines = slices.Clone(a.Lines)
	return a
}

func cloneObjection(o points.Objection) points.Objection {
	o.Trail = slices.Clone(o.Trail)
	return o
}

func cloneRedemption(r points.Redemption) points.Redemption {
	r.Allocations = slices.Clone(r.Allocations)
	return r
}

func cloneCertificate(c points.Certificate) points.Certificate {
	c.Services = slices.Clone(c.Services)
	return c
}

// Commit implements points.Store.
func (s *PointsStore) Commit(ctx context.Context, c *points.Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(c); err != nil {
		return err
	}
	s.apply(c)
	return nil
}

// check verifies every condition of c without changing anything.
func (s *PointsStore) check(c *points.Change) error {
	for _, w := range c.Wallets {
		if got := s.wallets[w.Volunteer].Version; got != w.Version-1 {
			return fmt.Errorf("memory: wallet %q: version %d, change expects %d: %w", w.Volunteer, got, w.Version-1, points.ErrConflict)
		}
	}
	if id, ok := firstDup(len(c.NewRecords), func(i int) string { return c.NewRecords[i].ID }); ok {
		return fmt.Errorf("memory: record %q twice in one change: %w", id, points.ErrDuplicate)
	}
	for _, r := range c.NewRecords {
		if _, ok := s.records[r.ID]; ok {
			return fmt.Errorf("memory: record %q: %w", r.ID, points.ErrDuplicate)
		}
		if r.SourceKey != "" {
			if _, ok := s.bySource[r.SourceKey]; ok {
				return fmt.Errorf("memory: record source key %q: %w", r.SourceKey, points.ErrDuplicate)
			}
		}
	}
	s.recRows = s.recRows[:0]
	for _, r := range c.Records {
		old := s.records[r.ID]
		if old == nil {
			return fmt.Errorf("memory: record %q: %w", r.ID, points.ErrNotFound)
		}
		if old.Version != r.Version-1 {
			return fmt.Errorf("memory: record %q: version %d, change expects %d: %w", r.ID, old.Version, r.Version-1, points.ErrConflict)
		}
		s.recRows = append(s.recRows, old)
	}
	if id, ok := firstDup(len(c.Awards), func(i int) string { return c.Awards[i].ID }); ok {
		return fmt.Errorf("memory: award %q twice in one change: %w", id, points.ErrDuplicate)
	}
	for _, a := range c.Awards {
		if _, ok := s.awards[a.ID]; ok {
			return fmt.Errorf("memory: award %q: %w", a.ID, points.ErrDuplicate)
		}
	}
	if id, ok := firstDup(len(c.Ops), func(i int) string { return c.Ops[i].ID }); ok {
		return fmt.Errorf("memory: ledger op %q twice in one change: %w", id, points.ErrDuplicate)
	}
	hint := 0
	for _, op := range c.Ops {
		if _, ok := s.opIDs[op.ID]; ok {
			return fmt.Errorf("memory: ledger op %q: %w", op.ID, points.ErrDuplicate)
		}
		if kind, rid, ok := redOp(op.ID); ok {
			// An op kept in a redemption's row. A redemption new in the
			// change has no stored row (else checkRedemptions refuses it).
			if j := redemptionIn(c, rid); j >= 0 && c.Redemptions[j].Version == 1 {
				continue
			}
			if row := s.redemptions[rid]; row != nil && row.opSeq[kind] != 0 {
				return fmt.Errorf("memory: ledger op %q: %w", op.ID, points.ErrDuplicate)
			}
			continue
		}
		// An op kept in an award's row: an award of the change has no
		// stored row (checked above).
		if i := awardIn(c, op.ID, hint); i >= 0 {
			hint = i + 1
		} else if row := s.awards[op.ID]; row != nil && row.opSeq != 0 {
			return fmt.Errorf("memory: ledger op %q: %w", op.ID, points.ErrDuplicate)
		}
	}
	for _, ct := range c.Certificates {
		if _, ok := s.certs[ct.Number]; ok {
			return fmt.Errorf("memory: certificate %q: %w", ct.Number, points.ErrDuplicate)
		}
	}
	for _, o := range c.Objections {
		if got := s.objections[o.ID].Version; got != o.Version-1 {
			return fmt.Errorf("memory: objection %q: version %d, change expects %d: %w", o.ID, got, o.Version-1, points.ErrConflict)
		}
	}
	s.usageUnits = s.usageUnits[:0]
	for i, u := range c.Usage {
		// An award's deltas share one amount: convert it once.
		if i > 0 && u.Points == c.Usage[i-1].Points {
			s.usageUnits = append(s.usageUnits, s.usageUnits[i-1])
			continue
		}
		n, err := points.PointsAsset.ToUnits(u.Points)
		if err != nil {
			return fmt.Errorf("memory: usage of %q in %s: %w: %w", u.Volunteer, u.Period, points.ErrInvalidAmount, err)
		}
		s.usageUnits = append(s.usageUnits, n)
	}
	if len(c.Items) == 0 && len(c.Stock) == 0 {
		return s.checkRedemptions(c)
	}
	// The items as the change leaves them; a change touches few, so a slice
	// searched linearly serves.
	type itemState struct {
		id        string
		stock     int64
		unlimited bool
	}
	var buf [4]itemState
	items := buf[:0]
	find := func(id string) int {
		for i := range items {
			if items[i].id == id {
				return i
			}
		}
		return -1
	}
	for _, it := range c.Items {
		old, ok := s.items[it.ID]
		if old.Version != it.Version-1 {
			return fmt.Errorf("memory: item %q: version %d, change expects %d: %w", it.ID, old.Version, it.Version-1, points.ErrConflict)
		}
		if ok {
			it.Stock = old.Stock
		}
		st := itemState{id: it.ID, stock: it.Stock, unlimited: it.Unlimited}
		if i := find(it.ID); i >= 0 {
			items[i] = st
		} else {
			items = append(items, st)
		}
	}
	for _, d := range c.Stock {
		i := find(d.Item)
		if i < 0 {
			it, ok := s.items[d.Item]
			if !ok {
				return fmt.Errorf("memory: stock of item %q: %w", d.Item, points.ErrNotFound)
			}
			items = append(items, itemState{id: it.ID, stock: it.Stock, unlimited: it.Unlimited})
			i = len(items) - 1
		}
		it := &items[i]
		if it.unlimited {
			continue
		}
		if it.stock+d.Delta < 0 {
			return fmt.Errorf("memory: item %q: stock %d cannot take %d: %w", d.Item, it.stock, d.Delta, points.ErrOutOfStock)
		}
		it.stock += d.Delta
	}
	return s.checkRedemptions(c)
}

// redOp returns the index in opSeq of a redemption's row, and the
// redemption's ID, of an op ID "hold:<r>", "post:<r>" or "void:<r>"; false
// for other IDs.
func redOp(id string) (int, string, bool) {
	if len(id) > 5 && id[4] == ':' {
		switch id[:4] {
		case "hold":
			return 0, id[5:], true
		case "post":
			return 1, id[5:], true
		case "void":
			return 2, id[5:], true
		}
	}
	return 0, "", false
}

// redemptionIn returns the index of the redemption of c with the given ID,
// or -1.
func redemptionIn(c *points.Change, id string) int {
	for i := range c.Redemptions {
		if c.Redemptions[i].ID == id {
			return i
		}
	}
	return -1
}

// pointsRedRow holds a redemption and the Seq of its hold, post and void
// ops (0 for none).
type pointsRedRow struct {
	red   points.Redemption
	opSeq [3]int64
}

func (s *PointsStore) checkRedemptions(c *points.Change) error {
	s.redRows = s.redRows[:0]
	for i, r := range c.Redemptions {
		row := s.redemptions[r.ID]
		if row == nil {
			// A new one, maybe twice in the change: the first gets Version 1.
			for _, prev := range c.Redemptions[:i] {
				if prev.ID == r.ID {
					return fmt.Errorf("memory: redemption %q twice in one change: %w", r.ID, points.ErrConflict)
				}
			}
		}
		var got int64
		if row != nil {
			got = row.red.Version
		}
		if got != r.Version-1 {
			return fmt.Errorf("memory: redemption %q: version %d, change expects %d: %w", r.ID, got, r.Version-1, points.ErrConflict)
		}
		s.redRows = append(s.redRows, row)
	}
	return nil
}

func cmpRedemptionRow(a, b *pointsRedRow) int {
	if c := a.red.HeldAt.Compare(b.red.HeldAt); c != 0 {
		return c
	}
	return cmp.Compare(a.red.ID, b.red.ID)
}

// awardIn returns the index of the award of c with the given ID, or -1,
// trying index hint first: the ops of a change's awards come in the order
// of the awards, so that hint = the last match + 1 finds them at once.
func awardIn(c *points.Change, id string, hint int) int {
	if hint >= 0 && hint < len(c.Awards) && c.Awards[hint].ID == id {
		return hint
	}
	for i := range c.Awards {
		if c.Awards[i].ID == id {
			return i
		}
	}
	return -1
}

// firstDup returns an ID that occurs twice among n IDs: a linear scan for
// the few IDs of an ordinary change, a set for a large one.
func firstDup(n int, id func(int) string) (string, bool) {
	if n <= 16 {
		for i := 1; i < n; i++ {
			for j := 0; j < i; j++ {
				if id(i) == id(j) {
					return id(i), true
				}
			}
		}
		return "", false
	}
	seen := make(map[string]struct{}, n)
	for i := 0; i < n; i++ {
		if _, ok := seen[id(i)]; ok {
			return id(i), true
		}
		seen[id(i)] = struct{}{}
	}
	return "", false
}

// apply writes a checked change.
func (s *PointsStore) apply(c *points.Change) {
	for _, w := range c.Wallets {
		s.wallets[w.Volunteer] = w
	}
	for i := range c.NewRecords {
		r := new(points.Record)
		*r = c.NewRecords[i]
		s.records[r.ID] = r
		if r.SourceKey != "" {
			s.bySource[r.SourceKey] = r.ID
		}
		s.recsByVol[r.Volunteer] = insertRow(s.recsByVol[r.Volunteer], r, cmpRecordRow)
	}
	for i := range c.Records {
		row := s.recRows[i]
		moved := !row.At().Equal(c.Records[i].At())
		if moved {
			s.recsByVol[row.Volunteer] = slices.DeleteFunc(s.recsByVol[row.Volunteer], func(r *points.Record) bool { return r == row })
		}
		*row = c.Records[i]
		if moved {
			s.recsByVol[row.Volunteer] = insertRow(s.recsByVol[row.Volunteer], row, cmpRecordRow)
		}
	}
	var first *pointsAwardRow // the row of the first award, for its op and lot
	for i, a := range c.Awards {
		// The Service hands Lines over (see points.Store.Commit).
		row := &pointsAwardRow{award: a}
		s.awards[a.ID] = row
		if i == 0 {
			first = row
		}
		s.awardsByVol[a.Volunteer] = insertRow(s.awardsByVol[a.Volunteer], row, cmpAwardRow)
	}
	hint := 0
	for i, l := range c.Lots {
		var row *pointsLotRow
		var owner *pointsAwardRow // the award the lot belongs to, if any
		if i < len(s.dueRows) && s.dueRows[i].lot.ID == l.ID {
			row = s.dueRows[i]
		} else if j := awardIn(c, l.ID, hint); j >= 0 {
			// A new award's lot: new, unless stored before on its own.
			hint = j + 1
			if owner = first; j > 0 {
				owner = s.awards[l.ID]
			}
			if row = s.lots[l.ID]; row != nil {
				owner = nil
			} else if owner != nil && owner.lot != nil {
				row = owner.lot // upserted earlier in this change
			}
		} else {
			row = s.lotRow(l.ID)
		}
		existed := row != nil
		wasEmpty := !existed || row.lot.Remaining.Sign() <= 0
		if existed {
			row.lot = l
		} else {
			row = &pointsLotRow{lot: l}
			if owner == nil {
				owner = s.awards[l.ID]
			}
			if owner != nil {
				owner.lot = row
			} else {
				s.lots[l.ID] = row
			}
			s.lotsByVol[l.Volunteer] = insertRow(s.lotsByVol[l.Volunteer], row, cmpLotRow)
		}
		if !l.ExpiresAt.IsZero() && l.Remaining.Sign() > 0 && wasEmpty {
			row.gen++
			sec, nsec := expAt(l.ExpiresAt)
			e := pointsExpEntry{sec: sec, nsec: nsec, row: row, gen: row.gen}
			if n := len(s.expIdx); n > s.expHead && cmpExpEntry(s.expIdx[n-1], e) > 0 {
				s.expDirty = true
			}
			if len(s.expIdx) == cap(s.expIdx) {
				// Double, where append grows a large slice by a quarter
				// and so copies each entry four times over.
				grown := make([]pointsExpEntry, len(s.expIdx), max(2*cap(s.expIdx), 256))
				copy(grown, s.expIdx)
				s.expIdx = grown
			}
			s.expIdx = append(s.expIdx, e)
		}
	}
	// A change's usage deltas are mostly one award's three periods: one
	// volunteer, one amount.
	var vu *pointsUsage
	var last int
	for i, u := range c.Usage {
		if vu == nil || u.Volunteer != c.Usage[last].Volunteer {
			if vu = s.usage[u.Volunteer]; vu == nil {
				vu = &pointsUsage{}
				s.usage[u.Volunteer] = vu
			}
		}
		last = i
		vu.add(u.Period, s.usageUnits[i]) // converted by check
	}
	for _, lc := range c.Levels {
		s.levels[lc.Volunteer] = append(s.levels[lc.Volunteer], lc)
	}
	for _, o := range c.Objections {
		if o.Version == 1 {
			s.objByRecord[o.Record] = append(s.objByRecord[o.Record], o.ID)
		}
		s.objections[o.ID] = cloneObjection(o)
	}
	for _, it := range c.Items {
		if old, ok := s.items[it.ID]; ok {
			it.Stock = old.Stock
		}
		s.items[it.ID] = it
	}
	for _, d := range c.Stock {
		if it := s.items[d.Item]; !it.Unlimited {
			it.Stock += d.Delta
			s.items[d.Item] = it
		}
	}
	for i := range c.Redemptions {
		r := &c.Redemptions[i] // not copied: a Redemption is large
		if row := s.redRows[i]; row == nil {
			row = &pointsRedRow{red: *r}
			row.red.Allocations = slices.Clone(r.Allocations)
			s.redRows[i] = row // for the ops below
			s.redemptions[r.ID] = row
			s.redByVol[r.Volunteer] = insertRow(s.redByVol[r.Volunteer], row, cmpRedemptionRow)
		} else {
			moved := !row.red.HeldAt.Equal(r.HeldAt) || row.red.Volunteer != r.Volunteer
			if moved {
				s.redByVol[row.red.Volunteer] = slices.DeleteFunc(s.redByVol[row.red.Volunteer], func(x *pointsRedRow) bool { return x == row })
			}
			// An update mostly leaves the allocations as read: keep the
			// stored copy then (the same strings and amounts).
			allocs := row.red.Allocations
			if len(allocs) == 0 || !slices.Equal(allocs, r.Allocations) {
				allocs = slices.Clone(r.Allocations)
			}
			row.red = *r
			row.red.Allocations = allocs
			if moved {
				s.redByVol[r.Volunteer] = insertRow(s.redByVol[r.Volunteer], row, cmpRedemptionRow)
			}
		}
		if r.Status == points.RedemptionHeld {
			s.held[r.ID] = struct{}{}
		} else {
			delete(s.held, r.ID)
		}
	}
	for _, ct := range c.Certificates {
		s.certs[ct.Number] = cloneCertificate(ct)
	}
	hint = 0
	for _, op := range c.Ops {
		s.opSeq++
		op.Seq = s.opSeq
		if kind, rid, ok := redOp(op.ID); ok {
			var row *pointsRedRow
			if j := redemptionIn(c, rid); j >= 0 {
				row = s.redRows[j]
			} else {
				row = s.redemptions[rid]
			}
			if row != nil {
				row.opSeq[kind] = op.Seq
			} else {
				s.opIDs[op.ID] = op.Seq
			}
		} else if i := awardIn(c, op.ID, hint); i >= 0 {
			hint = i + 1
			row := first
			if i > 0 {
				row = s.awards[op.ID]
			}
			row.opSeq = op.Seq
		} else {
			s.opIDs[op.ID] = op.Seq
		}
		s.pushOp(op)
	}
}

// pushOp appends a pending op to the outbox.
func (s *PointsStore) pushOp(op points.Op) {
	i := len(s.opLog)
	s.opLog = append(s.opLog, pointsOpSlot{op: op, prev: s.opLast, next: -1})
	if s.opLast >= 0 {
		s.opLog[s.opLast].next = i
	} else {
		s.opFirst = i
	}
	s.opLast = i
	s.opLive++
}

// opIndex returns the index in opLog of the op with the given Seq, or -1.
func (s *PointsStore) opIndex(seq int64) int {
	n := len(s.opLog)
	if n == 0 {
		return -1
	}
	// Until AckOps drops slots from the middle, Seqs are contiguous.
	if i := seq - s.opLog[0].op.Seq; i >= 0 && i < int64(n) && s.opLog[i].op.Seq == seq {
		return int(i)
	}
	i := sort.Search(n, func(i int) bool { return s.opLog[i].op.Seq >= seq })
	if i < n && s.opLog[i].op.Seq == seq {
		return i
	}
	return -1
}

// ackOp marks the op at index i of opLog acknowledged and unlinks it from
// the pending ops. The op stays until its slot is reused or dropped:
// clearing it would cost a bulk write barrier while the collector marks.
func (s *PointsStore) ackOp(i int) {
	sl := &s.opLog[i]
	if sl.acked {
		return
	}
	sl.acked = true
	if sl.prev >= 0 {
		s.opLog[sl.prev].next = sl.next
	} else {
		s.opFirst = sl.next
	}
	if sl.next >= 0 {
		s.opLog[sl.next].prev = sl.prev
	} else {
		s.opLast = sl.prev
	}
	s.opLive--
}

// compactOps drops acknowledged slots from opLog: all of them, reusing the
// space, when nothing is pending (the usual case); else once they
// outnumber the pending ops, which then move to the front, so that opLog
// holds at most about twice as many slots as there are pending ops.
func (s *PointsStore) compactOps() {
	if s.opLive == 0 {
		if cap(s.opLog) <= 1<<14 {
			s.opLog = s.opLog[:0]
		} else {
			s.opLog = nil
		}
		s.opFirst, s.opLast = -1, -1
		return
	}
	if dead := len(s.opLog) - s.opLive; dead <= 1024 || dead <= s.opLive {
		return
	}
	dst := s.opLog[:0] // moving the pending ops forward, in their order
	if cap(s.opLog) > 1<<14 && cap(s.opLog) > 4*s.opLive {
		dst = make([]pointsOpSlot, 0, 2*s.opLive) // let the large array go
	}
	for i := s.opFirst; i >= 0; {
		next := s.opLog[i].next
		j := len(dst)
		dst = append(dst, s.opLog[i])
		dst[j].prev, dst[j].next = j-1, j+1
		i = next
	}
	dst[len(dst)-1].next = -1
	s.opLog, s.opFirst, s.opLast = dst, 0, len(dst)-1
}
