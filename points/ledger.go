package points

import (
	"context"
	"errors"
	"fmt"
	"sync"

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
	opened        sync.Map // ledger.AccountID → struct{}
}

// ensure opens the account if this process has not seen it open yet.
func (b *book) ensure(ctx context.Context, id ledger.AccountID, asset ledger.Asset, owner string, volunteer bool) error {
	if _, ok := b.opened.Load(id); ok {
		return nil
	}
	spec := ledger.AccountSpec{ID: id, Asset: asset, Owner: owner, NoFloor: !volunteer || (b.allowNegative && asset == PointsAsset)}
	if _, err := b.led.OpenAccount(ctx, spec); err != nil && !errors.Is(err, ledger.ErrAccountExists) {
		return fmt.Errorf("points: open ledger account %s: %w", id, err)
	}
	b.opened.Store(id, struct{}{})
	return nil
}

// request builds the ledger request of a transfer or hold op.
func (b *book) request(ctx context.Context, op *Op) (ledger.TransferRequest, error) {
	req := ledger.TransferRequest{ID: ledger.TransferID(op.ID), Reason: op.Reason, Principal: op.Principal, EffectiveAt: op.At}
	if op.Kind == OpHold {
		req.HoldUntil = op.Deadline
	}
	add := func(asset ledger.Asset, amt decimal.Decimal) error {
		if amt.Sign() == 0 {
			return nil
		}
		vol := VolunteerAccount(op.Volunteer, asset)
		other := SchemeAccount(op.Counterparty, asset)
		if err := b.ensure(ctx, vol, asset, string(op.Volunteer), true); err != nil {
			return err
		}
		if err := b.ensure(ctx, other, asset, "points", false); err != nil {
			return err
		}
		if amt.Sign() > 0 {
			req.Postings = append(req.Postings, ledger.Move(asset, other, vol, amt.Abs())...)
		} else {
			req.Postings = append(req.Postings, ledger.Move(asset, vol, other, amt.Abs())...)
		}
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

// apply applies ops in order: runs of transfers and holds go in one
// TransferBatch, posts and voids one by one. It returns the IDs applied (or
// found applied before) and the first failure; ops after a failure are not
// tried, so that a post never runs before its hold.
func (b *book) apply(ctx context.Context, ops []Op) ([]string, error) {
	done := make([]string, 0, len(ops))
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
		reqs := make([]ledger.TransferRequest, 0, j-i)
		for k := i; k < j; k++ {
			req, err := b.request(ctx, &ops[k])
			if err != nil {
				return done, err
			}
			reqs = append(reqs, req)
		}
		var results []ledger.Result
		if len(reqs) == 1 {
			r, err := b.led.Transfer(ctx, reqs[0])
			if err != nil && r.Err == nil {
				return done, fmt.Errorf("points: ledger op %s: %w: %w", ops[i].ID, ErrLedger, err)
			}
			results = []ledger.Result{r}
		} else {
			var err error
			results, err = b.led.TransferBatch(ctx, reqs)
			if err != nil {
				return done, fmt.Errorf("points: ledger batch of %d ops from %s: %w: %w", len(reqs), ops[i].ID, ErrLedger, err)
			}
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
