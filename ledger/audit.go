package ledger

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math/big"
	"math/bits"
	"slices"

	"github.com/shopspring/decimal"
)

// AuditReport summarises a successful Audit.
type AuditReport struct {
	// Accounts and Entries count the accounts and entries checked.
	Accounts int
	Entries  int64
	// Transfers counts the transfer records checked, refused ones
	// included. Holds counts the holds among them, and PendingHolds the
	// holds still pending, whose reservations were summed per account.
	Transfers    int64
	Holds        int64
	PendingHolds int64
	// Assets lists every asset seen, sorted by code then scale.
	Assets []Asset
}

// Audit checks every invariant of the ledger, reading it through the
// store. For every account: everything Verify checks; no balance or
// available balance past its floor, no balance plus pending credits past
// its ceiling, no negative pending amount, nothing left on a closed
// account; and pending debits and credits equal to the sums of the
// postings of the holds still pending on it. For every asset: balances
// sum to zero. For every transfer record but a refused one (kept only to
// answer retries, it moves nothing and is checked only for carrying no
// link or posted amount): postings that are positive and
// balance per asset; a status its kind can have; a deadline after the
// recorded time for a hold and none for other kinds; links that agree both
// ways (a resolved hold and the post, void or expiry that names it, a
// reversed transfer and its reversal); a post that moves what its hold
// held (all, or its amount of a two-posting hold) before the deadline, an
// expiry at or after it; a reversal that swaps its original's postings.
// Between entries and transfers: each entry is the net change its
// transfer's postings make to its account, with the transfer's times, and
// names a posted transfer, post or reversal; each account whose balance
// such a transfer changes has exactly one entry for it.
//
// It returns an error wrapping ErrTampered or ErrInvariant describing the
// first violation found, naming the account, the transfer and the
// amounts. When a hash chain is broken, the error wraps ErrTampered even
// if a check that runs earlier found something else wrong (an edit of the
// records often breaks both): it then names the broken link first and
// also wraps that error. Audit reads accounts, entries and transfers page
// by page; it keeps in memory the sums of the pending holds per account
// they reserve on, and a fixed-size digest of entries and transfers (on a
// mismatch it reads them again to name the culprit). Run it when no
// writes are in flight for an exact answer.
func (s *Service) Audit(ctx context.Context) (AuditReport, error) {
	a := &auditor{s: s, sums: map[Asset]*wide{}, pending: map[AccountID]*reservation{}}
	a.seeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	if err := a.eachTransfer(ctx, a.checkTransfer); err != nil {
		return AuditReport{}, s.tamperedFirst(ctx, err)
	}
	err := s.eachAccount(ctx, func(acct *AccountRecord) error { return a.checkAccount(ctx, acct) })
	if err != nil {
		return AuditReport{}, s.tamperedFirst(ctx, err)
	}
	if err := a.finish(ctx); err != nil {
		return AuditReport{}, s.tamperedFirst(ctx, err)
	}
	return a.rep, nil
}

// tamperedFirst returns err, an invariant Audit found broken, preceded by
// the first broken hash chain link when there is one: tampering is the
// graver finding, and the one to act on first.
func (s *Service) tamperedFirst(ctx context.Context, err error) error {
	if !errors.Is(err, ErrInvariant) || errors.Is(err, ErrTampered) {
		return err
	}
	if verr := s.Verify(ctx, ""); errors.Is(verr, ErrTampered) {
		return fmt.Errorf("%w; also: %w", verr, err)
	}
	return err
}

// auditor holds the state of one Audit.
type auditor struct {
	s    *Service
	rep  AuditReport
	sums map[Asset]*wide
	// pending sums the reservations of pending holds by account.
	pending map[AccountID]*reservation
	// moved digests the balance changes transfers make, entered those
	// entries record; they agree when the two are the same multiset.
	seeds          [2]maphash.Seed
	moved, entered legDigest
}

// reservation is what pending holds reserve on one account.
type reservation struct {
	asset           Asset
	debits, credits int64
	holds           int64
	first           TransferID // one of the holds, for messages
}

// legDigest is a multiset hash of balance changes: the count and the sums,
// modulo 2⁶⁴, of two hashes of each change under seeds drawn at random for
// each Audit. Two different multisets get the same digest only by a
// collision of both sums, which no edit of the store can aim at without
// knowing the seeds.
type legDigest struct {
	n int64
	h [2]uint64
}

