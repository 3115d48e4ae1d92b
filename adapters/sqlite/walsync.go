package sqlite

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
)

// In durable mode (SyncFull) the writer does not let SQLite wait for the
// disk inside COMMIT. The connection runs with synchronous=NORMAL, so a
// COMMIT only writes the transaction's frames to the write-ahead log, and
// walSync, a goroutine of its own, syncs the log file and only then hands
// the batch's results back to its callers. Meanwhile the writer already
// runs the next batch: the disk wait of one commit overlaps the work of
// the next (pipelined group commit). What a caller is told is unchanged:
// a write is acknowledged only once it is on disk, and so are the writes
// committed before it, which are earlier in the same file.
//
// Readers must not see a commit before it is durable either, or they
// could act on a write that a power loss then takes back. A commit is
// visible to a new snapshot as soon as its COMMIT has written it, so every
// read calls settle after taking its data and before returning it: settle
// waits until every commit that had started by then is synced. Any commit
// the read's snapshot holds had started before that (see started).
//
// SQLite itself still syncs where its own safety needs it: the log before
// a checkpoint copies it into the database file, the database file after,
// and the log's header when the log starts over.

// Two DBs open on the same file in one process share its walSync (see
// logs): each one's readers must wait for the other's commits too, and one
// sync covers both. Another process writing the same file in durable mode
// syncs its own commits, but this process's readers cannot wait for those
// syncs: they may see such a commit up to one sync before it is durable.

// logs holds the walSync of each log file this process syncs, by path.
var logs = struct {
	sync.Mutex
	m map[string]*walSync
}{m: map[string]*walSync{}}

// shareWALSync returns the walSync of the database at path, made on first
// use (see newWALSync), shared by every DB open on it in this process.
// The first one's full decides how that log is synced.
func shareWALSync(path string, full bool) (*walSync, error) {
	logs.Lock()
	defer logs.Unlock()
	if s, ok := logs.m[path]; ok {
		s.refs++
		return s, nil
	}
	s, err := newWALSync(path, full, walQueue)
	if err != nil {
		return nil, err
	}
	s.refs = 1
	logs.m[path] = s
	return s, nil
}

// release is called by each writer of the walSync once it has exited;
// the last one closes it.
func (s *walSync) release() error {
	logs.Lock()
	s.refs--
	last := s.refs == 0
	if last {
		delete(logs.m, s.main)
	}
	logs.Unlock()
	if !last {
		return nil
	}
	return s.close()
}

// walSync syncs the write-ahead log for the writers of one file and
// releases the batches waiting for it.
type walSync struct {
	main string // the database file, its key in logs
	refs int    // writers using it; guarded by logs
	path string
	full bool // fsync instead of fdatasync
	f    *os.File

	in     chan []*writeReq
	exited chan struct{}
	// pending counts the batches handed to run and not yet released.
	pending atomic.Int64
	// syncMu makes syncs one at a time, so that synced only grows.
	syncMu sync.Mutex

	// started counts COMMITs begun, finished those that returned (either
	// way); synced is the value of finished before the last successful
	// sync began: every commit up to it is on disk.
	started, finished, synced atomic.Uint64

	mu sync.Mutex
	// err is the first failed sync. It sticks: the log may have lost
	// commits already made, so the store refuses every write after it,
	// and settle fails every read that could see such a commit.
	err error
	// tick, when a reader waits in settle, is closed after the next
	// sync to wake it (and set to nil); nil when nobody waits, so that a
	// sync allocates nothing.
	tick chan struct{}

	// syncFile syncs f; tests replace it to slow or fail the sync.
	syncFile func(f *os.File, full bool) error
}

// newWALSync opens the log file of the database at path. The writer's
// connection must be in WAL mode already, so that the file exists.
func newWALSync(path string, full bool, queue int) (*walSync, error) {
	s := &walSync{
		main: path, path: path + "-wal", full: full,
		in:       make(chan []*writeReq, queue),
		exited:   make(chan struct{}),
		syncFile: syncFile,
	}
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open write-ahead log %q: %v: %w", s.path, err, ErrStorage)
	}
	s.f = f
	// The migrations committed without a sync of their own.
	if err := s.sync(); err != nil {
		f.Close()
		return nil, err
	}
	go s.run()
	return s, nil
}

// sync makes every write to the log so far durable. f stays the log file
// all along: SQLite deletes the log only when the last connection to the
// database closes (and truncates it in place otherwise), and the writer's
// connection stays open until walSync is closed.
func (s *walSync) sync() error {
	if err := s.syncFile(s.f, s.full); err != nil {
		return fmt.Errorf("sqlite: sync %q: %v: %w", s.path, err, ErrStorage)
	}
	return nil
}

// run syncs the log for every batch the writer hands over, taking all the
// batches waiting at once (one sync serves them all), and releases their
// callers.
func (s *walSync) run() {
	defer close(s.exited)
	var batch []*writeReq
	for b := range s.in {
		batch = append(batch[:0], b...)
	more:
		for {
			select {
			case b, ok := <-s.in:
				if !ok {
					break more
				}
				batch = append(batch, b...)
			default:
				break more
			}
		}
		n := len(batch)
		release(batch, s.flush())
		s.pending.Add(-int64(n))
		clear(batch)
	}
}

// flush syncs the log, so that every commit finished so far is durable,
// and wakes the readers waiting in settle. Once a sync has failed, flush
// no longer syncs and returns that failure.
func (s *walSync) flush() error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	upto := s.finished.Load()
	err := s.failed()
	if err == nil {
		err = s.sync()
	}
	s.mu.Lock()
	if err == nil {
		s.synced.Store(upto)
	} else if s.err == nil {
		s.err = err
	}
	if s.tick != nil {
		close(s.tick)
		s.tick = nil
	}
	s.mu.Unlock()
	return err
}

// release hands each request of batch back to its caller, failed with
// syncErr if the sync after its commit failed.
func release(batch []*writeReq, syncErr error) {
	for _, r := range batch {
		if syncErr != nil && r.err == nil {
			r.err = fmt.Errorf("%w; the write was committed but may not be on disk, and the store refuses writes until it is reopened", syncErr)
		}
		// After this send the request belongs to its caller again
		// (which may reuse it): the writer no longer touches it.
		r.done <- struct{}{}
	}
}

// errStopped is the error of every write, and of every read that could see
// an unsynced commit, after the sync that failed with err.
func errStopped(err error) error {
	return fmt.Errorf("sqlite: the store stopped after a failed sync; reopen it: %w", err)
}

// failed returns the sync failure that stopped the store, if any.
func (s *walSync) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// settle waits until every commit begun so far is durable. A read calls
// it after taking its data: the data then holds no write that a crash
// could take back. The wait is none when nothing is waiting for a sync,
// and otherwise at most one COMMIT and two syncs (one may be under way).
// If a sync failed first, the data may hold a commit that no sync
// covered, and settle returns the failure for the read to fail with; if
// ctx ends first, its error.
func (s *walSync) settle(ctx context.Context) error {
	want := s.started.Load()
	for s.synced.Load() < want {
		s.mu.Lock()
		if s.synced.Load() >= want {
			s.mu.Unlock()
			break
		}
		if s.err != nil {
			s.mu.Unlock()
			return errStopped(s.err)
		}
		if s.tick == nil {
			s.tick = make(chan struct{})
		}
		tick := s.tick
		s.mu.Unlock()
		select {
		case <-tick:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// close stops run once the writer has handed over its last batch, and
// closes the file.
func (s *walSync) close() error {
	close(s.in)
	<-s.exited
	return s.f.Close()
}
