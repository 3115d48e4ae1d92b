package memory

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"unsafe"

	"github.com/civicloop/civicloop/org"
)

// inlineKey is the longest ID kept inside an idIndex slot; longer IDs go
// to a plain map.
const inlineKey = 15

// maxDepth is the deepest tier (a point under a station under an institute
// under a centre).
const maxDepth = 3

// idSlot is one 32-byte slot of an idIndex: the ID's bytes inline, and the
// indexes of the node's ancestors, so that finding a node and telling
// whether it lies within another touches a single cache line per ID.
//
// w0 holds key bytes 0-7 and w1 key bytes 8-14, little-endian, zero
// padded; w1's top byte holds the key length in its low four bits and the
// node's depth in bits 4-5. An empty slot has w1 == 0 (keys are not
// empty). p holds the path: the indexes of the node's ancestors from the
// root down and then the node itself, as uint32 pairs; path[depth] is the
// node.
//
// Every field is read and written with sync/atomic, because Within reads
// slots without the store's lock (see idIndex.within).
type idSlot struct {
	w0, w1 uint64
	p      [2]uint64
}

const depthShift = 60

// keyMask selects the key and length bits of w1, leaving out the depth.
const keyMask = ^uint64(maxDepth << depthShift)

func (s *idSlot) depth() int { return int(atomic.LoadUint64(&s.w1)>>depthShift) & maxDepth }

// at returns path[d].
func (s *idSlot) at(d int) int32 {
	return int32(uint32(atomic.LoadUint64(&s.p[d>>1&1]) >> (32 * (d & 1))))
}

// index returns the node's record index.
func (s *idSlot) index() int32 { return s.at(s.depth()) }

// within reports whether s's node lies in scope's subtree (or is scope).
func (s *idSlot) within(scope *idSlot) bool {
	d := scope.depth()
	return d <= s.depth() && s.at(d) == scope.at(d)
}

// setPath stores the node's ancestry: path[depth] is the node itself.
func (s *idSlot) setPath(path [maxDepth + 1]int32, depth int) {
	atomic.StoreUint64(&s.p[0], uint64(uint32(path[0]))|uint64(uint32(path[1]))<<32)
	atomic.StoreUint64(&s.p[1], uint64(uint32(path[2]))|uint64(uint32(path[3]))<<32)
	w1 := atomic.LoadUint64(&s.w1)
	atomic.StoreUint64(&s.w1, w1&keyMask|uint64(depth)<<depthShift)
}

// slotTable is the slot array of an idIndex. A new one replaces it on
// growth; the old one stays valid for readers that still hold it.
type slotTable struct {
	slots []idSlot // length a power of two
	mem   []byte   // the mapping holding slots (org_index_linux.go), nil for a Go slice
}

func newSlotTable(size int) *slotTable {
	t := &slotTable{}
	t.slots, t.mem = allocSlots(size)
	if t.mem != nil {
		// Readers without the lock may still hold t when a grow replaces
		// it: the mapping goes once t is unreachable.
		runtime.AddCleanup(t, freeSlots, t.mem)
	}
	return t
}

// idIndex maps node IDs to record indexes and ancestries. It is an
// open-addressing hash table with linear probing and inline keys: a lookup
// in a national tree costs about one cache miss where a map[string]int32
// costs three (control word, slot, key bytes). There is no delete: the
// store never deletes nodes, and a failed bulk load resets the index.
//
// Writers hold the store's write lock and bracket every change between
// beginWrite and endWrite, which make ver odd while it lasts: a reader
// without the lock (within) reads ver before and after and trusts what it
// read only if ver was even and unchanged, as in a seqlock.
type idIndex struct {
	seed0, seed1 uint64
	ver          atomic.Uint64
	tab          atomic.Pointer[slotTable]
	n            int
	long         map[org.NodeID]*idSlot // keys longer than inlineKey; only path and depth used
}

