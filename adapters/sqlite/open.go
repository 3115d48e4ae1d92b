package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	msqlite "modernc.org/sqlite" // also registers the "sqlite" database/sql driver
)

// Synchronous is how hard a commit pushes its bytes to stable storage
// before the write is acknowledged (SQLite's PRAGMA synchronous, in WAL
// mode).
type Synchronous string

const (
	// SyncFull makes every acknowledged write survive a crash of the process
	// and of the machine (power loss, kernel panic): each commit waits for
	// the write-ahead log to be synced to disk. It is the default.
	SyncFull Synchronous = "FULL"
	// SyncNormal trades durability for speed: an acknowledged write survives
	// a crash of the process, but the last commits before a power loss or an
	// operating-system crash may be lost. The file is never corrupted either
	// way; it rolls back to an earlier consistent state.
	SyncNormal Synchronous = "NORMAL"
)

// Options configures Open. The zero value, or a nil *Options, selects the
// defaults documented on each field.
type Options struct {
	// Synchronous is the durability of a commit. Default SyncFull.
	Synchronous Synchronous
	// FullFsync makes syncs use fsync(2) instead of fdatasync(2). Both
	// make a commit durable; fdatasync skips the file's timestamps, which
	// roughly halves the time a commit waits on Linux, and is what SQLite's
	// own Linux builds use. The syncs of commits follow the first DB open
	// on the file in this process; SQLite's own syncs (checkpoints, the
	// log's header) follow a choice the pure-Go driver holds process-wide,
	// set by the last Open. Default false (fdatasync).
	FullFsync bool
	// BusyTimeout is how long a connection waits for a lock held by another
	// process using the same file before failing with ErrBusy. Default 5s.
	BusyTimeout time.Duration
	// ReadConns is the size of the read-only connection pool; readers run
	// concurrently with each other and with the writer. Default
	// max(4, GOMAXPROCS).
	ReadConns int
	// MaxBatch is the largest number of queued write requests the writer
	// runs in one shared transaction (group commit). Default 512.
	MaxBatch int
	// Now is the clock used for bookkeeping timestamps (migrations). Default
	// time.Now.
	Now func() time.Time
	// Logger receives operational messages. Default: discards everything.
	Logger *slog.Logger
}

func (o *Options) validate() error {
	switch o.Synchronous {
	case "":
		o.Synchronous = SyncFull
	case SyncFull, SyncNormal:
	default:
		return fmt.Errorf("sqlite: options: field Synchronous: %q is not FULL or NORMAL: %w", o.Synchronous, ErrInvalidOptions)
	}
	switch {
	case o.BusyTimeout == 0:
		o.BusyTimeout = 5 * time.Second
	case o.BusyTimeout < 0:
		return fmt.Errorf("sqlite: options: field BusyTimeout: %s is negative: %w", o.BusyTimeout, ErrInvalidOptions)
	}
	switch {
	case o.ReadConns == 0:
		o.ReadConns = max(4, runtime.GOMAXPROCS(0))
	case o.ReadConns < 0:
		return fmt.Errorf("sqlite: options: field ReadConns: %d is negative: %w", o.ReadConns, ErrInvalidOptions)
	}
	switch {
	case o.MaxBatch == 0:
		o.MaxBatch = 512
	case o.MaxBatch < 0:
		return fmt.Errorf("sqlite: options: field MaxBatch: %d is negative: %w", o.MaxBatch, ErrInvalidOptions)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// DB is an open civicloop database file. It is safe for concurrent use.
// Writes from all goroutines go through one writer goroutine that commits
// them in shared transactions; reads use a separate pool of read-only
// connections and run concurrently.
type DB struct {
	path string
	opts Options
	w    *writer
	read *sql.DB

	// stmts caches statements prepared on the read pool, by query text.
	stmts sync.Map

	ledger   *LedgerStore
	org      *OrgStore
	points   *PointsStore
	dispatch *DispatchStore

	closeOnce sync.Once
	closeErr  error
	// file is the file's identity, kept in openFiles while db is open.
	file os.FileInfo
}

// openFiles holds the files this process has open through Open, one entry
// per DB. checkPath must not open and close one of these again: closing
// any descriptor of a file drops every POSIX lock the process holds on
// it, SQLite's included. Open holds the lock throughout, so that two
// Opens of one file cannot both take it for new.
var openFiles struct {
	sync.Mutex
	fis []os.FileInfo
}

// fileInUse reports whether fi is a file this process has open through
// Open. The caller holds openFiles.
func fileInUse(fi os.FileInfo) bool {
	for _, o := range openFiles.fis {
		if os.SameFile(o, fi) {
			return true
		}
	}
	return false
}

// forgetFile removes db's entry from openFiles.
func (db *DB) forgetFile() {
	if db.file == nil {
		return
	}
	openFiles.Lock()
	defer openFiles.Unlock()
	for i, o := range openFiles.fis {
		if o == db.file {
			openFiles.fis = append(openFiles.fis[:i], openFiles.fis[i+1:]...)
			return
		}
	}
}

// Open opens the civicloop database at path, creating the file and its
// schema if the file does not exist, and upgrading the schema of an older
// file. It refuses, without writing anything, a path that is a folder, a
// path it cannot write (ErrInvalidPath), a file that is not a civicloop
// database (ErrNotCivicloop) and a file written by a newer version of this
// package (ErrSchemaTooNew). Close the DB when done.
func Open(path string, opts *Options) (*DB, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	openFiles.Lock()
	defer openFiles.Unlock()
	abs, err := checkPath(path)
	if err != nil {
		return nil, err
	}
	// fdatasync is unavailable on some platforms (macOS, Windows), where
	// SQLite keeps its own full sync; nothing to do there.
	_, _ = msqlite.Fdatasync(!o.FullFsync)
	ctx := context.Background()
	w, err := openWriter(ctx, abs, &o)
	if err != nil {
		return nil, err
	}
	read, err := openReaders(abs, &o)
	if err != nil {
		w.close()
		return nil, err
	}
	db := &DB{path: abs, opts: o, w: w, read: read}
	if fi, err := os.Stat(abs); err == nil {
		db.file = fi
		openFiles.fis = append(openFiles.fis, fi)
	}
	db.ledger = &LedgerStore{db: db}
	db.org = &OrgStore{db: db}
	db.points = &PointsStore{db: db}
	db.dispatch = &DispatchStore{db: db}
	o.Logger.Debug("sqlite: opened", "path", abs, "synchronous", string(o.Synchronous))
	return db, nil
}

// Path returns the absolute path of the database file.
func (db *DB) Path() string { return db.path }

// Close waits for queued writes to finish, then closes the file. Writes
// requested after Close fail with ErrClosed. Close is idempotent.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		defer db.forgetFile()
		werr := db.w.close()
		db.stmts.Range(func(_, v any) bool {
			_ = v.(*sql.Stmt).Close()
			return true
		})
		rerr := db.read.Close()
		db.closeErr = errors.Join(werr, rerr)
	})
	return db.closeErr
}

