package ledger

import (
	"context"
	"fmt"
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
		_, err = s.verifyAccount(ctx, &acct, nil)
		return err
	}
	return s.eachAccount(ctx, func(a *AccountRecord) error {
		_, err := s.verifyAccount(ctx, a, nil)
		return err
	})
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
// It calls each, when not nil, with every entry that follows from the one
// before.
func (s *Service) verifyAccount(ctx context.Context, a *AccountRecord, each func(*EntryRecord)) (int64, error) {
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
			if each != nil {
				each(e)
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
