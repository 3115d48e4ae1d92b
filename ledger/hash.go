package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"time"
)

// EntryHash returns the hash that chains entry e to prev, the hash of the
// account's previous entry (zero for the first): SHA-256 of prev followed by
// the entry's canonical bytes. Those are, in order: account, sequence,
// transfer, balance, version, recorded time, effective time minus recorded
// time; strings as a uvarint length and the bytes, integers as varints,
// times in Unix microseconds (the zero time as 0). The amount is covered
// through the balance and the previous hash. e.Hash is not read.
func EntryHash(prev [32]byte, e *EntryRecord) [32]byte {
	// Written by index into a buffer on the stack, sized for the common
	// IDs, rather than appended: fewer bounds and capacity checks, and less
	// to zero. Entries with longer IDs get a buffer of their size.
	const fixed = 32 + 7*binary.MaxVarintLen64 // prev, two lengths, five integers
	var arr [fixed + 64]byte
	buf := arr[:]
	if need := fixed + len(e.Account) + len(e.Transfer); need > len(arr) {
		buf = make([]byte, need)
	}
	n := copy(buf, prev[:])
	n += binary.PutUvarint(buf[n:], uint64(len(e.Account)))
	n += copy(buf[n:], e.Account)
	n += binary.PutVarint(buf[n:], e.Seq)
	n += binary.PutUvarint(buf[n:], uint64(len(e.Transfer)))
	n += copy(buf[n:], e.Transfer)
	n += binary.PutVarint(buf[n:], e.Balance)
	n += binary.PutVarint(buf[n:], e.Version)
	rec := unixMicro(e.RecordedAt)
	n += binary.PutVarint(buf[n:], rec)
	n += binary.PutVarint(buf[n:], unixMicro(e.EffectiveAt)-rec)
	return sha256.Sum256(buf[:n])
}

// Fingerprint returns the hash of a command's request content: everything
// but its ID, its recorded time and what the rules fill in. Two requests
// under one ID are the same request exactly when their fingerprints match.
func Fingerprint(c *Command) [32]byte {
	var buf [320]byte
	b := append(buf[:0], byte(c.Kind))
	b = binary.AppendUvarint(b, uint64(len(c.Postings)))
	for i := range c.Postings {
		p := &c.Postings[i]
		b = appendString(b, string(p.Account))
		b = append(b, byte(p.Side))
		b = appendString(b, p.Asset.Code)
		b = binary.AppendVarint(b, int64(p.Asset.Scale))
		b = binary.AppendVarint(b, p.Units)
	}
	b = appendString(b, string(c.Ref))
	b = binary.AppendVarint(b, c.Units)
	b = appendString(b, c.Reason)
	b = appendString(b, c.Principal)
	b = binary.AppendUvarint(b, uint64(len(c.Metadata)))
	if len(c.Metadata) > 0 {
		keys := make([]string, 0, len(c.Metadata))
		for k := range c.Metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			b = appendString(b, k)
			b = appendString(b, c.Metadata[k])
		}
	}
	b = binary.AppendVarint(b, unixMicro(c.EffectiveAt))
	b = binary.AppendVarint(b, unixMicro(c.HoldUntil))
	return sha256.Sum256(b)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// unixMicro returns t in Unix microseconds, the zero time as 0.
func unixMicro(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}
