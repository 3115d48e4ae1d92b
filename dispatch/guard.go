package dispatch

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/civicloop/civicloop/org"
	"github.com/shopspring/decimal"
)

// serves checks that team may take the order: it exists, is active, offers
// the category and its area contains the order's node. It returns the
// team's capacity.
func (s *Service) serves(ctx context.Context, o *Order, id org.TeamID, what subject) (int, error) {
	t, err := s.dir.Team(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("dispatch: %s: field team: %w", what, mapOrgErr(err))
	}
	if t.Status != "" && t.Status != org.Active {
		return 0, fmt.Errorf("dispatch: %s: field team: %q is %s: %w", what, id, t.Status, ErrOutOfArea)
	}
	if !t.HasSkill(o.Item.Category) {
		return 0, fmt.Errorf("dispatch: %s: field team: %q lacks skill %q: %w", what, id, o.Item.Category, ErrOutOfArea)
	}
	in, err := s.dir.Within(ctx, t.Area, o.Node)
	if err != nil {
		return 0, fmt.Errorf("dispatch: %s: field team: %w", what, mapOrgErr(err))
	}
	if !in {
		return 0, fmt.Errorf("dispatch: %s: field team: %q does not serve node %q: %w", what, id, o.Node, ErrOutOfArea)
	}
	return t.Capacity, nil
}

// guard runs the trigger's own checks and applies its effects to next.
func (s *Service) guard(ctx context.Context, a org.Actor, next, o *Order, c Command, team org.TeamID, now time.Time, commit *Commit, what subject) error {
	assign := func() error {
		capacity, err := s.serves(ctx, o, team, what)
		if err != nil {
			return err
		}
		next.Team = team
		commit.CheckCapacity = true
		commit.Capacity = capacity
		commit.Assigned = true
		return nil
	}
	d := o.Item.Deadlines
	acceptBy := now.Add(or(d.AcceptWithin, s.opts.Deadlines.AcceptWithin))
	completeBy := now.Add(or(d.CompleteWithin, s.opts.Deadlines.CompleteWithin))
	switch c.Trigger {
	case TriggerDispatch:
		if err := assign(); err != nil {
			return err
		}
		next.Mode = ModeDesk
		next.AcceptBy = acceptBy
		setOnce(&next.RoutedAt, now)
	case TriggerPublish:
		next.Mode = ModePool
		next.Team = ""
		setOnce(&next.RoutedAt, now)
	case TriggerClaim:
		if err := assign(); err != nil {
			return err
		}
		next.CompleteBy = completeBy
		next.ServingSince = now
		setOnce(&next.AcceptedAt, now)
	case TriggerAccept:
		next.CompleteBy = completeBy
		next.ServingSince = now
		setOnce(&next.AcceptedAt, now)
	case TriggerReturn:
		if a.Role != org.RoleSystem && o.Returns >= s.opts.MaxReturns {
			return fmt.Errorf("dispatch: %s: field returns: already returned %d times, the cap is %d: %w", what, o.Returns, s.opts.MaxReturns, ErrReturnLimit)
		}
		if a.Role == org.RoleSystem && (o.AcceptBy.IsZero() || now.Before(o.AcceptBy)) {
			return fmt.Errorf("dispatch: %s: field accept by: not yet passed: %w", what, ErrDeadline)
		}
		next.Returns++
		if !slices.Contains(next.ReturnedBy, o.Team) {
			next.ReturnedBy = append(next.ReturnedBy, o.Team)
		}
	case TriggerForceAssign:
		if err := assign(); err != nil {
			return err
		}
		next.ForceAssigns++
		next.CompleteBy = completeBy
		next.ServingSince = now
	case TriggerReassign:
		if team == o.Team {
			return fmt.Errorf("dispatch: %s: field team: %q already holds the order: %w", what, team, ErrInvalid)
		}
		if err := assign(); err != nil {
			return err
		}
		next.AcceptBy = acceptBy
		next.CompleteBy = time.Time{}
		next.Pending = nil
	case TriggerRequestExtension:
		if !now.Before(o.CompleteBy) {
			return fmt.Errorf("dispatch: %s: field complete by: %s has passed: %w", what, o.CompleteBy.Format(time.RFC3339), ErrDeadline)
		}
		if !c.Until.After(o.CompleteBy) {
			return fmt.Errorf("dispatch: %s: field until: must be after the complete-by %s: %w", what, o.CompleteBy.Format(time.RFC3339), ErrDeadline)
		}
		next.Pending = &Extension{Until: c.Until.UTC(), Reason: c.Reason, At: now}
	case TriggerApprove:
		if o.Pending == nil {
			return fmt.Errorf("dispatch: %s: field pending: no extension requested: %w", what, ErrInvalid)
		}
		if !now.Before(o.CompleteBy) {
			return fmt.Errorf("dispatch: %s: field complete by: %s has passed: %w", what, o.CompleteBy.Format(time.RFC3339), ErrDeadline)
		}
		next.CompleteBy = o.Pending.Until
		next.Pending = nil
	case TriggerUrge:
		if a.Role == org.RoleSystem {
			if now.Before(o.CompleteBy) {
				return fmt.Errorf("dispatch: %s: field complete by: not yet passed: %w", what, ErrDeadline)
			}
			next.UrgedFor = o.CompleteBy
		}
		next.Urges++
	case TriggerStart:
		next.ServingSince = now
	case TriggerComplete:
		if err := checkCompletion(c.Completion, what); err != nil {
			return err
		}
		cp := *c.Completion
		cp.Participants = slices.Clone(cp.Participants)
		cp.Photos = slices.Clone(cp.Photos)
		next.Completion = &cp
		next.CompletedAt = now
		next.EvaluateBy = now.Add(or(d.EvaluateWithin, s.opts.Deadlines.EvaluateWithin))
	case TriggerEvaluate:
		if c.Evaluation == nil {
			return fmt.Errorf("dispatch: %s: field evaluation: missing: %w", what, ErrInvalid)
		}
		if c.Evaluation.Score < 1 || c.Evaluation.Score > 5 {
			return fmt.Errorf("dispatch: %s: field score: %d is outside 1–5: %w", what, c.Evaluation.Score, ErrInvalid)
		}
		e := *c.Evaluation
		next.Evaluation = &e
		next.EvaluatedAt = now
	case TriggerClose:
		if o.EvaluateBy.IsZero() || now.Before(o.EvaluateBy) {
			return fmt.Errorf("dispatch: %s: field evaluate by: not yet passed: %w", what, ErrDeadline)
		}
	case TriggerReopen:
		if o.Evaluation != nil && o.Evaluation.Score >= SatisfiedScore {
			return fmt.Errorf("dispatch: %s: field evaluation.score: %d is satisfied (at least %d); only unsatisfying orders are reopened: %w", what, o.Evaluation.Score, SatisfiedScore, ErrInvalid)
		}
		if next.State == Dispatched {
			if err := assign(); err != nil {
				return err
			}
			next.AcceptBy = acceptBy
		} else {
			// Rework goes back to the team that delivered the service: it
			// must still serve the order, but its capacity is not asked.
			// The order is the team's own unfinished work, not a new one;
			// refusing it would leave the order evaluated with no team
			// and no deadline. Routing counts it, so a team pushed over
			// its capacity gets no new orders until it is below again.
			if _, err := s.serves(ctx, o, o.Team, what); err != nil {
				return err
			}
			next.CompleteBy = completeBy
			next.ServingSince = now
		}
		next.Completion = nil
		next.Evaluation = nil
	case TriggerShowcase:
		if o.Evaluation == nil || !o.Evaluation.Consent {
			return fmt.Errorf("dispatch: %s: field evaluation.consent: the resident has not consented: %w", what, ErrConsent)
		}
		next.ShowcasedAt = now
	case TriggerReject, TriggerHide, TriggerCancel:
	}
	return nil
}

