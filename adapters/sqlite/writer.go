package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The writer owns the only read-write connection. Callers queue write
// requests; one goroutine takes every request waiting in the queue, runs
// them in one shared transaction and commits once (group commit): many
// callers share one disk sync. A caller whose request fails never fails the
// others: the batch then runs again with each request in its own SAVEPOINT,
// and the failed one is rolled back to its savepoint alone. Results are
// handed back only after the commit, so a caller never sees a write that is
// not durable.

// writeFunc is one caller's write. It runs inside the shared transaction
// and may be run more than once (when a batch has to be retried), so it must
// have no effect outside tx other than setting its own results, and must
// reset those on each run.
type writeFunc func(tx *wtx) error

type writeReq struct {
	ctx context.Context
	fn  writeFunc
	// strict marks a fn that returns every error a statement returned
	// (wrapped or translated, never dropped), so that a transaction SQLite
	// ended on its own is noticed right after the request that ended it.
	strict bool
	// group, when set, runs this request together with the strict requests
	// of the same group next to it in the batch, in one pass; payload is
	// what group needs of the request. fn still runs it alone when the
	// batch has to run request by request.
	group   grouper
	payload any
	err     error
	// done receives one value when the request has its outcome; it has a
	// buffer of one (see newDone), so that the writer never waits for the
	// caller to take it, and a pooled request can use it again.
	done chan struct{}
}

// newDone makes a writeReq's done channel.
func newDone() chan struct{} { return make(chan struct{}, 1) }

// grouper runs several requests in one pass inside the shared transaction.
// Like a writeFunc it may run more than once and must reset the results it
// sets. When it fails, the writer rolls back and runs each request's fn
// alone.
type grouper interface {
	runGroup(tx *wtx, rs []*writeReq) error
}

type writer struct {
	db       *sql.DB
	conn     *sql.Conn
	maxBatch int

	mu     sync.RWMutex // guards closed and sends on reqs
	closed bool
	reqs   chan *writeReq
	exited chan struct{}

	// stmts caches statements prepared on conn; only the writer goroutine
	// (and Open, before it starts) touches it.
	stmts map[string]*sql.Stmt
	// raw is the driver's connection under conn, and rawStmts the driver
	// statements prepared on it. The writer goroutine is the only user of
	// conn (it holds the pool's only connection for the life of the
	// writer), so it runs its hot statements (transaction control, the
	// ledger's multi-row writes) on raw directly: database/sql would lock,
	// check and convert every argument of every call, which for a batch of
	// transfers costs more than binding them. nv is the argument buffer
	// those calls reuse.
	raw      driver.Conn
	rawStmts map[string]driver.Stmt
	nv       []driver.NamedValue
	// args is the buffer the ledger's flush builds its argument lists in,
	// and lt the ledgerTx every ledger pass reuses (see newLedgerTx).
	args []any
	lt   *ledgerTx
	// ac caches the ledger account states the writer has committed (see
	// acache).
	ac *acache
	// queries caches multi-row statement texts (see valuesQuery), and
	// shapes counts those of them that share columns.
	queries map[valuesKey]string
	shapes  int
	// depth numbers nested savepoints.
	depth int

	// commits counts transactions committed, for tests and stats.
	commits atomic.Int64
	// inflight counts callers inside queue: queued, running, or released
	// but not yet returned. run waits briefly for the ones not yet in
	// the queue before it starts a batch (see gatherLate).
	inflight atomic.Int64
	// lateWait is lateWait; tests change it.
	lateWait time.Duration
	// ws syncs the log and releases the callers of each batch in durable
	// mode (see walSync); nil in SyncNormal mode, where the writer
	// releases them at once.
	ws *walSync
}

// lateWait bounds how long run waits for callers that are expected but
// not yet queued before it starts a batch without them (see gatherLate).
const lateWait = 200 * time.Microsecond

// pageSize is the page size of new files.
const pageSize = 4096

