//go:build !unix

package pointstest

import "time"

// cpuTime returns 0: the platform does not tell the process CPU time.
func cpuTime() time.Duration { return 0 }