// add adds the change of units to account acct (of asset) by transfer tr
// recorded at rec and effective at eff (Unix microseconds).
func (d *legDigest) add(seeds *[2]maphash.Seed, acct AccountID, asset Asset, tr TransferID, units, rec, eff int64) {
	var buf [2*MaxIDLength + 64]byte
	b := appendString(buf[:0], string(acct))
	b = appendString(b, asset.Code)
	b = binary.AppendVarint(b, int64(asset.Scale))
	b = appendString(b, string(tr))
	b = binary.AppendVarint(b, units)
	b = binary.AppendVarint(b, rec)
	b = binary.AppendVarint(b, eff)
	d.n++
	d.h[0] += maphash.Bytes(seeds[0], b)
	d.h[1] += maphash.Bytes(seeds[1], b)
}

// eachTransfer calls fn for every transfer record.
func (a *auditor) eachTransfer(ctx context.Context, fn func(context.Context, *TransferRecord) error) error {
	var after TransferID
	for {
		page, err := a.s.store.Transfers(ctx, after, 500)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for i := range page {
			if err := fn(ctx, &page[i]); err != nil {
				return err
			}
		}
		after = page[len(page)-1].ID
	}
}

// badTransfer returns an ErrInvariant error about transfer record r.
func badTransfer(r *TransferRecord, format string, args ...any) error {
	return fmt.Errorf("ledger: audit: transfer %q (%s, %s): %s: %w", r.ID, r.Kind, r.Status, fmt.Sprintf(format, args...), ErrInvariant)
}

// wantStatus is the status a recorded (not refused) transfer of each kind
// has; a hold has any but refused.
var wantStatus = [...]Status{KindTransfer: StatusPosted, KindPost: StatusPosted, KindVoid: StatusVoided,
	KindExpire: StatusExpired, KindReversal: StatusPosted}

// checkTransfer checks one transfer record, its links, and adds what it
// moves or reserves to the auditor's sums.
func (a *auditor) checkTransfer(ctx context.Context, r *TransferRecord) error {
	a.rep.Transfers++
	if r.Status == StatusRefused {
		if r.ResolvedBy != "" || r.ReversedBy != "" || r.PostedUnits != 0 {
			return badTransfer(r, "refused, yet resolved by %q, reversed by %q, posted units %d", r.ResolvedBy, r.ReversedBy, r.PostedUnits)
		}
		return nil
	}
	switch {
	case r.Kind == KindHold:
		a.rep.Holds++
	case r.Kind < KindTransfer || r.Kind > KindReversal:
		return badTransfer(r, "unknown kind")
	case r.Status != wantStatus[r.Kind]:
		return badTransfer(r, "a recorded %s has status %s", r.Kind, wantStatus[r.Kind])
	}
	if (r.Kind == KindHold) == r.HoldUntil.IsZero() {
		return badTransfer(r, "hold deadline %s, but a transfer has one exactly when it is a hold", r.HoldUntil)
	}
	if r.Kind == KindExpire && r.ID != ExpirePrefix+r.Ref {
		return badTransfer(r, "the expiry of hold %q is recorded under %q, not under this ID", r.Ref, ExpirePrefix+r.Ref)
	}
	if r.ResolvedBy != "" && r.Kind != KindHold {
		return badTransfer(r, "resolved by %q, but only a hold is resolved", r.ResolvedBy)
	}
	if r.ReversedBy != "" && r.Kind != KindTransfer && r.Kind != KindPost {
		return badTransfer(r, "reversed by %q, but only a transfer or a post is reversed", r.ReversedBy)
	}
	if err := checkPostings(r); err != nil {
		return err
	}
	var err error
	switch r.Kind {
	case KindHold:
		err = a.checkHold(ctx, r)
	case KindPost, KindVoid, KindExpire:
		err = a.checkResolution(ctx, r)
	case KindReversal:
		err = a.checkReversal(ctx, r)
	}
	if err != nil {
		return err
	}
	if r.ReversedBy != "" {
		rev, err := a.ref(ctx, r, "reversed by", r.ReversedBy)
		if err != nil {
			return err
		}
		if rev.Kind != KindReversal || rev.Status != StatusPosted || rev.Ref != r.ID {
			return badTransfer(r, "reversed by %q, a %s with status %s and ref %q", rev.ID, rev.Kind, rev.Status, rev.Ref)
		}
	}
	if r.Status == StatusPosted && r.Kind != KindHold {
		return a.addLegs(r)
	}
	return nil
}