// checkpointPages is the size of the write-ahead log, in pages, past which
// a commit copies the log back into the database file (SQLite's
// wal_autocheckpoint; SQLite's default is 1,000). A checkpoint writes each
// page the log holds once, however many times it was committed, and the
// ledger's hot pages (the accounts, the tail of each busy account's
// entries) are committed again and again: a longer log means far fewer
// page writes and syncs. 4,000 pages is a log of about 16 MB.
const checkpointPages = 4000

// walQueue is how many committed batches may wait for walSync before the
// writer waits for it.
const walQueue = 64

// errTxLost means SQLite rolled the whole shared transaction back on its
// own (an I/O error, a full disk, an interrupt): every request's work in
// it is gone and must be redone.
var errTxLost = errors.New("sqlite: transaction rolled back by SQLite")

// openWriter opens the read-write connection, checks that the file is a
// civicloop database this version can read, switches it to WAL, migrates
// it and starts the writer goroutine.
func openWriter(ctx context.Context, abs string, o *Options) (*writer, error) {
	q := url.Values{}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", dsn(abs, o, q))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", abs, translate(err))
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", abs, openError(err))
	}
	w := &writer{
		db: db, conn: conn, maxBatch: o.MaxBatch, lateWait: lateWait,
		reqs:     make(chan *writeReq, o.MaxBatch),
		exited:   make(chan struct{}),
		stmts:    make(map[string]*sql.Stmt),
		rawStmts: make(map[string]driver.Stmt),
		queries:  make(map[valuesKey]string),
		ac:       newACache(),
	}
	if err := conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("driver connection %T is not a driver.Conn", dc)
		}
		w.raw = c
		return nil
	}); err != nil {
		w.closeConn()
		return nil, fmt.Errorf("sqlite: open %q: %w", abs, err)
	}
	if err := w.setUp(ctx, abs, o); err != nil {
		w.closeConn()
		return nil, err
	}
	if o.Synchronous == SyncFull {
		// The log is where SQLite keeps it: next to the file it opened,
		// which is the target when abs is a symbolic link.
		main, err := mainFile(ctx, conn)
		if err != nil {
			w.closeConn()
			return nil, fmt.Errorf("sqlite: open %q: %w", abs, err)
		}
		ws, err := shareWALSync(main, o.FullFsync)
		if err != nil {
			w.closeConn()
			return nil, err
		}
		w.ws = ws
	}
	go w.run()
	return w, nil
}

// mainFile returns the name of the database file as SQLite opened it,
// with symbolic links resolved: the name its log is made from.
func mainFile(ctx context.Context, conn *sql.Conn) (string, error) {
	rows, err := conn.QueryContext(ctx, "PRAGMA database_list")
	if err != nil {
		return "", translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			seq        int
			name, file string
		)
		if err := rows.Scan(&seq, &name, &file); err != nil {
			return "", translate(err)
		}
		if name == "main" && file != "" {
			return file, nil
		}
	}
	if err := rows.Err(); err != nil {
		return "", translate(err)
	}
	return "", fmt.Errorf("database_list names no main file: %w", ErrStorage)
}

// setUp runs once on the fresh connection. It only reads until the file is
// known to be a civicloop database (or empty), so a foreign file is left
// untouched.
func (w *writer) setUp(ctx context.Context, abs string, o *Options) error {
	version, err := inspect(ctx, w.conn)
	if err != nil {
		return fmt.Errorf("sqlite: open %q: %w", abs, err)
	}
	var pragmas []string
	if version == 0 {
		// Only a new file takes a page size; larger pages mean fewer,
		// larger writes per commit.
		pragmas = append(pragmas, "PRAGMA page_size="+strconv.Itoa(pageSize))
	}
	// In durable mode the writer syncs the log itself (see walSync), so
	// SQLite's COMMIT only writes it.
	pragmas = append(pragmas,
		"PRAGMA journal_mode=WAL",
		"PRAGMA synchronous=NORMAL",
		"PRAGMA wal_autocheckpoint="+strconv.Itoa(checkpointPages),
		"PRAGMA foreign_keys=ON",
		"PRAGMA cache_size=-32768",
		"PRAGMA temp_store=MEMORY",
		"PRAGMA busy_timeout="+strconv.FormatInt(o.BusyTimeout.Milliseconds(), 10),
	)
	for _, p := range pragmas {
		if _, err := w.conn.ExecContext(ctx, p); err != nil {
			return fmt.Errorf("sqlite: open %q: %s: %w", abs, p, translate(err))
		}
	}
	if err := migrate(ctx, w.conn, version, o); err != nil {
		return fmt.Errorf("sqlite: open %q: %w", abs, err)
	}
	return nil
}

