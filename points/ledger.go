package points

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/org"
	"github.com/shopspring/decimal"
)

// The assets of the scheme: cumulative service hours and spendable points,
// both with two decimal places. They are values to read, never to assign.
var (
	HoursAsset  = ledger.Asset{Code: "HOURS", Scale: 2}
	PointsAsset = ledger.Asset{Code: "POINTS", Scale: 2}
)

// VolunteerAccount returns the ledger account holding a volunteer's hours
// (asset HOURS) or points (asset POINTS).
func VolunteerAccount(v org.VolunteerID, asset ledger.Asset) ledger.AccountID {
	return ledger.AccountID("points/vol/" + string(v) + "/" + asset.Code)
}

// SchemeAccount returns the scheme's account for a counterparty and asset.
func SchemeAccount(c Counterparty, asset ledger.Asset) ledger.AccountID {
	return ledger.AccountID("points/" + string(c) + "/" + asset.Code)
}

// book applies Ops to the ledger, opening accounts on first use.
type book struct {
	led           *ledger.Service
	allowNegative bool
	vols          sync.Map // org.VolunteerID → *accountPair
	schemes       sync.Map // Counterparty → *accountPair
}

// accountPair is the HOURS and POINTS accounts of a volunteer or a scheme
// counterparty, with whether this process has seen each open; it saves
// building the IDs and looking them up again for every op.
type accountPair struct {
	hours, points accountState
}

type accountState struct {
	id   ledger.AccountID
	open atomic.Bool
}

func (p *accountPair) get(asset ledger.Asset) *accountState {
	if asset == HoursAsset {
		return &p.hours
	}
	return &p.points
}

// volunteerPair returns the cached account pair of a volunteer.
func (b *book) volunteerPair(v org.VolunteerID) *accountPair {
	if p, ok := b.vols.Load(v); ok {
		return p.(*accountPair)
	}
	p := &accountPair{}
	p.hours.id, p.points.id = VolunteerAccount(v, HoursAsset), VolunteerAccount(v, PointsAsset)
	got, _ := b.vols.LoadOrStore(v, p)
	return got.(*accountPair)
}

// schemePair returns the cached account pair of a counterparty.
func (b *book) schemePair(c Counterparty) *accountPair {
	if p, ok := b.schemes.Load(c); ok {
		return p.(*accountPair)
	}
	p := &accountPair{}
	p.hours.id, p.points.id = SchemeAccount(c, HoursAsset), SchemeAccount(c, PointsAsset)
	got, _ := b.schemes.LoadOrStore(c, p)
	return got.(*accountPair)
}

// ensure opens the account if this process has not seen it open yet.
func (b *book) ensure(ctx context.Context, st *accountState, asset ledger.Asset, owner string, volunteer bool) error {
	if st.open.Load() {
		return nil
	}
	spec := ledger.AccountSpec{ID: st.id, Asset: asset, Owner: owner, NoFloor: !volunteer || (b.allowNegative && asset == PointsAsset)}
	if _, err := b.led.OpenAccount(ctx, spec); err != nil && !errors.Is(err, ledger.ErrAccountExists) {
		return fmt.Errorf("points: open ledger account %s: %w", st.id, err)
	}
	st.open.Store(true)
	return nil
}

// request builds the ledger request of a transfer or hold op. Its postings
// go into buf when it has room (the ledger copies them), else into a new
// slice.
func (b *book) request(ctx context.Context, op *Op, buf []ledger.Posting) (ledger.TransferRequest, error) {
	req := ledger.TransferRequest{ID: ledger.TransferID(op.ID), Reason: op.Reason, Principal: op.Principal, EffectiveAt: op.At}
	if op.Kind == OpHold {
		req.HoldUntil = op.Deadline
	}
	n := 0
	if op.Hours.Sign() != 0 {
		n += 2
	}
	if op.Points.Sign() != 0 {
		n += 2
	}
	if n == 0 {
		return req, nil
	}
	vols, others := b.volunteerPair(op.Volunteer), b.schemePair(op.Counterparty)
	if cap(buf) >= n {
		req.Postings = buf[:0:n]
	} else {
		req.Postings = make([]ledger.Posting, 0, n)
	}
	add := func(asset ledger.Asset, amt decimal.Decimal) error {
		if amt.Sign() == 0 {
			return nil
		}
		vol, other := vols.get(asset), others.get(asset)
		if err := b.ensure(ctx, vol, asset, string(op.Volunteer), true); err != nil {
			return err
		}
		if err := b.ensure(ctx, other, asset, "points", false); err != nil {
			return err
		}
		// As ledger.Move(asset, from, to, |amt|), without its slice.
		from, to := other.id, vol.id
		if amt.Sign() < 0 {
			from, to = vol.id, other.id
		}
		abs := absAmount(asset, amt)
		req.Postings = append(req.Postings,
			ledger.Posting{Account: from, Side: ledger.Debit, Asset: asset, Amount: abs},
			ledger.Posting{Account: to, Side: ledger.Credit, Asset: asset, Amount: abs})
		return nil
	}
	if err := add(HoursAsset, op.Hours); err != nil {
		return req, err
	}
	if err := add(PointsAsset, op.Points); err != nil {
		return req, err
	}
	return req, nil
}

