package dispatch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/civicloop/civicloop/org"
)

// Options configure a Service. The zero value (or nil) gives the defaults.
type Options struct {
	// Now is the clock; default time.Now. Times are stored in UTC.
	Now func() time.Time
	// NewID returns a fresh order ID; default 16 random hex digits.
	NewID func() string
	// Logger receives refusals and sweep summaries; default discards.
	Logger *slog.Logger
	// Matcher routes orders dispatched without a team; default
	// NewMatcher(directory, store).
	Matcher Matcher
	// Deadlines are used where a menu item leaves a duration zero; default
	// 24h to accept, 72h to complete, 7 days to evaluate.
	Deadlines Deadlines
	// MaxReturns caps how often teams may return one order (退单); default
	// 3. Automatic returns by Sweep are counted but never refused.
	MaxReturns int
	// System is the actor Sweep acts as; default ID "dispatch.sweep" with
	// org.RoleSystem.
	System org.Actor
}

func (o *Options) validate() error {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewID == nil {
		o.NewID = randomID
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Deadlines.AcceptWithin < 0 || o.Deadlines.CompleteWithin < 0 || o.Deadlines.EvaluateWithin < 0 {
		return fmt.Errorf("dispatch: options: field deadlines: negative duration: %w", ErrInvalid)
	}
	if o.Deadlines.AcceptWithin == 0 {
		o.Deadlines.AcceptWithin = 24 * time.Hour
	}
	if o.Deadlines.CompleteWithin == 0 {
		o.Deadlines.CompleteWithin = 72 * time.Hour
	}
	if o.Deadlines.EvaluateWithin == 0 {
		o.Deadlines.EvaluateWithin = 7 * 24 * time.Hour
	}
	if o.MaxReturns < 0 {
		return fmt.Errorf("dispatch: options: field max returns: %d is negative: %w", o.MaxReturns, ErrInvalid)
	}
	if o.MaxReturns == 0 {
		o.MaxReturns = 3
	}
	if o.System.ID == "" {
		o.System = org.Actor{ID: "dispatch.sweep", Role: org.RoleSystem}
	}
	return nil
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Service runs the five-order loop on a Store. It is safe for concurrent
// use; concurrent commands on one order are serialised by the store's
// version check.
type Service struct {
	store   Store
	dir     Directory
	policy  org.Policy
	matcher Matcher
	opts    Options
}

// New returns a Service keeping its data in store, reading the organisation
// from dir and asking policy before every command. opts may be nil.
func New(store Store, dir Directory, policy org.Policy, opts *Options) (*Service, error) {
	if store == nil {
		return nil, fmt.Errorf("dispatch: new: field store: nil: %w", ErrInvalid)
	}
	if dir == nil {
		return nil, fmt.Errorf("dispatch: new: field directory: nil: %w", ErrInvalid)
	}
	if policy == nil {
		return nil, fmt.Errorf("dispatch: new: field policy: nil: %w", ErrInvalid)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	m := o.Matcher
	if m == nil {
		m = NewMatcher(dir, store)
	}
	return &Service{store: store, dir: dir, policy: policy, matcher: m, opts: o}, nil
}

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// forbidden builds a refusal wrapping ErrForbidden and org.ErrForbidden, and
// records it in the log.
func (s *Service) forbidden(ctx context.Context, a org.Actor, what fmt.Stringer, reason string, cause error) error {
	s.opts.Logger.WarnContext(ctx, "dispatch: refused", "actor", a.ID, "role", a.Role, "command", what.String(), "reason", reason)
	if cause != nil {
		return fmt.Errorf("dispatch: %s: field actor: %s: %w: %w", what, reason, ErrForbidden, cause)
	}
	return fmt.Errorf("dispatch: %s: field actor: %s: %w: %w", what, reason, ErrForbidden, org.ErrForbidden)
}

// AddMenuItem adds an item to the menu. The actor must be an administrator
// the policy allows at the item's offering node (action
// "dispatch.menu.add"). Errors: ErrInvalid, ErrForbidden, ErrNotFound (the
// offering or covered node is unknown), ErrOutOfArea (the covered area is
// not within the offering node), ErrDuplicate.
func (s *Service) AddMenuItem(ctx context.Context, a org.Actor, item MenuItem) (MenuItem, error) {
	item = item.Clone()
	item.Retired = false
	item.Version = 1
	if err := item.validate(); err != nil {
		return MenuItem{}, err
	}
	what := text(fmt.Sprintf("add menu item %q", item.Code))
	if a.Role != org.RoleAdmin {
		return MenuItem{}, s.forbidden(ctx, a, what, fmt.Sprintf("role %q may not edit the menu", a.Role), nil)
	}
	if err := s.policy.Authorize(ctx, a, "dispatch.menu.add", org.Target{Node: item.Offeror}); err != nil {
		return MenuItem{}, s.forbidden(ctx, a, what, "refused by policy", err)
	}
	in, err := s.dir.Within(ctx, item.Offeror, item.ServedArea())
	if err != nil {
		return MenuItem{}, fmt.Errorf("dispatch: %s: field area: %w", what, mapOrgErr(err))
	}
	if !in {
		return MenuItem{}, fmt.Errorf("dispatch: %s: field area: %q is not within the offering node %q: %w", what, item.Area, item.Offeror, ErrOutOfArea)
	}
	if err := s.store.SaveMenuItem(ctx, item, 0); err != nil {
		return MenuItem{}, fmt.Errorf("dispatch: %s: %w", what, err)
	}
	return item, nil
}

// RetireMenuItem retires an item: it can no longer be ordered; existing
// orders keep their copy. Errors: ErrNotFound, ErrForbidden, ErrRetired
// (already retired), ErrConflict (changed concurrently).
func (s *Service) RetireMenuItem(ctx context.Context, a org.Actor, code ItemCode) (MenuItem, error) {
	what := text(fmt.Sprintf("retire menu item %q", code))
	item, err := s.store.MenuItem(ctx, code)
	if err != nil {
		return MenuItem{}, fmt.Errorf("dispatch: %s: field code: %w", what, err)
	}
	if a.Role != org.RoleAdmin {
		return MenuItem{}, s.forbidden(ctx, a, what, fmt.Sprintf("role %q may not edit the menu", a.Role), nil)
	}
	if err := s.policy.Authorize(ctx, a, "dispatch.menu.retire", org.Target{Node: item.Offeror}); err != nil {
		return MenuItem{}, s.forbidden(ctx, a, what, "refused by policy", err)
	}
	if item.Retired {
		return MenuItem{}, fmt.Errorf("dispatch: %s: field code: already retired: %w", what, ErrRetired)
	}
	expected := item.Version
	item.Retired = true
	item.Version++
	if err := s.store.SaveMenuItem(ctx, item, expected); err != nil {
		return MenuItem{}, fmt.Errorf("dispatch: %s: %w", what, err)
	}
	return item, nil
}

// MenuItem returns one menu item. Errors: ErrNotFound.
func (s *Service) MenuItem(ctx context.Context, code ItemCode) (MenuItem, error) {
	return s.store.MenuItem(ctx, code)
}

// Menu returns up to limit (1..1000, 0 means 100) items with a code after
// after, ordered by code.
func (s *Service) Menu(ctx context.Context, after ItemCode, limit int) ([]MenuItem, error) {
	return s.store.Menu(ctx, after, pageLimit(limit))
}

// Order returns one order. Errors: ErrNotFound.
func (s *Service) Order(ctx context.Context, id OrderID) (Order, error) {
	return s.store.Order(ctx, id)
}

// History returns the order's history, oldest first. Errors: ErrNotFound.
func (s *Service) History(ctx context.Context, id OrderID) ([]HistoryEntry, error) {
	return s.store.History(ctx, id)
}

// Explain returns every team routing considers for the order, kept ones
// first and best first, with the reason each was kept or dropped. Errors:
// ErrNotFound.
func (s *Service) Explain(ctx context.Context, id OrderID) ([]Candidate, error) {
	o, err := s.store.Order(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.matcher.Match(ctx, o)
}

func pageLimit(limit int) int {
	switch {
	case limit <= 0:
		return 100
	case limit > 1000:
		return 1000
	}
	return limit
}

// mapOrgErr turns org's not-found into dispatch's, keeping the cause.
func mapOrgErr(err error) error {
	if errors.Is(err, org.ErrNotFound) && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }

// text is a fixed command description.
type text string

func (t text) String() string { return string(t) }
