package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/civicloop/civicloop/ledger"
)

// Account implements ledger.Store.
func (s *LedgerStore) Account(ctx context.Context, id ledger.AccountID) (ledger.AccountRecord, error) {
	if err := ledgerCtxErr(ctx, "account"); err != nil {
		return ledger.AccountRecord{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.ids[id]
	if !ok {
		return ledger.AccountRecord{}, fmt.Errorf("memory: account %q: %w", id, ledger.ErrAccountNotFound)
	}
	return s.acct(i).record(), nil
}

func (a *ledgerAccount) record() ledger.AccountRecord {
	return ledger.AccountRecord{AccountState: a.AccountState, Owner: a.owner, Metadata: ledgerCloneMeta(a.meta),
		OpenedAt: ledgerTime(a.openedAt), ClosedAt: ledgerTime(a.closedAt)}
}

// Accounts implements ledger.Store.
func (s *LedgerStore) Accounts(ctx context.Context, after ledger.AccountID, limit int) ([]ledger.AccountRecord, error) {
	if err := ledgerCtxErr(ctx, "accounts"); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, fmt.Errorf("memory: accounts: limit %d must be positive: %w", limit, ledger.ErrInvalid)
	}
	s.mu.Lock() // may rebuild the sorted index
	defer s.mu.Unlock()
	if s.sorted == nil {
		s.sorted = make([]int32, s.n)
		for i := range s.sorted {
			s.sorted[i] = int32(i)
		}
		slices.SortFunc(s.sorted, func(x, y int32) int { return strings.Compare(string(s.acct(x).ID), string(s.acct(y).ID)) })
	}
	start, _ := slices.BinarySearchFunc(s.sorted, after, func(x int32, id ledger.AccountID) int {
		return strings.Compare(string(s.acct(x).ID), string(id))
	})
	if start < len(s.sorted) && s.acct(s.sorted[start]).ID == after {
		start++
	}
	end := min(start+limit, len(s.sorted))
	out := make([]ledger.AccountRecord, 0, end-start)
	for _, i := range s.sorted[start:end] {
		out = append(out, s.acct(i).record())
	}
	return out, nil
}

// Transfer implements ledger.Store.
func (s *LedgerStore) Transfer(ctx context.Context, id ledger.TransferID) (ledger.TransferRecord, error) {
	if err := ledgerCtxErr(ctx, "transfer"); err != nil {
		return ledger.TransferRecord{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.tids.find(s, id)
	if !ok {
		return ledger.TransferRecord{}, fmt.Errorf("memory: transfer %q: %w", id, ledger.ErrTransferNotFound)
	}
	return s.record(s.transferAt(i)), nil
}

// Transfers implements ledger.Store: the records in the order they were
// first recorded.
func (s *LedgerStore) Transfers(ctx context.Context, after ledger.TransferID, limit int) ([]ledger.TransferRecord, error) {
	if err := ledgerCtxErr(ctx, "transfers"); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, fmt.Errorf("memory: transfers: limit %d must be positive: %w", limit, ledger.ErrInvalid)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var start int32
	if after != "" {
		i, ok := s.tids.find(s, after)
		if !ok {
			return nil, fmt.Errorf("memory: transfers after %q: %w", after, ledger.ErrTransferNotFound)
		}
		start = i + 1
	}
	end := s.tn
	if int64(end-start) > int64(limit) {
		end = start + int32(limit)
	}
	if start >= end {
		return nil, nil
	}
	out := make([]ledger.TransferRecord, 0, end-start)
	for i := start; i < end; i++ {
		out = append(out, s.record(s.transferAt(i)))
	}
	return out, nil
}

// Entries implements ledger.Store.
func (s *LedgerStore) Entries(ctx context.Context, id ledger.AccountID, after int64, limit int) ([]ledger.EntryRecord, error) {
	if err := ledgerCtxErr(ctx, "entries"); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, fmt.Errorf("memory: entries of %q: limit %d must be positive: %w", id, limit, ledger.ErrInvalid)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.ids[id]
	if !ok {
		return nil, fmt.Errorf("memory: entries of %q: %w", id, ledger.ErrAccountNotFound)
	}
	a := s.acct(i)
	after = max(after, 0)
	n := a.entryCount()
	if after >= n {
		return nil, nil
	}
	end := min(after+int64(limit), n)
	out := make([]ledger.EntryRecord, 0, end-after)
	for k := after; k < end; k++ {
		out = append(out, s.entryRecord(a, k))
	}
	return out, nil
}

// entryRecord rebuilds the k-th (0-based) entry of a.
func (s *LedgerStore) entryRecord(a *ledgerAccount, k int64) ledger.EntryRecord {
	e := a.entryAt(k)
	var prev int64
	if k > 0 {
		prev = a.entryAt(k - 1).balance
	}
	t := s.transferAt(e.tr)
	return ledger.EntryRecord{
		Account: a.ID, Seq: k + 1, Transfer: t.id, Units: e.balance - prev, Balance: e.balance,
		Version: e.version, RecordedAt: ledgerTime(t.recorded), EffectiveAt: ledgerTime(t.effectiveAt()), Hash: e.hash,
	}
}

// EntryAsOf implements ledger.Store.
func (s *LedgerStore) EntryAsOf(ctx context.Context, id ledger.AccountID, at time.Time) (ledger.EntryRecord, error) {
	if err := ledgerCtxErr(ctx, "entry as of"); err != nil {
		return ledger.EntryRecord{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.ids[id]
	if !ok {
		return ledger.EntryRecord{}, fmt.Errorf("memory: entry of %q as of %s: %w", id, at, ledger.ErrAccountNotFound)
	}
	a := s.acct(i)
	us := at.UnixMicro()
	// The last entry recorded at or before at; recorded times do not
	// decrease along an account's entries, so search by position.
	n := a.entryCount()
	lo, hi := int64(0), n // find the first entry recorded after at
	for lo < hi {
		mid := int64(uint64(lo+hi) >> 1)
		if s.transferAt(a.entryAt(mid).tr).recorded <= us {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return ledger.EntryRecord{}, fmt.Errorf("memory: entry of %q as of %s: %w", id, at, ledger.ErrNotFound)
	}
	return s.entryRecord(a, lo-1), nil
}

// DueHolds implements ledger.Store.
func (s *LedgerStore) DueHolds(ctx context.Context, now time.Time, limit int) ([]ledger.TransferID, error) {
	if err := ledgerCtxErr(ctx, "due holds"); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, fmt.Errorf("memory: due holds: limit %d must be positive: %w", limit, ledger.ErrInvalid)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	us := now.UnixMicro()
	var due []*ledgerTransfer
	for _, i := range s.pending {
		if t := s.transferAt(i); t.x.holdUntil <= us {
			due = append(due, t)
		}
	}
	slices.SortFunc(due, func(a, b *ledgerTransfer) int {
		if a.x.holdUntil != b.x.holdUntil {
			if a.x.holdUntil < b.x.holdUntil {
				return -1
			}
			return 1
		}
		return strings.Compare(string(a.id), string(b.id))
	})
	if len(due) > limit {
		due = due[:limit]
	}
	out := make([]ledger.TransferID, len(due))
	for i, t := range due {
		out[i] = t.id
	}
	return out, nil
}

// effectiveAt returns the effective time of t's entries: the recorded time
// when the request left it zero.
func (t *ledgerTransfer) effectiveAt() int64 {
	if t.effective == ledgerNoTime {
		return t.recorded
	}
	return t.effective
}

// record rebuilds the full record of t, with its fingerprint.
func (s *LedgerStore) record(t *ledgerTransfer) ledger.TransferRecord {
	r := ledger.TransferRecord{Command: ledger.Command{
		ID: t.id, Kind: t.kind, Reason: t.reason, Principal: t.principal,
		RecordedAt: ledgerTime(t.recorded), EffectiveAt: ledgerTime(t.effective),
	}, Status: t.status}
	if x := t.x; x != nil {
		r.Ref, r.Units, r.Metadata, r.HoldUntil = x.ref, x.units, ledgerCloneMeta(x.metadata), ledgerTime(x.holdUntil)
		r.PostedUnits, r.ResolvedBy, r.ReversedBy = x.postedUnits, x.resolvedBy, x.reversedBy
		r.RefusalCode, r.RefusalMessage = x.refusalCode, x.refusalMessage
	}
	switch {
	case t.x != nil && t.x.raw != nil:
		r.Postings = slices.Clone(t.x.raw)
	case t.np > 0:
		r.Postings = make([]ledger.PostingRecord, t.np)
		for i := range r.Postings {
			p := t.inline[i]
			a := s.acct(p.acct)
			r.Postings[i] = ledger.PostingRecord{Account: a.ID, Side: p.side, Asset: a.Asset, Units: p.units}
		}
	}
	// The fingerprint covers the request as made, with the effective time
	// as requested (kept so by PutTransfer even from a Service that
	// defaulted it), not as defaulted.
	r.Fingerprint = requestFingerprint(&r.Command)
	r.EffectiveAt = ledgerTime(t.effectiveAt())
	return r
}

// requestFingerprint returns the fingerprint of the request c was made
// from: the postings count only for a transfer or hold (those of a post or
// reversal are the rules').
func requestFingerprint(c *ledger.Command) [32]byte {
	if c.Kind != ledger.KindTransfer && c.Kind != ledger.KindHold && len(c.Postings) > 0 {
		req := *c
		req.Postings = nil
		return ledger.Fingerprint(&req)
	}
	return ledger.Fingerprint(c)
}

func ledgerCloneMeta(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
