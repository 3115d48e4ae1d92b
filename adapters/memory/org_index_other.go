//go:build !linux

package memory

// allocSlots returns a zeroed table of n slots on the Go heap; see the
// Linux version for the huge-page mapping.
func allocSlots(n int) ([]idSlot, []byte) { return make([]idSlot, n), nil }

func freeSlots([]byte) {}
