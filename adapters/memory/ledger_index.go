package memory

import (
	"hash/maphash"

	"github.com/civicloop/civicloop/ledger"
)

// ledgerIndex finds transfers by ID: an open-addressing hash table with
// linear probing whose slots hold a 32-bit hash of the ID and the transfer's
// index + 1 (0: empty). Compared with a map keyed by ID it takes 8 bytes a
// slot, holds no pointers for the collector to scan, and grows by moving
// slots without hashing an ID again.
type ledgerIndex struct {
	seed  maphash.Seed
	slots []uint64 // hash<<32 | index+1; length a power of two
	n     int
}

func newLedgerIndex() ledgerIndex {
	return ledgerIndex{seed: maphash.MakeSeed(), slots: make([]uint64, 64)}
}

func (x *ledgerIndex) hash(id ledger.TransferID) uint32 {
	return uint32(maphash.String(x.seed, string(id)))
}

// find returns the index of the transfer with this ID in s, or false.
func (x *ledgerIndex) find(s *LedgerStore, id ledger.TransferID) (int32, bool) {
	return x.findHash(s, id, x.hash(id))
}

// findHash is find with h = x.hash(id).
func (x *ledgerIndex) findHash(s *LedgerStore, id ledger.TransferID, h uint32) (int32, bool) {
	mask := uint32(len(x.slots) - 1)
	for p := h & mask; ; p = (p + 1) & mask {
		v := x.slots[p]
		if v == 0 {
			return 0, false
		}
		if uint32(v>>32) == h {
			if i := int32(uint32(v)) - 1; s.transferAt(i).id == id {
				return i, true
			}
		}
	}
}

// addHash records that transfer i has an ID whose hash is h and which is
// not in the index.
func (x *ledgerIndex) addHash(i int32, h uint32) {
	if 4*(x.n+1) > 3*len(x.slots) {
		x.grow()
	}
	x.put(uint64(h)<<32 | uint64(uint32(i+1)))
	x.n++
}

func (x *ledgerIndex) put(v uint64) {
	mask := uint32(len(x.slots) - 1)
	p := uint32(v>>32) & mask
	for x.slots[p] != 0 {
		p = (p + 1) & mask
	}
	x.slots[p] = v
}

func (x *ledgerIndex) grow() {
	old := x.slots
	x.slots = make([]uint64, 2*len(old))
	for _, v := range old {
		if v != 0 {
			x.put(v)
		}
	}
}
