package pointstest

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// MinSequences is how many random sequences Property runs at least.
const MinSequences = 200

// Property runs at least MinSequences random sequences of record, confirm,
// object/resolve, redeem, fulfil, cancel, expire, bonus and penalty
// commands, each on fresh
// stores, and after every step checks: each volunteer's HOURS balance equals
// the hours of his confirmed records; his POINTS balance equals his awards
// less what he spent and what expired; his available points agree between
// ledger and lots; stock is never negative and accounts for every unit;
// nothing is awarded twice.
func Property(t *testing.T, newStore func(t *testing.T) points.Store, newLedger func(t *testing.T) ledger.Store) {
	PropertyN(t, MinSequences, newStore, newLedger)
}

// PropertyN is Property with at least sequences random sequences instead of
// MinSequences, for an adapter whose sequences are slow (a networked
// database under the race detector, say). sequences must be positive.
func PropertyN(t *testing.T, sequences int, newStore func(t *testing.T) points.Store, newLedger func(t *testing.T) ledger.Store) {
	if sequences < 1 {
		t.Fatalf("pointstest: PropertyN: sequences must be positive, got %d", sequences)
	}
	var runs atomic.Int64
	for runs.Load() < int64(sequences) {
		rapid.Check(t, func(rt *rapid.T) {
			e := NewEnv(rt, newStore(t), newLedger(t), nil)
			m := &machine{e: e, rt: rt, stock: 3}
			m.item = e.Item("15", m.stock, nil)
			rt.Repeat(map[string]func(*rapid.T){
				"record":  m.record,
				"confirm": m.confirm,
				"object":  m.object,
				"redeem":  m.redeem,
				"fulfil":  m.fulfil,
				"cancel":  m.cancel,
				"expire":  m.expire,
				"bonus":   m.bonus,
				"penalty": m.penalty,
				"outage":  m.outage,
				"sync":    m.sync,
				"":        m.check,
			})
			m.setDown(false)
			m.sync(rt)
			m.check(rt)
			_, err := e.Ledger.Audit(e.Ctx)
			require.NoError(rt, err)
			runs.Add(1)
		})
	}
	t.Logf("property: %d sequences", runs.Load())
	require.GreaterOrEqual(t, runs.Load(), int64(sequences))
}

var propVolunteers = []org.VolunteerID{"V1", "V2", "V3"}

type machine struct {
	e           *Env
	rt          *rapid.T
	item        points.Item
	stock       int64
	drafts      []string
	confirmed   []string
	redemptions []string
	// down is whether the ledger is failing (see outage); dirty, since the
	// clock showed dirtySince, whether ops may be pending since an outage.
	down       bool
	dirty      bool
	dirtySince time.Time
}

// maxOutage bounds how long after an outage begins the test's clock runs on
// before everything the outage left pending is applied: a hold that
// reaches the ledger after its deadline and grace (30 days past the pickup
// window) is refused there for good, which Sync then reports (see
// Service.Sync); that case needs an operator, not a retry, and a deployment
// runs Sync more often than that.
const maxOutage = 20 * 24 * time.Hour

// outage takes the ledger down, or brings it back: commands then store
// their changes and leave their ledger ops pending (ErrLedger), and later
// commands must apply each volunteer's ops in order.
func (m *machine) outage(t *rapid.T) {
	m.setDown(!m.down)
}

func (m *machine) setDown(down bool) {
	m.down = down
	if down && !m.dirty {
		m.dirty, m.dirtySince = true, m.e.Clock.Now()
	}
	m.e.LStore.Fail.Store(down)
}

// stored requires err to be nil, or, while the ledger is down, ErrLedger:
// the command's change was stored and its ledger ops are pending.
func (m *machine) stored(t *rapid.T, err error) {
	t.Helper()
	if m.down && errors.Is(err, points.ErrLedger) {
		return
	}
	require.NoError(t, err)
}

func (m *machine) pick(t *rapid.T, list []string, label string) (string, bool) {
	if len(list) == 0 {
		t.Skip("nothing to " + label)
		return "", false
	}
	return list[rapid.IntRange(0, len(list)-1).Draw(t, label)], true
}

func (m *machine) record(t *rapid.T) {
	v := propVolunteers[rapid.IntRange(0, len(propVolunteers)-1).Draw(t, "volunteer")]
	in := Input(v, rapid.IntRange(0, 30).Draw(t, "day"), rapid.IntRange(30, 600).Draw(t, "minutes"))
	shift := time.Duration(rapid.IntRange(0, 12).Draw(t, "hour")) * time.Hour
	in.SignIn, in.SignOut = in.SignIn.Add(shift), in.SignOut.Add(shift)
	in.Activity.HardToStaff = rapid.Bool().Draw(t, "hard")
	rec, err := m.e.Svc.RecordService(m.e.Ctx, Admin("S1"), in)
	if errors.Is(err, points.ErrOverlap) {
		return
	}
	require.NoError(t, err)
	m.drafts = append(m.drafts, rec.ID)
}

