package dispatch

import (
	"context"
	"fmt"

	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
)

// PointsRecorder is what PointsSink needs from the points scheme;
// *points.Service satisfies it.
type PointsRecorder interface {
	RecordFromSource(ctx context.Context, a org.Actor, key string, in points.RecordInput, confirm bool) (points.Record, error)
	Bonus(ctx context.Context, a org.Actor, in points.BonusInput) (points.Award, error)
}

// PointsSink is the RecordSink that writes to the points scheme: a service
// record per participant through RecordFromSource (idempotent by key) and
// an evaluation bonus through Bonus (idempotent by key).
type PointsSink struct {
	points PointsRecorder
	opts   PointsSinkOptions
}

// PointsSinkOptions configure a PointsSink; nil gives the defaults.
type PointsSinkOptions struct {
	// Actor records and confirms in points; default ID "dispatch.relay"
	// with org.RoleSystem. It must not be a participant: no one confirms
	// his own service.
	Actor org.Actor
	// Unconfirmed leaves records as drafts for the organiser to confirm;
	// by default the completion report of the team leader confirms them.
	Unconfirmed bool
	// BonusKind is the points bonus kind for a good evaluation; default
	// "five_star".
	BonusKind string
}

var _ RecordSink = (*PointsSink)(nil)

// NewPointsSink returns a RecordSink writing to p.
func NewPointsSink(p PointsRecorder, opts *PointsSinkOptions) (*PointsSink, error) {
	if p == nil {
		return nil, fmt.Errorf("dispatch: new points sink: field points: nil: %w", ErrInvalid)
	}
	var o PointsSinkOptions
	if opts != nil {
		o = *opts
	}
	if o.Actor.ID == "" {
		o.Actor = org.Actor{ID: "dispatch.relay", Role: org.RoleSystem}
	}
	if o.BonusKind == "" {
		o.BonusKind = "five_star"
	}
	return &PointsSink{points: p, opts: o}, nil
}

// RecordService implements RecordSink. The order's node is the organising
// unit (谁组织谁记录) and the place; the hours are entered as reported.
func (s *PointsSink) RecordService(ctx context.Context, key string, r ServiceRecord) error {
	in := points.RecordInput{
		Volunteer: r.Volunteer,
		Activity: points.Activity{
			Name: fmt.Sprintf("%s (order %s)", r.Item, r.Order), Category: r.Category,
			Place: string(r.Node), Content: r.Report, Start: r.Start, End: r.At,
		},
		Organiser:    r.Node,
		Team:         r.Team,
		EnteredHours: r.Hours,
	}
	if _, err := s.points.RecordFromSource(ctx, s.opts.Actor, key, in, !s.opts.Unconfirmed); err != nil {
		return fmt.Errorf("dispatch: points sink: record %s: %w", key, err)
	}
	return nil
}

// AwardBonus implements RecordSink.
func (s *PointsSink) AwardBonus(ctx context.Context, key string, b Bonus) error {
	in := points.BonusInput{Key: key, Volunteer: b.Volunteer, Kind: s.opts.BonusKind, Node: b.Node, At: b.At}
	if _, err := s.points.Bonus(ctx, s.opts.Actor, in); err != nil {
		return fmt.Errorf("dispatch: points sink: bonus %s: %w", key, err)
	}
	return nil
}
