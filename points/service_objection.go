package points

import (
	"context"
	"fmt"

	"github.com/civicloop/civicloop/org"
)

// Object raises the volunteer's objection to one of his confirmed records.
// Only the volunteer himself objects; a record has at most one open
// objection.
func (s *Service) Object(ctx context.Context, a org.Actor, record, reason string) (Objection, error) {
	if reason == "" {
		return Objection{}, fmt.Errorf("points: object: field reason: must not be empty: %w", ErrInvalid)
	}
	var obj Objection
	err := s.commit(ctx, func() (*Change, error) {
		rec, err := s.store.Record(ctx, record)
		if err != nil {
			return nil, fmt.Errorf("points: object: field record: %q: %w", record, err)
		}
		if a.Role != org.RoleVolunteer || a.ID != string(rec.Volunteer) {
			return nil, s.refuse(ctx, a, ActObject, org.Target{Node: rec.Organiser, Owner: string(rec.Volunteer)}, fmt.Errorf("only volunteer %q objects to his record", rec.Volunteer))
		}
		if err := s.authorize(ctx, a, ActObject, org.Target{Node: rec.Organiser, Owner: string(rec.Volunteer)}); err != nil {
			return nil, err
		}
		// The wallet, then the record's status and objections again: a
		// resolution or another objection stored after the wallet read
		// bumps its version, so this change then conflicts and runs
		// again; one stored before is seen below.
		w, _, err := s.wallet(ctx, rec.Volunteer, false)
		if err != nil {
			return nil, err
		}
		if rec, err = s.store.Record(ctx, record); err != nil {
			return nil, fmt.Errorf("points: object: field record: %q: %w", record, err)
		}
		if rec.Status != RecordConfirmed {
			return nil, fmt.Errorf("points: object: record %s: status: %s, only a confirmed record takes objections: %w", record, rec.Status, ErrState)
		}
		prior, err := s.store.Objections(ctx, record)
		if err != nil {
			return nil, err
		}
		for _, p := range prior {
			if p.Status == ObjectionOpen {
				return nil, fmt.Errorf("points: object: record %s: objection %s is still open: %w", record, p.ID, ErrState)
			}
		}
		now := s.now()
		obj = Objection{ID: s.opts.NewID(), Record: record, Volunteer: rec.Volunteer, Reason: reason, Status: ObjectionOpen,
			Trail: []ObjectionStep{{Status: ObjectionOpen, Actor: a.ID, Note: reason, At: now}}, Version: 1}
		return &Change{Wallets: []Wallet{w}, Objections: []Objection{obj}}, nil
	})
	return obj, err
}

// Resolution is an organiser's answer to an objection: a corrected record
// (the original is reversed by a compensating record, never edited) or,
// with Correct nil, a rejection.
type Resolution struct {
	// Correct is the corrected record; same volunteer and organiser.
	Correct *RecordInput
	// Note explains the decision; required.
	Note string
}

// Resolve answers an open objection. With a correction, in one store write
// the original record is reversed (its hours and points taken back, the
// points from its own lot first, then oldest first), the corrected record
// is entered and confirmed, and the objection closed; nothing is edited.
// Only the organising unit resolves. It returns the objection and, when
// corrected, the new record; stored with its ledger transfers not yet
// applied, it returns them with an error wrapping ErrLedger (Sync applies
// the transfers).
func (s *Service) Resolve(ctx context.Context, a org.Actor, objection string, res Resolution) (Objection, Record, error) {
	if res.Note == "" {
		return Objection{}, Record{}, fmt.Errorf("points: resolve: field note: must not be empty: %w", ErrInvalid)
	}
	var obj Objection
	var fresh Record
	saved, err := s.commitSaved(ctx, func() (*Change, error) {
		var err error
		if obj, err = s.store.Objection(ctx, objection); err != nil {
			return nil, fmt.Errorf("points: resolve: field objection: %q: %w", objection, err)
		}
		orig, err := s.store.Record(ctx, obj.Record)
		if err != nil {
			return nil, err
		}
		if err := s.authorizeOrganiser(ctx, a, ActResolve, &orig.RecordInput); err != nil {
			return nil, err
		}
		if obj.Status != ObjectionOpen {
			return nil, fmt.Errorf("points: resolve: objection %s: status: already %s: %w", objection, obj.Status, ErrState)
		}
		now := s.now()
		w, lots, err := s.wallet(ctx, orig.Volunteer, true)
		if err != nil {
			return nil, err
		}
		c := &Change{}
		obj.Version++
		if res.Correct == nil {
			obj.Status = ObjectionRejected
			obj.Trail = append(obj.Trail, ObjectionStep{Status: ObjectionRejected, Actor: a.ID, Note: res.Note, At: now})
			c.Wallets, c.Objections = []Wallet{w}, []Objection{obj}
			return c, nil
		}
		in := *res.Correct
		if in.Volunteer != orig.Volunteer || in.Organiser != orig.Organiser {
			return nil, fmt.Errorf("points: resolve: field correct.volunteer: the correction must keep volunteer %q and organiser %q: %w", orig.Volunteer, orig.Organiser, ErrInvalid)
		}
		if orig.Status != RecordConfirmed {
			return nil, fmt.Errorf("points: resolve: record %s: status: %s: %w", orig.ID, orig.Status, ErrState)
		}
		if fresh, err = s.prepare(ctx, a, in, "correct: ", now); err != nil {
			return nil, err
		}
		fresh.Corrects = orig.ID
		if err := s.checkOverlap(ctx, &fresh, orig.ID); err != nil {
			return nil, err
		}
		old, err := s.store.Award(ctx, orig.Award)
		if err != nil {
			return nil, err
		}
		// The original's points no longer count against the caps.
		addUsage(c, orig.Volunteer, s.periodKeys(old.At), old.Points.Neg())
		// The corrected record first: its points arrive before the
		// reversal takes the original's back.
		if err := s.confirmInto(ctx, c, &w, &fresh, a.ID, now); err != nil {
			return nil, err
		}
		rev := Award{ID: "rev:" + orig.ID, Volunteer: orig.Volunteer, Kind: AwardReversal, Record: orig.ID, RuleID: old.RuleID,
			Hours: old.Hours.Neg(), Points: old.Points.Neg(), At: old.At, Node: old.Node, CreatedBy: a.ID, CreatedAt: now,
			Lines: []Line{{Code: "reversal", Text: fmt.Sprintf("reverses award %s after objection %s, corrected by record %s", old.ID, obj.ID, fresh.ID), Points: old.Points.Neg()}}}
		s.credit(c, &w, lots, &rev, now)
		orig.Status, orig.CorrectedBy = RecordReversed, fresh.ID
		orig.Version++
		obj.Status, obj.Correction = ObjectionCorrected, fresh.ID
		obj.Trail = append(obj.Trail, ObjectionStep{Status: ObjectionCorrected, Actor: a.ID, Note: res.Note, At: now})
		c.Wallets = []Wallet{w}
		c.Records = []Record{orig}
		c.NewRecords = []Record{fresh}
		c.Objections = []Objection{obj}
		return c, nil
	})
	if err != nil && !saved {
		return Objection{}, Record{}, err
	}
	// Stored: a ledger failure leaves the transfers pending (ErrLedger),
	// and the caller has the outcome all the same.
	return obj, fresh, err
}

// Objections returns the objections to a record, with their trails.
func (s *Service) Objections(ctx context.Context, record string) ([]Objection, error) {
	return s.store.Objections(ctx, record)
}
