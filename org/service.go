package org

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Options configure a Service. The zero value (or nil) gives defaults.
type Options struct {
	// Now is the clock; default time.Now in UTC.
	Now func() time.Time
	// NewID generates pairing IDs when none is given; default 16 random
	// hex characters.
	NewID func() string
	// Logger receives refusals (Warn) and nothing else; default discards.
	Logger *slog.Logger
	// Policy decides who may do what; default DefaultPolicy over the
	// service's own tree.
	Policy Policy
	// IdentityKey is the HMAC-SHA256 key identity-document numbers are
	// hashed with. Without it (nil) documents are refused; when given it
	// must be at least 16 bytes.
	IdentityKey []byte
	// Skills is the code list of service categories teams may offer; empty
	// accepts any well-formed code.
	Skills []string
}

func (o *Options) validate() error {
	if o.Now == nil {
		o.Now = func() time.Time { return time.Now().UTC() }
	}
	if o.NewID == nil {
		o.NewID = randomID
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.IdentityKey != nil && len(o.IdentityKey) < 16 {
		return fmt.Errorf("org: options: field IdentityKey: %d bytes, need at least 16: %w", len(o.IdentityKey), ErrInvalid)
	}
	for i, s := range o.Skills {
		if err := checkCode(fmt.Sprintf("Skills[%d]", i), s); err != nil {
			return fmt.Errorf("org: options: %w", err)
		}
	}
	return nil
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Service applies org commands through a Store. It is safe for concurrent
// use.
type Service struct {
	store  Store
	now    func() time.Time
	newID  func() string
	log    *slog.Logger
	policy Policy
	key    []byte
	skills map[string]bool
}

// New returns a Service over store. opts may be nil.
func New(store Store, opts *Options) (*Service, error) {
	if store == nil {
		return nil, fmt.Errorf("org: new: store is nil: %w", ErrInvalid)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	s := &Service{store: store, now: o.Now, newID: o.NewID, log: o.Logger, policy: o.Policy}
	if o.IdentityKey != nil {
		s.key = append([]byte(nil), o.IdentityKey...)
	}
	if len(o.Skills) > 0 {
		s.skills = make(map[string]bool, len(o.Skills))
		for _, k := range o.Skills {
			s.skills[k] = true
		}
	}
	if s.policy == nil {
		s.policy = NewDefaultPolicy(s)
	}
	return s, nil
}

// Policy returns the policy the service asks; other packages may reuse it.
func (s *Service) Policy() Policy { return s.policy }

// Store returns the store the service writes to.
func (s *Service) Store() Store { return s.store }

// authorize asks the policy; a refusal is recorded in the store's refusal
// log and logged at Warn, and returned wrapping ErrForbidden.
func (s *Service) authorize(ctx context.Context, a Actor, act Action, t Target) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.policy.Authorize(ctx, a, act, t)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if !errors.Is(err, ErrForbidden) {
		err = fmt.Errorf("%w: %w", ErrForbidden, err)
	}
	r := Refusal{Actor: a, Action: act, Target: t, Reason: err.Error(), At: s.now()}
	if _, rerr := s.store.RecordRefusal(context.WithoutCancel(ctx), r); rerr != nil {
		s.log.Error("org: recording refusal failed", "err", rerr)
	}
	s.log.Warn("org: refused", "actor", a.ID, "role", a.Role, "action", act, "node", t.Node, "team", t.Team, "reason", err.Error())
	return fmt.Errorf("org: %w", err)
}

// change starts a change-log entry.
func (s *Service) change(a Actor, act Action, at time.Time) Change {
	return Change{Action: act, Actor: a, At: at}
}

// limit normalises a page size.
func limit(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	return min(n, MaxLimit)
}

// History returns a page of the change log about one object (see
// ChangeQuery), oldest first.
func (s *Service) History(ctx context.Context, q ChangeQuery) ([]Change, error) {
	n := 0
	for _, set := range []bool{q.Node != "", q.Team != "", q.Volunteer != "", q.Pairing != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("org: history: exactly one of node, team, volunteer, pairing must be set, got %d: %w", n, ErrInvalid)
	}
	q.Limit = limit(q.Limit)
	return s.store.Changes(ctx, q)
}

// Refusals returns a page of refused commands, oldest first.
func (s *Service) Refusals(ctx context.Context, after int64, lim int) ([]Refusal, error) {
	return s.store.Refusals(ctx, after, limit(lim))
}
