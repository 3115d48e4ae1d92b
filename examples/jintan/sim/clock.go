package sim

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"sync"
	"time"
)

// clock is the simulation's clock, injected as Now into every service. It
// only moves forward: the ledger holds a clock that steps back anyway.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// set moves the clock to t unless t is earlier than the current time.
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.t) {
		c.t = t
	}
}

// ids hands out deterministic IDs: prefix, then a counter.
type ids struct {
	mu     sync.Mutex
	prefix string
	n      int
}

func (g *ids) next() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	return fmt.Sprintf("%s%07d", g.prefix, g.n)
}

// reserve takes n numbers off the counter and returns the first: the job
// numbers of a parallel phase (see lane).
func (g *ids) reserve(n int) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	first := g.n + 1
	g.n += n
	return first
}

// chance draws a number in [0, 1) from the seed and the parts that name a
// decision (an order, its version, what is decided). Decisions drawn this
// way do not depend on the order in which they are asked, so a simulation
// resumed from a store decides as one that never stopped.
func chance(seed int64, parts ...any) float64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	for _, p := range parts {
		fmt.Fprint(h, "\x00", p)
	}
	// fnv's low bits mix poorly for short inputs: finish with a splitmix64
	// round.
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

// pick returns an index in [0, n) drawn like chance.
func pick(n int, seed int64, parts ...any) int {
	if n <= 0 {
		return 0
	}
	i := int(chance(seed, parts...) * float64(n))
	return min(i, n-1)
}
