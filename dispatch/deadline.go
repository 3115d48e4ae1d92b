package dispatch

import "time"

// Due returns the deadline of o that fires next, if it has not fired yet:
// accept-by while dispatched, complete-by while accepted or in service
// unless the timer already urged for it, evaluate-by while completed. Zero
// if none. At most one deadline runs in any state (see clearDeadlines).
// Stores index orders by it.
func (o Order) Due() time.Time {
	switch o.State {
	case Dispatched:
		return o.AcceptBy
	case Accepted, InService:
		if !o.CompleteBy.Equal(o.UrgedFor) {
			return o.CompleteBy
		}
	case Completed:
		return o.EvaluateBy
	}
	return time.Time{}
}

// clearDeadlines stops the deadlines that do not run in the order's new
// state, so that a deadline is set exactly while it can fire.
func clearDeadlines(o *Order) {
	if o.State != Dispatched {
		o.AcceptBy = time.Time{}
	}
	if o.State != Accepted && o.State != InService {
		o.CompleteBy = time.Time{}
		o.UrgedFor = time.Time{}
		o.Pending = nil
	}
	if o.State != Completed {
		o.EvaluateBy = time.Time{}
	}
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func setOnce(t *time.Time, now time.Time) {
	if t.IsZero() {
		*t = now
	}
}
