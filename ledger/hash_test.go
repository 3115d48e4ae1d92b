package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// referenceEntryHash is EntryHash written the plain way, as its doc
// describes the canonical bytes: stored chains were hashed this way, so a
// faster EntryHash must agree with it on every entry.
func referenceEntryHash(prev [32]byte, e *EntryRecord) [32]byte {
	return sha256.Sum256(referenceEncoding(prev, e))
}

// TestEntryHashGolden pins the hashes of a few entries, computed by the
// build whose chains SQLite and PostgreSQL databases already store.
func TestEntryHashGolden(t *testing.T) {
	at := time.Date(2026, 11, 29, 8, 30, 0, 123456000, time.UTC)
	var prev [32]byte
	for i := range prev {
		prev[i] = byte(i)
	}
	cases := []struct {
		name string
		prev [32]byte
		e    EntryRecord
		want string
	}{
		{"first", [32]byte{}, EntryRecord{Account: "a1", Seq: 1, Transfer: "t1", Units: 125, Balance: 125, Version: 2,
			RecordedAt: at, EffectiveAt: at}, "6be24777e5f629d13423eafae24505d3689538d48e99a424fb293cea32daccbf"},
		{"negative balance, earlier effective time", prev, EntryRecord{Account: "issuer", Seq: 300, Transfer: "fund-17",
			Units: -1 << 40, Balance: -1 << 41, Version: 301, RecordedAt: at, EffectiveAt: at.Add(-36 * time.Hour)},
			"39417c8abf76ccc7fb9b1b4f62f015a801414fff3b3b11aef04bc8b828bb65ec"},
		{"zero times", prev, EntryRecord{Account: "x", Seq: 2, Transfer: "y", Units: 1, Balance: 1, Version: 3},
			"27ba216be2b700d2f4de4589d5ea16b6ce6ac2e2926ce24404c2e0a46a4973fe"},
		{"longest IDs", prev, EntryRecord{Account: AccountID(strings.Repeat("A", MaxIDLength)), Seq: 1 << 50,
			Transfer: TransferID(strings.Repeat("~", MaxIDLength)), Units: 1, Balance: 1<<63 - 1, Version: 1<<63 - 1,
			RecordedAt: at, EffectiveAt: at.Add(1000 * time.Hour)},
			"08d1974a6098b519e0b37db6cb7508eaae79e76cf2dd1e459f992e195481218e"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := EntryHash(c.prev, &c.e)
			require.Equal(t, c.want, hex.EncodeToString(got[:]))
			require.Equal(t, referenceEntryHash(c.prev, &c.e), got)
		})
	}
}

// TestEntryHashMatchesReference checks EntryHash against the plain
// encoding on random entries.
func TestEntryHashMatchesReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var prev [32]byte
		copy(prev[:], rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "prev"))
		id := rapid.SliceOfN(rapid.Byte(), 0, MaxIDLength+40)
		when := func(label string) time.Time {
			if rapid.Bool().Draw(t, label+"Zero") {
				return time.Time{}
			}
			return time.UnixMicro(rapid.Int64Range(-1<<55, 1<<55).Draw(t, label)).UTC()
		}
		e := EntryRecord{
			Account:     AccountID(id.Draw(t, "account")),
			Seq:         rapid.Int64().Draw(t, "seq"),
			Transfer:    TransferID(id.Draw(t, "transfer")),
			Units:       rapid.Int64().Draw(t, "units"),
			Balance:     rapid.Int64().Draw(t, "balance"),
			Version:     rapid.Int64().Draw(t, "version"),
			RecordedAt:  when("recorded"),
			EffectiveAt: when("effective"),
		}
		if got, want := EntryHash(prev, &e), referenceEntryHash(prev, &e); got != want {
			t.Fatalf("EntryHash = %x, reference %x", got, want)
		}
	})
}

// benchEntry is an entry like those of the memory adapter's transfer
// benchmarks.
func benchEntry() EntryRecord {
	at := time.Date(2026, 11, 29, 8, 30, 0, 123456000, time.UTC)
	return EntryRecord{Account: "a417", Seq: 1234, Transfer: "b812-417", Units: 125, Balance: 99_999_875,
		Version: 1236, RecordedAt: at, EffectiveAt: at}
}

// BenchmarkEntryHash measures the hash of one entry; a two-posting
// transfer takes two.
func BenchmarkEntryHash(b *testing.B) {
	e := benchEntry()
	var h [32]byte
	b.ReportAllocs()
	for b.Loop() {
		h = EntryHash(h, &e)
	}
}

// BenchmarkEntryHashSHA256 measures SHA-256 alone over the bytes
// BenchmarkEntryHash hashes (two 64-byte blocks with the padding): the
// floor of EntryHash.
func BenchmarkEntryHashSHA256(b *testing.B) {
	e := benchEntry()
	var prev [32]byte
	msg := referenceEncoding(prev, &e)
	b.ReportMetric(float64(len(msg)), "bytes")
	b.ReportAllocs()
	for b.Loop() {
		prev = sha256.Sum256(msg)
		copy(msg, prev[:])
	}
}

// referenceEncoding returns the bytes EntryHash hashes, written plainly
// from its doc: the reference the faster encoding is checked against.
func referenceEncoding(prev [32]byte, e *EntryRecord) []byte {
	b := append([]byte(nil), prev[:]...)
	b = binary.AppendUvarint(b, uint64(len(e.Account)))
	b = append(b, e.Account...)
	b = binary.AppendVarint(b, e.Seq)
	b = binary.AppendUvarint(b, uint64(len(e.Transfer)))
	b = append(b, e.Transfer...)
	b = binary.AppendVarint(b, e.Balance)
	b = binary.AppendVarint(b, e.Version)
	var rec, eff int64
	if !e.RecordedAt.IsZero() {
		rec = e.RecordedAt.UnixMicro()
	}
	if !e.EffectiveAt.IsZero() {
		eff = e.EffectiveAt.UnixMicro()
	}
	b = binary.AppendVarint(b, rec)
	return binary.AppendVarint(b, eff-rec)
}
