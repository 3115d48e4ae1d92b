package points

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/civicloop/civicloop/org"
	"github.com/shopspring/decimal"
)

// RecordService enters a draft service record for one volunteer. Only the
// organising unit records (谁组织谁记录), never the volunteer himself. It
// refuses an unknown or inactive volunteer, bad hours or times, and a record
// overlapping another live record of the volunteer.
func (s *Service) RecordService(ctx context.Context, a org.Actor, in RecordInput) (Record, error) {
	recs, err := s.recordMany(ctx, a, []RecordInput{in}, "", false)
	if err != nil {
		return Record{}, err
	}
	return recs[0], nil
}

// Participant is one volunteer of a group recording.
type Participant struct {
	Volunteer    org.VolunteerID
	SignIn       time.Time
	SignOut      time.Time
	Travel       time.Duration
	EnteredHours decimal.Decimal
	Training     string
	Honours      string
	Evaluation   string
}

// Group is one activity's participants, recorded together.
type Group struct {
	Activity     Activity
	Organiser    org.NodeID
	Team         org.TeamID
	Participants []Participant
	// Confirm confirms the records at once.
	Confirm bool
}

// RecordGroup records every participant of one activity, each with his own
// hours, in one store write: all of them or, on any refusal, none. With
// g.Confirm the records are confirmed in the same write and their ledger
// transfers applied in one batch; when the records are stored but the
// transfers could not be applied yet, it returns the records together with
// an error wrapping ErrLedger: they stand (do not record them again), and
// Sync applies the transfers.
func (s *Service) RecordGroup(ctx context.Context, a org.Actor, g Group) ([]Record, error) {
	if len(g.Participants) == 0 {
		return nil, fmt.Errorf("points: record group: field participants: empty: %w", ErrInvalid)
	}
	ins := make([]RecordInput, len(g.Participants))
	seen := make(map[org.VolunteerID]bool, len(g.Participants))
	for i, p := range g.Participants {
		if seen[p.Volunteer] {
			return nil, fmt.Errorf("points: record group: field participants[%d].volunteer: %q listed twice: %w", i, p.Volunteer, ErrDuplicate)
		}
		seen[p.Volunteer] = true
		ins[i] = RecordInput{Volunteer: p.Volunteer, Activity: g.Activity, Organiser: g.Organiser, Team: g.Team,
			SignIn: p.SignIn, SignOut: p.SignOut, Travel: p.Travel, EnteredHours: p.EnteredHours,
			Training: p.Training, Honours: p.Honours, Evaluation: p.Evaluation}
	}
	return s.recordMany(ctx, a, ins, "", g.Confirm)
}

// RecordFromSource records (and with confirm, confirms) service reported by
// another package, such as a completed dispatch order, under an idempotency
// key derived from the source (e.g. "dispatch:<order>:<volunteer>"). The
// same key with the same input returns the record already made (confirming
// it when asked and not yet done); the same key with other input is
// ErrConflict.
func (s *Service) RecordFromSource(ctx context.Context, a org.Actor, key string, in RecordInput, confirm bool) (Record, error) {
	if key == "" || len(key) > 200 {
		return Record{}, fmt.Errorf("points: record from source: field key: %q must be 1 to 200 bytes: %w", key, ErrInvalid)
	}
	for {
		prev, err := s.store.RecordBySource(ctx, key)
		if err == nil {
			if !sameInput(prev.RecordInput, in) {
				return Record{}, fmt.Errorf("points: record from source: field key: %q was used for other input (record %s): %w", key, prev.ID, ErrConflict)
			}
			if confirm && prev.Status == RecordDraft {
				return s.Confirm(ctx, a, prev.ID)
			}
			if err := s.authorizeOrganiser(ctx, a, ActRecord, &prev.RecordInput); err != nil {
				return Record{}, err
			}
			return prev, nil
		}
		if !isNotFound(err) {
			return Record{}, err
		}
		recs, err := s.recordMany(ctx, a, []RecordInput{in}, key, confirm)
		if err != nil && !errors.Is(err, ErrForbidden) && ctx.Err() == nil {
			// A concurrent call under the same key may have won (seen as a
			// duplicate key, or as an overlap with its record): replay it.
			if _, perr := s.store.RecordBySource(ctx, key); perr == nil {
				continue
			}
		}
		if err != nil {
			return Record{}, err
		}
		return recs[0], nil
	}
}