// openToCheck opens a file for checkPath; tests count its calls.
var openToCheck = os.OpenFile

// sqliteMagic is the first 16 bytes of every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// checkPath refuses, before SQLite touches anything, the paths Open must
// not use, and returns the absolute path.
func checkPath(path string) (string, error) {
	if path == "" {
		return "", fmt.Errorf("sqlite: open: path is empty: %w", ErrInvalidPath)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("sqlite: open %q: %v: %w", path, err, ErrInvalidPath)
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return abs, checkParent(abs)
	case err != nil:
		return "", fmt.Errorf("sqlite: open %q: %v: %w", path, err, ErrInvalidPath)
	case fi.IsDir():
		return "", fmt.Errorf("sqlite: open %q: path is a folder, not a file: %w", path, ErrInvalidPath)
	case !fi.Mode().IsRegular():
		return "", fmt.Errorf("sqlite: open %q: path is not a regular file (%s): %w", path, fi.Mode().Type(), ErrInvalidPath)
	case fileInUse(fi):
		// Checked when it was first opened, and in use: opening it
		// again here would drop SQLite's locks on it (see openFiles).
		return abs, nil
	}
	// O_RDWR without O_CREATE or O_TRUNC writes nothing; it only proves
	// that the file may be written.
	f, err := openToCheck(abs, os.O_RDWR, 0)
	if err != nil {
		return "", fmt.Errorf("sqlite: open %q: file is not writable: %v: %w", path, err, ErrInvalidPath)
	}
	defer f.Close()
	// Opening is not enough: root opens any file read-write, and kernel
	// files such as /proc/version then refuse the write itself. A write of
	// zero bytes reaches the file system's checks without writing anything
	// (write(2): "0 is returned without causing any other effect").
	if _, err := f.Write(nil); err != nil {
		return "", fmt.Errorf("sqlite: open %q: file is not writable: %v: %w", path, err, ErrInvalidPath)
	}
	if fi.Size() == 0 {
		return abs, nil
	}
	head := make([]byte, len(sqliteMagic))
	if _, err := io.ReadFull(f, head); err != nil || string(head) != sqliteMagic {
		return "", fmt.Errorf("sqlite: open %q: file is not an SQLite database: %w", path, ErrNotCivicloop)
	}
	return abs, nil
}

