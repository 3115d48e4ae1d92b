// Package pointstest is the conformance suite every points.Store runs:
//
//	func TestPointsConformance(t *testing.T) {
//		pointstest.Run(t, newPointsStore, newLedgerStore)
//	}
//
// It drives the public points.Service over the store under test and a
// ledger.Service over a ledger store of the same adapter, and checks
// behaviour only through their APIs. Each subtest gets fresh stores.
package pointstest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// Network of the suite: centre C1 → institute I1 → stations S1, S2.
var parents = map[org.NodeID]org.NodeID{"I1": "C1", "S1": "I1", "S2": "I1"}

// Directory is a fixed volunteer directory with the default org policy over
// the suite's network; it also records roll-ups.
type Directory struct {
	mu         sync.Mutex
	volunteers map[org.VolunteerID]org.Volunteer
	counters   map[org.NodeID]org.Counters
	keys       map[string]bool
	policy     org.Policy
}

// NewDirectory returns a directory with active volunteers V1 to V9 homed at
// S1, plus V0 retired.
func NewDirectory() *Directory {
	d := &Directory{volunteers: map[org.VolunteerID]org.Volunteer{}, counters: map[org.NodeID]org.Counters{}, keys: map[string]bool{}}
	d.policy = org.NewDefaultPolicy(d)
	for i := 1; i <= 9; i++ {
		id := org.VolunteerID(fmt.Sprintf("V%d", i))
		d.volunteers[id] = org.Volunteer{ID: id, Name: fmt.Sprintf("志愿者%d", i), Home: "S1", Status: org.VolunteerActive}
	}
	d.volunteers["V0"] = org.Volunteer{ID: "V0", Name: "退休", Home: "S1", Status: org.VolunteerRetired}
	return d
}

// Add registers an extra active volunteer.
func (d *Directory) Add(id org.VolunteerID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.volunteers[id] = org.Volunteer{ID: id, Name: "志愿者" + string(id), Home: "S1", Status: org.VolunteerActive}
}

// Volunteer implements points.Directory.
func (d *Directory) Volunteer(_ context.Context, id org.VolunteerID) (org.Volunteer, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.volunteers[id]
	if !ok {
		return v, fmt.Errorf("volunteer %q: %w", id, org.ErrNotFound)
	}
	return v, nil
}

// Policy implements points.Directory.
func (d *Directory) Policy() org.Policy { return d.policy }

// Within implements org.Scoper over the suite's network.
func (d *Directory) Within(_ context.Context, scope, node org.NodeID) (bool, error) {
	for n := node; n != ""; n = parents[n] {
		if n == scope {
			return true, nil
		}
	}
	return false, nil
}

// AddCounters implements org.CounterSink, idempotent by key.
func (d *Directory) AddCounters(_ context.Context, key string, node org.NodeID, delta org.Counters) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.keys[key] {
		return nil
	}
	d.keys[key] = true
	d.counters[node] = d.counters[node].Add(delta)
	return nil
}

// Counters returns a node's rolled-up counters.
func (d *Directory) Counters(node org.NodeID) org.Counters {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.counters[node]
}

// Clock is a settable clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set sets the clock.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// Start is the suite clock's start: Monday 2026-03-02 20:00 UTC.
var Start = time.Date(2026, 3, 2, 20, 0, 0, 0, time.UTC)

// Day returns 08:00 UTC on the n-th day after 2026-03-02.
func Day(n int) time.Time { return time.Date(2026, 3, 2+n, 8, 0, 0, 0, time.UTC) }

// TestScheme is the scheme the suite uses: rate 10/h for "elderly" and 5/h
// otherwise from 2026, 3/h in 2025; 清明 2026-04-05 doubles; hard-to-staff
// ×1.5; five_star bonus 5; caps 60 per activity, 80 per day, 200 per week,
// 500 per month; stars at 4, 8 and 16 hours; points live 365 days; a
// no-show costs 10.
func TestScheme() points.Scheme {
	d := decimal.NewFromInt
	return points.Scheme{
		HoursStep: decimal.RequireFromString("0.5"), HoursRounding: points.RoundDown, MaxHoursPerActivity: d(8),
		Rules: []points.Rule{
			{ID: "R2025", ValidFrom: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), ValidUntil: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
				Rates: map[string]decimal.Decimal{"*": d(3)}},
			{ID: "R2026", ValidFrom: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
				Rates:       map[string]decimal.Decimal{"elderly": d(10), "*": d(5)},
				Days:        []points.DayMultiplier{{Date: "2026-04-05", Name: "清明节", Factor: d(2)}},
				HardToStaff: decimal.RequireFromString("1.5"),
				Bonuses:     map[string]decimal.Decimal{"five_star": d(5)},
				Caps:        points.Caps{PerActivity: d(60), PerDay: d(80), PerWeek: d(200), PerMonth: d(500)}},
		},
		StarThresholds: []decimal.Decimal{d(4), d(8), d(16)},
		PointsLifetime: 365 * 24 * time.Hour,
		Penalties:      map[string]decimal.Decimal{"no_show": d(10)},
	}
}