func (m *machine) confirm(t *rapid.T) {
	id, _ := m.pick(t, m.drafts, "draft")
	_, err := m.e.Svc.Confirm(m.e.Ctx, Admin("S1"), id)
	m.stored(t, err)
	rec, err := m.e.Svc.Record(m.e.Ctx, id)
	require.NoError(t, err)
	require.Equal(t, points.RecordConfirmed, rec.Status)
	m.drafts = remove(m.drafts, id)
	m.confirmed = append(m.confirmed, id)
}

func (m *machine) object(t *rapid.T) {
	id, _ := m.pick(t, m.confirmed, "confirmed")
	rec, err := m.e.Svc.Record(m.e.Ctx, id)
	require.NoError(t, err)
	obj, err := m.e.Svc.Object(m.e.Ctx, Vol(rec.Volunteer), id, "hours are wrong")
	if errors.Is(err, points.ErrState) { // an earlier objection is still open
		return
	}
	require.NoError(t, err)
	if rapid.Bool().Draw(t, "reject") {
		_, _, err = m.e.Svc.Resolve(m.e.Ctx, Admin("S1"), obj.ID, points.Resolution{Note: "stands"})
		m.stored(t, err)
		return
	}
	fix := rec.RecordInput
	fix.SignOut = fix.SignIn.Add(time.Duration(rapid.IntRange(30, 480).Draw(t, "fixed minutes")) * time.Minute)
	_, fresh, err := m.e.Svc.Resolve(m.e.Ctx, Admin("S1"), obj.ID, points.Resolution{Correct: &fix, Note: "corrected"})
	if errors.Is(err, points.ErrOverlap) {
		return
	}
	m.stored(t, err)
	m.confirmed = append(remove(m.confirmed, id), fresh.ID)
}

func (m *machine) redeem(t *rapid.T) {
	v := propVolunteers[rapid.IntRange(0, len(propVolunteers)-1).Draw(t, "volunteer")]
	red, err := m.e.Svc.Redeem(m.e.Ctx, Vol(v), m.item.ID, v)
	if errors.Is(err, points.ErrInsufficientPoints) || errors.Is(err, points.ErrOutOfStock) {
		return
	}
	m.stored(t, err)
	m.redemptions = append(m.redemptions, red.ID)
}

func (m *machine) fulfil(t *rapid.T) {
	id, _ := m.pick(t, m.redemptions, "redemption")
	red, err := m.e.Svc.Redemption(m.e.Ctx, id)
	require.NoError(t, err)
	_, err = m.e.Svc.Fulfil(m.e.Ctx, Admin("S1"), id, red.PickupCode)
	if red.Status != points.RedemptionHeld || !m.e.Clock.Now().Before(red.Deadline) {
		require.ErrorIs(t, err, points.ErrState)
		return
	}
	m.stored(t, err)
}

func (m *machine) cancel(t *rapid.T) {
	id, _ := m.pick(t, m.redemptions, "redemption")
	red, err := m.e.Svc.Redemption(m.e.Ctx, id)
	require.NoError(t, err)
	_, err = m.e.Svc.Cancel(m.e.Ctx, Vol(red.Volunteer), id, "no longer wanted")
	if red.Status != points.RedemptionHeld {
		require.ErrorIs(t, err, points.ErrState)
		return
	}
	m.stored(t, err)
}

func (m *machine) expire(t *rapid.T) {
	d := time.Duration(rapid.IntRange(1, 200).Draw(t, "days")) * 24 * time.Hour
	if m.dirty {
		d = min(d, m.dirtySince.Add(maxOutage).Sub(m.e.Clock.Now()))
	}
	m.e.Clock.Advance(max(d, 0))
	_, err := m.e.Svc.ExpireRedemptions(m.e.Ctx, m.e.Clock.Now())
	m.stored(t, err)
	_, err = m.e.Svc.ExpireLots(m.e.Ctx, m.e.Clock.Now())
	m.stored(t, err)
}

func (m *machine) bonus(t *rapid.T) {
	v := propVolunteers[rapid.IntRange(0, len(propVolunteers)-1).Draw(t, "volunteer")]
	key := fmt.Sprintf("eval:%d", rapid.IntRange(0, 5).Draw(t, "order"))
	_, err := m.e.Svc.Bonus(m.e.Ctx, System, points.BonusInput{Key: key + ":" + string(v), Volunteer: v, Kind: "five_star", Node: "S1"})
	m.stored(t, err) // a replayed key returns the first award
}

