package sim

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/points"
)

// The simulation runs the independent work of a phase on a pool of
// workers: on SQLite the adapter's writer commits the writes of all the
// workers waiting on it in one transaction, so a phase pays a disk sync per
// round of writes instead of one per write.
//
// Parallel work must not make the month depend on which worker gets there
// first. Three rules keep it deterministic:
//   - what to do is decided before the work starts, in a fixed order, from
//     the seed (chance) and from what the simulation already knows;
//   - work that could interfere (two writes to one volunteer's wallet, two
//     orders competing for a team's capacity) stays in one job, in a fixed
//     order, or stays sequential;
//   - every ID a job creates comes from the job's number, drawn in the
//     fixed order before the work starts (see lane), never from a counter
//     the workers share.

// lane is one worker's own points service, whose record, award, lot and op
// IDs are its current job's number and a count within the job, and its own
// dispatch service, whose clock the job sets (residents order at their own
// minute). Everything else (stores, ledger, org, the points service's
// clock) is shared.
type lane struct {
	ids  *jobIDs
	pts  *points.Service
	sink *dispatch.PointsSink
	clk  *clock
	dsp  *dispatch.Service
}

// jobIDs names the IDs of one job: prefix, job number, then a count. A
// lane's jobIDs is used by its worker only.
type jobIDs struct {
	prefix string
	seed   int64
	job, k int
}

func (g *jobIDs) start(job int) { g.job, g.k = job, 0 }

func (g *jobIDs) next() string {
	g.k++
	return fmt.Sprintf("%s%07d-%d", g.prefix, g.job, g.k)
}

// code draws a redemption pickup code from the seed and the job.
func (g *jobIDs) code() string {
	g.k++
	return fmt.Sprintf("%08d", pick(100000000, g.seed, "code", g.prefix, g.job, g.k))
}

// newLanes builds n lanes over the world's stores and services. Their job
// numbers come from the same counter as the sequential points service's
// IDs (ids.reserve), so the two never collide.
func (w *world) newLanes(n int, prefix string) error {
	w.lanes = make([]*lane, n)
	for i := range w.lanes {
		l := &lane{ids: &jobIDs{prefix: prefix, seed: w.seed}, clk: &clock{}}
		var err error
		if l.dsp, err = w.newDispatch(l.clk.Now); err != nil {
			return err
		}
		if l.pts, err = points.New(w.st.points, w.led, w.org, &points.Options{
			Scheme: scheme(w.cfg.PointsLifetime), Now: w.clk.Now, NewID: l.ids.next, NewCode: l.ids.code,
		}); err != nil {
			return err
		}
		if l.sink, err = dispatch.NewPointsSink(l.pts, nil); err != nil {
			return err
		}
		w.lanes[i] = l
	}
	return nil
}

// parallel runs jobs on the lanes and waits for all of them. Job i gets
// number base+i, base reserved from the points ID counter now, before any
// job runs. The jobs must be independent of each other (see above). On
// failure it returns the errors of the failed jobs in job order; jobs not
// yet started when one fails are skipped.
func (w *world) parallel(ctx context.Context, jobs []func(context.Context, *lane) error) error {
	if len(jobs) == 0 {
		return nil
	}
	base := w.ptsIDs.reserve(len(jobs))
	return w.pool(ctx, len(jobs), func(ctx context.Context, l *lane, i int) error {
		l.ids.start(base + i)
		return jobs[i](ctx, l)
	})
}

// pool calls f for i in [0, n) on up to one goroutine per lane, each with
// its lane, and waits. On failure it returns the errors of the failed calls
// in index order; calls not yet started when one fails are skipped. Reads
// (the audit) use it directly; writes go through parallel.
func (w *world) pool(parent context.Context, n int, f func(context.Context, *lane, int) error) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for _, l := range w.lanes[:min(len(w.lanes), n)] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := f(ctx, l, i); err != nil {
					errs[i] = err
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	var failed []error
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		return errors.Join(failed...)
	}
	// Nothing failed on its own: the caller's context may have ended,
	// skipping calls.
	return parent.Err()
}
