package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// How Go values are kept in columns, for every store: times as INTEGER
// microseconds since 1970-01-01 UTC (the precision the domain packages
// keep) with NULL for the zero time; string maps as a JSON object in TEXT
// with NULL for an empty map; hashes as 32-byte BLOBs; booleans as INTEGER
// 0 or 1. Amounts are INTEGER minor units and never pass through here.

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// timeArg is the column value of t.
func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// timeCol is the time.Time of a column value read by timeArg.
func timeCol(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// metaArg is the column value of a string map.
func metaArg(m map[string]string) (any, error) {
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m) // keys sorted: equal maps, equal bytes
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// metaCol is the map of a column value written by metaArg.
func metaCol(v sql.NullString) (map[string]string, error) {
	if !v.Valid {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(v.String), &m); err != nil {
		return nil, fmt.Errorf("%w: metadata column is not a JSON object: %v", ErrCorrupt, err)
	}
	return m, nil
}

// hashCol copies a 32-byte BLOB into a hash.
func hashCol(b []byte) ([32]byte, error) {
	var h [32]byte
	if len(b) != len(h) {
		return h, fmt.Errorf("%w: hash column holds %d bytes, not 32", ErrCorrupt, len(b))
	}
	copy(h[:], b)
	return h, nil
}

// boolArg is the column value of a boolean.
func boolArg(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Aggregates kept whole (points, dispatch) are JSON documents: decimals as
// strings (exact), times in RFC 3339 with nanoseconds.

// docOf is the JSON document of an aggregate.
func docOf(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// scanDoc reads the JSON document in the first column of r into T.
func scanDoc[T any](r rowScanner, extra ...any) (T, error) {
	var (
		v   T
		doc string
	)
	if err := r.Scan(append([]any{&doc}, extra...)...); err != nil {
		return v, err
	}
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return v, fmt.Errorf("%w: document: %v", ErrCorrupt, err)
	}
	return v, nil
}

// readOne reads one document by key through the read pool, or returns
// an error wrapping notFound.
func readOne[T any](ctx context.Context, db *DB, notFound error, what, query, key string) (_ T, err error) {
	defer db.settled(ctx, &err) // no caller sees a commit before it is durable
	v, err := scanDoc[T](db.reader().QueryRowContext(ctx, query, key))
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("sqlite: %s %q: %w", what, key, notFound)
	}
	if err != nil {
		return v, fmt.Errorf("sqlite: %s %q: %w", what, key, translate(err))
	}
	return v, nil
}

// readAll reads the documents a query returns through the read pool, in
// its order.
func readAll[T any](ctx context.Context, db *DB, what, query string, args ...any) (_ []T, err error) {
	defer db.settled(ctx, &err) // no caller sees a commit before it is durable
	return readAllIn[T](ctx, db.reader(), what, query, args...)
}

// readAllIn is readAll through r, which may be inside a read transaction.
func readAllIn[T any](ctx context.Context, r reader, what, query string, args ...any) ([]T, error) {
	rows, err := r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, translate(err))
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scanDoc[T](rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %s: %w", what, translate(err))
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, translate(err))
	}
	return out, nil
}