// TB is what Env needs of a test: *testing.T, *testing.B and *rapid.T all
// satisfy it.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	FailNow()
}

// Env is one subtest's world.
type Env struct {
	T      TB
	Ctx    context.Context
	Store  points.Store
	Ledger *ledger.Service
	LStore *FlakyLedger
	Dir    *Directory
	Clock  *Clock
	Svc    *points.Service
	opts   *points.Options
}

// Over returns a service with the Env's options, ledger and directory over
// another points store: a wrapper of e.Store that meddles with the
// service's reads (see Interleave).
func (e *Env) Over(ps points.Store) *points.Service {
	e.T.Helper()
	svc, err := points.New(ps, e.Ledger, e.Dir, e.opts)
	require.NoError(e.T, err)
	return svc
}

// Interleave wraps a points store and runs a write between a service's
// reads: Hook runs once, when the read named by Read ("DueLots", "Records",
// "Objections" or "Item") has returned for the At-th time (1 = the first call),
// after the read and before its caller sees the result. So the caller
// works from a read that the hook's write has just made stale, as when
// another process writes at that moment.
type Interleave struct {
	points.Store
	Read  string
	At    int
	Hook  func()
	mu    sync.Mutex
	calls int
	Fired bool
}

func (s *Interleave) after(read string) {
	s.mu.Lock()
	fire := false
	if read == s.Read && !s.Fired {
		s.calls++
		if s.calls == max(s.At, 1) {
			s.Fired, fire = true, true
		}
	}
	s.mu.Unlock()
	if fire {
		s.Hook()
	}
}

// DueLots implements points.Store.
func (s *Interleave) DueLots(ctx context.Context, now time.Time, limit int) ([]points.Lot, error) {
	lots, err := s.Store.DueLots(ctx, now, limit)
	s.after("DueLots")
	return lots, err
}

// Records implements points.Store.
func (s *Interleave) Records(ctx context.Context, v org.VolunteerID, from, to time.Time) ([]points.Record, error) {
	recs, err := s.Store.Records(ctx, v, from, to)
	s.after("Records")
	return recs, err
}

// Item implements points.Store.
func (s *Interleave) Item(ctx context.Context, id string) (points.Item, error) {
	it, err := s.Store.Item(ctx, id)
	s.after("Item")
	return it, err
}

// InterleaveSnapshot is Interleave over a store that has the
// points.DueWalletsStore capability, which Interleave hides: its
// DueLotsWallets counts as a "DueLots" read.
type InterleaveSnapshot struct{ *Interleave }

// DueLotsWallets implements points.DueWalletsStore.
func (s InterleaveSnapshot) DueLotsWallets(ctx context.Context, now time.Time, limit int) ([]points.Lot, []points.Wallet, error) {
	lots, ws, err := s.Store.(points.DueWalletsStore).DueLotsWallets(ctx, now, limit)
	s.after("DueLots")
	return lots, ws, err
}

// Objections implements points.Store.
func (s *Interleave) Objections(ctx context.Context, record string) ([]points.Objection, error) {
	objs, err := s.Store.Objections(ctx, record)
	s.after("Objections")
	return objs, err
}

// FlakyLedger wraps a ledger store; while Fail is set its writes fail, as
// if the process died before the ledger write.
type FlakyLedger struct {
	ledger.Store
	Fail atomic.Bool
}

// errCrash is the simulated failure.
var errCrash = errors.New("pointstest: simulated crash")

// Apply implements ledger.Store.
func (f *FlakyLedger) Apply(ctx context.Context, cmds []ledger.Command) ([]ledger.Result, error) {
	if f.Fail.Load() {
		return nil, errCrash
	}
	return f.Store.Apply(ctx, cmds)
}