// ref reads the transfer id that r names in its field what.
func (a *auditor) ref(ctx context.Context, r *TransferRecord, what string, id TransferID) (*TransferRecord, error) {
	t, err := a.s.store.Transfer(ctx, id)
	if errors.Is(err, ErrTransferNotFound) {
		return nil, badTransfer(r, "%s %q, which does not exist", what, id)
	}
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// checkPostings checks that r's postings are well formed, balance per
// asset, and exist exactly for the kinds that have them.
func checkPostings(r *TransferRecord) error {
	ps := r.Postings
	switch {
	case (r.Kind == KindVoid || r.Kind == KindExpire) && len(ps) != 0:
		return badTransfer(r, "has %d postings, a %s has none", len(ps), r.Kind)
	case r.Kind != KindVoid && r.Kind != KindExpire && len(ps) < 2:
		return badTransfer(r, "has %d postings, fewer than two", len(ps))
	}
	type total struct {
		asset           Asset
		debits, credits wide
	}
	var buf [2]total
	totals := buf[:0]
	for i := range ps {
		p := &ps[i]
		if p.Units <= 0 || p.Side != Debit && p.Side != Credit {
			return badTransfer(r, "posting %d: %s of %d minor units on account %q", i, p.Side, p.Units, p.Account)
		}
		k := slices.IndexFunc(totals, func(t total) bool { return t.asset == p.Asset })
		if k < 0 {
			totals = append(totals, total{asset: p.Asset})
			k = len(totals) - 1
		}
		if p.Side == Debit {
			totals[k].debits.add(p.Units)
		} else {
			totals[k].credits.add(p.Units)
		}
	}
	for _, t := range totals {
		if t.debits != t.credits {
			return badTransfer(r, "asset %s: debits %s and credits %s do not balance", t.asset, t.debits.format(t.asset), t.credits.format(t.asset))
		}
	}
	return nil
}

// holdResolvers maps a resolved hold's status to the kind of transfer that
// resolves a hold that way.
var holdResolvers = map[Status]Kind{StatusPosted: KindPost, StatusVoided: KindVoid, StatusExpired: KindExpire}

// checkHold checks a hold: a pending one adds its reservations, a resolved
// one must be named by its resolver.
func (a *auditor) checkHold(ctx context.Context, r *TransferRecord) error {
	if r.ReversedBy != "" {
		return badTransfer(r, "reversed by %q, but a hold is not reversed", r.ReversedBy)
	}
	if !r.RecordedAt.Before(r.HoldUntil) {
		return badTransfer(r, "hold deadline %s is not after the recorded time %s", r.HoldUntil, r.RecordedAt)
	}
	if r.Status == StatusPending {
		if r.ResolvedBy != "" || r.PostedUnits != 0 {
			return badTransfer(r, "pending, yet resolved by %q with %d posted units", r.ResolvedBy, r.PostedUnits)
		}
		a.rep.PendingHolds++
		return a.reserve(r)
	}
	kind, ok := holdResolvers[r.Status]
	if !ok {
		return badTransfer(r, "a hold cannot have this status")
	}
	if r.ResolvedBy == "" {
		return badTransfer(r, "resolved by no transfer")
	}
	res, err := a.ref(ctx, r, "resolved by", r.ResolvedBy)
	if err != nil {
		return err
	}
	if res.Kind != kind || res.Status != r.Status || res.Ref != r.ID {
		return badTransfer(r, "resolved by %q, a %s with status %s and ref %q", res.ID, res.Kind, res.Status, res.Ref)
	}
	var posted int64
	if r.Status == StatusPosted && len(res.Postings) == 2 {
		posted = res.Postings[0].Units
	}
	if r.PostedUnits != posted {
		return badTransfer(r, "posted units %d, but %q posted %d", r.PostedUnits, res.ID, posted)
	}
	return nil
}

// reserve adds a pending hold's postings to the reservations of their
// accounts.
func (a *auditor) reserve(r *TransferRecord) error {
	for i := range r.Postings {
		p := &r.Postings[i]
		res := a.pending[p.Account]
		if res == nil {
			res = &reservation{asset: p.Asset, first: r.ID}
			a.pending[p.Account] = res
		}
		if res.asset != p.Asset {
			return badTransfer(r, "account %q: pending holds reserve %s and %s on it", p.Account, res.asset, p.Asset)
		}
		var ok bool
		if p.Side == Debit {
			res.debits, ok = addUnits(res.debits, p.Units)
		} else {
			res.credits, ok = addUnits(res.credits, p.Units)
		}
		if !ok {
			return badTransfer(r, "account %q: pending holds reserve more than 64 bits hold", p.Account)
		}
		if i == slices.IndexFunc(r.Postings, func(q PostingRecord) bool { return q.Account == p.Account }) {
			res.holds++
		}
	}
	return nil
}

// checkResolution checks a post, void or expiry against the hold it
// resolved.
func (a *auditor) checkResolution(ctx context.Context, r *TransferRecord) error {
	hold, err := a.ref(ctx, r, "ref", r.Ref)
	if err != nil {
		return err
	}
	if hold.Kind != KindHold || hold.Status != r.Status || hold.ResolvedBy != r.ID {
		return badTransfer(r, "ref %q is a %s with status %s resolved by %q", hold.ID, hold.Kind, hold.Status, hold.ResolvedBy)
	}
	due := !r.RecordedAt.Before(hold.HoldUntil)
	switch {
	case r.Kind == KindExpire && !due:
		return badTransfer(r, "recorded at %s, before hold %q was due at %s", r.RecordedAt, hold.ID, hold.HoldUntil)
	case r.Kind == KindPost && due:
		return badTransfer(r, "recorded at %s, when hold %q had expired at %s", r.RecordedAt, hold.ID, hold.HoldUntil)
	case r.Kind != KindPost:
		return nil
	}
	want := hold.Postings
	if r.Units != 0 {
		if r.Units < 0 || len(want) != 2 || r.Units > want[0].Units {
			return badTransfer(r, "posts %d minor units of hold %q, which has %d postings", r.Units, hold.ID, len(want))
		}
		want = slices.Clone(want)
		want[0].Units, want[1].Units = r.Units, r.Units
	}
	if !slices.Equal(r.Postings, want) {
		return badTransfer(r, "postings %v differ from %v, what it posts of hold %q", r.Postings, want, hold.ID)
	}
	return nil
}

// checkReversal checks a reversal against the transfer it reversed.
func (a *auditor) checkReversal(ctx context.Context, r *TransferRecord) error {
	orig, err := a.ref(ctx, r, "ref", r.Ref)
	if err != nil {
		return err
	}
	if orig.Kind != KindTransfer && orig.Kind != KindPost || orig.Status != StatusPosted || orig.ReversedBy != r.ID {
		return badTransfer(r, "ref %q is a %s with status %s reversed by %q", orig.ID, orig.Kind, orig.Status, orig.ReversedBy)
	}
	want := make([]PostingRecord, len(orig.Postings))
	for i, p := range orig.Postings {
		p.Side = Debit + Credit - p.Side
		want[i] = p
	}
	if !slices.Equal(r.Postings, want) {
		return badTransfer(r, "postings %v do not swap those of %q, %v", r.Postings, orig.ID, orig.Postings)
	}
	return nil
}

// leg is the net change one transfer makes to one account.
type leg struct {
	account AccountID
	asset   Asset
	units   int64
}

// legsOf returns the net changes r's postings make, one per account, in
// the order the accounts first appear, zero changes included.
func legsOf(r *TransferRecord, buf []leg) ([]leg, error) {
	legs := buf[:0]
	for i := range r.Postings {
		p := &r.Postings[i]
		k := slices.IndexFunc(legs, func(l leg) bool { return l.account == p.Account })
		if k < 0 {
			legs = append(legs, leg{account: p.Account, asset: p.Asset})
			k = len(legs) - 1
		}
		if legs[k].asset != p.Asset {
			return nil, badTransfer(r, "account %q: postings in %s and %s", p.Account, legs[k].asset, p.Asset)
		}
		u := p.Units
		if p.Side == Debit {
			u = -u
		}
		var ok bool
		if legs[k].units, ok = addUnits(legs[k].units, u); !ok {
			return nil, badTransfer(r, "account %q: net change overflows", p.Account)
		}
	}
	return legs, nil
}

// times returns the recorded and effective times of r's entries in Unix
// microseconds.
func times(r *TransferRecord) (rec, eff int64) {
	rec = unixMicro(r.RecordedAt)
	if r.EffectiveAt.IsZero() {
		return rec, rec
	}
	return rec, unixMicro(r.EffectiveAt)
}

// addLegs adds the balance changes of a posted transfer, post or reversal
// to the digest of moves.
func (a *auditor) addLegs(r *TransferRecord) error {
	var buf [4]leg
	legs, err := legsOf(r, buf[:])
	if err != nil {
		return err
	}
	rec, eff := times(r)
	for _, l := range legs {
		if l.units != 0 {
			a.moved.add(&a.seeds, l.account, l.asset, r.ID, l.units, rec, eff)
		}
	}
	return nil
}

// checkAccount verifies one account, its bounds and its reservations, and
// adds its balance to its asset's sum and its entries to the digest of
// entries.
func (a *auditor) checkAccount(ctx context.Context, acct *AccountRecord) error {
	n, err := a.s.verifyAccount(ctx, acct, func(e *EntryRecord) {
		a.entered.add(&a.seeds, acct.ID, acct.Asset, e.Transfer, e.Units, unixMicro(e.RecordedAt), unixMicro(e.EffectiveAt))
	})
	if err != nil {
		return err
	}
	a.rep.Accounts++
	a.rep.Entries += n
	sum := a.sums[acct.Asset]
	if sum == nil {
		sum = new(wide)
		a.sums[acct.Asset] = sum
	}
	sum.add(acct.Balance)
	if err := checkBounds(&acct.AccountState); err != nil {
		return err
	}
	return a.checkReserved(acct)
}

// checkReserved checks an account's pending amounts against what the
// pending holds reserve on it.
func (a *auditor) checkReserved(acct *AccountRecord) error {
	res := a.pending[acct.ID]
	delete(a.pending, acct.ID)
	amt := acct.Asset.FromUnits
	switch {
	case res == nil && (acct.PendingDebits != 0 || acct.PendingCredits != 0):
		return fmt.Errorf("ledger: audit: account %q: pending debits %s and credits %s, but no pending hold reserves on it: %w",
			acct.ID, amt(acct.PendingDebits), amt(acct.PendingCredits), ErrInvariant)
	case res == nil:
		return nil
	case res.asset != acct.Asset:
		return fmt.Errorf("ledger: audit: account %q: pending hold %q reserves %s on it, the account holds %s: %w",
			acct.ID, res.first, res.asset, acct.Asset, ErrInvariant)
	case res.debits != acct.PendingDebits || res.credits != acct.PendingCredits:
		return fmt.Errorf("ledger: audit: account %q: pending debits %s and credits %s, but its %d pending holds (hold %q among them) reserve %s and %s: %w",
			acct.ID, amt(acct.PendingDebits), amt(acct.PendingCredits), res.holds, res.first, amt(res.debits), amt(res.credits), ErrInvariant)
	}
	return nil
}

// finish runs the checks that need both walks: balances summing to zero,
// reservations of unknown accounts, and entries against transfers.
func (a *auditor) finish(ctx context.Context) error {
	for asset, sum := range a.sums {
		a.rep.Assets = append(a.rep.Assets, asset)
		if *sum != (wide{}) {
			return fmt.Errorf("ledger: audit: asset %s: balances sum to %s, not zero: %w", asset, sum.format(asset), ErrInvariant)
		}
	}
	slices.SortFunc(a.rep.Assets, func(x, y Asset) int {
		return cmp.Or(cmp.Compare(x.Code, y.Code), cmp.Compare(x.Scale, y.Scale))
	})
	if len(a.pending) > 0 {
		ids := slices.Sorted(func(yield func(AccountID) bool) {
			for id := range a.pending {
				if !yield(id) {
					return
				}
			}
		})
		res := a.pending[ids[0]]
		return fmt.Errorf("ledger: audit: account %q: pending hold %q reserves on it, but there is no such account: %w", ids[0], res.first, ErrInvariant)
	}
	if a.moved == a.entered {
		return nil
	}
	if err := a.locate(ctx); err != nil {
		return err
	}
	return fmt.Errorf("ledger: audit: posted transfers change %d account balances, the accounts have %d entries, and the two differ: %w", a.moved.n, a.entered.n, ErrInvariant)
}

// checkBounds checks an account's floor, ceiling and pending amounts, and
// that a closed account holds nothing.
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
	if st.Closed && (st.Balance != 0 || st.PendingDebits != 0 || st.PendingCredits != 0) {
		return fmt.Errorf("ledger: audit: account %q: closed with balance %s, pending debits %s and credits %s: %w", st.ID, amt(st.Balance), amt(st.PendingDebits), amt(st.PendingCredits), ErrInvariant)
	}
	return nil
}

// wide is a 128-bit two's complement integer: sums of minor units that a
// valid ledger may carry past 64 bits on the way (many large balances of
// both signs, or large postings on both sides), so that Audit never calls
// a valid ledger broken for an overflow of its own.
type wide struct{ hi, lo uint64 }

// add adds v.
func (w *wide) add(v int64) {
	var carry uint64
	w.lo, carry = bits.Add64(w.lo, uint64(v), 0)
	w.hi += uint64(v>>63) + carry
}

// format returns w in units of asset, as decimal text.
func (w wide) format(asset Asset) string {
	n := new(big.Int).SetUint64(w.hi)
	n.Lsh(n, 64).Or(n, new(big.Int).SetUint64(w.lo))
	if w.hi>>63 == 1 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), 128))
	}
	return decimal.NewFromBigInt(n, -int32(asset.Scale)).String()
}
