//go:build !unix

package memory_test

import "time"

// ledgerCPUTime returns 0 where the process's CPU time is not read; the
// benchmarks then report no cpu-ns metric.
func ledgerCPUTime() time.Duration { return 0 }
