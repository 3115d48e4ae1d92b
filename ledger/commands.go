package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// This file holds the Service's commands: each validates its request,
// builds a Command and applies it through Store.Apply.

// Transfer moves value between accounts at once, or places a hold when
// req.HoldUntil is set. It returns the Result and, when the transfer was
// refused now or the first time, the refusal as error (also in Result.Err).
// Refusals: ErrInvalid, ErrInvalidAmount, ErrOverflow, ErrUnbalanced,
// ErrMetadataTooLarge (not recorded), ErrAccountNotFound, ErrAccountClosed,
// ErrAssetMismatch, ErrInsufficientFunds, ErrCeilingExceeded (recorded: a
// retry returns them), ErrIdempotencyConflict.
func (s *Service) Transfer(ctx context.Context, req TransferRequest) (Result, error) {
	one, _ := s.oneCommand.Get().(*[1]Command)
	if one == nil {
		one = new([1]Command)
	}
	defer s.oneCommand.Put(one)
	var ps []PostingRecord
	if n := len(req.Postings); n > 0 && n <= MaxPostings {
		var buf *[]PostingRecord
		ps, buf = s.newPostings(n) // handed over to the store, or lent
		defer s.releasePostings(buf, n)
	}
	if err := s.transferCommand(&one[0], &req, ps, s.now()); err != nil {
		return Result{ID: req.ID, Err: err}, err
	}
	return s.applyOne(ctx, one)
}

// newPostings returns n postings for commands, and what to pass to
// releasePostings after the store's Apply returned: recycled space when the
// store has PostingsCopied (then buf is not nil), else a new slice, as the
// store may keep it.
func (s *Service) newPostings(n int) (ps []PostingRecord, buf *[]PostingRecord) {
	if !s.reusePostings {
		return make([]PostingRecord, n), nil
	}
	buf, _ = s.postings.Get().(*[]PostingRecord)
	if buf == nil {
		buf = new([]PostingRecord)
	}
	if cap(*buf) < n {
		*buf = make([]PostingRecord, n)
	}
	return (*buf)[:n], buf
}

// releasePostings keeps buf from newPostings, of which the first n were
// used, for a later call. It clears their strings, field by field for the
// write barrier (see clearCommand), so that the pool keeps no caller's IDs
// alive.
func (s *Service) releasePostings(buf *[]PostingRecord, n int) {
	if buf == nil {
		return
	}
	ps := (*buf)[:n]
	for i := range ps {
		ps[i].Account, ps[i].Asset.Code = "", ""
	}
	if cap(ps) <= 2*MaxBatch {
		s.postings.Put(buf)
	}
}

// TransferBatch applies many transfers and holds in order in one store
// write, so that a store can amortise its commit. Each request succeeds or
// is refused on its own, exactly as with Transfer, and gets one Result, in
// order; later requests see the effect of earlier ones. All transfers of a
// batch are recorded at the same time, read once from the clock. The error
// is for the whole call (cancelled context, store failure, more than
// MaxBatch requests): then nothing was applied.
func (s *Service) TransferBatch(ctx context.Context, reqs []TransferRequest) ([]Result, error) {
	if len(reqs) > MaxBatch {
		return nil, fmt.Errorf("ledger: transfer batch: %d requests exceed %d: %w", len(reqs), MaxBatch, ErrInvalid)
	}
	now := s.now()
	// The postings of the whole batch in one allocation; each command gets
	// its own part, capped so that appending to it cannot reach the next.
	total := 0
	for i := range reqs {
		if n := len(reqs[i].Postings); n <= MaxPostings {
			total += n
		}
	}
	all, buf := s.newPostings(total)
	defer s.releasePostings(buf, total)
	// The commands are only lent to the store, so their space is reused
	// from batch to batch (cleared after use: see batchCommands).
	cmds := s.batchCommands(len(reqs))
	defer s.releaseCommands(cmds)
	var results []Result // only when some request is invalid
	var idx []int        // then the position in results of each command
	n := 0
	for i := range reqs {
		var ps []PostingRecord
		if k := len(reqs[i].Postings); k <= MaxPostings {
			ps, all = all[:k:k], all[k:]
		}
		if err := s.transferCommand(&cmds[n], &reqs[i], ps, now); err != nil {
			if results == nil {
				results = make([]Result, len(reqs))
				idx = make([]int, n, len(reqs))
				for j := range idx {
					idx[j] = j
				}
			}
			results[i] = Result{ID: reqs[i].ID, Err: err}
			continue
		}
		if results != nil {
			idx = append(idx, i)
		}
		n++
	}
	cmds = cmds[:n]
	applied, err := s.store.Apply(ctx, cmds)
	if err != nil {
		s.opts.Logger.ErrorContext(ctx, "ledger: apply batch", "transfers", len(cmds), "err", err)
		return nil, err
	}
	if len(applied) != len(cmds) {
		return nil, fmt.Errorf("ledger: store returned %d results for %d commands: %w", len(applied), len(cmds), ErrInvariant)
	}
	if results == nil {
		if applied == nil {
			applied = []Result{}
		}
		return applied, nil
	}
	for j, r := range applied {
		results[idx[j]] = r
	}
	return results, nil
}

