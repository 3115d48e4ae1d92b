package sqlite

import (
	"errors"
	"fmt"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// This file is the one place where driver errors become errors callers can
// match: by SQLite result code (primary and extended), never by message
// text. Domain stores name the domain sentinel a constraint violation
// stands for; infrastructure failures get this package's sentinels.

var (
	// ErrInvalidPath is returned by Open for a path that is empty, a
	// folder, not a regular file, or not writable. Nothing is written.
	ErrInvalidPath = errors.New("sqlite: invalid database path")
	// ErrNotCivicloop is returned by Open for a file that is not an SQLite
	// database, or is the database of another program. Nothing is written.
	ErrNotCivicloop = errors.New("sqlite: not a civicloop database")
	// ErrSchemaTooNew is returned by Open for a file whose schema was
	// written by a newer version of this package. Nothing is written.
	ErrSchemaTooNew = errors.New("sqlite: database schema is newer than this program")
	// ErrInvalidOptions is returned by Open for an Options field out of
	// range; the message names the field.
	ErrInvalidOptions = errors.New("sqlite: invalid options")
	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("sqlite: database is closed")
	// ErrBusy means another process held a lock on the file for longer
	// than Options.BusyTimeout. The operation changed nothing; it may be
	// retried.
	ErrBusy = errors.New("sqlite: database is busy")
	// ErrCorrupt means SQLite found the file damaged (SQLITE_CORRUPT,
	// SQLITE_NOTADB).
	ErrCorrupt = errors.New("sqlite: database file is corrupt")
	// ErrStorage means the file could not be read or written: an I/O
	// error, a full disk, a read-only file or missing permission.
	ErrStorage = errors.New("sqlite: storage failure")
	// ErrConstraint is a constraint violation no domain sentinel stands
	// for; it indicates a bug in this package.
	ErrConstraint = errors.New("sqlite: constraint violation")
)

// translated is a driver error with the sentinel it stands for. Matching
// works on both: errors.Is(err, ErrBusy), errors.As(err, **sqlite.Error).
type translated struct {
	sentinel error
	err      error
}

func (e *translated) Error() string   { return e.sentinel.Error() + ": " + e.err.Error() }
func (e *translated) Unwrap() []error { return []error{e.sentinel, e.err} }

// translate maps a driver error to a sentinel of this package, keeping the
// driver error in the chain. Errors that are not driver errors, and errors
// already translated, pass unchanged. It is translateAs with no domain
// meaning for constraints.
func translate(err error) error {
	return translateAs(err, nil)
}

// translateAs is translate where a UNIQUE or PRIMARY KEY violation means
// the domain sentinel conflict (for example "account already exists").
func translateAs(err error, conflict error) error {
	var (
		se *msqlite.Error
		tr *translated
	)
	if err == nil || errors.As(err, &tr) || !errors.As(err, &se) {
		return err
	}
	code := se.Code()
	switch code & 0xff { // primary result code
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return &translated{ErrBusy, err}
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return &translated{ErrCorrupt, err}
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY,
		sqlite3.SQLITE_PERM, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOLFS:
		return &translated{ErrStorage, err}
	case sqlite3.SQLITE_CONSTRAINT:
		if conflict != nil && (code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
			return &translated{conflict, err}
		}
		return &translated{ErrConstraint, err}
	}
	return err
}

// openError translates an error met while Open first reads the file,
// where a corrupt header means "not a civicloop database".
func openError(err error) error {
	var se *msqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_NOTADB {
		return &translated{ErrNotCivicloop, fmt.Errorf("file is not an SQLite database: %w", err)}
	}
	return translate(err)
}