// sameInput compares two inputs: times by instant (to the microsecond, the
// precision stores keep), amounts by value.
func sameInput(a, b RecordInput) bool {
	t := func(x, y time.Time) bool { return x.Truncate(time.Microsecond).Equal(y.Truncate(time.Microsecond)) }
	return a.Volunteer == b.Volunteer && a.Organiser == b.Organiser && a.Team == b.Team &&
		a.Activity.Name == b.Activity.Name && a.Activity.Category == b.Activity.Category &&
		a.Activity.Place == b.Activity.Place && a.Activity.Content == b.Activity.Content &&
		a.Activity.HardToStaff == b.Activity.HardToStaff &&
		t(a.Activity.Start, b.Activity.Start) && t(a.Activity.End, b.Activity.End) &&
		t(a.SignIn, b.SignIn) && t(a.SignOut, b.SignOut) && a.Travel == b.Travel &&
		a.EnteredHours.Equal(b.EnteredHours) &&
		a.Training == b.Training && a.Honours == b.Honours && a.Evaluation == b.Evaluation
}

// prepare validates one input and builds its draft record.
func (s *Service) prepare(ctx context.Context, a org.Actor, in RecordInput, field string, now time.Time) (Record, error) {
	h, note, err := s.scheme.Hours(in)
	if err != nil {
		return Record{}, fmt.Errorf("%s%w", field, err)
	}
	if !in.SignIn.IsZero() && in.SignOut.Sub(in.SignIn) > overlapWindow {
		return Record{}, fmt.Errorf("%spoints: record: field sign_out: a sign-in may last at most %s: %w", field, overlapWindow, ErrInvalidTime)
	}
	if err := s.authorizeOrganiser(ctx, a, ActRecord, &in); err != nil {
		return Record{}, err
	}
	if _, err := s.volunteer(ctx, "volunteer", in.Volunteer); err != nil {
		return Record{}, fmt.Errorf("%s%w", field, err)
	}
	// Stores keep UTC to the microsecond; so does the record from the start.
	in.Activity.Start, in.Activity.End = micros(in.Activity.Start), micros(in.Activity.End)
	in.SignIn, in.SignOut = micros(in.SignIn), micros(in.SignOut)
	// The rule is the one earning will use: at the stored time.
	if err := s.scheme.checkCategory(in); err != nil {
		return Record{}, fmt.Errorf("%s%w", field, err)
	}
	return Record{ID: s.opts.NewID(), RecordInput: in, Hours: h, HoursNote: note, Status: RecordDraft,
		RecordedBy: a.ID, RecordedAt: now, Version: 1}, nil
}

// checkOverlap refuses rec when it overlaps a live record of the volunteer
// other than skip. Records with sign-in and sign-out may not overlap each
// other in time; a record with entered hours (whose actual times are not
// known) may not repeat an activity, same name and start, already recorded.
func (s *Service) checkOverlap(ctx context.Context, rec *Record, skip string) error {
	start, end := rec.Interval()
	signed := !rec.SignIn.IsZero()
	from, to := start.Add(-overlapWindow), end
	if !signed {
		from, to = start, start.Add(time.Nanosecond)
	}
	others, err := s.store.Records(ctx, rec.Volunteer, from, to)
	if err != nil {
		return err
	}
	for _, o := range others {
		if o.ID == skip || !o.Live() {
			continue
		}
		if !signed {
			if o.SignIn.IsZero() && o.Activity.Name == rec.Activity.Name && o.Activity.Start.Equal(rec.Activity.Start) {
				return fmt.Errorf("points: record for %q: field activity: %q at %s is already recorded as %s: %w", rec.Volunteer,
					rec.Activity.Name, start.Format(time.RFC3339), o.ID, ErrOverlap)
			}
			continue
		}
		if o.SignIn.IsZero() {
			continue
		}
		if os, oe := o.Interval(); overlaps(start, end, os, oe) {
			return fmt.Errorf("points: record for %q: field sign_in: %s–%s overlaps record %s (%s–%s): %w", rec.Volunteer,
				start.Format(time.RFC3339), end.Format(time.RFC3339), o.ID, os.Format(time.RFC3339), oe.Format(time.RFC3339), ErrOverlap)
		}
	}
	return nil
}