// batchCommands returns n zero commands for a batch, recycled when possible.
func (s *Service) batchCommands(n int) []Command {
	if p, _ := s.batches.Get().(*[]Command); p != nil && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]Command, n)
}

// releaseCommands clears cmds, field by field for the write barrier (see
// clearCommand), and keeps their space for a later batch.
func (s *Service) releaseCommands(cmds []Command) {
	for i := range cmds {
		clearCommand(&cmds[i])
	}
	if cap(cmds) > MaxBatch {
		return
	}
	cmds = cmds[:0]
	s.batches.Put(&cmds)
}

// Post settles a pending hold, in full or (req.Amount not zero) in part,
// releasing the rest. Refusals: ErrTransferNotFound, ErrNotPending,
// ErrHoldExpired, ErrInvalidAmount (more than held, or partial post of a
// hold with more than two postings), besides those of Transfer.
//
// A partial post's amount is converted with the scale of the hold's asset.
// When the hold does not exist, the post is refused with
// ErrTransferNotFound and recorded like any other refusal, and a retry with
// the same amount replays that refusal even after the hold appeared; a
// retry with another amount is an ErrIdempotencyConflict. (A refusal
// recorded by a build before the amount was kept this way is replayed
// whatever the retry's amount.) Such an amount is refused unrecorded, with
// ErrInvalidAmount or ErrOverflow, when no asset could hold it: more than
// MaxScale digits after the point, or too large for 64-bit minor units.
// When the hold appears between Post's read of it and the write, Post
// converts the amount and applies the post again.
func (s *Service) Post(ctx context.Context, req PostRequest) (Result, error) {
	now := s.now()
	what := subject{"post", string(req.ID)}
	cmd := Command{ID: req.ID, Kind: KindPost, Ref: req.Hold, Reason: req.Reason, Principal: req.Principal,
		Metadata: cloneMetadata(req.Metadata), RecordedAt: now, EffectiveAt: micros(req.EffectiveAt)}
	if err := s.checkRef(what, &cmd, "hold"); err != nil {
		return Result{ID: req.ID, Err: err}, err
	}
	if req.Amount.IsZero() {
		return s.finishAndApply(ctx, cmd)
	}
	if req.Amount.Sign() < 0 {
		err := fmt.Errorf("ledger: %s: field amount: %s is negative: %w", what, req.Amount, ErrInvalidAmount)
		return Result{ID: cmd.ID, Err: err}, err
	}
	units, err := s.postUnits(ctx, what, req.Hold, req.Amount)
	if isAmountError(err) {
		// Not in the hold's scale; but a retry of a post recorded before
		// the hold existed still replays its refusal.
		if u, ok, rerr := s.recordedPostUnits(ctx, what, &cmd, req.Amount); rerr != nil {
			err = rerr
		} else if ok {
			units, err = u, nil
		}
	}
	if err != nil {
		return Result{ID: cmd.ID, Err: err}, err
	}
	cmd.Units = units
	// finishAndApply works on a copy: cmd keeps the request as made, to be
	// fingerprinted again with other units.
	r, err := s.finishAndApply(ctx, cmd)
	switch {
	case cmd.Units < 0 && isUnconverted(err):
		// The hold was placed between the read and the write, and the
		// rules did not record the post: convert the amount now.
		units, err := s.postUnits(ctx, what, req.Hold, req.Amount)
		if err != nil {
			return Result{ID: cmd.ID, Err: err}, err
		}
		cmd.Units, cmd.RecordedAt = units, s.now()
	case errors.Is(err, ErrIdempotencyConflict):
		// The ID may be recorded with the same amount in the other form:
		// converted while this request found no hold, or as a placeholder
		// while this request found the hold placed since.
		units, ok, rerr := s.recordedPostUnits(ctx, what, &cmd, req.Amount)
		if rerr != nil {
			return Result{ID: cmd.ID, Err: rerr}, rerr
		}
		if !ok {
			return r, err
		}
		cmd.Units = units
	default:
		return r, err
	}
	return s.finishAndApply(ctx, cmd)
}

