//go:build !unix

package sqlite

import "time"

// cpuTime returns 0 where the process's CPU time is not read; the
// benchmarks then report no cpu-µs metric.
func cpuTime() time.Duration { return 0 }
