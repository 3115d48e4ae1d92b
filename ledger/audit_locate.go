package ledger

import (
	"context"
	"errors"
	"fmt"
)

// This file holds what Audit does when the digests of entries and of
// transfers differ: it reads them again, one by one, to name the entry or
// the transfer that disagrees.

// locate returns an error naming an entry that does not match its
// transfer, or a balance change of a transfer that has not exactly one
// entry; nil if it finds neither (the ledger changed since the digests
// were made).
func (a *auditor) locate(ctx context.Context) error {
	err := a.s.eachAccount(ctx, func(acct *AccountRecord) error {
		return a.s.eachEntry(ctx, acct.ID, func(e *EntryRecord) error { return a.checkEntry(ctx, acct, e) })
	})
	if err != nil {
		return err
	}
	return a.eachTransfer(ctx, a.findEntries)
}

// eachEntry calls fn for every entry of account id, in Seq order.
func (s *Service) eachEntry(ctx context.Context, id AccountID, fn func(*EntryRecord) error) error {
	var after int64
	for {
		page, err := s.store.Entries(ctx, id, after, 1000)
		if err != nil {
			return err
		}
		if len(page) == 0 || page[len(page)-1].Seq <= after {
			return nil
		}
		for i := range page {
			if err := fn(&page[i]); err != nil {
				return err
			}
		}
		after = page[len(page)-1].Seq
	}
}

// checkEntry checks that entry e of acct is the change its transfer makes
// to the account.
func (a *auditor) checkEntry(ctx context.Context, acct *AccountRecord, e *EntryRecord) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("ledger: audit: account %q: entry %d (transfer %q): %s: %w", acct.ID, e.Seq, e.Transfer, fmt.Sprintf(format, args...), ErrInvariant)
	}
	amt := acct.Asset.FromUnits
	if e.Units == 0 {
		return bad("changes the balance by zero")
	}
	r, err := a.s.store.Transfer(ctx, e.Transfer)
	if errors.Is(err, ErrTransferNotFound) {
		return bad("no such transfer")
	}
	if err != nil {
		return err
	}
	if r.Status != StatusPosted || r.Kind == KindHold {
		return bad("the transfer is a %s with status %s, which changes no balance", r.Kind, r.Status)
	}
	var buf [4]leg
	legs, err := legsOf(&r, buf[:])
	if err != nil {
		return err
	}
	l := leg{account: acct.ID, asset: acct.Asset}
	for _, x := range legs {
		if x.account == acct.ID {
			l = x
		}
	}
	if l.asset != acct.Asset {
		return bad("the transfer's postings on the account are in %s, the account holds %s", l.asset, acct.Asset)
	}
	if l.units != e.Units {
		return bad("changes the balance by %s, the transfer's postings by %s", amt(e.Units), amt(l.units))
	}
	if rec, eff := times(&r); unixMicro(e.RecordedAt) != rec || unixMicro(e.EffectiveAt) != eff {
		return bad("recorded at %s and effective at %s, the transfer at %s and %s", e.RecordedAt, e.EffectiveAt, r.RecordedAt, r.EffectiveAt)
	}
	return nil
}

// findEntries checks that each account whose balance transfer r changes
// has exactly one entry for it.
func (a *auditor) findEntries(ctx context.Context, r *TransferRecord) error {
	if r.Status != StatusPosted || r.Kind == KindHold {
		return nil
	}
	var buf [4]leg
	legs, err := legsOf(r, buf[:])
	if err != nil {
		return err
	}
	for _, l := range legs {
		if l.units == 0 {
			continue
		}
		n, err := a.countEntries(ctx, l.account, r)
		if errors.Is(err, ErrAccountNotFound) {
			return badTransfer(r, "changes the balance of account %q by %s, but there is no such account", l.account, l.asset.FromUnits(l.units))
		}
		if err != nil {
			return err
		}
		if n != 1 {
			return badTransfer(r, "changes the balance of account %q by %s, but the account has %d entries for it", l.account, l.asset.FromUnits(l.units), n)
		}
	}
	return nil
}

// countEntries counts the entries of account acct for transfer r among
// those recorded at r's recorded time: the entries of one account are
// recorded in time order (see Reader.EntryAsOf), and checkEntry found
// each with its transfer's time.
func (a *auditor) countEntries(ctx context.Context, acct AccountID, r *TransferRecord) (int, error) {
	last, err := a.s.store.EntryAsOf(ctx, acct, r.RecordedAt)
	switch {
	case errors.Is(err, ErrAccountNotFound):
		return 0, err
	case errors.Is(err, ErrNotFound):
		return 0, nil
	case err != nil:
		return 0, err
	}
	const chunk = 100
	n := 0
	for hi := last.Seq; hi > 0; {
		lo := max(0, hi-chunk)
		var es []EntryRecord
		for after := lo; after < hi; {
			page, err := a.s.store.Entries(ctx, acct, after, int(hi-after))
			if err != nil {
				return 0, err
			}
			if len(page) == 0 || page[len(page)-1].Seq <= after {
				break
			}
			es = append(es, page...)
			after = page[len(page)-1].Seq
		}
		for i := len(es) - 1; i >= 0; i-- {
			e := &es[i]
			if e.Seq > hi {
				continue
			}
			if !e.RecordedAt.Equal(r.RecordedAt) {
				return n, nil
			}
			if e.Transfer == r.ID {
				n++
			}
		}
		hi = lo
	}
	return n, nil
}