// do queues fn and waits until it has been committed or refused. ctx
// bounds the wait for a place in the queue and is checked again just
// before fn runs; once fn has started, do waits for the commit, because
// interrupting a statement would roll back the other callers' work too.
func (w *writer) do(ctx context.Context, fn writeFunc) error {
	return w.queue(ctx, &writeReq{ctx: ctx, fn: fn, done: newDone()})
}

// doStrict is do for a fn that returns every error a statement returned.
// A batch made only of such requests runs without a savepoint per request
// (see attemptShared).
func (w *writer) doStrict(ctx context.Context, fn writeFunc) error {
	return w.queue(ctx, &writeReq{ctx: ctx, fn: fn, strict: true, done: newDone()})
}

func (w *writer) queue(ctx context.Context, r *writeReq) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.inflight.Add(1)
	defer w.inflight.Add(-1)
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrClosed
	}
	select {
	case w.reqs <- r:
		w.mu.RUnlock()
	default:
		// The queue is full: wait for a place, or for ctx.
		select {
		case w.reqs <- r:
			w.mu.RUnlock()
		case <-ctx.Done():
			w.mu.RUnlock()
			return ctx.Err()
		}
	}
	<-r.done
	return r.err
}

// close stops accepting requests, lets the queued ones finish and closes
// the connection.
func (w *writer) close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	close(w.reqs)
	w.mu.Unlock()
	<-w.exited
	var serr error
	if w.ws != nil {
		serr = w.ws.release()
	}
	return errors.Join(w.closeConn(), serr)
}

func (w *writer) closeConn() error {
	for _, s := range w.rawStmts {
		_ = s.Close()
	}
	for _, s := range w.stmts {
		_ = s.Close()
	}
	cerr := w.conn.Close()
	return errors.Join(cerr, w.db.Close())
}

// run is the writer goroutine.
func (w *writer) run() {
	defer close(w.exited)
	batch := make([]*writeReq, 0, w.maxBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	expect := int64(1)
	for first := range w.reqs {
		batch = append(batch[:0], first)
	gather:
		for len(batch) < w.maxBatch {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					break gather
				}
				batch = append(batch, r)
			default:
				break gather
			}
		}
		var waited bool
		batch, waited = w.gatherLate(batch, expect, timer)
		if err := w.stopped(); err != nil {
			for _, r := range batch {
				r.err = err
			}
		} else {
			w.commit(batch)
		}
		// The callers in flight now (those of this batch, and those queued
		// or queueing behind it) are likely to write again at once: the
		// next batch waits a little for them. After a wait that brought
		// nobody, the next batch does not wait.
		expect = w.inflight.Load()
		if waited {
			expect = 1
		}
		switch {
		case w.ws == nil:
			release(batch, nil)
		case w.inflight.Load() <= int64(len(batch)) && w.ws.pending.Load() == 0:
			// Nobody else is writing: there is no next batch to overlap
			// with the sync, and handing this one over would only add a
			// goroutine switch to its wait. Sync here.
			release(batch, w.ws.flush())
		default:
			// walSync releases the callers once the log is synced; the
			// writer goes on with the next batch meanwhile.
			w.ws.pending.Add(1)
			w.ws.in <- slices.Clone(batch)
			clear(batch)
			continue
		}
		clear(batch)
		// Let the callers just released run before gathering the next
		// batch: one that writes again at once joins the next commit
		// instead of the one after it.
		runtime.Gosched()
	}
}

