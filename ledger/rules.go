package ledger

import (
	"errors"
	"fmt"
	"time"
)

// This file holds the rules of the ledger as pure functions over a Tx. Every
// store calls them inside its own atomic write, so no adapter re-implements
// a rule.

// Apply applies cmds in order through tx and returns one Result per command.
// A command the rules refuse is recorded as a refused TransferRecord (so a
// retry returns the same refusal) and changes nothing else; its Result
// carries the refusal. An expiry that is refused (not due, already resolved),
// a partial post with a placeholder amount (Command.Units) that meets a
// pending hold, and a command whose ID was used with other content are not
// recorded.
// Apply returns an error, and the caller must abandon the whole write, only
// when tx fails with an error that is not a not-found sentinel.
func Apply(tx Tx, cmds []Command) ([]Result, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	results := make([]Result, len(cmds))
	// One allocation for the batch's new records rather than one each, or
	// none when the store lends the space: one record for all commands when
	// the store copies each at once (see RecordBuffer), which keeps it in
	// cache rather than streaming a batch's worth of records through it.
	var recs []TransferRecord
	if rb, ok := tx.(RecordBuffer); ok {
		recs = rb.RecordBuffer(len(cmds))
	}
	reuse := len(recs) == 1
	if len(recs) != len(cmds) && !reuse {
		recs = make([]TransferRecord, len(cmds))
	}
	for i := range cmds {
		rec := &recs[0]
		if !reuse {
			rec = &recs[i]
		}
		// Written in place: a Result returned by value is spilled and
		// copied again, a stall on every command.
		if err := applyOne(tx, &cmds[i], rec, &results[i]); err != nil {
			return nil, err
		}
	}
	return results, nil
}

// CloseState closes the account state s, incrementing its version. It
// returns false and no error when s is already closed, and an error wrapping
// ErrAccountNotEmpty when its balance or pending amounts are not zero.
func CloseState(s *AccountState) (bool, error) {
	if s.Closed {
		return false, nil
	}
	if s.Balance != 0 || s.PendingDebits != 0 || s.PendingCredits != 0 {
		return false, fmt.Errorf("ledger: account %q: balance %d, pending debits %d, pending credits %d minor units: must all be zero to close: %w",
			s.ID, s.Balance, s.PendingDebits, s.PendingCredits, ErrAccountNotEmpty)
	}
	s.Closed = true
	s.Version++
	return true, nil
}

// applyOne applies c and writes its outcome into res, which is zero, field
// by field for the write barrier (see newRecord).
func applyOne(tx Tx, c *Command, rec *TransferRecord, res *Result) error {
	res.ID = c.ID
	prev, err := tx.Transfer(c.ID)
	if err == nil {
		replay(prev, c, res)
		return nil
	}
	if err != ErrTransferNotFound && !errors.Is(err, ErrTransferNotFound) {
		return err
	}
	newRecord(rec, c)
	var ruleErr error
	switch c.Kind {
	case KindTransfer:
		ruleErr = applyMove(tx, rec, c.Postings, StatusPosted)
	case KindHold:
		ruleErr = applyMove(tx, rec, c.Postings, StatusPending)
	case KindPost, KindVoid, KindExpire:
		ruleErr = resolveHold(tx, rec)
	case KindReversal:
		ruleErr = reverse(tx, rec)
	default:
		res.Err = fmt.Errorf("ledger: transfer %q: field kind: unknown kind %d: %w", c.ID, c.Kind, ErrInvalid)
		return nil
	}
	if ruleErr != nil {
		var rf *refusal
		if !errors.As(ruleErr, &rf) {
			return ruleErr
		}
		res.Err = ruleErr
		if c.Kind == KindExpire || rf.unconverted {
			// A sweep retries later under the same ID, and Post retries a
			// post whose hold appeared after it read it, with the amount
			// converted: do not pin a refusal.
			return nil
		}
		// Record the request as it came, without what the rules filled in.
		*rec = TransferRecord{Command: *c}
		rec.Status = StatusRefused
		rec.RefusalCode = RefusalCode(ruleErr)
		rec.RefusalMessage = rf.msg
		if err := tx.PutTransfer(rec); err != nil {
			return err
		}
		res.Status = StatusRefused
		return nil
	}
	res.Status = rec.Status
	return nil
}

