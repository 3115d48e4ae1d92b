package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/civicloop/civicloop/ledger"
)

// copyBuf builds the payload of COPY ... FROM STDIN BINARY: the
// PostgreSQL binary tuple format, written straight into one buffer. It is
// the cheapest way to hand many rows to the server, for this process (no
// per-value reflection, no argument arrays) and for the server (no array
// decoding, no executor projection).
type copyBuf struct{ b []byte }

// copyHeader is the signature, the flags field and the header extension
// length of the binary COPY format.
var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

var copyBufs = sync.Pool{New: func() any { return &copyBuf{b: make([]byte, 0, 64<<10)} }}

// getCopyBuf returns an empty payload, header written.
func getCopyBuf() *copyBuf {
	c := copyBufs.Get().(*copyBuf)
	c.b = append(c.b[:0], copyHeader...)
	return c
}

// putCopyBuf recycles c, unless it grew past a few megabytes or was given
// up by send.
func putCopyBuf(c *copyBuf) {
	if c.b != nil && cap(c.b) <= 4<<20 {
		copyBufs.Put(c)
	}
}

// send runs sql, a COPY ... FROM STDIN BINARY, with c's rows.
func (c *copyBuf) send(ctx context.Context, pg *pgconn.PgConn, sql string) error {
	_, err := pg.CopyFrom(ctx, bytes.NewReader(c.bytes()), sql)
	if err != nil {
		// When the connection breaks, pgconn may return while its writer
		// still reads the payload: never hand this one out again.
		c.b = nil
	}
	return err
}

// grow makes room for n more bytes.
func (c *copyBuf) grow(n int) { c.b = slices.Grow(c.b, n) }

// row starts a tuple of n fields.
func (c *copyBuf) row(n int) { c.b = binary.BigEndian.AppendUint16(c.b, uint16(n)) }

func (c *copyBuf) text(s string) {
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(len(s)))
	c.b = append(c.b, s...)
}

func (c *copyBuf) bytea(p []byte) {
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(len(p)))
	c.b = append(c.b, p...)
}

// postings writes ps as a bytea in encodePostings' form.
func (c *copyBuf) postings(ps []ledger.PostingRecord) {
	at := len(c.b)
	c.b = append(c.b, 0, 0, 0, 0)
	c.b = appendPostings(c.b, ps)
	binary.BigEndian.PutUint32(c.b[at:], uint32(len(c.b)-at-4))
}

func (c *copyBuf) null() { c.b = binary.BigEndian.AppendUint32(c.b, 0xffffffff) }

func (c *copyBuf) int2(v int16) {
	c.b = binary.BigEndian.AppendUint32(c.b, 2)
	c.b = binary.BigEndian.AppendUint16(c.b, uint16(v))
}

func (c *copyBuf) int8(v int64) {
	c.b = binary.BigEndian.AppendUint32(c.b, 8)
	c.b = binary.BigEndian.AppendUint64(c.b, uint64(v))
}

// jsonb writes a JSON text in jsonb's binary form (version 1, then the
// text); an empty text is NULL.
func (c *copyBuf) jsonb(s string, valid bool) {
	if !valid {
		c.null()
		return
	}
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(len(s)+1))
	c.b = append(c.b, 1)
	c.b = append(c.b, s...)
}

// pgEpoch is the origin of PostgreSQL timestamps.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// tstz writes a timestamptz: microseconds since pgEpoch, truncated as pgx
// truncates; the zero time is NULL.
func (c *copyBuf) tstz(t time.Time) {
	if t.IsZero() {
		c.null()
		return
	}
	// As pgx encodes it: Unix microseconds (floored) moved to the epoch.
	us := t.Unix()*1_000_000 + int64(t.Nanosecond())/1000 - pgEpoch.Unix()*1_000_000
	c.int8(us)
}

// bytes returns the payload with its trailer.
func (c *copyBuf) bytes() []byte {
	return binary.BigEndian.AppendUint16(c.b, 0xffff)
}
