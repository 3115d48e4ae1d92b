package dispatchtest

import (
	"context"
	"sync"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/shopspring/decimal"
)

// Sink is an idempotent in-memory dispatch.RecordSink: a key applied once
// is not applied again. After, if set, runs after each call has been
// applied (or found already applied) and may fail or panic to simulate a
// crash between the sink and the relay's acknowledgement.
type Sink struct {
	mu      sync.Mutex
	Records map[string]dispatch.ServiceRecord
	Bonuses map[string]dispatch.Bonus
	// Calls counts every call, repeats included.
	Calls int
	After func(ctx context.Context, key string) error
}

var _ dispatch.RecordSink = (*Sink)(nil)

// NewSink returns an empty sink.
func NewSink() *Sink {
	return &Sink{Records: map[string]dispatch.ServiceRecord{}, Bonuses: map[string]dispatch.Bonus{}}
}

// RecordService implements dispatch.RecordSink.
func (s *Sink) RecordService(ctx context.Context, key string, r dispatch.ServiceRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.Calls++
	if _, ok := s.Records[key]; !ok {
		s.Records[key] = r
	}
	after := s.After
	s.mu.Unlock()
	if after != nil {
		return after(ctx, key)
	}
	return nil
}

// AwardBonus implements dispatch.RecordSink.
func (s *Sink) AwardBonus(ctx context.Context, key string, b dispatch.Bonus) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.Calls++
	if _, ok := s.Bonuses[key]; !ok {
		s.Bonuses[key] = b
	}
	after := s.After
	s.mu.Unlock()
	if after != nil {
		return after(ctx, key)
	}
	return nil
}

// Hours returns the total hours recorded.
func (s *Sink) Hours() decimal.Decimal {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := decimal.Zero
	for _, r := range s.Records {
		total = total.Add(r.Hours)
	}
	return total
}
