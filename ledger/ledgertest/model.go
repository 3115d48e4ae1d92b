package ledgertest

import (
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/civicloop/civicloop/ledger"
)

var modelTests = []subtest{
	{name: "RandomOperations", fn: testModel},
}

// modelAccount is the reference model's view of one account, in minor units.
type modelAccount struct {
	id               ledger.AccountID
	noFloor          bool
	floor            int64
	ceiling          int64 // 0: none
	bal, pdeb, pcred int64
}

// modelTransfer is what the model remembers of a recorded transfer.
type modelTransfer struct {
	kind     ledger.Kind
	status   ledger.Status
	from, to int
	units    int64
	deadline time.Time
	reversed bool
}

// outcome is the first outcome of a request, as a retry must return it.
type outcome struct {
	status ledger.Status
	code   string // ledger.RefusalCode of the error, "" for success
}

// model is the reference model: a straightforward re-statement of the
// ledger's rules that the store under test must agree with after every step.
type model struct {
	f         *Fixture
	accts     []*modelAccount
	transfers map[ledger.TransferID]*modelTransfer
	requests  []func() (ledger.Result, error) // every request sent, to retry
	first     []outcome
	n         int
}

func newModel(f *Fixture) *model {
	m := &model{f: f, transfers: map[ledger.TransferID]*modelTransfer{}}
	specs := []ledger.AccountSpec{
		{ID: "issuer", Asset: Points, NoFloor: true},
		{ID: "vol-a", Asset: Points},
		{ID: "vol-b", Asset: Points},
		{ID: "overdraft", Asset: Points, Floor: D("-5")},
		{ID: "capped", Asset: Points, Ceiling: decimal.NewNullDecimal(D("30"))},
	}
	for _, s := range specs {
		f.OpenSpec(s)
		a := &modelAccount{id: s.ID, noFloor: s.NoFloor}
		a.floor = s.Floor.Shift(2).IntPart()
		if s.Ceiling.Valid {
			a.ceiling = s.Ceiling.Decimal.Shift(2).IntPart()
		}
		m.accts = append(m.accts, a)
	}
	return m
}

func (m *model) nextID(prefix string) ledger.TransferID {
	m.n++
	return ledger.TransferID(fmt.Sprintf("%s%d", prefix, m.n))
}

// debitOK and creditOK state the floor and ceiling rules.
func (a *modelAccount) debitOK(u int64) bool {
	return a.noFloor || a.bal-a.pdeb-u >= a.floor
}

func (a *modelAccount) creditOK(u int64) bool {
	return a.ceiling == 0 || a.bal+a.pcred+u <= a.ceiling
}

// move checks and applies a transfer of u from a to b: debits are checked
// first when the debited account is listed first, as the rules do.
func moveCode(from, to *modelAccount, u int64, creditFirst bool) string {
	if creditFirst {
		if !to.creditOK(u) {
			return "ceiling_exceeded"
		}
		if !from.debitOK(u) {
			return "insufficient_funds"
		}
		return ""
	}
	if !from.debitOK(u) {
		return "insufficient_funds"
	}
	if !to.creditOK(u) {
		return "ceiling_exceeded"
	}
	return ""
}

// send performs a request, records it for retries and checks its outcome.
func (m *model) send(t *rapid.T, want outcome, do func() (ledger.Result, error)) {
	r, err := do()
	got := outcome{status: r.Status, code: ledger.RefusalCode(err)}
	if got != want {
		t.Fatalf("outcome %+v (err %v), model expects %+v", got, err, want)
	}
	if r.Replayed {
		t.Fatalf("a new request reported as replayed")
	}
	m.requests = append(m.requests, do)
	m.first = append(m.first, want)
}

