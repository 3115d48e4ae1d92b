package dispatch

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/civicloop/civicloop/org"
	"github.com/shopspring/decimal"
)

// ServiceRecord is what a completed order hands to the points scheme for
// one participant (志愿服务记录).
type ServiceRecord struct {
	Order     OrderID
	Volunteer org.VolunteerID
	Team      org.TeamID
	// Node is where the service took place.
	Node     org.NodeID
	Item     ItemCode
	Category string
	// Hours of actual service as reported at completion.
	Hours  decimal.Decimal
	Report string
	// Start is when the team took the order on or started serving; At is
	// when the order was completed. Start is before At: when both fall at
	// the same instant, Start is At minus the participant's hours.
	Start time.Time
	At    time.Time
	// ConfirmedBy is the ID of the team leader who reported the completion
	// (谁组织谁记录).
	ConfirmedBy string
}

// Bonus asks the points scheme for an evaluation bonus for one participant
// of a well-evaluated order.
type Bonus struct {
	Order     OrderID
	Volunteer org.VolunteerID
	Team      org.TeamID
	// Node is where the service took place.
	Node     org.NodeID
	Category string
	Score    int
	At       time.Time
}

// RecordSink receives service records and bonuses from the Relay. Both
// methods must be idempotent by key: a second call with a key already
// applied changes nothing and returns nil. That is what makes the relay's
// at-least-once delivery an exactly-once effect.
type RecordSink interface {
	RecordService(ctx context.Context, key string, r ServiceRecord) error
	AwardBonus(ctx context.Context, key string, b Bonus) error
}

// RelayOptions configure a Relay; nil gives the defaults.
type RelayOptions struct {
	// Name keys the relay's position in the store; default "points".
	Name string
	// Batch is how many events Step reads at once; default 100.
	Batch int
	// BonusScore is the lowest evaluation score that earns a bonus;
	// default 5; negative disables bonuses.
	BonusScore int
	// Logger; default discards.
	Logger *slog.Logger
	// Counters, if set, also receives the order counts of the organisation's
	// roll-ups (*org.Service satisfies it): Orders +1 at the order's node
	// for its Order event, Completed +1 for its Complete events. Both are
	// keyed by order (OrderedKey, CompletedKey), so a replayed event, and
	// a reopened order completed again, count once.
	Counters org.CounterSink
}