func (m *machine) penalty(t *rapid.T) {
	v := propVolunteers[rapid.IntRange(0, len(propVolunteers)-1).Draw(t, "volunteer")]
	key := fmt.Sprintf("noshow:%d:%s", rapid.IntRange(0, 5).Draw(t, "order"), v)
	_, err := m.e.Svc.Penalize(m.e.Ctx, Admin("S1"), points.PenaltyInput{Key: key, Volunteer: v, Code: "no_show", Node: "S1"})
	m.stored(t, err)
}

// sync applies the pending ledger ops, unless the ledger is down: none may
// be stuck, whatever ran since they were stored.
func (m *machine) sync(t *rapid.T) {
	if m.down {
		t.Skip("the ledger is down")
	}
	_, err := m.e.Svc.Sync(m.e.Ctx)
	require.NoError(t, err, "Sync applies every pending op, each volunteer's in order")
	pending, err := m.e.Store.PendingOps(m.e.Ctx, 10)
	require.NoError(t, err)
	require.Empty(t, pending, "ops left pending after Sync")
	m.dirty = false
}

// check verifies the invariants. While ledger ops are pending (the ledger
// is down, or was, and no command or sync has applied them yet) the ledger
// cannot agree with the store, and check waits for a sync.
func (m *machine) check(t *rapid.T) {
	e := m.e
	if m.down {
		return
	}
	pending, err := e.Store.PendingOps(e.Ctx, 1)
	require.NoError(t, err)
	if m.dirty {
		if len(pending) > 0 {
			return
		}
		m.dirty = false // commands applied what the outage left
	}
	require.Empty(t, pending, "a command left ledger ops pending with the ledger up")
	held, fulfilled := int64(0), int64(0)
	spent := map[org.VolunteerID]decimal.Decimal{}
	for _, id := range m.redemptions {
		r, err := e.Svc.Redemption(e.Ctx, id)
		require.NoError(t, err)
		switch r.Status {
		case points.RedemptionHeld:
			held++
		case points.RedemptionFulfilled:
			fulfilled++
			spent[r.Volunteer] = spent[r.Volunteer].Add(r.Price)
		}
	}
	it, err := e.Svc.Item(e.Ctx, m.item.ID)
	require.NoError(t, err)
	require.GreaterOrEqual(t, it.Stock, int64(0), "stock never negative")
	require.Equal(t, m.stock, it.Stock+held+fulfilled, "every unit accounted for")
	for _, v := range propVolunteers {
		recs, err := e.Svc.Records(e.Ctx, v, Day(-1000), Day(100000))
		require.NoError(t, err)
		hours := decimal.Zero
		for _, r := range recs {
			if r.Status == points.RecordConfirmed {
				hours = hours.Add(r.Hours)
			}
		}
		awards, err := e.Svc.Statement(e.Ctx, v, Day(-1000), Day(100000))
		require.NoError(t, err)
		awarded, expired := decimal.Zero, decimal.Zero
		perRecord := map[string]int{}
		for _, a := range awards {
			awarded = awarded.Add(a.Points)
			if a.Kind == points.AwardService {
				perRecord[a.Record]++
			}
			if lot, err := e.Store.Lot(e.Ctx, a.ID); err == nil {
				expired = expired.Add(lot.Expired)
			} else {
				require.ErrorIs(t, err, points.ErrNotFound)
			}
		}
		for _, r := range recs {
			want := 0
			if r.Status != points.RecordDraft {
				want = 1
			}
			require.Equal(t, want, perRecord[r.ID], fmt.Sprintf("awards of record %s (%s)", r.ID, r.Status))
		}
		hb, _ := e.Balance(v, points.HoursAsset)
		require.Truef(t, hb.Equal(hours), "%s: HOURS %s, confirmed records %s", v, hb, hours)
		pb, pa := e.Balance(v, points.PointsAsset)
		want := awarded.Sub(spent[v]).Sub(expired)
		require.Truef(t, pb.Equal(want), "%s: POINTS %s, awards %s − spent %s − expired %s", v, pb, awarded, spent[v], expired)
		w, lots, err := e.Svc.Wallet(e.Ctx, v)
		require.NoError(t, err)
		require.Truef(t, w.Hours.Equal(hours), "%s: wallet hours %s, records %s", v, w.Hours, hours)
		require.Truef(t, points.Available(w, lots).Equal(pa), "%s: available %s by lots, %s by ledger", v, points.Available(w, lots), pa)
	}
}

func remove(list []string, id string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}