func (m *model) transfer(t *rapid.T) {
	from := rapid.IntRange(0, len(m.accts)-1).Draw(t, "from")
	to := rapid.IntRange(0, len(m.accts)-1).Filter(func(i int) bool { return i != from }).Draw(t, "to")
	u := rapid.Int64Range(1, 2000).Draw(t, "units")
	hold := rapid.Bool().Draw(t, "hold")
	a, b := m.accts[from], m.accts[to]
	id := m.nextID("t")
	req := ledger.TransferRequest{ID: id, Postings: ledger.Move(Points, a.id, b.id, decimal.New(u, -2))}
	mt := &modelTransfer{kind: ledger.KindTransfer, from: from, to: to, units: u}
	want := outcome{status: ledger.StatusPosted}
	if hold {
		mt.kind = ledger.KindHold
		mt.deadline = m.f.Clock.Now().Add(time.Duration(rapid.IntRange(1, 5).Draw(t, "minutes")) * time.Minute)
		req.HoldUntil = mt.deadline
		want.status = ledger.StatusPending
	}
	want.code = moveCode(a, b, u, false)
	if want.code != "" {
		want.status = ledger.StatusRefused
	}
	m.send(t, want, func() (ledger.Result, error) { return m.f.Svc.Transfer(m.f.Ctx, req) })
	mt.status = want.status
	m.transfers[id] = mt
	switch {
	case want.code != "":
	case hold:
		a.pdeb += u
		b.pcred += u
	default:
		a.bal -= u
		b.bal += u
	}
}

// pick draws one of the recorded transfers, or "" when there are none.
func (m *model) pick(t *rapid.T, label string) ledger.TransferID {
	if len(m.transfers) == 0 {
		return ""
	}
	ids := make([]ledger.TransferID, 0, len(m.transfers))
	for i := 1; i <= m.n; i++ {
		for _, p := range []string{"t", "p", "v", "r"} {
			id := ledger.TransferID(fmt.Sprintf("%s%d", p, i))
			if _, ok := m.transfers[id]; ok {
				ids = append(ids, id)
			}
		}
	}
	return rapid.SampledFrom(ids).Draw(t, label)
}

func (m *model) resolve(t *rapid.T) {
	hid := m.pick(t, "hold")
	if hid == "" {
		return
	}
	h := m.transfers[hid]
	post := rapid.Bool().Draw(t, "post")
	var part int64
	if post && rapid.Bool().Draw(t, "partial") {
		part = rapid.Int64Range(1, 2100).Draw(t, "partUnits")
	}
	id := m.nextID("v")
	if post {
		id = m.nextID("p")
	}
	want := outcome{status: ledger.StatusVoided}
	if post {
		want.status = ledger.StatusPosted
	}
	switch {
	case h.kind != ledger.KindHold || h.status != ledger.StatusPending:
		want = outcome{status: ledger.StatusRefused, code: "not_pending"}
	case post && !m.f.Clock.Now().Before(h.deadline):
		want = outcome{status: ledger.StatusRefused, code: "hold_expired"}
	case part > h.units:
		want = outcome{status: ledger.StatusRefused, code: "invalid_amount"}
	}
	if post {
		req := ledger.PostRequest{ID: id, Hold: hid}
		if part != 0 {
			req.Amount = decimal.New(part, -2)
		}
		m.send(t, want, func() (ledger.Result, error) { return m.f.Svc.Post(m.f.Ctx, req) })
	} else {
		req := ledger.VoidRequest{ID: id, Hold: hid}
		m.send(t, want, func() (ledger.Result, error) { return m.f.Svc.Void(m.f.Ctx, req) })
	}
	mt := &modelTransfer{kind: ledger.KindVoid, status: want.status, from: h.from, to: h.to}
	if post {
		mt.kind = ledger.KindPost
	}
	m.transfers[id] = mt
	if want.code != "" {
		return
	}
	a, b := m.accts[h.from], m.accts[h.to]
	a.pdeb -= h.units
	b.pcred -= h.units
	h.status = want.status
	if post {
		moved := h.units
		if part != 0 {
			moved = part
		}
		a.bal -= moved
		b.bal += moved
		mt.units = moved
	}
}