// checkParent makes sure a file can be created at abs.
func checkParent(abs string) error {
	dir := filepath.Dir(abs)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("sqlite: open %q: folder %q: %v: %w", abs, dir, err, ErrInvalidPath)
	}
	if !fi.IsDir() {
		return fmt.Errorf("sqlite: open %q: %q is not a folder: %w", abs, dir, ErrInvalidPath)
	}
	// Creating and removing a probe proves the folder is writable (for the
	// -wal and -shm files too) without leaving anything behind.
	probe, err := os.CreateTemp(dir, ".civicloop-probe-*")
	if err != nil {
		return fmt.Errorf("sqlite: open %q: folder %q is not writable: %v: %w", abs, dir, err, ErrInvalidPath)
	}
	name := probe.Name()
	probe.Close()
	return os.Remove(name)
}

// dsn builds a driver URI for abs. The path is escaped so that '?' and '#'
// in a file name cannot be mistaken for URI syntax.
func dsn(abs string, o *Options, query url.Values) string {
	query.Set("_busy_timeout", strconv.FormatInt(o.BusyTimeout.Milliseconds(), 10))
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: query.Encode()}
	return u.String()
}

// openReaders opens the read-only pool. WAL mode lets these connections
// read a consistent snapshot while the writer commits.
func openReaders(abs string, o *Options) (*sql.DB, error) {
	q := url.Values{}
	q.Set("_query_only", "1")
	read, err := sql.Open("sqlite", dsn(abs, o, q))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %q: read pool: %w", abs, translate(err))
	}
	read.SetMaxOpenConns(o.ReadConns)
	read.SetMaxIdleConns(o.ReadConns)
	read.SetConnMaxIdleTime(0)
	if err := read.Ping(); err != nil {
		read.Close()
		return nil, fmt.Errorf("sqlite: open %q: read pool: %w", abs, translate(err))
	}
	return read, nil
}

// readStmt returns a statement prepared on the read pool, cached by text.
func (db *DB) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := db.stmts.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := db.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, translate(err)
	}
	if prev, loaded := db.stmts.LoadOrStore(query, s); loaded {
		s.Close()
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

// readTx runs fn in a read-only transaction, so that several queries see
// one snapshot of the file.
func (db *DB) readTx(ctx context.Context, fn func(tx reader) error) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return translate(err)
	}
	var missing []string
	err = fn(reader{db: db, tx: tx, missing: &missing})
	tx.Rollback()         //nolint:errcheck // read-only: nothing to keep
	db.settled(ctx, &err) // no caller sees a commit before it is durable
	// Statements first met inside the transaction were prepared on its
	// connection only; now that the connection is back in the pool, prepare
	// them on the pool so later readers find them cached.
	for _, q := range missing {
		if _, perr := db.readStmt(ctx, q); perr != nil {
			break
		}
	}
	return err
}

// reader runs queries on the read pool, in tx when set, through statements
// prepared once per query text: parsing SQL costs more than running most
// of these queries.
type reader struct {
	db *DB
	tx *sql.Tx
	// missing collects, inside a transaction, the queries not yet cached.
	missing *[]string
}

// reader returns a reader outside any transaction.
func (db *DB) reader() reader { return reader{db: db} }

func (r reader) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if r.tx != nil {
		if s, ok := r.db.stmts.Load(query); ok {
			return r.tx.StmtContext(ctx, s.(*sql.Stmt)), nil
		}
		// Preparing on the pool would wait for a second connection while
		// this transaction holds one; when every pooled connection is inside
		// such a transaction, all of them would wait forever. Prepare on the
		// transaction's own connection and cache the query after it ends.
		s, err := r.tx.PrepareContext(ctx, query)
		if err != nil {
			return nil, translate(err)
		}
		if r.missing != nil {
			*r.missing = append(*r.missing, query)
		}
		return s, nil
	}
	return r.db.readStmt(ctx, query)
}

// QueryContext runs a query that returns rows.
func (r reader) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := r.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// QueryRowContext runs a query that returns at most one row.
func (r reader) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := r.stmt(ctx, query)
	if err != nil {
		// Let Scan report the error through an unprepared query, which
		// fails the same way.
		if r.tx != nil {
			return r.tx.QueryRowContext(ctx, query, args...)
		}
		return r.db.read.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// settled waits until every commit begun so far is on disk (see
// walSync). Every read defers it, with its named error result, so that it
// runs after the read has taken its data and before the caller gets it:
// no caller sees a write a crash could still take back. After a failed
// sync, a read whose data may hold a commit no sync covered fails with
// that failure instead, and a read whose ctx ends while it waits, with
// ctx's error.
func (db *DB) settled(ctx context.Context, err *error) {
	if ws := db.w.ws; ws != nil {
		if serr := ws.settle(ctx); serr != nil && *err == nil {
			*err = serr
		}
	}
}