// stopped returns the error that stops every write after a failed sync of
// the log (see walSync), or nil.
func (w *writer) stopped() error {
	if w.ws == nil {
		return nil
	}
	if err := w.ws.failed(); err != nil {
		return errStopped(err)
	}
	return nil
}

// gatherLate adds to batch the requests of callers that are expected but
// not yet queued, waiting for them at most w.lateWait, so that they share
// this commit instead of each waiting a whole commit for the next one.
// Because every caller waits for its commit before it writes again, the
// requests queued when the writer is free are usually only those of the
// callers that were not in the previous batch; without this wait, callers
// settle into two groups taking turns, each paying for its own sync.
//
// expect is the number of callers in flight when the previous batch was
// released. A batch already as large as that and as the number of callers
// in flight now starts at once, so a lone caller never waits. gatherLate
// reports whether it waited the whole w.lateWait and got nothing.
//
// In durable mode, where syncs overlap batches (see walSync), two groups
// taking turns is what is wanted, and a batch waits only for half of the
// callers in flight.
func (w *writer) gatherLate(batch []*writeReq, expect int64, timer *time.Timer) ([]*writeReq, bool) {
	want := func() int {
		if w.ws != nil {
			// With the sync of one batch overlapping the next batch (see
			// walSync), callers do best in two groups taking turns: one
			// runs while the other's sync is under way. So a batch waits
			// for half of the callers in flight, counting those waiting
			// for a sync, rather than for all of them.
			return int(min((w.inflight.Load()+1)/2, int64(w.maxBatch)))
		}
		return int(min(max(expect, w.inflight.Load()), int64(w.maxBatch)))
	}
	if len(batch) >= want() {
		return batch, false
	}
	n := len(batch)
	timer.Reset(w.lateWait)
	defer timer.Stop()
	for len(batch) < want() {
		select {
		case r, ok := <-w.reqs:
			if !ok {
				return batch, false
			}
			batch = append(batch, r)
		case <-timer.C:
			return batch, len(batch) == n
		}
	}
	return batch, false
}

// commit runs batch in shared transactions until every request has its
// outcome. Usually that takes one transaction; if SQLite rolls one back on
// its own, the request that caused it fails and the others run again.
func (w *writer) commit(batch []*writeReq) {
	pending := batch
	for len(pending) > 0 {
		pending = w.attempt(pending)
	}
}

// attempt runs pending in one transaction and returns the requests that
// must run again.
func (w *writer) attempt(pending []*writeReq) (retry []*writeReq) {
	if len(pending) == 1 {
		w.attemptOne(pending[0])
		return nil
	}
	if allStrict(pending) && w.attemptShared(pending) {
		return nil
	}
	if err := w.control("BEGIN IMMEDIATE"); err != nil {
		err = fmt.Errorf("sqlite: begin: %w", translate(err))
		for _, r := range pending {
			r.err = err
		}
		return nil
	}
	// ran holds the requests whose fn ran, in order, succeeded or not: a
	// failure may come from the work of a success before it (an account
	// opened twice, a close refused for a credit), so when that work is
	// lost the failure is redone or reported as lost too.
	var ran []*writeReq
	firstOK := -1
	for i, r := range pending {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		tx := &wtx{w: w}
		r.err = translate(tx.savepoint(func() error { return r.fn(tx) }))
		if errors.Is(r.err, errTxLost) {
			// The work of the requests before r is gone with the
			// transaction; they and the ones not yet run go again.
			w.rollback()
			return append(ran, pending[i+1:]...)
		}
		if r.err == nil && firstOK < 0 {
			firstOK = len(ran)
		}
		ran = append(ran, r)
	}
	if err := w.control("COMMIT"); err != nil {
		err = fmt.Errorf("sqlite: commit: %w", translate(err))
		w.rollback()
		if firstOK >= 0 {
			for _, r := range ran[firstOK:] {
				r.err = err
			}
		}
		return nil
	}
	w.commits.Add(1)
	return nil
}