func (m *model) reverse(t *rapid.T) {
	oid := m.pick(t, "original")
	if oid == "" {
		return
	}
	o := m.transfers[oid]
	id := m.nextID("r")
	want := outcome{status: ledger.StatusPosted}
	switch {
	case (o.kind != ledger.KindTransfer && o.kind != ledger.KindPost) || o.status != ledger.StatusPosted:
		want = outcome{status: ledger.StatusRefused, code: "not_reversible"}
	case o.reversed:
		want = outcome{status: ledger.StatusRefused, code: "already_reversed"}
	default:
		// The reversal credits the original's debited account first.
		if code := moveCode(m.accts[o.to], m.accts[o.from], o.units, true); code != "" {
			want = outcome{status: ledger.StatusRefused, code: code}
		}
	}
	req := ledger.ReverseRequest{ID: id, Original: oid}
	m.send(t, want, func() (ledger.Result, error) { return m.f.Svc.Reverse(m.f.Ctx, req) })
	m.transfers[id] = &modelTransfer{kind: ledger.KindReversal, status: want.status}
	if want.code == "" {
		o.reversed = true
		m.accts[o.to].bal -= o.units
		m.accts[o.from].bal += o.units
	}
}

func (m *model) advanceAndExpire(t *rapid.T) {
	m.f.Clock.Advance(time.Duration(rapid.IntRange(0, 3).Draw(t, "advance")) * time.Minute)
	now := m.f.Clock.Now()
	want := 0
	for _, h := range m.transfers {
		if h.kind == ledger.KindHold && h.status == ledger.StatusPending && !now.Before(h.deadline) {
			want++
			h.status = ledger.StatusExpired
			m.accts[h.from].pdeb -= h.units
			m.accts[h.to].pcred -= h.units
		}
	}
	n, err := m.f.Svc.ExpireHolds(m.f.Ctx, now)
	if err != nil || n != want {
		t.Fatalf("ExpireHolds: %d expired (err %v), model expects %d", n, err, want)
	}
}

func (m *model) retry(t *rapid.T) {
	if len(m.requests) == 0 {
		return
	}
	i := rapid.IntRange(0, len(m.requests)-1).Draw(t, "request")
	r, err := m.requests[i]()
	got := outcome{status: r.Status, code: ledger.RefusalCode(err)}
	if got != m.first[i] || !r.Replayed {
		t.Fatalf("retry of request %d: %+v (err %v, replayed %v), first outcome %+v", i, got, err, r.Replayed, m.first[i])
	}
}

// check compares every account with the model and audits the ledger.
func (m *model) check(t *rapid.T) {
	for _, a := range m.accts {
		got, err := m.f.Svc.Account(m.f.Ctx, a.id)
		if err != nil {
			t.Fatalf("account %s: %v", a.id, err)
		}
		want := []int64{a.bal, a.pdeb, a.pcred}
		have := []decimal.Decimal{got.Balance, got.PendingDebits, got.PendingCredits}
		for k := range want {
			if !have[k].Equal(decimal.New(want[k], -2)) {
				t.Fatalf("account %s: balance/pending debits/pending credits %s/%s/%s, model %v", a.id, have[0], have[1], have[2], want)
			}
		}
	}
	if _, err := m.f.Svc.Audit(m.f.Ctx); err != nil {
		t.Fatalf("audit: %v", err)
	}
}

func testModel(t *testing.T, f *Fixture) {
	rapid.Check(t, func(rt *rapid.T) {
		mf := NewFixture(t, f.NewStore())
		m := newModel(mf)
		// Seed some funds so that most requests can succeed.
		for i, a := range m.accts[1:] {
			u := int64(1000 + 500*i) // 10 to 25 points: within the cap
			id := m.nextID("t")
			mf.MustMove(id, Points, "issuer", a.id, decimal.New(u, -2).String())
			m.transfers[id] = &modelTransfer{kind: ledger.KindTransfer, status: ledger.StatusPosted, from: 0, to: i + 1, units: u}
			m.accts[0].bal -= u
			a.bal += u
		}
		rt.Repeat(map[string]func(*rapid.T){
			"transfer": m.transfer,
			"resolve":  m.resolve,
			"reverse":  m.reverse,
			"expire":   m.advanceAndExpire,
			"retry":    m.retry,
			"":         m.check,
		})
	})
}
