//go:build !unix

package postgres

import "time"

// processCPU is not measured on this platform; the cpu-ns/transfer metric is not reported.
func processCPU() time.Duration { return 0 }