// postUnits returns the Command.Units of a partial post of the positive
// amount: its minor units in the asset of hold, or, when hold names no
// transfer with postings, unconvertedUnits(amount). The rules check the
// amount against the hold again inside the write.
func (s *Service) postUnits(ctx context.Context, what subject, hold TransferID, amount decimal.Decimal) (int64, error) {
	rec, err := s.store.Transfer(ctx, hold)
	switch {
	case err == nil && len(rec.Postings) > 0:
		units, err := rec.Postings[0].Asset.ToUnits(amount)
		if err != nil {
			return 0, fmt.Errorf("ledger: %s: field amount: %w", what, err)
		}
		return units, nil
	case err == nil || errors.Is(err, ErrTransferNotFound):
		// Hold names no hold: the rules refuse the post whatever the
		// amount, and record the refusal like any other.
		return unconvertedUnits(what, amount)
	default:
		return 0, err
	}
}

// legacyUnconvertedUnits is the Command.Units earlier builds gave every
// partial post of an unknown hold, whatever its amount.
const legacyUnconvertedUnits = -1

// recordedPostUnits is for a partial post cmd of amount that met an
// ErrIdempotencyConflict, or whose amount the hold's scale cannot hold
// (then cmd.Units is 0). The content of a command, and so its fingerprint,
// must not depend on whether its hold existed when it was read: so when the
// post recorded under cmd.ID holds units in the other form than cmd (a
// placeholder where cmd's are converted, or the reverse), it returns
// amount's units in that form and true, for cmd to be applied again with
// them; the recorded fingerprint then decides. It returns false when there
// is nothing to try, and an error only when a read fails.
func (s *Service) recordedPostUnits(ctx context.Context, what subject, cmd *Command, amount decimal.Decimal) (int64, bool, error) {
	prev, err := s.store.Transfer(ctx, cmd.ID)
	switch {
	case errors.Is(err, ErrTransferNotFound):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	case prev.Kind != KindPost || prev.Units == 0:
		return 0, false, nil
	}
	var units int64
	switch {
	case prev.Units == legacyUnconvertedUnits:
		units = legacyUnconvertedUnits
	case prev.Units < 0:
		if units, err = unconvertedUnits(what, amount); err != nil {
			return 0, false, nil
		}
	case cmd.Units > 0:
		return 0, false, nil // both converted: the amounts differ
	default:
		// Recorded converted, so the hold (or the transfer it names)
		// exists now: convert with its scale.
		if units, err = s.postUnits(ctx, what, cmd.Ref, amount); err != nil {
			if isAmountError(err) {
				return 0, false, nil // no such amount was recorded
			}
			return 0, false, err
		}
	}
	return units, units != cmd.Units, nil
}

// isAmountError reports whether err, from postUnits, refuses the amount
// rather than reports a failed read.
func isAmountError(err error) bool {
	return errors.Is(err, ErrInvalidAmount) || errors.Is(err, ErrOverflow)
}

