// Package ledgertest is the conformance suite for ledger.Store
// implementations. An adapter runs it with one line:
//
//	func TestLedgerConformance(t *testing.T) { ledgertest.Run(t, newStore) }
//
// Every subtest gets a fresh, empty store from newStore and drives it through
// the public ledger.Service API (and, for paging, the Store's own reads), so
// the suite holds every adapter to the same promises.
package ledgertest

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
)

// The assets the suite uses.
var (
	Points = ledger.Asset{Code: "POINTS", Scale: 2}
	Hours  = ledger.Asset{Code: "HOURS", Scale: 2}
)

// Start is the suite clock's initial time.
var Start = time.Date(2026, 3, 5, 8, 0, 0, 0, time.UTC)

// Clock is a manual clock for deterministic tests.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock showing t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Fixture is a service over a fresh store with a manual clock.
type Fixture struct {
	// NewStore makes another fresh store (for tests that need several).
	NewStore func() ledger.Store
	T        testing.TB
	Ctx      context.Context
	Store    ledger.Store
	Svc      *ledger.Service
	Clock    *Clock
}

// NewFixture builds a Fixture over store.
func NewFixture(t testing.TB, store ledger.Store) *Fixture {
	t.Helper()
	clock := NewClock(Start)
	var n int
	var mu sync.Mutex
	svc, err := ledger.New(store, &ledger.Options{
		Now: clock.Now,
		NewID: func() string {
			mu.Lock()
			defer mu.Unlock()
			n++
			return "gen-" + strconv.Itoa(n)
		},
	})
	require.NoError(t, err)
	return &Fixture{T: t, Ctx: context.Background(), Store: store, Svc: svc, Clock: clock}
}

// D parses a decimal or fails the test.
func D(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// Open opens an account of asset with default floor (0) and no ceiling.
func (f *Fixture) Open(id ledger.AccountID, asset ledger.Asset) ledger.Account {
	f.T.Helper()
	a, err := f.Svc.OpenAccount(f.Ctx, ledger.AccountSpec{ID: id, Asset: asset})
	require.NoError(f.T, err)
	return a
}

// OpenSpec opens an account from spec.
func (f *Fixture) OpenSpec(spec ledger.AccountSpec) ledger.Account {
	f.T.Helper()
	a, err := f.Svc.OpenAccount(f.Ctx, spec)
	require.NoError(f.T, err)
	return a
}

// Issuer opens an issuing account (no floor) of asset.
func (f *Fixture) Issuer(id ledger.AccountID, asset ledger.Asset) {
	f.T.Helper()
	f.OpenSpec(ledger.AccountSpec{ID: id, Asset: asset, NoFloor: true})
}

// Move transfers amount of asset from one account to another and returns
// the result and error.
func (f *Fixture) Move(id ledger.TransferID, asset ledger.Asset, from, to ledger.AccountID, amount string) (ledger.Result, error) {
	f.T.Helper()
	return f.Svc.Transfer(f.Ctx, ledger.TransferRequest{ID: id, Postings: ledger.Move(asset, from, to, D(amount)), Reason: "test", Principal: "tester"})
}

// MustMove is Move that requires success.
func (f *Fixture) MustMove(id ledger.TransferID, asset ledger.Asset, from, to ledger.AccountID, amount string) {
	f.T.Helper()
	r, err := f.Move(id, asset, from, to, amount)
	require.NoError(f.T, err)
	require.Equal(f.T, ledger.StatusPosted, r.Status)
}

// Hold places a hold of amount until the clock's now plus d.
func (f *Fixture) Hold(id ledger.TransferID, asset ledger.Asset, from, to ledger.AccountID, amount string, d time.Duration) (ledger.Result, error) {
	f.T.Helper()
	return f.Svc.Transfer(f.Ctx, ledger.TransferRequest{ID: id, Postings: ledger.Move(asset, from, to, D(amount)),
		Reason: "hold", HoldUntil: f.Clock.Now().Add(d)})
}

// Balance returns an account's posted and available balances.
func (f *Fixture) Balance(id ledger.AccountID) (posted, available decimal.Decimal) {
	f.T.Helper()
	a, err := f.Svc.Account(f.Ctx, id)
	require.NoError(f.T, err)
	return a.Balance, a.Available
}

// RequireBalance checks an account's posted and available balances.
func (f *Fixture) RequireBalance(id ledger.AccountID, posted, available string) {
	f.T.Helper()
	p, a := f.Balance(id)
	require.Truef(f.T, p.Equal(D(posted)), "account %s: posted balance %s, want %s", id, p, posted)
	require.Truef(f.T, a.Equal(D(available)), "account %s: available balance %s, want %s", id, a, available)
}

// CheckInvariants fails the test unless svc's ledger passes Audit: hash
// chains and histories verify, per asset the balances sum to zero, each
// balance equals the sum of its entries, no floor or ceiling is crossed,
// pending amounts equal what pending holds reserve, and entries and
// transfer records agree (see ledger.Service.Audit).
func CheckInvariants(t testing.TB, svc *ledger.Service) ledger.AuditReport {
	t.Helper()
	rep, err := svc.Audit(context.Background())
	require.NoError(t, err, "ledger invariants")
	return rep
}

// Run runs the conformance suite against stores made by newStore, one fresh
// store per subtest.
func Run(t *testing.T, newStore func(t *testing.T) ledger.Store) {
	for _, group := range []struct {
		name  string
		tests []subtest
	}{
		{"Account", accountTests},
		{"Transfer", transferTests},
		{"Idempotency", idempotencyTests},
		{"Hold", holdTests},
		{"Reversal", reversalTests},
		{"History", historyTests},
		{"Audit", auditTests},
		{"Batch", batchTests},
		{"Context", contextTests},
		{"Concurrency", concurrencyTests},
		{"Model", modelTests},
	} {
		t.Run(group.name, func(t *testing.T) {
			for _, st := range group.tests {
				t.Run(st.name, func(t *testing.T) {
					f := NewFixture(t, newStore(t))
					f.NewStore = func() ledger.Store { return newStore(t) }
					st.fn(t, f)
					if !st.noAudit {
						CheckInvariants(t, f.Svc)
					}
				})
			}
		})
	}
}

// subtest is one conformance test; fn gets a fixture over a fresh store.
// Unless noAudit, the ledger must pass Audit afterwards.
type subtest struct {
	name    string
	fn      func(t *testing.T, f *Fixture)
	noAudit bool
}

// RequireTime checks that got is the same instant as want, whatever its
// location.
func RequireTime(t testing.TB, want, got time.Time) {
	t.Helper()
	require.Truef(t, want.Equal(got), "time %s, want %s", got, want)
}
