package memory

import (
	"hash/maphash"

	"github.com/civicloop/civicloop/org"
)

// inlineKey is the longest ID kept inside an idIndex slot; longer IDs go
// to a plain map.
const inlineKey = 26

// idSlot is one 32-byte slot of an idIndex: the ID's bytes inline, so that
// a lookup usually touches a single cache line.
type idSlot struct {
	key  [inlineKey]byte
	klen uint8 // 0: empty
	_    uint8
	idx  int32
}

// idIndex maps node IDs to record indexes. It is an open-addressing hash
// table with linear probing and inline keys: a lookup in a national tree
// costs about one cache miss where a map[string]int32 costs three (control
// word, slot, key bytes). There is no delete: the store never deletes
// nodes, and a failed bulk load rebuilds the index.
type idIndex struct {
	seed  maphash.Seed
	slots []idSlot // length a power of two
	n     int
	long  map[org.NodeID]int32
}

func newIDIndex(capacity int) *idIndex {
	x := &idIndex{seed: maphash.MakeSeed(), long: map[org.NodeID]int32{}}
	x.slots = make([]idSlot, tableSize(capacity))
	return x
}

// tableSize returns the power of two keeping n entries at most 70 % full.
func tableSize(n int) int {
	size := 16
	for size*7/10 < n {
		size *= 2
	}
	return size
}

func (x *idIndex) len() int { return x.n + len(x.long) }

// get returns the index of id.
func (x *idIndex) get(id org.NodeID) (int32, bool) {
	if len(id) > inlineKey || len(id) == 0 {
		i, ok := x.long[id]
		return i, ok
	}
	mask := uint64(len(x.slots) - 1)
	for p := maphash.String(x.seed, string(id)) & mask; ; p = (p + 1) & mask {
		s := &x.slots[p]
		if s.klen == 0 {
			return -1, false
		}
		if int(s.klen) == len(id) && string(s.key[:s.klen]) == string(id) {
			return s.idx, true
		}
	}
}

// put sets id to i, replacing an existing entry.
func (x *idIndex) put(id org.NodeID, i int32) {
	if len(id) > inlineKey || len(id) == 0 {
		x.long[id] = i
		return
	}
	if (x.n+1)*10 > len(x.slots)*7 {
		x.grow(len(x.slots) * 2)
	}
	if x.place(id, i) {
		x.n++
	}
}

// place stores id in its slot; it reports whether the slot was new.
func (x *idIndex) place(id org.NodeID, i int32) bool {
	mask := uint64(len(x.slots) - 1)
	for p := maphash.String(x.seed, string(id)) & mask; ; p = (p + 1) & mask {
		s := &x.slots[p]
		if s.klen == 0 {
			copy(s.key[:], id)
			s.klen = uint8(len(id))
			s.idx = i
			return true
		}
		if int(s.klen) == len(id) && string(s.key[:s.klen]) == string(id) {
			s.idx = i
			return false
		}
	}
}

// grow rehashes into a table of the given size.
func (x *idIndex) grow(size int) {
	old := x.slots
	x.slots = make([]idSlot, size)
	for k := range old {
		if s := &old[k]; s.klen != 0 {
			x.place(org.NodeID(s.key[:s.klen]), s.idx)
		}
	}
}

// reserve makes room for n more entries without further growth.
func (x *idIndex) reserve(n int) {
	if size := tableSize(x.n + n); size > len(x.slots) {
		x.grow(size)
	}
}