func newIDIndex(capacity int) *idIndex {
	x := &idIndex{seed0: rand.Uint64() | 1, seed1: rand.Uint64() | 1, long: map[org.NodeID]*idSlot{}}
	x.tab.Store(newSlotTable(tableSize(capacity)))
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

// beginWrite and endWrite bracket a change of the index; the caller holds
// the store's write lock.
func (x *idIndex) beginWrite() { x.ver.Add(1) }

func (x *idIndex) endWrite() { x.ver.Add(1) }

func (x *idIndex) mustWrite() {
	if x.ver.Load()&1 == 0 {
		panic("memory: idIndex changed outside beginWrite/endWrite")
	}
}

// reset empties the index, keeping room for capacity entries.
func (x *idIndex) reset(capacity int) {
	x.mustWrite()
	x.tab.Store(newSlotTable(tableSize(capacity)))
	x.n = 0
	x.long = map[org.NodeID]*idSlot{}
}

// mappedBytes is the size of the table when it lives outside the Go heap.
func (x *idIndex) mappedBytes() int {
	if t := x.tab.Load(); t.mem != nil {
		return len(t.slots) * int(unsafe.Sizeof(idSlot{}))
	}
	return 0
}

// keyWords packs an ID of 1 to inlineKey bytes into the two words of a
// slot, its length in the top byte (depth bits clear). It reads only the
// ID's own bytes, in at most two loads per word.
func keyWords(id org.NodeID) (w0, w1 uint64) {
	n := len(id)
	b := unsafe.Slice(unsafe.StringData(string(id)), n)
	switch {
	case n >= 8:
		w0 = binary.LittleEndian.Uint64(b)
		if n > 8 {
			w1 = binary.LittleEndian.Uint64(b[n-8:]) >> (8 * (16 - n))
		}
	case n >= 4:
		w0 = uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<(8*(n-4))
	default: // 1 to 3 bytes; overlapping bytes are equal
		w0 = uint64(b[0]) | uint64(b[n/2])<<(8*(n/2)) | uint64(b[n-1])<<(8*(n-1))
	}
	return w0, w1 | uint64(n)<<56
}

func inline(id org.NodeID) bool { return len(id) != 0 && len(id) <= inlineKey }

// hash mixes a key's words with the index's random seeds (one 128-bit
// multiply, folded, as in wyhash).
func (x *idIndex) hash(w0, w1 uint64) uint64 {
	hi, lo := bits.Mul64(w0^x.seed0, w1^x.seed1)
	return hi ^ lo
}

// find returns the slot of key (w0, w1) in t, nil if absent. It ends
// whatever a concurrent writer does: slots are never emptied and a table is
// never more than 70 % full.
func (x *idIndex) find(t *slotTable, w0, w1 uint64) *idSlot {
	mask := uint64(len(t.slots) - 1)
	for p := x.hash(w0, w1) & mask; ; p = (p + 1) & mask {
		s := &t.slots[p]
		k1 := atomic.LoadUint64(&s.w1)
		if k1&keyMask == w1 && atomic.LoadUint64(&s.w0) == w0 {
			return s
		}
		if k1 == 0 {
			return nil
		}
	}
}

// ref returns id's slot, nil if id is absent. The caller holds the store's
// lock; the pointer is valid until the next change.
func (x *idIndex) ref(id org.NodeID) *idSlot {
	if !inline(id) {
		return x.long[id]
	}
	w0, w1 := keyWords(id)
	return x.find(x.tab.Load(), w0, w1)
}

// get returns the index of id; the caller holds the store's lock.
func (x *idIndex) get(id org.NodeID) (int32, bool) {
	if s := x.ref(id); s != nil {
		return s.index(), true
	}
	return -1, false
}

// within reports whether node lies in scope's subtree without the store's
// lock. ok is false when it cannot tell — an ID missing or too long for a
// slot, or a write in progress or done meanwhile — and the caller must ask
// again under the lock.
func (x *idIndex) within(scope, node org.NodeID) (in, ok bool) {
	if !inline(scope) || !inline(node) {
		return false, false
	}
	v := x.ver.Load()
	if v&1 != 0 {
		return false, false
	}
	t := x.tab.Load()
	a0, a1 := keyWords(scope)
	b0, b1 := keyWords(node)
	sa := x.find(t, a0, a1)
	sb := x.find(t, b0, b1)
	if sa == nil || sb == nil {
		return false, false
	}
	in = sb.within(sa)
	runtime.KeepAlive(t) // the slots may live in t's mapping
	return in, x.ver.Load() == v
}

// put sets id's ancestry (path[depth] is id's own index), replacing an
// existing entry.
func (x *idIndex) put(id org.NodeID, path [maxDepth + 1]int32, depth int) {
	x.mustWrite()
	if !inline(id) {
		s := x.long[id]
		if s == nil {
			s = &idSlot{}
			x.long[id] = s
		}
		s.setPath(path, depth)
		return
	}
	if (x.n+1)*10 > len(x.tab.Load().slots)*7 {
		x.grow(len(x.tab.Load().slots) * 2)
	}
	w0, w1 := keyWords(id)
	s, fresh := x.place(x.tab.Load(), w0, w1)
	s.setPath(path, depth)
	if fresh {
		x.n++
	}
}

// place finds or claims the slot of key (w0, w1) in t; it reports whether
// the slot was new.
func (x *idIndex) place(t *slotTable, w0, w1 uint64) (*idSlot, bool) {
	mask := uint64(len(t.slots) - 1)
	for p := x.hash(w0, w1) & mask; ; p = (p + 1) & mask {
		s := &t.slots[p]
		k1 := atomic.LoadUint64(&s.w1)
		if k1 == 0 {
			atomic.StoreUint64(&s.w0, w0)
			atomic.StoreUint64(&s.w1, w1)
			return s, true
		}
		if k1&keyMask == w1 && atomic.LoadUint64(&s.w0) == w0 {
			return s, false
		}
	}
}

// grow rehashes into a new table of the given size, then publishes it.
func (x *idIndex) grow(size int) {
	old, t := x.tab.Load(), newSlotTable(size)
	for k := range old.slots {
		o := &old.slots[k]
		w1 := atomic.LoadUint64(&o.w1)
		if w1 == 0 {
			continue
		}
		s, _ := x.place(t, atomic.LoadUint64(&o.w0), w1&keyMask)
		atomic.StoreUint64(&s.w1, w1)
		atomic.StoreUint64(&s.p[0], atomic.LoadUint64(&o.p[0]))
		atomic.StoreUint64(&s.p[1], atomic.LoadUint64(&o.p[1]))
	}
	x.tab.Store(t)
}

// reserve makes room for n more entries without further growth.
func (x *idIndex) reserve(n int) {
	x.mustWrite()
	if size := tableSize(x.n + n); size > len(x.tab.Load().slots) {
		x.grow(size)
	}
}