func allStrict(rs []*writeReq) bool {
	for _, r := range rs {
		if !r.strict {
			return false
		}
	}
	return true
}

// attemptShared runs strict requests in one transaction without a
// savepoint per request, which spares two statements per request, and
// reports whether every request got its outcome. Requests seldom fail once
// they are queued, so that is the usual case; when one fails, attemptShared
// rolls the whole transaction back, having changed nothing, and returns
// false: attempt then runs the batch again with a savepoint per request.
// Requests must be strict: a fn that dropped the error of a statement after
// which SQLite rolled the transaction back would let the next requests run
// outside any transaction.
func (w *writer) attemptShared(pending []*writeReq) bool {
	if err := w.control("BEGIN IMMEDIATE"); err != nil {
		return false
	}
	live := make([]*writeReq, 0, len(pending))
	for _, r := range pending {
		if r.err = r.ctx.Err(); r.err == nil {
			live = append(live, r)
		}
	}
	for len(live) > 0 {
		r, n := live[0], 1
		if r.group != nil {
			for n < len(live) && live[n].group == r.group {
				n++
			}
		}
		tx := &wtx{w: w}
		var err error
		if n > 1 {
			err = call(func() error { return r.group.runGroup(tx, live[:n]) })
		} else {
			err = call(func() error { return r.fn(tx) })
		}
		if err != nil {
			w.rollback()
			return false
		}
		live = live[n:]
	}
	if err := w.control("COMMIT"); err != nil {
		err = fmt.Errorf("sqlite: commit: %w", translate(err))
		w.rollback()
		for _, r := range pending {
			if r.err == nil {
				r.err = err
			}
		}
		return true
	}
	w.commits.Add(1)
	return true
}

// attemptOne runs a request that is alone in its batch. It needs no
// savepoint: on failure the whole transaction is rolled back, which is
// what its savepoint would have done. A request that met a stale account
// state in the writer's cache (dropped by then) runs once more.
func (w *writer) attemptOne(r *writeReq) {
	w.attemptOnce(r)
	if errors.Is(r.err, errStaleAccount) {
		// The writer's account cache was stale and is dropped now: run
		// the request again, reading its accounts from the file.
		w.attemptOnce(r)
	}
}

func (w *writer) attemptOnce(r *writeReq) {
	if r.err = r.ctx.Err(); r.err != nil {
		return
	}
	if err := w.control("BEGIN IMMEDIATE"); err != nil {
		r.err = fmt.Errorf("sqlite: begin: %w", translate(err))
		return
	}
	if err := call(func() error { return r.fn(&wtx{w: w}) }); err != nil {
		w.rollback()
		r.err = translate(err)
		return
	}
	if err := w.control("COMMIT"); err != nil {
		w.rollback()
		r.err = fmt.Errorf("sqlite: commit: %w", translate(err))
		return
	}
	w.commits.Add(1)
}

// call runs fn, turning a panic into an error of this request alone.
func call(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlite: write panicked: %v", p)
		}
	}()
	return fn()
}

// rollback ends a transaction that failed; it may already be gone.
func (w *writer) rollback() {
	_ = w.control("ROLLBACK")
}

// control runs a transaction-control statement through a statement
// prepared once: parsing it again for every commit costs more than running
// it.
// It keeps the account cache in step with the transaction (see acache).
func (w *writer) control(query string) error {
	if query == "COMMIT" && w.ws != nil {
		// settle counts on started being raised before the commit can
		// be seen (see walSync).
		w.ws.started.Add(1)
		defer w.ws.finished.Add(1)
	}
	_, err := (&wtx{w: w}).execValues(query, nil)
	switch {
	case query == "BEGIN IMMEDIATE" && err == nil:
		w.ac.begin()
	case query == "COMMIT" && err == nil:
		w.ac.commit()
	default:
		// A rollback, or a failed commit (rolled back next).
		w.ac.drop()
	}
	return err
}

