//go:build !unix

package cputime

import "time"

// Process is not measured on this platform: it returns 0, and benchmarks'
// cpu-ns metrics read 0.
func Process() time.Duration { return 0 }