// newRecord sets *rec to TransferRecord{Command: *c}, field by field: a
// copy of the whole struct into the heap costs a bulk write barrier while
// the collector marks, which several single stores do not.
func newRecord(rec *TransferRecord, c *Command) {
	rec.ID, rec.Kind, rec.Postings, rec.Ref, rec.Units = c.ID, c.Kind, c.Postings, c.Ref, c.Units
	rec.Reason, rec.Principal, rec.Metadata = c.Reason, c.Principal, c.Metadata
	rec.RecordedAt, rec.EffectiveAt, rec.HoldUntil = c.RecordedAt, c.EffectiveAt, c.HoldUntil
	rec.Fingerprint = c.Fingerprint
	rec.Status, rec.PostedUnits, rec.ResolvedBy, rec.ReversedBy = 0, 0, "", ""
	rec.RefusalCode, rec.RefusalMessage = "", ""
}

// replay answers, in res, a command whose ID is already recorded.
func replay(prev *TransferRecord, c *Command, res *Result) {
	fp := c.Fingerprint
	if fp == ([32]byte{}) {
		// Left to the rules by a store that fingerprints on demand: c
		// still holds the request as made.
		fp = Fingerprint(c)
	}
	if prev.Fingerprint != fp || prev.Kind != c.Kind {
		res.Err = fmt.Errorf("ledger: transfer %q: recorded earlier as a %s with other content: %w", c.ID, prev.Kind, ErrIdempotencyConflict)
		return
	}
	res.Status, res.Replayed = prev.Status, true
	switch {
	case prev.Status == StatusRefused:
		res.Err = RefusalError(prev.RefusalCode, prev.RefusalMessage)
	case prev.Kind == KindHold:
		res.Status = StatusPending // the first outcome, whatever happened since
	}
}

// effect is what one command does to one account.
type effect struct {
	st *AccountState
	// net changes the posted balance; pendDebits and pendCredits change
	// the reserved amounts.
	net, pendDebits, pendCredits int64
}

// effectOf returns the effect on st in list, appending one if needed.
func effectOf(list []effect, st *AccountState) ([]effect, *effect) {
	for i := range list {
		if list[i].st == st {
			return list, &list[i]
		}
	}
	list = append(list, effect{st: st})
	return list, &list[len(list)-1]
}

// gather loads the postings' accounts and adds the postings to es: to the
// posted balance (how == StatusPosted), to the reservations (StatusPending),
// or out of the reservations (release).
func gather(tx Tx, es []effect, id TransferID, ps []PostingRecord, how Status, release, checkOpen bool) ([]effect, error) {
	for i := range ps {
		p := &ps[i]
		st, err := tx.Account(p.Account)
		if err != nil {
			if errors.Is(err, ErrAccountNotFound) {
				return es, refuse(ErrAccountNotFound, "ledger: transfer %q: posting %d: account %q", id, i, p.Account)
			}
			return es, err
		}
		if checkOpen && st.Closed {
			return es, refuse(ErrAccountClosed, "ledger: transfer %q: posting %d: account %q is closed", id, i, p.Account)
		}
		if st.Asset != p.Asset {
			return es, refuse(ErrAssetMismatch, "ledger: transfer %q: posting %d: asset %s differs from account %q's %s", id, i, p.Asset, p.Account, st.Asset)
		}
		var e *effect
		es, e = effectOf(es, st)
		var ok bool
		switch {
		case how == StatusPosted && p.Side == Debit:
			e.net, ok = addUnits(e.net, -p.Units)
		case how == StatusPosted:
			e.net, ok = addUnits(e.net, p.Units)
		case p.Side == Debit && release:
			e.pendDebits, ok = addUnits(e.pendDebits, -p.Units)
		case p.Side == Debit:
			e.pendDebits, ok = addUnits(e.pendDebits, p.Units)
		case release:
			e.pendCredits, ok = addUnits(e.pendCredits, -p.Units)
		default:
			e.pendCredits, ok = addUnits(e.pendCredits, p.Units)
		}
		if !ok {
			return es, refuse(ErrOverflow, "ledger: transfer %q: posting %d: sum for account %q", id, i, p.Account)
		}
	}
	return es, nil
}