// checkCompletion validates a completion report.
func checkCompletion(c *Completion, what subject) error {
	if c == nil {
		return fmt.Errorf("dispatch: %s: field completion: missing: %w", what, ErrInvalid)
	}
	if blank(c.Report) {
		return fmt.Errorf("dispatch: %s: field report: empty: %w", what, ErrInvalid)
	}
	if len(c.Participants) == 0 {
		return fmt.Errorf("dispatch: %s: field participants: none: %w", what, ErrInvalid)
	}
	// A short list is checked for repeats pairwise; a map pays off only
	// for long ones.
	var seen map[org.VolunteerID]bool
	if len(c.Participants) > 16 {
		seen = make(map[org.VolunteerID]bool, len(c.Participants))
	}
	for i, p := range c.Participants {
		if p.Volunteer == "" {
			return fmt.Errorf("dispatch: %s: field participants[%d].volunteer: empty: %w", what, i, ErrInvalid)
		}
		twice := seen[p.Volunteer]
		if seen == nil {
			twice = slices.ContainsFunc(c.Participants[:i], func(q Participant) bool { return q.Volunteer == p.Volunteer })
		}
		if twice {
			return fmt.Errorf("dispatch: %s: field participants[%d].volunteer: %q listed twice: %w", what, i, p.Volunteer, ErrInvalid)
		}
		if seen != nil {
			seen[p.Volunteer] = true
		}
		if !p.Hours.IsPositive() || p.Hours.GreaterThan(maxHoursAt(p.Hours.Exponent())) {
			return fmt.Errorf("dispatch: %s: field participants[%d].hours: %s is not in (0, 24]: %w", what, i, p.Hours, ErrInvalid)
		}
		if p.Hours.Exponent() < -2 && !p.Hours.Equal(p.Hours.Truncate(2)) {
			return fmt.Errorf("dispatch: %s: field participants[%d].hours: %s has more than 2 decimals: %w", what, i, p.Hours, ErrInvalid)
		}
	}
	for i, ref := range c.Photos {
		if blank(ref) {
			return fmt.Errorf("dispatch: %s: field photos[%d]: empty reference: %w", what, i, ErrInvalid)
		}
	}
	return nil
}

var maxHours = decimal.NewFromInt(24)

// maxHoursScaled holds 24 at exponents 0, -1 and -2, so that comparing
// hours given with up to two decimals against the cap rescales (and
// allocates) nothing.
var maxHoursScaled = [3]decimal.Decimal{decimal.New(24, 0), decimal.New(240, -1), decimal.New(2400, -2)}

// maxHoursAt returns 24 at exponent exp when it is one of 0, -1, -2.
func maxHoursAt(exp int32) decimal.Decimal {
	if exp <= 0 && exp >= -2 {
		return maxHoursScaled[-exp]
	}
	return maxHours
}