// unconvertedUnits returns the Command.Units of a partial post of the
// positive amount whose hold names no transfer with postings (none at all,
// or one without postings, such as a void), so that there is no scale to
// convert with: a negative number that depends only on
// the amount's value (a hash of its digits and their scale), so that a
// retry with the same amount has the same fingerprint and one with another
// amount a different one. It refuses, unrecorded, an amount that no asset
// could hold: more than MaxScale digits after the point, or too large for
// minor units.
func unconvertedUnits(what subject, amount decimal.Decimal) (int64, error) {
	for scale := int32(0); scale <= MaxScale; scale++ {
		units, err := Asset{Code: "X", Scale: scale}.ToUnits(amount)
		if errors.Is(err, ErrInvalidAmount) {
			continue // more digits after the point than scale
		}
		if err != nil {
			return 0, fmt.Errorf("ledger: %s: field amount: %w", what, err)
		}
		// The smallest scale that holds the amount, with its units, is the
		// amount's value in one form: "2.5" and "2.50" hash alike.
		var b [2 * binary.MaxVarintLen64]byte
		n := binary.PutVarint(b[:], units)
		n += binary.PutVarint(b[n:], int64(scale))
		h := sha256.Sum256(b[:n])
		return -1 - int64(binary.BigEndian.Uint64(h[:8])>>2), nil
	}
	return 0, fmt.Errorf("ledger: %s: field amount: %s has more than %d digits after the point: %w", what, amount, MaxScale, ErrInvalidAmount)
}

// Void releases a pending hold. Refusals: ErrTransferNotFound, ErrNotPending,
// besides the validation errors of Transfer.
func (s *Service) Void(ctx context.Context, req VoidRequest) (Result, error) {
	cmd := Command{ID: req.ID, Kind: KindVoid, Ref: req.Hold, Reason: req.Reason, Principal: req.Principal,
		Metadata: cloneMetadata(req.Metadata), RecordedAt: s.now()}
	if err := s.checkRef(subject{"void", string(req.ID)}, &cmd, "hold"); err != nil {
		return Result{ID: req.ID, Err: err}, err
	}
	return s.finishAndApply(ctx, cmd)
}

// Reverse undoes a posted transfer or post with a new transfer (req.ID)
// that swaps its debits and credits and references it. Refusals:
// ErrTransferNotFound, ErrNotReversible, ErrAlreadyReversed,
// ErrInsufficientFunds and ErrCeilingExceeded (a reversal obeys floors and
// ceilings), ErrAccountClosed, besides the validation errors of Transfer.
func (s *Service) Reverse(ctx context.Context, req ReverseRequest) (Result, error) {
	cmd := Command{ID: req.ID, Kind: KindReversal, Ref: req.Original, Reason: req.Reason, Principal: req.Principal,
		Metadata: cloneMetadata(req.Metadata), RecordedAt: s.now(), EffectiveAt: micros(req.EffectiveAt)}
	if err := s.checkRef(subject{"reversal", string(req.ID)}, &cmd, "original"); err != nil {
		return Result{ID: req.ID, Err: err}, err
	}
	return s.finishAndApply(ctx, cmd)
}

// ExpireHolds releases every pending hold whose deadline is at or before
// now, recording each expiry under ExpirePrefix + the hold's ID, and returns
// how many it expired. Running it again, or concurrently, expires nothing
// twice. The ledger runs no timers: call it from a ticker or a job.
func (s *Service) ExpireHolds(ctx context.Context, now time.Time) (int, error) {
	now = micros(now)
	const page = 500
	expired := 0
	for {
		ids, err := s.store.DueHolds(ctx, now, page)
		if err != nil {
			return expired, err
		}
		if len(ids) == 0 {
			return expired, nil
		}
		cmds := make([]Command, len(ids))
		for i, id := range ids {
			cmds[i] = Command{ID: ExpirePrefix + id, Kind: KindExpire, Ref: id, Principal: "ledger", RecordedAt: now, EffectiveAt: now}
			cmds[i].Fingerprint = Fingerprint(&cmds[i])
		}
		results, err := s.store.Apply(ctx, cmds)
		if err != nil {
			return expired, err
		}
		progress := false
		for _, r := range results {
			if r.Err == nil && r.Status == StatusExpired {
				progress = true
				if !r.Replayed {
					expired++
				}
			}
		}
		s.opts.Logger.DebugContext(ctx, "ledger: expired holds", "due", len(ids), "expired", expired)
		if !progress || len(ids) < page {
			return expired, nil
		}
	}
}