// wtx is the handle a writeFunc uses: statements on the writer's
// connection, inside the shared transaction. Its methods return driver
// errors as they come; the writer translates what a request returns, and a
// store may translate first to give a constraint its domain meaning.
type wtx struct {
	w *writer
}

func (tx *wtx) stmt(query string) (*sql.Stmt, error) {
	if s, ok := tx.w.stmts[query]; ok {
		return s, nil
	}
	s, err := tx.w.conn.PrepareContext(context.Background(), query)
	if err != nil {
		return nil, err
	}
	tx.w.stmts[query] = s
	return s, nil
}

// rawStmt returns the driver statement for query, prepared on the
// writer's driver connection once.
func (tx *wtx) rawStmt(query string) (driver.Stmt, error) {
	if s, ok := tx.w.rawStmts[query]; ok {
		return s, nil
	}
	var (
		ds  driver.Stmt
		err error
	)
	if cp, ok := tx.w.raw.(driver.ConnPrepareContext); ok {
		ds, err = cp.PrepareContext(context.Background(), query)
	} else {
		ds, err = tx.w.raw.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	tx.w.rawStmts[query] = ds
	return ds, nil
}

// namedValues puts args in the writer's reusable argument buffer.
func (tx *wtx) namedValues(args []any) []driver.NamedValue {
	nv := tx.w.nv[:0]
	for i, a := range args {
		nv = append(nv, driver.NamedValue{Ordinal: i + 1, Value: a})
	}
	return nv
}

// releaseValues drops the arguments from the buffer, so that it keeps no
// argument alive until the next call.
func (tx *wtx) releaseValues(nv []driver.NamedValue) {
	clear(nv)
	tx.w.nv = nv[:0]
}

// execValues runs a statement that returns no rows on the driver
// connection, without database/sql. Every argument must already be a value
// the driver binds as it is: int64, float64, bool, string, []byte or nil
// (timeArg, boolArg and the ID conversions produce only those).
func (tx *wtx) execValues(query string, args []any) (driver.Result, error) {
	ds, err := tx.rawStmt(query)
	if err != nil {
		return nil, err
	}
	s, ok := ds.(driver.StmtExecContext)
	if !ok {
		return nil, fmt.Errorf("sqlite: driver statement %T cannot run with a context", ds)
	}
	nv := tx.namedValues(args)
	r, err := s.ExecContext(context.Background(), nv)
	tx.releaseValues(nv)
	return r, err
}

// queryValues runs a query on the driver connection, as execValues runs a
// statement, and calls each for every row it returns.
func (tx *wtx) queryValues(query string, args []any, each func(valuesRow) error) (err error) {
	ds, err := tx.rawStmt(query)
	if err != nil {
		return err
	}
	s, ok := ds.(driver.StmtQueryContext)
	if !ok {
		return fmt.Errorf("sqlite: driver statement %T cannot query with a context", ds)
	}
	nv := tx.namedValues(args)
	rows, err := s.QueryContext(context.Background(), nv)
	tx.releaseValues(nv)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, rows.Close()) }()
	row := valuesRow(make([]driver.Value, len(rows.Columns())))
	for {
		if err := rows.Next(row); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		if err := each(row); err != nil {
			return err
		}
	}
}

// valuesRow is a row read by queryValues. Its Scan stores the driver's
// values in the destination types the ledger's scans use.
type valuesRow []driver.Value