// NewEnv builds an Env; edit changes the scheme or options before New.
func NewEnv(t TB, ps points.Store, ls ledger.Store, edit func(*points.Options)) *Env {
	e := &Env{T: t, Ctx: context.Background(), Store: ps, Dir: NewDirectory(), Clock: &Clock{t: Start}, LStore: &FlakyLedger{Store: ls}}
	var err error
	e.Ledger, err = ledger.New(e.LStore, &ledger.Options{Now: e.Clock.Now})
	require.NoError(t, err)
	var n atomic.Int64
	opts := &points.Options{Scheme: TestScheme(), Now: e.Clock.Now,
		NewID:   func() string { return padded("id", n.Add(1), 6) },
		NewCode: func() string { return padded("", 10000000+n.Add(1), 8) }}
	if edit != nil {
		edit(opts)
	}
	e.opts = opts
	e.Svc, err = points.New(ps, e.Ledger, e.Dir, opts)
	require.NoError(t, err)
	return e
}

// padded returns prefix and n (not negative) in at least width digits, as
// fmt.Sprintf(prefix+"%0<width>d", n) does, without fmt: the benchmarks
// make an ID per op.
func padded(prefix string, n int64, width int) string {
	digits := 1
	for x := n; x >= 10; x /= 10 {
		digits++
	}
	var b [32]byte
	buf := append(b[:0], prefix...)
	for ; digits < width; digits++ {
		buf = append(buf, '0')
	}
	return string(strconv.AppendInt(buf, n, 10))
}

// Admin is an administrator of node n.
func Admin(n org.NodeID) org.Actor {
	return org.Actor{ID: "admin-" + string(n), Role: org.RoleAdmin, Scope: n}
}

// Vol is volunteer v acting for himself.
func Vol(v org.VolunteerID) org.Actor { return org.Actor{ID: string(v), Role: org.RoleVolunteer} }

// System is the library acting (relays, sweeps).
var System = org.Actor{ID: "relay", Role: org.RoleSystem}

// Input returns a record for volunteer v at S1 on day n from 09:00 for the
// given minutes (no travel), category elderly.
func Input(v org.VolunteerID, day int, minutes int) points.RecordInput {
	start := Day(day).Add(time.Hour)
	return points.RecordInput{Volunteer: v, Organiser: "S1",
		Activity: points.Activity{Name: "敬老助老", Category: "elderly", Place: "S1 hall", Content: "visiting elders",
			Start: start, End: start.Add(time.Duration(minutes) * time.Minute)},
		SignIn: start, SignOut: start.Add(time.Duration(minutes) * time.Minute)}
}

// Confirmed records and confirms a record as the admin of its organiser.
func (e *Env) Confirmed(in points.RecordInput) points.Record {
	e.T.Helper()
	rec, err := e.Svc.RecordService(e.Ctx, Admin(in.Organiser), in)
	require.NoError(e.T, err)
	rec, err = e.Svc.Confirm(e.Ctx, Admin(in.Organiser), rec.ID)
	require.NoError(e.T, err)
	return rec
}

// Balance returns the ledger balance and available balance of a
// volunteer's account of an asset (zero when never opened).
func (e *Env) Balance(v org.VolunteerID, asset ledger.Asset) (decimal.Decimal, decimal.Decimal) {
	e.T.Helper()
	a, err := e.Ledger.Account(e.Ctx, points.VolunteerAccount(v, asset))
	if errors.Is(err, ledger.ErrAccountNotFound) {
		return decimal.Zero, decimal.Zero
	}
	require.NoError(e.T, err)
	return a.Balance, a.Available
}

// RequireBalances checks a volunteer's hours and points on the ledger.
func (e *Env) RequireBalances(v org.VolunteerID, hours, pts string) {
	e.T.Helper()
	h, _ := e.Balance(v, points.HoursAsset)
	p, _ := e.Balance(v, points.PointsAsset)
	require.Truef(e.T, h.Equal(decimal.RequireFromString(hours)), "hours of %s: got %s, want %s", v, h, hours)
	require.Truef(e.T, p.Equal(decimal.RequireFromString(pts)), "points of %s: got %s, want %s", v, p, pts)
}

// Item adds an item owned by S1.
func (e *Env) Item(price string, stock int64, edit func(*points.Item)) points.Item {
	e.T.Helper()
	it := points.Item{Owner: "S1", Name: "帆布袋", Price: decimal.RequireFromString(price), Stock: stock}
	if edit != nil {
		edit(&it)
	}
	it, err := e.Svc.PutItem(e.Ctx, Admin("S1"), it)
	require.NoError(e.T, err)
	return it
}

// Dec parses a decimal.
func Dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// RequireDec checks a decimal.
func RequireDec(t TB, want string, got decimal.Decimal, msg string) {
	t.Helper()
	require.Truef(t, got.Equal(Dec(want)), "%s: got %s, want %s", msg, got, want)
}
