package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"reflect"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The adapter's own sentinel errors; domain errors are the domain packages'
// sentinels. Match with errors.Is; they may be wrapped.
var (
	// ErrInvalidOptions reports a bad Options field or constructor argument.
	ErrInvalidOptions = errors.New("postgres: invalid options")

	// ErrMigration reports a malformed embedded migration set.
	ErrMigration = errors.New("postgres: bad migration")

	// ErrSchemaTooNew reports a schema migrated by newer code than this one;
	// the DB refuses to use it rather than misread it.
	ErrSchemaTooNew = errors.New("postgres: schema is newer than this code")

	// ErrUnavailable reports that the database could not be reached or the
	// connection was lost, after the configured attempts. The outcome of a
	// write that failed so is unknown: retry it with the same ID (every
	// ledger command is idempotent by its ID).
	ErrUnavailable = errors.New("postgres: database unavailable")

	// ErrContention reports a transaction still failing with a serialization
	// failure or deadlock after the configured attempts. Nothing was written.
	ErrContention = errors.New("postgres: transaction kept conflicting")

	// ErrClosed reports a call on a closed DB.
	ErrClosed = errors.New("postgres: closed")
)

// SQLSTATE codes the adapter acts on.
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeCheckViolation       = "23514"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeDuplicateTable       = "42P07"
	codeDuplicateSchema      = "42P06"
	codeDuplicateObject      = "42710"
)

// pgError returns the server error inside err, or nil.
func pgError(err error) *pgconn.PgError {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// errRetry marks an error that the retry loop should retry even though its
// SQLSTATE alone would not say so (a lost race creating a schema object).
type errRetry struct{ err error }

func (e errRetry) Error() string { return e.err.Error() }
func (e errRetry) Unwrap() error { return e.err }

// isConflict reports a serialization failure or deadlock: the transaction was
// rolled back and may be tried again.
func isConflict(err error) bool {
	pe := pgError(err)
	return pe != nil && (pe.Code == codeSerializationFailure || pe.Code == codeDeadlockDetected)
}

// isConnLoss reports an error that means the connection (or the server) went
// away or could not be had: class 08 (connection exception), 57P01..57P03
// (terminated by administrator, crash, not yet accepting connections), a
// network error, or an unexpected EOF.
func isConnLoss(err error) bool {
	if pe := pgError(err); pe != nil {
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	return pgconn.SafeToRetry(err) || errors.As(err, &ne) || errors.As(err, &ce) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgx.ErrTxCommitRollback) || errors.Is(err, net.ErrClosed)
}

// retryable reports whether a whole transaction that failed with err may be
// run again.
func retryable(err error) bool {
	var r errRetry
	return errors.As(err, &r) || isConflict(err) || isConnLoss(err)
}

// translate turns a driver error that escaped the retry loop into an error
// wrapping an adapter sentinel, keeping the original for the message.
// Domain-specific codes (unique and foreign-key violations) are mapped by the
// store that knows which constraint means what, via constraintError.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrContention) || errors.Is(err, ErrUnavailable):
		return err
	case isConflict(err):
		return fmt.Errorf("%w: %v", ErrContention, err)
	case isConnLoss(err):
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return err
}

// constraintError maps a unique, foreign-key or check violation to the domain
// sentinel registered for its constraint name in byName; ok is false when err
// is no such violation or its constraint is not listed.
func constraintError(err error, byName map[string]error) (error, bool) {
	pe := pgError(err)
	if pe == nil {
		return nil, false
	}
	switch pe.Code {
	case codeUniqueViolation, codeForeignKeyViolation, codeCheckViolation:
		if s, ok := byName[pe.ConstraintName]; ok {
			return s, true
		}
	}
	return nil, false
}

// retry runs fn until it succeeds, fails with an error that is not
// retryable, the context ends, or MaxAttempts is reached, sleeping a jittered
// exponential back-off between attempts.
func (db *DB) retry(ctx context.Context, what string, fn func(ctx context.Context) error) error {
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil || !retryable(err) {
			return err
		}
		if attempt >= db.opts.MaxAttempts {
			return fmt.Errorf("gave up after %d attempts: %w", attempt, translate(err))
		}
		db.log.Debug("postgres: retrying", "op", what, "attempt", attempt, "err", err)
		if cerr := sleepCtx(ctx, db.backoff(attempt)); cerr != nil {
			return fmt.Errorf("%w (last attempt: %v)", cerr, err)
		}
	}
}

// backoff returns a random delay in [d/2, d] where d doubles per attempt from
// RetryBaseDelay up to RetryMaxDelay.
func (db *DB) backoff(attempt int) time.Duration {
	d := db.opts.RetryBaseDelay << min(attempt-1, 20)
	if d > db.opts.RetryMaxDelay || d <= 0 {
		d = db.opts.RetryMaxDelay
	}
	return d/2 + rand.N(d/2+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// inTx runs fn in a transaction, retried as retry does. fn may run several
// times and must not keep state across runs.
//
// When an attempt loses its connection at COMMIT, the commit may have
// landed. The next attempts then run with a context for which
// commitUncertain is true, and fn may return errLanded when it finds its
// own write already stored (a create whose client-supplied ID holds
// identical content): inTx then reports success, as the earlier attempt's
// write is the caller's.
func (db *DB) inTx(ctx context.Context, what string, fn func(ctx context.Context, tx pgx.Tx) error) error {
	uncertain := false
	err := db.retry(ctx, what, func(ctx context.Context) error {
		if uncertain {
			ctx = context.WithValue(ctx, commitUncertainKey{}, true)
		}
		tx, err := db.pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback(context.Background()) }()
		if err := fn(ctx, tx); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			uncertain = uncertain || isConnLoss(err)
			return err
		}
		return nil
	})
	if errors.Is(err, errLanded) {
		return nil
	}
	return err
}

// errLanded is what a write function returns, under commitUncertain, when it
// finds that an earlier attempt of the same call committed.
var errLanded = errors.New("postgres: an earlier attempt of this write committed")

type commitUncertainKey struct{}

// commitUncertain reports whether an earlier attempt of the write running
// under ctx lost its connection at COMMIT, so that it may have landed.
func commitUncertain(ctx context.Context) bool {
	v, _ := ctx.Value(commitUncertainKey{}).(bool)
	return v
}

// landedCreate reports whether a create that found its ID taken by stored
// should count as an earlier attempt's landed write: only after an
// uncertain commit, and only when stored holds what the create asked for
// (times to the microsecond the database keeps, empty slices as nil).
func landedCreate(ctx context.Context, stored, requested any) bool {
	return commitUncertain(ctx) && reflect.DeepEqual(normalized(stored), normalized(requested))
}

// normalized returns a copy of the struct v with its time.Time fields
// truncated to microseconds in UTC and its empty slices nil.
func normalized(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Struct {
		return v
	}
	cp := reflect.New(rv.Type()).Elem()
	cp.Set(rv)
	for i := range cp.NumField() {
		f := cp.Field(i)
		if !f.CanSet() {
			continue
		}
		switch {
		case f.Type() == reflect.TypeOf(time.Time{}):
			t := f.Interface().(time.Time)
			if !t.IsZero() {
				f.Set(reflect.ValueOf(t.Truncate(time.Microsecond).UTC()))
			}
		case f.Kind() == reflect.Slice && f.Len() == 0:
			f.Set(reflect.Zero(f.Type()))
		}
	}
	return cp.Interface()
}