// check verifies that every effect keeps its account within its floor and
// ceiling and within 64 bits, and returns the new values in the effects
// (applied by commit).
func check(id TransferID, es []effect) error {
	for i := range es {
		e := &es[i]
		st := e.st
		bal, ok1 := addUnits(st.Balance, e.net)
		pd, ok2 := addUnits(st.PendingDebits, e.pendDebits)
		pc, ok3 := addUnits(st.PendingCredits, e.pendCredits)
		if !ok1 || !ok2 || !ok3 {
			return refuse(ErrOverflow, "ledger: transfer %q: account %q: resulting balance", id, st.ID)
		}
		if e.net-e.pendDebits < 0 && !st.NoFloor {
			avail, ok := addUnits(bal, -pd)
			if !ok || avail < st.Floor {
				return refuse(ErrInsufficientFunds, "ledger: transfer %q: account %q: available %s after the transfer would be below floor %s",
					id, st.ID, st.Asset.FromUnits(avail), st.Asset.FromUnits(st.Floor))
			}
		}
		if e.net+e.pendCredits > 0 && st.HasCeiling {
			upper, ok := addUnits(bal, pc)
			if !ok || upper > st.Ceiling {
				return refuse(ErrCeilingExceeded, "ledger: transfer %q: account %q: balance with pending credits %s would exceed ceiling %s",
					id, st.ID, st.Asset.FromUnits(upper), st.Asset.FromUnits(st.Ceiling))
			}
		}
		if pd < 0 || pc < 0 {
			// Only a release larger than what was reserved gets here: a
			// store handed the rules inconsistent state.
			return fmt.Errorf("ledger: transfer %q: account %q: pending amounts would go negative: %w", id, st.ID, ErrInvariant)
		}
	}
	return nil
}

// commit applies checked effects: balances, reservations, versions, and one
// entry per account whose posted balance changes.
func commit(tx Tx, c *Command, es []effect) error {
	effective := c.EffectiveAt
	if effective.IsZero() { // left zero for a store that fingerprints on demand
		effective = c.RecordedAt
	}
	for i := range es {
		e := &es[i]
		st := e.st
		if e.net == 0 && e.pendDebits == 0 && e.pendCredits == 0 {
			continue
		}
		st.Balance += e.net
		st.PendingDebits += e.pendDebits
		st.PendingCredits += e.pendCredits
		st.Version++
		if e.net != 0 {
			st.Entries++
			// Field by field: a composite literal is built in a
			// temporary and then copied, whose wide loads of the narrow
			// stores just made stall.
			var en EntryRecord
			en.Account, en.Seq, en.Transfer, en.Units = st.ID, st.Entries, c.ID, e.net
			en.Balance, en.Version = st.Balance, st.Version
			en.RecordedAt, en.EffectiveAt = c.RecordedAt, effective
			en.Hash = EntryHash(st.LastHash, &en)
			st.LastHash = en.Hash
			if err := tx.PutEntry(en); err != nil {
				return err
			}
		}
		if err := tx.PutAccount(st); err != nil {
			return err
		}
	}
	return nil
}

// applyMove applies a transfer (status StatusPosted) or places a hold
// (StatusPending).
func applyMove(tx Tx, rec *TransferRecord, ps []PostingRecord, status Status) error {
	if status == StatusPending && !rec.RecordedAt.Before(rec.HoldUntil) {
		return refuse(ErrInvalid, "ledger: transfer %q: field hold_until: %s is not after the recorded time %s",
			rec.ID, rec.HoldUntil.Format(time.RFC3339Nano), rec.RecordedAt.Format(time.RFC3339Nano))
	}
	var buf [4]effect
	es, err := gather(tx, buf[:0], rec.ID, ps, status, false, true)
	if err != nil {
		return err
	}
	if err := check(rec.ID, es); err != nil {
		return err
	}
	if err := commit(tx, &rec.Command, es); err != nil {
		return err
	}
	rec.Status = status
	return tx.PutTransfer(rec)
}

// loadRef returns the transfer a post, void, expiry or reversal refers to.
func loadRef(tx Tx, rec *TransferRecord) (*TransferRecord, error) {
	ref, err := tx.Transfer(rec.Ref)
	if err != nil {
		if errors.Is(err, ErrTransferNotFound) {
			return nil, refuse(ErrTransferNotFound, "ledger: %s %q: field ref: transfer %q", rec.Kind, rec.ID, rec.Ref)
		}
		return nil, err
	}
	return ref, nil
}

