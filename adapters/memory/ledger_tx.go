package memory

import (
	"fmt"
	"slices"
	"time"

	"github.com/civicloop/civicloop/ledger"
)

// ledgerTx is the ledger.Tx of LedgerStore.Apply. It works on the store's
// state directly (the store's mutex is held), which is safe because the
// rules change state only after all checks passed and nothing here fails.
type ledgerTx struct {
	s *LedgerStore
	// records are the full records handed to the rules by Transfer during
	// this Apply, so the same ID yields the same pointer.
	records map[ledger.TransferID]*ledger.TransferRecord
	// last is the index of the transfer the latest PutEntry or PutTransfer
	// touched, or -1.
	last int32
	// missed is the ID the latest Transfer did not find, until a transfer
	// with that ID is created: the rules look a new transfer's ID up before
	// they put it, and this spares transferFor a second lookup.
	missed     ledger.TransferID
	missedHash uint32 // tids.hash(missed)
	// recent caches the indexes of the accounts looked up last, sparing
	// map lookups when a transfer's entries are put and for accounts that
	// recur, such as an issuing account. It outlives an Apply: an account
	// keeps its index for the life of the store.
	recent     [4]ledgerRecentAccount
	nextRecent int
	// cmds are the commands of a batch being applied and hashes the
	// tids.hash of their IDs, computed by prepare; next is the command
	// whose ID the rules look up next (they look up each command's ID
	// first, in order).
	cmds   []ledger.Command
	hashes []uint32
	next   int
	// touched keeps the pre-pass's loads from being optimised away.
	touched uint64
	// rec is lent to ledger.Apply for every new record of a batch
	// (ledger.RecordBuffer): PutTransfer copies what it keeps, and Transfer
	// returns records of its own.
	rec [1]ledger.TransferRecord
}

var _ ledger.RecordBuffer = (*ledgerTx)(nil)

// RecordBuffer implements ledger.RecordBuffer: one record, reused.
func (tx *ledgerTx) RecordBuffer(int) []ledger.TransferRecord {
	return tx.rec[:]
}

type ledgerRecentAccount struct {
	id ledger.AccountID
	i  int32
}

// index returns the index of account id, or false.
func (tx *ledgerTx) index(id ledger.AccountID) (int32, bool) {
	for k := range tx.recent {
		if r := &tx.recent[k]; r.id == id && id != "" {
			return r.i, true
		}
	}
	i, ok := tx.s.ids[id]
	if ok {
		tx.recent[tx.nextRecent] = ledgerRecentAccount{id: id, i: i}
		tx.nextRecent = (tx.nextRecent + 1) % len(tx.recent)
	}
	return i, ok
}

// prepare hashes the IDs of a batch's commands and loads the index slots
// they start at, in one pass: the loads do not wait for one another as
// they would one per command amid the rules' work, and the lookups then
// find the slots cached and the hashes computed.
func (tx *ledgerTx) prepare(cmds []ledger.Command) {
	if cap(tx.hashes) < len(cmds) {
		tx.hashes = make([]uint32, len(cmds))
	}
	tx.hashes = tx.hashes[:len(cmds)]
	x := &tx.s.tids
	mask := uint32(len(x.slots) - 1)
	var acc uint64
	for i := range cmds {
		h := x.hash(cmds[i].ID)
		tx.hashes[i] = h
		acc ^= x.slots[h&mask]
	}
	tx.touched = acc
	tx.cmds, tx.next = cmds, 0
}

// hashOf returns tids.hash(id), taken from prepare when id is the next
// command's or the one after (the rules skip this lookup for an ID they
// met earlier in the batch).
func (tx *ledgerTx) hashOf(id ledger.TransferID) uint32 {
	for k := tx.next; k < len(tx.cmds) && k <= tx.next+1; k++ {
		if tx.cmds[k].ID == id {
			tx.next = k + 1
			return tx.hashes[k]
		}
	}
	return tx.s.tids.hash(id)
}

func (tx *ledgerTx) reset() {
	// Drop what the record lent to Apply points to, so that it can be
	// collected. Only its references, one by one: clearing the whole record
	// costs a bulk write barrier while the collector marks, and ledger.Apply
	// sets every field of a record before it uses it.
	r := &tx.rec[0]
	r.ID, r.Postings, r.Ref, r.Reason, r.Principal, r.Metadata = "", nil, "", "", "", nil
	r.ResolvedBy, r.ReversedBy, r.RefusalCode, r.RefusalMessage = "", "", "", ""
	tx.cmds, tx.next = nil, 0
	clear(tx.records)
	tx.last = -1
	tx.missed = ""
}

// The not-found errors of the Tx. The rules turn them into refusals with
// their own messages; static values keep the common "new transfer" path free
// of allocations, and the bare sentinel spares the rules an errors.Is.
var (
	errLedgerTxAccount  = fmt.Errorf("memory: %w", ledger.ErrAccountNotFound)
	errLedgerTxTransfer = ledger.ErrTransferNotFound
)

// Account implements ledger.Tx.
func (tx *ledgerTx) Account(id ledger.AccountID) (*ledger.AccountState, error) {
	i, ok := tx.index(id)
	if !ok {
		return nil, errLedgerTxAccount
	}
	return &tx.s.acct(i).AccountState, nil
}

