package ledger

import (
	"math"
	"strings"
	"testing"
	"time"
)

// TestEntryHashBoundaries checks EntryHash against the plain encoding at
// the edges of its short road: IDs summing to 63, 64 and 65 bytes (one of
// them empty or not), the widest varints, zero times and an effective time
// before or far from the recorded one.
func TestEntryHashBoundaries(t *testing.T) {
	ints := []int64{0, 1, -1, 63, -64, 64, -65, math.MaxInt64, math.MinInt64, 1 << 62, -(1 << 62)}
	times := []time.Time{{}, time.UnixMicro(0).UTC(), time.UnixMicro(math.MaxInt64).UTC(), time.UnixMicro(math.MinInt64).UTC(),
		time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)}
	var prev [32]byte
	for i := range prev {
		prev[i] = byte(255 - i)
	}
	n := 0
	for total := 62; total <= 66; total++ {
		for _, a := range []int{0, 1, total / 2, total - 1, total} {
			e := EntryRecord{Account: AccountID(strings.Repeat("a", a)), Transfer: TransferID(strings.Repeat("t", total-a))}
			for _, v := range ints {
				e.Seq, e.Balance, e.Version = v, -v, v
				for _, r := range times {
					for _, f := range times {
						e.RecordedAt, e.EffectiveAt = r, f
						if got, want := EntryHash(prev, &e), referenceEntryHash(prev, &e); got != want {
							t.Fatalf("IDs %d+%d, %d, recorded %v, effective %v: EntryHash %x, reference %x", a, total-a, v, r, f, got, want)
						}
						n++
					}
				}
			}
		}
	}
	t.Logf("%d entries", n)
}
