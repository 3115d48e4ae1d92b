//go:build unix

package memory_test

import (
	"syscall"
	"time"
)

// ledgerCPUTime returns the CPU time (user and system) the process has used
// so far. Benchmarks report it per operation next to the wall-clock ns/op:
// on a loaded machine it stays close to the work done, while ns/op also
// counts the time the benchmark waited for a core.
func ledgerCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
