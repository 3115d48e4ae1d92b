package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// This file holds the Service's reads of transfers and history.

// TransferByID returns a recorded transfer, refused ones included, or
// ErrTransferNotFound.
func (s *Service) TransferByID(ctx context.Context, id TransferID) (Transfer, error) {
	rec, err := s.store.Transfer(ctx, id)
	if err != nil {
		return Transfer{}, err
	}
	return transferFromRecord(&rec), nil
}

// Statement returns up to limit (1..1000; 0 means 100) entries of an
// account with sequence numbers after the cursor after (0 for the first
// page), oldest first, and the cursor of the next page. It returns
// ErrAccountNotFound for an unknown account.
func (s *Service) Statement(ctx context.Context, id AccountID, after int64, limit int) (Statement, error) {
	if limit == 0 {
		limit = 100
	}
	if limit < 0 || limit > 1000 || after < 0 {
		return Statement{}, fmt.Errorf("ledger: statement of %q: limit %d must be 1..1000 and cursor %d not negative: %w", id, limit, after, ErrInvalid)
	}
	acct, err := s.store.Account(ctx, id)
	if err != nil {
		return Statement{}, err
	}
	recs, err := s.store.Entries(ctx, id, after, limit)
	if err != nil {
		return Statement{}, err
	}
	st := Statement{Account: id, Entries: make([]Entry, len(recs))}
	for i := range recs {
		st.Entries[i] = entryFromRecord(acct.Asset, &recs[i])
	}
	if n := len(recs); n > 0 && recs[n-1].Seq < acct.Entries {
		st.Next = recs[n-1].Seq
	}
	return st, nil
}

// BalanceAt returns an account's posted balance as recorded at time at: the
// balance after its last entry recorded at or before at, zero before the
// first. It returns ErrAccountNotFound for an unknown account.
func (s *Service) BalanceAt(ctx context.Context, id AccountID, at time.Time) (decimal.Decimal, error) {
	acct, err := s.store.Account(ctx, id)
	if err != nil {
		return decimal.Decimal{}, err
	}
	e, err := s.store.EntryAsOf(ctx, id, micros(at))
	switch {
	case err == nil:
		return acct.Asset.FromUnits(e.Balance), nil
	case errors.Is(err, ErrNotFound) && !errors.Is(err, ErrAccountNotFound):
		return acct.Asset.FromUnits(0), nil
	default:
		return decimal.Decimal{}, err
	}
}

func transferFromRecord(r *TransferRecord) Transfer {
	t := Transfer{
		ID: r.ID, Kind: r.Kind, Status: r.Status, Ref: r.Ref, Reason: r.Reason, Principal: r.Principal,
		Metadata: cloneMetadata(r.Metadata), RecordedAt: r.RecordedAt, EffectiveAt: r.EffectiveAt,
		HoldUntil: r.HoldUntil, ResolvedBy: r.ResolvedBy, ReversedBy: r.ReversedBy,
	}
	if len(r.Postings) > 0 {
		t.Postings = make([]Posting, len(r.Postings))
		for i, p := range r.Postings {
			t.Postings[i] = Posting{Account: p.Account, Side: p.Side, Asset: p.Asset, Amount: p.Asset.FromUnits(p.Units)}
		}
		a := r.Postings[0].Asset
		if r.Units != 0 {
			t.Amount = a.FromUnits(r.Units)
		}
		if r.PostedUnits != 0 {
			t.PostedAmount = a.FromUnits(r.PostedUnits)
		}
	}
	if r.Status == StatusRefused {
		t.Refusal = RefusalError(r.RefusalCode, r.RefusalMessage)
	}
	return t
}

func entryFromRecord(a Asset, e *EntryRecord) Entry {
	return Entry{
		Account: e.Account, Seq: e.Seq, Transfer: e.Transfer,
		Amount: a.FromUnits(e.Units), Balance: a.FromUnits(e.Balance), Version: e.Version,
		RecordedAt: e.RecordedAt, EffectiveAt: e.EffectiveAt, Hash: e.Hash,
	}
}