// recordMany records inputs in one change, each volunteer at most once.
func (s *Service) recordMany(ctx context.Context, a org.Actor, ins []RecordInput, key string, confirm bool) ([]Record, error) {
	now := s.now()
	drafts := make([]Record, len(ins))
	for i, in := range ins {
		field := ""
		if len(ins) > 1 {
			field = fmt.Sprintf("participants[%d]: ", i)
		}
		rec, err := s.prepare(ctx, a, in, field, now)
		if err != nil {
			return nil, err
		}
		rec.SourceKey = key
		drafts[i] = rec
	}
	var out []Record
	saved, err := s.commitSaved(ctx, func() (*Change, error) {
		if key != "" {
			// A concurrent call under the same key may have won since.
			if _, err := s.store.RecordBySource(ctx, key); err == nil {
				return nil, fmt.Errorf("points: record from source: field key: %q: %w", key, ErrDuplicate)
			} else if !isNotFound(err) {
				return nil, err
			}
		}
		c := &Change{}
		out = make([]Record, len(drafts))
		for i := range drafts {
			rec := drafts[i]
			// The wallet first: a record stored after this read bumps its
			// version, so this change then conflicts and runs again, and
			// the overlap check below cannot miss it.
			w, _, err := s.wallet(ctx, rec.Volunteer, false)
			if err != nil {
				return nil, err
			}
			if err := s.checkOverlap(ctx, &rec, ""); err != nil {
				return nil, err
			}
			if confirm {
				if err := s.confirmInto(ctx, c, &w, &rec, a.ID, now); err != nil {
					return nil, err
				}
			}
			c.Wallets = append(c.Wallets, w)
			c.NewRecords = append(c.NewRecords, rec)
			out[i] = rec
		}
		return c, nil
	})
	if err != nil && !saved {
		return nil, err
	}
	// Stored: a ledger failure leaves the confirmed records' transfers
	// pending, and the caller has the records all the same.
	return out, err
}

// Confirm confirms a draft record: its hours and points go to the
// volunteer's ledger accounts in one transfer keyed "rec:<id>". Only the
// organising unit confirms, never the volunteer himself. Confirming a
// confirmed record changes nothing; it re-applies the record's ledger
// transfer, which the ledger answers with its first outcome, so a crash
// between the points store and the ledger heals by retrying.
func (s *Service) Confirm(ctx context.Context, a org.Actor, id string) (Record, error) {
	var rec Record
	already := false
	err := s.commit(ctx, func() (*Change, error) {
		var err error
		already = false
		if rec, err = s.store.Record(ctx, id); err != nil {
			return nil, fmt.Errorf("points: confirm: field id: %q: %w", id, err)
		}
		if err := s.authorizeOrganiser(ctx, a, ActConfirm, &rec.RecordInput); err != nil {
			return nil, err
		}
		switch rec.Status {
		case RecordConfirmed:
			already = true
			return &Change{}, nil
		case RecordReversed:
			return nil, fmt.Errorf("points: confirm: record %s: status: reversed by %s: %w", id, rec.CorrectedBy, ErrState)
		}
		if _, err := s.volunteer(ctx, "volunteer", rec.Volunteer); err != nil {
			return nil, err
		}
		now := s.now()
		w, _, err := s.wallet(ctx, rec.Volunteer, false)
		if err != nil {
			return nil, err
		}
		c := newConfirmChange()
		if err := s.confirmInto(ctx, c, &w, &rec, a.ID, now); err != nil {
			return nil, err
		}
		rec.Version++
		c.Wallets = append(c.Wallets, w)
		c.Records = append(c.Records, rec)
		return c, nil
	})
	if err != nil {
		return Record{}, err
	}
	if already {
		// A retry: make sure the ledger has the transfer.
		if err := s.reapply(ctx, rec.Award); err != nil {
			return rec, err
		}
	}
	return rec, nil
}

// reapply re-derives an award's ledger op and applies it; the ledger returns
// the first outcome when it was applied before.
func (s *Service) reapply(ctx context.Context, awardID string) error {
	aw, err := s.store.Award(ctx, awardID)
	if err != nil {
		return err
	}
	op, ok := awardOp(&aw)
	if !ok {
		return nil
	}
	ops, err := s.inOrder(ctx, []Op{op})
	if err != nil {
		return err
	}
	_, err = s.applyOps(ctx, ops, nil, nil)
	return err
}

// Record returns a record by ID.
func (s *Service) Record(ctx context.Context, id string) (Record, error) {
	return s.store.Record(ctx, id)
}

// Records returns a volunteer's records booked in [from, to).
func (s *Service) Records(ctx context.Context, v org.VolunteerID, from, to time.Time) ([]Record, error) {
	return s.store.Records(ctx, v, from, to)
}
