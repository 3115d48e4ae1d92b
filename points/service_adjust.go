package points

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/civicloop/civicloop/org"
)

// BonusInput asks for a bonus, e.g. for a five-star evaluation.
type BonusInput struct {
	// Key makes the bonus idempotent, derived from its source (e.g.
	// "dispatch:eval:<order>:<volunteer>").
	Key       string
	Volunteer org.VolunteerID
	// Kind selects the points in the rule's Bonuses, e.g. "five_star".
	Kind string
	// Node is the unit granting the bonus.
	Node org.NodeID
	// Record is the service record concerned, if any.
	Record string
	// At selects the rule; zero means now.
	At time.Time
}

// Bonus awards the points the rule in force gives for in.Kind, once per
// key: the same key with the same input returns the first award, with other
// input it is ErrConflict.
func (s *Service) Bonus(ctx context.Context, a org.Actor, in BonusInput) (Award, error) {
	switch {
	case in.Key == "":
		return Award{}, fmt.Errorf("points: bonus: field key: must not be empty: %w", ErrInvalid)
	case in.Kind == "":
		return Award{}, fmt.Errorf("points: bonus: field kind: must not be empty: %w", ErrInvalid)
	case in.Node == "":
		return Award{}, fmt.Errorf("points: bonus: field node: must not be empty: %w", ErrInvalid)
	case a.ID == string(in.Volunteer):
		return Award{}, s.refuse(ctx, a, ActBonus, org.Target{Node: in.Node, Owner: string(in.Volunteer)}, errors.New("no one rewards himself"))
	}
	if err := s.authorize(ctx, a, ActBonus, org.Target{Node: in.Node}); err != nil {
		return Award{}, err
	}
	now := s.now()
	at := in.At
	if at.IsZero() {
		at = now
	}
	at = micros(at)
	rule, ok := s.scheme.RuleAt(at)
	pts, has := rule.Bonuses[in.Kind]
	if !ok || !has {
		return Award{}, fmt.Errorf("points: bonus: field kind: no rule valid at %s gives a %q bonus: %w", at.Format(time.RFC3339), in.Kind, ErrInvalid)
	}
	aw := Award{ID: "bonus:" + in.Key, Volunteer: in.Volunteer, Kind: AwardBonus, Record: in.Record, RuleID: rule.ID,
		Hours: zero, Points: pts, At: at, Node: in.Node, CreatedBy: a.ID, CreatedAt: now,
		Lines: []Line{{Code: "bonus", Text: fmt.Sprintf("%s bonus of rule %s", in.Kind, rule.ID), Points: pts}}}
	return s.adjust(ctx, "bonus", aw, func(prev Award) bool {
		return prev.Kind == AwardBonus && prev.Volunteer == in.Volunteer && prev.Node == in.Node && prev.Record == in.Record && prev.Lines[0].Text == aw.Lines[0].Text
	})
}

// PenaltyInput asks for a deduction, e.g. for a no-show.
type PenaltyInput struct {
	// Key makes the penalty idempotent (e.g. "noshow:<order>:<volunteer>").
	Key       string
	Volunteer org.VolunteerID
	// Code selects the amount in Scheme.Penalties, e.g. "no_show".
	Code string
	// Node is the unit imposing the penalty.
	Node org.NodeID
	// Note explains the penalty.
	Note string
}

// Penalize deducts the scheme's points for in.Code, once per key, from the
// volunteer's lots oldest first. Below zero only when the scheme allows it;
// otherwise what is not available is noted as not recovered.
func (s *Service) Penalize(ctx context.Context, a org.Actor, in PenaltyInput) (Award, error) {
	pts, ok := s.scheme.Penalties[in.Code]
	switch {
	case in.Key == "":
		return Award{}, fmt.Errorf("points: penalty: field key: must not be empty: %w", ErrInvalid)
	case !ok:
		return Award{}, fmt.Errorf("points: penalty: field code: %q is not a penalty of the scheme: %w", in.Code, ErrInvalid)
	case in.Node == "":
		return Award{}, fmt.Errorf("points: penalty: field node: must not be empty: %w", ErrInvalid)
	case a.ID == string(in.Volunteer) || a.Role == org.RoleVolunteer:
		return Award{}, s.refuse(ctx, a, ActPenalty, org.Target{Node: in.Node, Owner: string(in.Volunteer)}, errors.New("a volunteer imposes no penalties"))
	}
	if err := s.authorize(ctx, a, ActPenalty, org.Target{Node: in.Node}); err != nil {
		return Award{}, err
	}
	now := s.now()
	aw := Award{ID: "penalty:" + in.Key, Volunteer: in.Volunteer, Kind: AwardPenalty, Hours: zero, Points: pts.Neg(),
		At: now, Node: in.Node, CreatedBy: a.ID, CreatedAt: now,
		Lines: []Line{{Code: "penalty", Text: fmt.Sprintf("%s: %s", in.Code, in.Note), Points: pts.Neg()}}}
	return s.adjust(ctx, "penalty", aw, func(prev Award) bool {
		return prev.Kind == AwardPenalty && prev.Volunteer == in.Volunteer && prev.Node == in.Node && prev.Lines[0].Text == aw.Lines[0].Text
	})
}

// adjust books a keyed bonus or penalty unless its award exists already.
func (s *Service) adjust(ctx context.Context, what string, aw Award, same func(Award) bool) (Award, error) {
	if _, err := s.volunteer(ctx, "volunteer", aw.Volunteer); err != nil {
		return Award{}, err
	}
	for {
		prev, err := s.store.Award(ctx, aw.ID)
		if err == nil {
			if !same(prev) {
				return Award{}, fmt.Errorf("points: %s: field key: %q was used for another %s: %w", what, aw.ID, what, ErrConflict)
			}
			return prev, nil
		}
		if !isNotFound(err) {
			return Award{}, err
		}
		out := aw
		err = s.commit(ctx, func() (*Change, error) {
			out = aw
			out.Lines = append([]Line(nil), aw.Lines...)
			w, lots, err := s.wallet(ctx, aw.Volunteer, aw.Points.Sign() < 0)
			if err != nil {
				return nil, err
			}
			c := &Change{}
			s.credit(c, &w, lots, &out, aw.CreatedAt)
			c.Wallets = []Wallet{w}
			return c, nil
		})
		if isDuplicate(err) {
			continue // a concurrent call with the same key won
		}
		// The change handed its lines to the store; the caller gets his own.
		out.Lines = slices.Clone(out.Lines)
		return out, err
	}
}

// Award returns an award by ID with its statement lines.
func (s *Service) Award(ctx context.Context, id string) (Award, error) { return s.store.Award(ctx, id) }

// Statement returns a volunteer's awards booked in [from, to): every change
// of his hours and points with the rule and arithmetic behind it.
func (s *Service) Statement(ctx context.Context, v org.VolunteerID, from, to time.Time) ([]Award, error) {
	return s.store.Awards(ctx, v, from, to)
}

// Wallet returns a volunteer's hours, star level, debt and open lots.
func (s *Service) Wallet(ctx context.Context, v org.VolunteerID) (Wallet, []Lot, error) {
	w, err := s.store.Wallet(ctx, v)
	if err != nil {
		return w, nil, err
	}
	lots, err := s.store.Lots(ctx, v)
	return w, lots, err
}

// Levels returns a volunteer's star level changes, oldest first.
func (s *Service) Levels(ctx context.Context, v org.VolunteerID) ([]LevelChange, error) {
	return s.store.Levels(ctx, v)
}
