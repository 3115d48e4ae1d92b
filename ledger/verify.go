package ledger

import (
	"context"
	"fmt"
	"sort"

	"github.com/shopspring/decimal"
)

// Verify recomputes the hash chain of one account's entries (id), or of
// every account when id is empty, and checks that each entry follows from
// the one before: sequence numbers without gaps, balances that add up,
// versions that grow, and a last entry matching the account's state. It
// returns nil when all holds, or an error wrapping ErrTampered that names
// the account and the sequence number of the first broken entry.
func (s *Service) Verify(ctx context.Context, id AccountID) error {
	if id != "" {
		acct, err := s.store.Account(ctx, id)
		if err != nil {
			return err
		}
		_, err = s.verifyAccount(ctx, &acct)
		return err
	}
	return s.eachAccount(ctx, func(a *AccountRecord) error {
		_, err := s.verifyAccount(ctx, a)
		return err
	})
}

// AuditReport summarises a successful Audit.
type AuditReport struct {
	// Accounts and Entries count what was checked.
	Accounts int
	Entries  int64
	// Assets lists every asset seen, sorted by code then scale.
	Assets []Asset
}

// Audit checks every invariant of the ledger, reading it through the store:
// everything Verify checks for every account; for every asset, balances sum
// to zero; no balance or available balance is past its floor and no balance
// plus pending credits past its ceiling; no pending amount is negative. It
// returns an error wrapping ErrTampered or ErrInvariant describing the first
// violation found. Audit reads accounts page by page; run it when no writes
// are in flight for an exact answer.
func (s *Service) Audit(ctx context.Context) (AuditReport, error) {
	var rep AuditReport
	sums := map[Asset]int64{}
	err := s.eachAccount(ctx, func(a *AccountRecord) error {
		n, err := s.verifyAccount(ctx, a)
		if err != nil {
			return err
		}
		rep.Accounts++
		rep.Entries += n
		sum, ok := addUnits(sums[a.Asset], a.Balance)
		if !ok {
			return fmt.Errorf("ledger: audit: asset %s: balances overflow: %w", a.Asset, ErrInvariant)
		}
		sums[a.Asset] = sum
		return checkBounds(&a.AccountState)
	})
	if err != nil {
		return AuditReport{}, err
	}
	for asset, sum := range sums {
		rep.Assets = append(rep.Assets, asset)
		if sum != 0 {
			return AuditReport{}, fmt.Errorf("ledger: audit: asset %s: balances sum to %s, not zero: %w", asset, asset.FromUnits(sum), ErrInvariant)
		}
	}
	sort.Slice(rep.Assets, func(i, j int) bool {
		a, b := rep.Assets[i], rep.Assets[j]
		return a.Code < b.Code || a.Code == b.Code && a.Scale < b.Scale
	})
	return rep, nil
}

// checkBounds checks an account's floor, ceiling and pending amounts.
func checkBounds(st *AccountState) error {
	amt := func(u int64) decimal.Decimal { return st.Asset.FromUnits(u) }
	if st.PendingDebits < 0 || st.PendingCredits < 0 {
		return fmt.Errorf("ledger: audit: account %q: negative pending amounts %s/%s: %w", st.ID, amt(st.PendingDebits), amt(st.PendingCredits), ErrInvariant)
	}
	if !st.NoFloor && (st.Balance < st.Floor || st.Balance-st.PendingDebits < st.Floor) {
		return fmt.Errorf("ledger: audit: account %q: balance %s, available %s below floor %s: %w", st.ID, amt(st.Balance), amt(st.Balance-st.PendingDebits), amt(st.Floor), ErrInvariant)
	}
	if st.HasCeiling && (st.Balance > st.Ceiling || st.Balance+st.PendingCredits > st.Ceiling) {
		return fmt.Errorf("ledger: audit: account %q: balance %s with pending credits %s above ceiling %s: %w", st.ID, amt(st.Balance), amt(st.PendingCredits), amt(st.Ceiling), ErrInvariant)
	}
	return nil
}

// eachAccount calls fn for every account, in ID order.
func (s *Service) eachAccount(ctx context.Context, fn func(*AccountRecord) error) error {
	var after AccountID
	for {
		page, err := s.store.Accounts(ctx, after, 500)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for i := range page {
			if err := fn(&page[i]); err != nil {
				return err
			}
		}
		after = page[len(page)-1].ID
	}
}

// verifyAccount checks one account's entries and returns how many it read.
func (s *Service) verifyAccount(ctx context.Context, a *AccountRecord) (int64, error) {
	var (
		prev    [32]byte
		balance int64
		version int64
		seq     int64
	)
	broken := func(e *EntryRecord, why string, args ...any) error {
		return fmt.Errorf("ledger: verify: account %q: entry %d (transfer %q): %s: %w", a.ID, e.Seq, e.Transfer, fmt.Sprintf(why, args...), ErrTampered)
	}
	for {
		page, err := s.store.Entries(ctx, a.ID, seq, 1000)
		if err != nil {
			return 0, err
		}
		if len(page) == 0 {
			break
		}
		for i := range page {
			e := &page[i]
			if e.Account != a.ID {
				return 0, broken(e, "belongs to account %q", e.Account)
			}
			if e.Seq != seq+1 {
				return 0, broken(e, "follows entry %d", seq)
			}
			if e.Version <= version {
				return 0, broken(e, "version %d does not follow %d", e.Version, version)
			}
			next, ok := addUnits(balance, e.Units)
			if !ok || next != e.Balance {
				return 0, broken(e, "balance %d does not equal %d plus %d", e.Balance, balance, e.Units)
			}
			if h := EntryHash(prev, e); h != e.Hash {
				return 0, broken(e, "hash %x does not match recomputed %x", e.Hash[:8], h[:8])
			}
			prev, balance, version, seq = e.Hash, e.Balance, e.Version, e.Seq
		}
	}
	switch {
	case seq != a.Entries:
		return 0, fmt.Errorf("ledger: verify: account %q: entry %d: account says %d entries, found %d: %w", a.ID, seq+1, a.Entries, seq, ErrTampered)
	case balance != a.Balance:
		return 0, fmt.Errorf("ledger: verify: account %q: entry %d: entries sum to %d, account balance is %d: %w", a.ID, seq, balance, a.Balance, ErrTampered)
	case prev != a.LastHash:
		return 0, fmt.Errorf("ledger: verify: account %q: entry %d: last hash differs from the account's: %w", a.ID, seq, ErrTampered)
	case version > a.Version:
		return 0, fmt.Errorf("ledger: verify: account %q: entry %d: version %d is beyond the account's %d: %w", a.ID, seq, version, a.Version, ErrTampered)
	}
	return seq, nil
}