// resolveHold posts, voids or expires a pending hold.
func resolveHold(tx Tx, rec *TransferRecord) error {
	hold, err := loadRef(tx, rec)
	if err != nil {
		return err
	}
	if hold.Kind != KindHold || hold.Status != StatusPending {
		return refuse(ErrNotPending, "ledger: %s %q: field ref: transfer %q is a %s with status %s", rec.Kind, rec.ID, hold.ID, hold.Kind, hold.Status)
	}
	due := !rec.RecordedAt.Before(hold.HoldUntil)
	var buf [4]effect
	es, err := gather(tx, buf[:0], rec.ID, hold.Postings, StatusPending, true, false)
	if err != nil {
		return err
	}
	status := StatusVoided
	switch rec.Kind {
	case KindExpire:
		if !due {
			return refuse(ErrHoldNotDue, "ledger: expire %q: hold %q is due at %s", rec.ID, hold.ID, hold.HoldUntil.Format(time.RFC3339Nano))
		}
		status = StatusExpired
	case KindPost:
		if due {
			return refuse(ErrHoldExpired, "ledger: post %q: hold %q expired at %s", rec.ID, hold.ID, hold.HoldUntil.Format(time.RFC3339Nano))
		}
		ps, err := postings(rec, hold)
		if err != nil {
			return err
		}
		rec.Postings = ps
		if es, err = gather(tx, es, rec.ID, ps, StatusPosted, false, true); err != nil {
			return err
		}
		status = StatusPosted
	}
	if err := check(rec.ID, es); err != nil {
		return err
	}
	if err := commit(tx, &rec.Command, es); err != nil {
		return err
	}
	rec.Status = status
	hold.Status = status
	hold.ResolvedBy = rec.ID
	if rec.Kind == KindPost && len(rec.Postings) == 2 {
		hold.PostedUnits = rec.Postings[0].Units
	}
	if err := tx.PutTransfer(hold); err != nil {
		return err
	}
	return tx.PutTransfer(rec)
}

// postings returns what a post of hold moves: all of it, or rec.Units of a
// two-posting hold.
func postings(rec *TransferRecord, hold *TransferRecord) ([]PostingRecord, error) {
	switch {
	case rec.Units == 0:
		return hold.Postings, nil
	case rec.Units < 0:
		// The Service found no hold to convert the amount with: the hold
		// was placed between its read and this write. Not recorded: the
		// Service converts the amount now and applies the post again.
		err := refuse(ErrInvalidAmount, "ledger: post %q: field amount: not converted, hold %q did not exist when the request was read", rec.ID, hold.ID)
		err.(*refusal).unconverted = true
		return nil, err
	}
	if len(hold.Postings) != 2 {
		return nil, refuse(ErrInvalidAmount, "ledger: post %q: field amount: a partial post needs a two-posting hold, %q has %d postings", rec.ID, hold.ID, len(hold.Postings))
	}
	held := hold.Postings[0].Units
	if rec.Units > held {
		a := hold.Postings[0].Asset
		return nil, refuse(ErrInvalidAmount, "ledger: post %q: field amount: %s exceeds the held %s", rec.ID, a.FromUnits(rec.Units), a.FromUnits(held))
	}
	ps := make([]PostingRecord, 2)
	copy(ps, hold.Postings)
	ps[0].Units, ps[1].Units = rec.Units, rec.Units
	return ps, nil
}

// reverse undoes a posted transfer or post with swapped postings.
func reverse(tx Tx, rec *TransferRecord) error {
	orig, err := loadRef(tx, rec)
	if err != nil {
		return err
	}
	if orig.Kind != KindTransfer && orig.Kind != KindPost || orig.Status != StatusPosted {
		return refuse(ErrNotReversible, "ledger: reversal %q: field ref: transfer %q is a %s with status %s", rec.ID, orig.ID, orig.Kind, orig.Status)
	}
	if orig.ReversedBy != "" {
		return refuse(ErrAlreadyReversed, "ledger: reversal %q: field ref: transfer %q was reversed by %q", rec.ID, orig.ID, orig.ReversedBy)
	}
	ps := make([]PostingRecord, len(orig.Postings))
	for i, p := range orig.Postings {
		p.Side = Debit + Credit - p.Side
		ps[i] = p
	}
	rec.Postings = ps
	if err := applyMove(tx, rec, ps, StatusPosted); err != nil {
		return err
	}
	orig.ReversedBy = rec.ID
	return tx.PutTransfer(orig)
}