// absAmount returns |amt|: a shared decimal of its hundredths when it has
// some (the ledger keeps postings in minor units, so the form of the
// decimal is not kept), saving a hold's negated amount two allocations.
func absAmount(asset ledger.Asset, amt decimal.Decimal) decimal.Decimal {
	if amt.Sign() > 0 {
		return amt // Abs returns it as it is
	}
	if u, err := asset.ToUnits(amt); err == nil && asset.Scale == 2 && u > math.MinInt64 {
		return hundredths(-u)
	}
	return amt.Abs()
}

// apply applies ops in order: runs of transfers and holds go in one
// TransferBatch, posts and voids one by one. It returns the IDs applied (or
// found applied before) and the first failure; ops after a failure are not
// tried, so that a post never runs before its hold. The IDs are appended
// to done[:0]. scratch, when not nil, holds the postings of a lone op.
func (b *book) apply(ctx context.Context, ops []Op, done []string, scratch []ledger.Posting) ([]string, error) {
	if cap(done) < len(ops) {
		done = make([]string, 0, len(ops))
	}
	done = done[:0]
	for i := 0; i < len(ops); {
		if k := ops[i].Kind; k == OpPost || k == OpVoid {
			if err := b.settle(ctx, &ops[i]); err != nil {
				return done, err
			}
			done = append(done, ops[i].ID)
			i++
			continue
		}
		j := i
		for j < len(ops) && (ops[j].Kind == OpTransfer || ops[j].Kind == OpHold) && j-i < ledger.MaxBatch {
			j++
		}
		if j-i == 1 {
			// One op: no batch slices.
			req, err := b.request(ctx, &ops[i], scratch)
			if err != nil {
				return done, err
			}
			r, err := b.led.Transfer(ctx, req)
			if r.Err != nil {
				err = r.Err
			}
			if err != nil {
				return done, fmt.Errorf("points: ledger op %s: %w: %w", ops[i].ID, ErrLedger, err)
			}
			done = append(done, ops[i].ID)
			i = j
			continue
		}
		reqs := make([]ledger.TransferRequest, 0, j-i)
		for k := i; k < j; k++ {
			req, err := b.request(ctx, &ops[k], nil)
			if err != nil {
				return done, err
			}
			reqs = append(reqs, req)
		}
		results, err := b.led.TransferBatch(ctx, reqs)
		if err != nil {
			return done, fmt.Errorf("points: ledger batch of %d ops from %s: %w: %w", len(reqs), ops[i].ID, ErrLedger, err)
		}
		for k, r := range results {
			if r.Err != nil {
				return done, fmt.Errorf("points: ledger op %s: %w: %w", ops[i+k].ID, ErrLedger, r.Err)
			}
			done = append(done, ops[i+k].ID)
		}
		i = j
	}
	return done, nil
}

// settle posts or voids a hold. A void of a hold the ledger already expired
// or voided counts as done.
func (b *book) settle(ctx context.Context, op *Op) error {
	var r ledger.Result
	var err error
	if op.Kind == OpPost {
		r, err = b.led.Post(ctx, ledger.PostRequest{ID: ledger.TransferID(op.ID), Hold: ledger.TransferID(op.Hold), Reason: op.Reason, Principal: op.Principal, EffectiveAt: op.At})
	} else {
		r, err = b.led.Void(ctx, ledger.VoidRequest{ID: ledger.TransferID(op.ID), Hold: ledger.TransferID(op.Hold), Reason: op.Reason, Principal: op.Principal})
		if errors.Is(err, ledger.ErrNotPending) {
			if t, terr := b.led.TransferByID(ctx, ledger.TransferID(op.Hold)); terr == nil && (t.Status == ledger.StatusExpired || t.Status == ledger.StatusVoided) {
				return nil
			}
		}
	}
	if err == nil {
		err = r.Err
	}
	if err != nil {
		return fmt.Errorf("points: ledger op %s: %w: %w", op.ID, ErrLedger, err)
	}
	return nil
}