func (o *RelayOptions) validate() error {
	if o.Name == "" {
		o.Name = "points"
	}
	if o.Batch < 0 || o.Batch > 1000 {
		return fmt.Errorf("dispatch: relay options: field batch: %d is outside 0..1000: %w", o.Batch, ErrInvalid)
	}
	if o.Batch == 0 {
		o.Batch = 100
	}
	if o.BonusScore > 5 {
		return fmt.Errorf("dispatch: relay options: field bonus score: %d is above 5: %w", o.BonusScore, ErrInvalid)
	}
	if o.BonusScore == 0 {
		o.BonusScore = 5
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Relay carries completed orders from the change feed into the points
// scheme, and optionally order counts into the organisation's roll-ups
// (RelayOptions.Counters). It reads events after its acknowledged position, hands every
// participant of a Complete event to RecordSink.RecordService (key
// RecordKey) and every participant of an Evaluate event scoring at least
// BonusScore to AwardBonus (key BonusKey), then acknowledges the event.
// If it stops between the sink and the acknowledgement, the next Step
// replays the event and the sink's idempotency absorbs the repeat: no hour
// is lost or doubled. A Relay is not safe for concurrent Steps; run one per
// name.
type Relay struct {
	store Store
	sink  RecordSink
	opts  RelayOptions
}

// NewRelay returns a relay reading store's change feed into sink.
func NewRelay(store Store, sink RecordSink, opts *RelayOptions) (*Relay, error) {
	if store == nil || sink == nil {
		return nil, fmt.Errorf("dispatch: new relay: field store/sink: nil: %w", ErrInvalid)
	}
	var o RelayOptions
	if opts != nil {
		o = *opts
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	return &Relay{store: store, sink: sink, opts: o}, nil
}

// RecordKey is the idempotency key of the service record of one volunteer
// for the completion committed at the given order version. It includes the
// version so that a reopened and again completed order records its second
// service too.
func RecordKey(order OrderID, version uint64, v org.VolunteerID) string {
	return fmt.Sprintf("dispatch/%s/%d/%s", order, version, v)
}

// BonusKey is the idempotency key of the evaluation bonus of one volunteer
// for the evaluation committed at the given order version.
func BonusKey(order OrderID, version uint64, v org.VolunteerID) string {
	return fmt.Sprintf("dispatch/%s/%d/%s/bonus", order, version, v)
}

// Step handles up to one batch of events and returns how many it
// acknowledged. It stops at the first error, leaving the failed event
// unacknowledged for the next Step.
func (r *Relay) Step(ctx context.Context) (int, error) {
	pos, err := r.store.Position(ctx, r.opts.Name)
	if err != nil {
		return 0, fmt.Errorf("dispatch: relay %q: position: %w", r.opts.Name, err)
	}
	events, err := r.store.Events(ctx, pos, r.opts.Batch)
	if err != nil {
		return 0, fmt.Errorf("dispatch: relay %q: events after %d: %w", r.opts.Name, pos, err)
	}
	for i, ev := range events {
		if err := r.deliver(ctx, ev); err != nil {
			return i, fmt.Errorf("dispatch: relay %q: event %d: %w", r.opts.Name, ev.Seq, err)
		}
		if err := r.store.Ack(ctx, r.opts.Name, ev.Seq); err != nil {
			return i, fmt.Errorf("dispatch: relay %q: ack %d: %w", r.opts.Name, ev.Seq, err)
		}
	}
	return len(events), nil
}

// Drain calls Step until the feed is exhausted and returns the total
// acknowledged.
func (r *Relay) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := r.Step(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// OrderedKey is the idempotency key of the Orders count of an order.
func OrderedKey(order OrderID) string { return "dispatch/" + string(order) + "/ordered" }

// CompletedKey is the idempotency key of the Completed count of an order.
func CompletedKey(order OrderID) string { return "dispatch/" + string(order) + "/completed" }

func (r *Relay) deliver(ctx context.Context, ev Event) error {
	if c := r.opts.Counters; c != nil {
		switch ev.Trigger {
		case TriggerOrder:
			if err := c.AddCounters(ctx, OrderedKey(ev.Order), ev.Node, org.Counters{Orders: 1}); err != nil {
				return fmt.Errorf("counters: %w", err)
			}
		case TriggerComplete:
			if err := c.AddCounters(ctx, CompletedKey(ev.Order), ev.Node, org.Counters{Completed: 1}); err != nil {
				return fmt.Errorf("counters: %w", err)
			}
		}
	}
	if ev.Completion == nil {
		return nil
	}
	switch ev.Trigger {
	case TriggerComplete:
		for _, p := range ev.Completion.Participants {
			rec := ServiceRecord{
				Order: ev.Order, Volunteer: p.Volunteer, Team: ev.Team, Node: ev.Node, Item: ev.Item,
				Category: ev.Category, Hours: p.Hours, Report: ev.Completion.Report, Start: ev.Since, At: ev.At, ConfirmedBy: ev.Actor.ID,
			}
			if !rec.Start.Before(rec.At) {
				rec.Start = rec.At.Add(-time.Duration(p.Hours.Mul(decimal.NewFromInt(int64(time.Hour))).IntPart()))
			}
			if err := r.sink.RecordService(ctx, RecordKey(ev.Order, ev.Version, p.Volunteer), rec); err != nil {
				return err
			}
		}
	case TriggerEvaluate:
		if r.opts.BonusScore < 0 || ev.Evaluation == nil || ev.Evaluation.Score < r.opts.BonusScore {
			return nil
		}
		for _, p := range ev.Completion.Participants {
			b := Bonus{Order: ev.Order, Volunteer: p.Volunteer, Team: ev.Team, Node: ev.Node, Category: ev.Category, Score: ev.Evaluation.Score, At: ev.At}
			if err := r.sink.AwardBonus(ctx, BonusKey(ev.Order, ev.Version, p.Volunteer), b); err != nil {
				return err
			}
		}
	}
	return nil
}
