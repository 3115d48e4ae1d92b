//go:build linux

package memory

import (
	"syscall"
	"unsafe"
)

const (
	hugePage = 2 << 20
	// hugeMin is the smallest table given its own mapping: below it the
	// table fits the TLB's reach well enough as it is.
	hugeMin = 4 << 20
)

// allocSlots returns a zeroed table of n slots. A large table gets an
// anonymous mapping of its own, aligned to 2 MiB and advised to use
// transparent huge pages: lookups hit random slots of a table of tens of
// megabytes, and with 4 KiB pages nearly every one also misses the TLB.
// It returns the mapping, to be released with freeSlots, or nil when the
// table is an ordinary Go slice (small tables, or mmap refused).
func allocSlots(n int) ([]idSlot, []byte) {
	size := n * int(unsafe.Sizeof(idSlot{}))
	if size < hugeMin {
		return make([]idSlot, n), nil
	}
	mem, err := syscall.Mmap(-1, 0, size+hugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]idSlot, n), nil
	}
	off := int(-uintptr(unsafe.Pointer(unsafe.SliceData(mem))) & (hugePage - 1))
	// Without huge pages the table still works; the advice is a hint.
	_ = syscall.Madvise(mem[off:off+size], syscall.MADV_HUGEPAGE)
	return unsafe.Slice((*idSlot)(unsafe.Pointer(&mem[off])), n), mem
}

// freeSlots releases a mapping from allocSlots.
func freeSlots(mem []byte) {
	if mem != nil {
		_ = syscall.Munmap(mem)
	}
}