func (r valuesRow) Scan(dest ...any) error {
	if len(dest) != len(r) {
		return fmt.Errorf("sqlite: scan: %d destinations for %d columns", len(dest), len(r))
	}
	for i, d := range dest {
		v := r[i]
		ok := false
		switch d := d.(type) {
		case *string:
			var s string
			if s, ok = v.(string); ok {
				*d = s
			}
		case *int64:
			var n int64
			if n, ok = v.(int64); ok {
				*d = n
			}
		case *int32:
			var n int64
			if n, ok = v.(int64); ok && int64(int32(n)) == n {
				*d = int32(n)
			} else {
				ok = false
			}
		case *bool:
			var n int64
			if n, ok = v.(int64); ok && (n == 0 || n == 1) {
				*d = n == 1
			} else {
				ok = false
			}
		case *[]byte:
			var b []byte
			if b, ok = v.([]byte); ok {
				*d = bytes.Clone(b)
			} else if v == nil {
				*d, ok = nil, true
			}
		}
		if !ok {
			return fmt.Errorf("%w: column %d: cannot store %T in %T", ErrCorrupt, i, v, d)
		}
	}
	return nil
}

// exec runs a statement that returns no rows.
func (tx *wtx) exec(query string, args ...any) (sql.Result, error) {
	s, err := tx.stmt(query)
	if err != nil {
		return nil, err
	}
	return s.Exec(args...)
}

// query runs a statement that returns rows. The caller closes them.
func (tx *wtx) query(query string, args ...any) (*sql.Rows, error) {
	s, err := tx.stmt(query)
	if err != nil {
		return nil, err
	}
	return s.Query(args...)
}

// queryRow runs a statement that returns at most one row; errors surface
// at Scan.
func (tx *wtx) queryRow(query string, args ...any) *sql.Row {
	s, err := tx.stmt(query)
	if err != nil {
		// A statement that cannot be prepared is a programming error;
		// let Scan report it through a query that fails the same way.
		return tx.w.conn.QueryRowContext(context.Background(), query, args...)
	}
	return s.QueryRow(args...)
}

// savepoint runs fn inside a SAVEPOINT: if fn fails, its changes are
// rolled back and the rest of the transaction is kept. Savepoints nest.
// A panic in fn is turned into an error of this request alone.
func (tx *wtx) savepoint(fn func() error) (err error) {
	w := tx.w
	w.depth++
	name := "sp" + strconv.Itoa(w.depth)
	defer func() { w.depth-- }()
	if _, err := tx.execValues("SAVEPOINT "+name, nil); err != nil {
		return fmt.Errorf("%w: savepoint: %w", errTxLost, err)
	}
	if err = call(fn); err != nil {
		if errors.Is(err, errTxLost) {
			return err
		}
		// What the request wrote to the cache goes with its changes.
		w.ac.drop()
		if _, rerr := tx.execValues("ROLLBACK TO "+name, nil); rerr != nil {
			return fmt.Errorf("%w: %w (rollback: %w)", errTxLost, err, rerr)
		}
		if _, rerr := tx.execValues("RELEASE "+name, nil); rerr != nil {
			return fmt.Errorf("%w: %w (release: %w)", errTxLost, err, rerr)
		}
		return err
	}
	if _, rerr := tx.execValues("RELEASE "+name, nil); rerr != nil {
		return fmt.Errorf("%w: release: %w", errTxLost, rerr)
	}
	return nil
}

// insertRows inserts rows of cols values each, flattened in args, with
// multi-row INSERT statements: query is "INSERT INTO t (...) VALUES ".
// shareable is as in execRows.
func insertRows(tx *wtx, query string, cols int, shareable uint64, args []any) error {
	return execRows(tx, query, "", cols, shareable, args)
}