// Transfer implements ledger.Tx.
func (tx *ledgerTx) Transfer(id ledger.TransferID) (*ledger.TransferRecord, error) {
	if r, ok := tx.records[id]; ok {
		return r, nil
	}
	h := tx.hashOf(id)
	i, ok := tx.s.tids.findHash(tx.s, id, h)
	if !ok {
		tx.missed, tx.missedHash = id, h
		return nil, errLedgerTxTransfer
	}
	r := tx.s.record(tx.s.transferAt(i))
	if tx.records == nil {
		tx.records = make(map[ledger.TransferID]*ledger.TransferRecord)
	}
	tx.records[id] = &r
	return &r, nil
}

// PutAccount implements ledger.Tx: the state was changed in place.
func (tx *ledgerTx) PutAccount(*ledger.AccountState) error { return nil }

// PutEntry implements ledger.Tx.
func (tx *ledgerTx) PutEntry(e ledger.EntryRecord) error {
	ai, _ := tx.index(e.Account)
	a := tx.s.acct(ai)
	i, t := tx.transferFor(e.Transfer)
	if t.kind == 0 { // not yet put: the entries of a new transfer come first
		t.recorded, t.effective = ledgerMicros(e.RecordedAt), ledgerMicros(e.EffectiveAt)
	}
	en := a.newEntry()
	en.tr, en.balance, en.version, en.hash = i, e.Balance, e.Version, e.Hash
	return nil
}

// transferFor returns the stored transfer with this ID, creating an empty
// one for a transfer whose entries come before its record.
func (tx *ledgerTx) transferFor(id ledger.TransferID) (int32, *ledgerTransfer) {
	if tx.last >= 0 {
		if t := tx.s.transferAt(tx.last); t.id == id {
			return tx.last, t
		}
	}
	var t *ledgerTransfer
	i, ok := int32(0), false
	if tx.missed == "" || id != tx.missed {
		i, ok = tx.s.tids.find(tx.s, id)
	}
	if ok {
		t = tx.s.transferAt(i)
	} else {
		h := tx.missedHash
		if tx.missed == "" || id != tx.missed {
			h = tx.s.tids.hash(id)
		}
		i, t = tx.s.newTransferHash(id, h)
		tx.missed = ""
	}
	tx.last = i
	return i, t
}

// PutTransfer implements ledger.Tx.
func (tx *ledgerTx) PutTransfer(r *ledger.TransferRecord) error {
	_, t := tx.transferFor(r.ID)
	if cached, ok := tx.records[r.ID]; ok && cached != r {
		*cached = *r
	}
	if t.kind == 0 {
		// A new record: its times as requested. A record put again (a
		// resolved hold, a reversed transfer) has them defaulted by record
		// and only its outcome changed (ledger.FingerprintsOnDemand).
		t.recorded, t.effective = ledgerMicros(r.RecordedAt), ledgerMicros(r.EffectiveAt)
		if r.Fingerprint != ([32]byte{}) && r.EffectiveAt.Equal(r.RecordedAt) {
			// A Service that does not see FingerprintsOnDemand (this store
			// behind a wrapper that hides it) fingerprints the request and
			// then defaults a zero effective time to the recorded time.
			// record rebuilds the fingerprint from the effective time as
			// kept: keep it zero when that is what was fingerprinted.
			req := r.Command
			req.EffectiveAt = time.Time{}
			if requestFingerprint(&req) == r.Fingerprint {
				t.effective = ledgerNoTime
			}
		}
	}
	t.kind, t.status = r.Kind, r.Status
	t.reason, t.principal = r.Reason, r.Principal
	t.np = 0
	inline := len(r.Postings) <= len(t.inline) && r.Status != ledger.StatusRefused
	if inline {
		for i := range r.Postings {
			p := &r.Postings[i]
			ai, _ := tx.index(p.Account)
			// Field by field: a composite literal is built on the stack
			// and copied, which stalls (see newEntry).
			q := &t.inline[i]
			q.acct, q.side, q.units = ai, p.Side, p.Units
		}
		t.np = uint8(len(r.Postings))
	}
	plain := inline && r.Ref == "" && r.Units == 0 && len(r.Metadata) == 0 && r.HoldUntil.IsZero() &&
		r.PostedUnits == 0 && r.ResolvedBy == "" && r.ReversedBy == "" && r.RefusalCode == "" && r.RefusalMessage == ""
	if plain {
		t.x = nil
	} else {
		// A fresh value each time: a reader may hold the old one.
		t.x = &ledgerTransferExtra{ref: r.Ref, units: r.Units, metadata: r.Metadata, holdUntil: ledgerMicros(r.HoldUntil),
			postedUnits: r.PostedUnits, resolvedBy: r.ResolvedBy, reversedBy: r.ReversedBy,
			refusalCode: r.RefusalCode, refusalMessage: r.RefusalMessage}
		if !inline {
			// A copy: r.Postings may be part of a batch's shared array,
			// which keeping would keep whole.
			t.x.raw = slices.Clone(r.Postings)
		}
	}
	if r.Kind == ledger.KindHold {
		if r.Status == ledger.StatusPending {
			tx.s.pending[r.ID] = tx.last
		} else {
			delete(tx.s.pending, r.ID)
		}
	}
	return nil
}
