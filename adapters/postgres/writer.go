package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/civicloop/civicloop/ledger"
)

// groupCommit coalesces concurrent callers' ledger commands into shared
// transactions (group commit): one transaction, one commit, many callers.
// Each caller's commands stay together and in order, and each caller gets
// its own results. A refusal is a per-command result computed by the
// ledger's rules inside the transaction, so one caller's refused transfer
// never fails another's. If a shared transaction fails for a reason other
// than contention or a lost connection, its callers are retried one by one in
// transactions of their own, so one caller's bad luck stays his.
//
// The writer adds throughput, not correctness: every transaction takes its
// row locks in a fixed order and is retried on conflict, so several
// processes (each with its own writer) may share the database.
type groupCommit struct {
	queue    chan *commitReq
	slots    chan struct{} // bounds the transactions in flight
	maxBatch int
	run      func(ctx context.Context, cmds []ledger.Command) ([]ledger.Result, error)

	ctx    context.Context // cancelled by close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool

	// inflight counts the callers inside submit, intx those of them whose
	// commands a transaction has taken: the difference is the callers about
	// to queue, whom the loop waits for (see lateWait).
	inflight, intx atomic.Int64
	lateWait       time.Duration // how long to wait for them: lateWait

	// batches and cmds count the shared transactions run and the commands
	// they carried (tests and benchmarks read them).
	batches, cmds atomic.Int64
}

// lateWait bounds how long the loop waits for callers in flight that have
// not queued yet. Callers that each keep one transfer outstanding come back
// a few microseconds after their answer; without the wait they would split
// into two alternating groups, each paying a commit.
const lateWait = 200 * time.Microsecond

// commitReq is one caller's Apply.
type commitReq struct {
	cmds  []ledger.Command
	res   []ledger.Result
	err   error
	state atomic.Int32 // reqQueued, reqTaken or reqAbandoned
	done  chan struct{}
}

const (
	reqQueued int32 = iota
	reqTaken
	reqAbandoned
)

func newGroupCommit(writers, maxBatch int, run func(context.Context, []ledger.Command) ([]ledger.Result, error)) *groupCommit {
	ctx, cancel := context.WithCancel(context.Background())
	g := &groupCommit{
		queue:    make(chan *commitReq, 4*maxBatch),
		slots:    make(chan struct{}, writers),
		maxBatch: maxBatch,
		lateWait: lateWait,
		run:      run,
		ctx:      ctx,
		cancel:   cancel,
	}
	g.wg.Add(1)
	go g.loop()
	return g
}

// submit applies cmds in a shared transaction. It returns ctx's error only
// while the commands are still queued (nothing was written); once a
// transaction has taken them it waits for the outcome, which is bounded by
// the retry limits.
func (g *groupCommit) submit(ctx context.Context, cmds []ledger.Command) ([]ledger.Result, error) {
	if g.closed.Load() {
		return nil, ErrClosed
	}
	g.inflight.Add(1)
	defer g.inflight.Add(-1)
	r := &commitReq{cmds: cmds, done: make(chan struct{})}
	select {
	case g.queue <- r:
	case <-ctx.Done():
		return nil, fmt.Errorf("postgres: ledger apply: %w", ctx.Err())
	case <-g.ctx.Done():
		return nil, ErrClosed
	}
	select {
	case <-r.done:
		return r.res, r.err
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return nil, fmt.Errorf("postgres: ledger apply: %w", ctx.Err())
		}
	case <-g.ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return nil, ErrClosed
		}
	}
	<-r.done
	return r.res, r.err
}

func (g *groupCommit) loop() {
	defer g.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	skipWait := false // the last wait brought nobody: do not wait next time
	for {
		select {
		case g.slots <- struct{}{}:
		case <-g.ctx.Done():
			g.drain()
			return
		}
		var batch []*commitReq
		n := 0
		take := func(r *commitReq) {
			if r.state.CompareAndSwap(reqQueued, reqTaken) {
				batch = append(batch, r)
				n += len(r.cmds)
			}
		}
		select {
		case r := <-g.queue:
			take(r)
		case <-g.ctx.Done():
			<-g.slots
			g.drain()
			return
		}
	more:
		for n < g.maxBatch {
			select {
			case r := <-g.queue:
				take(r)
			default:
				break more
			}
		}
		if len(batch) == 0 {
			<-g.slots
			continue
		}
		// Wait briefly for the callers in flight that have not queued yet;
		// a lone caller (or a full batch) goes at once.
		if g.lateWait > 0 && !skipWait && n < g.maxBatch && int64(len(batch)) < g.inflight.Load()-g.intx.Load() {
			before := len(batch)
			timer.Reset(g.lateWait)
		late:
			for n < g.maxBatch && int64(len(batch)) < g.inflight.Load()-g.intx.Load() {
				select {
				case r := <-g.queue:
					take(r)
				case <-timer.C:
					break late
				case <-g.ctx.Done():
					break late
				}
			}
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
			skipWait = len(batch) == before
		} else {
			skipWait = false
		}
		g.intx.Add(int64(len(batch)))
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			defer func() { <-g.slots }()
			g.commit(batch)
		}()
	}
}

// commit runs one shared transaction for batch and answers its callers.
func (g *groupCommit) commit(batch []*commitReq) {
	defer g.intx.Add(-int64(len(batch)))
	var cmds []ledger.Command
	if len(batch) == 1 {
		cmds = batch[0].cmds
	} else {
		for _, r := range batch {
			cmds = append(cmds, r.cmds...)
		}
	}
	g.batches.Add(1)
	g.cmds.Add(int64(len(cmds)))
	// Not g.ctx: a transaction in flight finishes even while closing.
	res, err := g.run(context.Background(), cmds)
	if err != nil && len(batch) > 1 && !errors.Is(err, ErrContention) && !errors.Is(err, ErrUnavailable) {
		// Isolate the callers: each gets his own transaction and outcome.
		for _, r := range batch {
			r.res, r.err = g.run(context.Background(), r.cmds)
			close(r.done)
		}
		return
	}
	off := 0
	for _, r := range batch {
		if err != nil {
			r.err = err
		} else {
			r.res = res[off : off+len(r.cmds) : off+len(r.cmds)]
		}
		off += len(r.cmds)
		close(r.done)
	}
}

// drain fails what is still queued once the writer is closed.
func (g *groupCommit) drain() {
	for {
		select {
		case r := <-g.queue:
			if r.state.CompareAndSwap(reqQueued, reqTaken) {
				r.err = ErrClosed
				close(r.done)
			}
		default:
			return
		}
	}
}

// close stops the writer after the transactions in flight finish; queued
// commands fail with ErrClosed.
func (g *groupCommit) close() {
	g.closed.Store(true)
	g.cancel()
	g.wg.Wait()
	g.drain()
}