// execRows runs prefix + a VALUES list + suffix over rows of cols values
// each, flattened in args, through execValues (so args hold driver values
// only). A statement carries 64 or 16 rows, or the last
// fewer than 16 rows at once, so that a few prepared statements serve every
// count while each row costs a fraction of a statement: a single transfer
// writes its two entries with one statement, not two.
//
// shareable has bit c set for the columns c that often hold one value in
// every row of a statement (a batch's time, an empty reference). When all
// the rows of a statement agree on such a column, the value is bound once,
// in the first row, and the other rows name that parameter (?N) instead of
// binding it again: each bound value is a driver call that takes the
// connection's lock, and a text value is copied first (binding was about a
// fifth of a batch's CPU). execRows moves the values within args, which
// holds no useful list afterwards.
func execRows(tx *wtx, prefix, suffix string, cols int, shareable uint64, args []any) error {
	for len(args) > 0 {
		n := len(args) / cols
		rows := n
		switch {
		case n >= 64:
			rows = 64
		case n >= 16:
			rows = 16
		}
		chunk := args[:rows*cols]
		var shared uint64
		if rows > 1 {
			shared = sharedCols(chunk, cols, shareable)
		}
		q, ok := tx.w.valuesQuery(prefix, suffix, cols, rows, shared)
		if !ok {
			shared = 0
			q, _ = tx.w.valuesQuery(prefix, suffix, cols, rows, 0)
		}
		if _, err := tx.execValues(q, packShared(chunk, cols, shared)); err != nil {
			return err
		}
		args = args[rows*cols:]
	}
	return nil
}

// sharedCols returns the columns among shareable (bit c for column c) that
// hold the same value in every row of args.
func sharedCols(args []any, cols int, shareable uint64) uint64 {
	shared := shareable
	for c := 0; c < cols && c < 64; c++ {
		if shared&(1<<c) == 0 {
			continue
		}
		v := args[c]
		for i := c + cols; i < len(args); i += cols {
			if !sameValue(v, args[i]) {
				shared &^= 1 << c
				break
			}
		}
	}
	return shared
}

// sameValue reports whether two driver values are the same value of the
// same type. Byte slices are never the same: they are not shared.
func sameValue(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case int64:
		b, ok := b.(int64)
		return ok && a == b
	case string:
		b, ok := b.(string)
		return ok && a == b
	}
	return false
}

// packShared moves the values of the shared columns of every row but the
// first out of args, in place, keeping the others in order: the argument
// list of the statement valuesQuery made for shared.
func packShared(args []any, cols int, shared uint64) []any {
	if shared == 0 {
		return args
	}
	w := cols
	for i := cols; i < len(args); i++ {
		if shared&(1<<(i%cols)) == 0 {
			args[w] = args[i]
			w++
		}
	}
	clear(args[w:])
	return args[:w]
}

// listQuery returns prefix + "(?, ?, ...)" with n placeholders, for
// "WHERE id IN " lists; built once per length.
func (w *writer) listQuery(prefix string, n int) string {
	k := valuesKey{prefix: prefix, rows: n}
	if q, ok := w.queries[k]; ok {
		return q
	}
	q := prefix + "(?" + strings.Repeat(", ?", n-1) + ")"
	w.queries[k] = q
	return q
}

type valuesKey struct {
	prefix, suffix string
	cols, rows     int
	shared         uint64
}

// maxShapes bounds the statements valuesQuery makes for shared columns,
// each prepared once and kept: a workload whose rows agree on ever new sets
// of columns binds every value instead of preparing without end.
const maxShapes = 64

// valuesQuery returns prefix, rows groups of cols placeholders, suffix;
// built once per shape. The columns in shared (bit c for column c) are
// plain placeholders in the first group and name the first group's
// parameter (?N) in the others. It reports false, with no query, when
// shared is not zero and maxShapes such statements exist already.
func (w *writer) valuesQuery(prefix, suffix string, cols, rows int, shared uint64) (string, bool) {
	k := valuesKey{prefix, suffix, cols, rows, shared}
	if q, ok := w.queries[k]; ok {
		return q, true
	}
	if shared != 0 {
		if w.shapes >= maxShapes {
			return "", false
		}
		w.shapes++
	}
	first := "(" + strings.Repeat("?, ", cols-1) + "?)"
	var other strings.Builder
	other.WriteString(", (")
	for c := range cols {
		if c > 0 {
			other.WriteString(", ")
		}
		other.WriteByte('?')
		if shared&(1<<c) != 0 {
			other.WriteString(strconv.Itoa(c + 1))
		}
	}
	other.WriteByte(')')
	q := prefix + first + strings.Repeat(other.String(), rows-1) + suffix
	w.queries[k] = q
	return q, true
}
