package dispatch

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SweepResult counts what one Sweep did.
type SweepResult struct {
	// Returned counts orders returned because accept-by passed.
	Returned int
	// Urged counts overdue notices for a passed complete-by.
	Urged int
	// Closed counts orders closed unrated because evaluate-by passed.
	Closed int
	// Skipped counts due orders left alone because they changed
	// concurrently (ErrConflict) or were refused; the next Sweep sees them
	// again if they are still due.
	Skipped int
}

// Sweep fires every deadline due at now, as Options.System: a dispatched
// order past accept-by is returned, an accepted or in-service order past
// complete-by is urged (once per deadline), a completed order past
// evaluate-by is closed unrated. Each firing is an ordinary transition with
// history and change-feed event, timed at now. Sweep is idempotent: a
// second Sweep at the same now finds nothing due. It never starts
// goroutines or timers; call it from your own scheduler. It returns on the
// first error that is not a conflict with a concurrent command. It reads
// the due orders through DueSharer when the store implements it.
func (s *Service) Sweep(ctx context.Context, now time.Time) (SweepResult, error) {
	now = now.UTC()
	var res SweepResult
	skipped := map[OrderID]bool{}
	// A store that shares its orders saves a deep copy of each: apply
	// only reads the order it is given and replaces, never modifies, what
	// it references.
	sharer, shared := s.store.(DueSharer)
	var due []Order
	for {
		var err error
		if shared {
			due, err = sharer.DueShared(ctx, now, 1000, due)
		} else {
			due, err = s.store.Due(ctx, now, 1000)
		}
		if err != nil {
			return res, fmt.Errorf("dispatch: sweep: %w", err)
		}
		progress := false
		for i := range due {
			o := &due[i]
			if skipped[o.ID] {
				continue
			}
			progress = true
			c := Command{Order: o.ID, Version: o.Version}
			switch o.State {
			case Dispatched:
				c.Trigger, c.Reason = TriggerReturn, "accept deadline passed"
			case Accepted, InService:
				c.Trigger, c.Reason = TriggerUrge, "complete deadline passed"
			case Completed:
				c.Trigger, c.Reason = TriggerClose, "evaluation window passed; closed unrated"
			default:
				skipped[o.ID] = true
				continue
			}
			if _, err := s.apply(ctx, s.opts.System, o, c, now); err != nil {
				if errors.Is(err, ErrConflict) || errors.Is(err, ErrForbidden) {
					s.opts.Logger.WarnContext(ctx, "dispatch: sweep skipped order", "order", o.ID, "err", err)
					skipped[o.ID] = true
					res.Skipped++
					continue
				}
				return res, err
			}
			switch c.Trigger {
			case TriggerReturn:
				res.Returned++
			case TriggerUrge:
				res.Urged++
			case TriggerClose:
				res.Closed++
			}
		}
		if !progress {
			break
		}
	}
	if n := res.Returned + res.Urged + res.Closed; n > 0 {
		s.opts.Logger.InfoContext(ctx, "dispatch: sweep", "returned", res.Returned, "urged", res.Urged, "closed", res.Closed, "skipped", res.Skipped)
	}
	return res, nil
}