// checkRef validates the ID, reference and common fields of a post, void or
// reversal.
func (s *Service) checkRef(what subject, cmd *Command, refField string) error {
	if cmd.ID == "" {
		cmd.ID = TransferID(s.opts.NewID())
	}
	if err := validateTransferID(what, cmd.ID); err != nil {
		return err
	}
	if err := validateID(what, refField, string(cmd.Ref)); err != nil {
		return err
	}
	return validateCommon(what, cmd.Reason, cmd.Principal, cmd.Metadata)
}

// finishAndApply fingerprints cmd, defaults its effective time and applies
// it alone.
func (s *Service) finishAndApply(ctx context.Context, cmd Command) (Result, error) {
	s.fingerprint(&cmd)
	one := [1]Command{cmd}
	return s.applyOne(ctx, &one)
}

// fingerprint sets cmd's Fingerprint and defaults its effective time to the
// recorded time, unless the store fingerprints on demand: then both stay as
// requested (see FingerprintsOnDemand).
func (s *Service) fingerprint(cmd *Command) {
	if s.lazyFingerprints {
		return
	}
	cmd.Fingerprint = Fingerprint(cmd)
	if cmd.EffectiveAt.IsZero() {
		cmd.EffectiveAt = cmd.RecordedAt
	}
}

// applyOne applies one[0] alone and clears it.
func (s *Service) applyOne(ctx context.Context, one *[1]Command) (Result, error) {
	cmd := &one[0]
	rs, err := s.store.Apply(ctx, one[:])
	defer clearCommand(cmd)
	if err != nil {
		s.opts.Logger.ErrorContext(ctx, "ledger: apply", "transfer", string(cmd.ID), "err", err)
		return Result{ID: cmd.ID}, err
	}
	if len(rs) != 1 {
		return Result{ID: cmd.ID}, fmt.Errorf("ledger: store returned %d results for 1 command: %w", len(rs), ErrInvariant)
	}
	return rs[0], rs[0].Err
}

// clearCommand zeroes c field by field: clearing it as a whole costs a bulk
// write barrier while the collector marks.
func clearCommand(c *Command) {
	c.ID, c.Kind, c.Postings, c.Ref, c.Units = "", 0, nil, "", 0
	c.Reason, c.Principal, c.Metadata = "", "", nil
	c.RecordedAt, c.EffectiveAt, c.HoldUntil = time.Time{}, time.Time{}, time.Time{}
	c.Fingerprint = [32]byte{}
}

// transferCommand validates a transfer request and builds its command in
// cmd, with ps (len(req.Postings) elements when that is within bounds) for
// its postings. It sets every field of cmd.
func (s *Service) transferCommand(cmd *Command, req *TransferRequest, ps []PostingRecord, now time.Time) error {
	if err := validateTransfer(req, ps); err != nil {
		return err
	}
	// Field by field, for the write barrier (see clearCommand).
	cmd.ID, cmd.Kind, cmd.Postings, cmd.Ref, cmd.Units = req.ID, KindTransfer, ps, "", 0
	cmd.Reason, cmd.Principal, cmd.Metadata = req.Reason, req.Principal, cloneMetadata(req.Metadata)
	cmd.RecordedAt, cmd.EffectiveAt, cmd.HoldUntil = now, micros(req.EffectiveAt), micros(req.HoldUntil)
	cmd.Fingerprint = [32]byte{}
	if cmd.ID == "" {
		cmd.ID = TransferID(s.opts.NewID())
	}
	if !cmd.HoldUntil.IsZero() {
		// Whether the deadline is still ahead is for the rules to say:
		// a retry after the deadline must return the first outcome.
		cmd.Kind = KindHold
	}
	s.fingerprint(cmd)
	return nil
}
