package ledger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Service. The zero value and nil mean defaults.
type Options struct {
	// Now returns the current time; recorded times come from it, truncated
	// to microseconds in UTC and never going back (a clock that steps back
	// is held at its latest reading). Default: time.Now.
	Now func() time.Time
	// NewID returns a fresh transfer ID for requests that leave ID empty.
	// Default: 16 random bytes in hex.
	NewID func() string
	// Logger receives store failures and sweeps. Default: a logger that
	// discards everything.
	Logger *slog.Logger
}

func (o *Options) validate() (Options, error) {
	var v Options
	if o != nil {
		v = *o
	}
	if v.Now == nil {
		v.Now = time.Now
	}
	if v.NewID == nil {
		v.NewID = randomID
	}
	if v.Logger == nil {
		v.Logger = slog.New(slog.DiscardHandler)
	}
	return v, nil
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// Service is the ledger's API: it validates requests, converts amounts to
// minor units and applies them through a Store. It is safe for concurrent
// use when the Store is.
type Service struct {
	store Store
	opts  Options
	// lastMicros is the latest time now returned, in Unix microseconds.
	lastMicros atomic.Int64
	// oneCommand recycles the one-element slices single commands are
	// applied with; stores do not keep the slice (see Applier).
	oneCommand sync.Pool
	// batches recycles the command slices of TransferBatch (*[]Command).
	batches sync.Pool
	// lazyFingerprints is true when the store has FingerprintsOnDemand.
	lazyFingerprints bool
	// postings recycles the postings of Transfer and TransferBatch
	// (*[]PostingRecord) when reusePostings, that is when the store has
	// PostingsCopied.
	postings      sync.Pool
	reusePostings bool
}

// New returns a Service over store. opts may be nil.
func New(store Store, opts *Options) (*Service, error) {
	if store == nil {
		return nil, fmt.Errorf("ledger: New: field store: nil: %w", ErrInvalid)
	}
	o, err := opts.validate()
	if err != nil {
		return nil, err
	}
	_, lazy := store.(FingerprintsOnDemand)
	_, reuse := store.(PostingsCopied)
	return &Service{store: store, opts: o, lazyFingerprints: lazy, reusePostings: reuse}, nil
}

// Store returns the store the service was built on.
func (s *Service) Store() Store { return s.store }

// now returns the clock's time in microseconds, never earlier than a time
// it returned before: recorded times do not go back along an account's
// entries even if the wall clock does.
func (s *Service) now() time.Time {
	t := micros(s.opts.Now())
	us := t.UnixMicro()
	for {
		last := s.lastMicros.Load()
		if us <= last {
			if us == last {
				return t
			}
			return time.UnixMicro(last).UTC()
		}
		if s.lastMicros.CompareAndSwap(last, us) {
			return t
		}
	}
}

// micros returns t in UTC truncated to microseconds, the precision every
// store keeps; the zero time stays zero.
func micros(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

// OpenAccount opens an account. It returns errors wrapping ErrInvalid,
// ErrInvalidAmount, ErrOverflow or ErrMetadataTooLarge for a bad spec, and
// ErrAccountExists when the ID is taken.
func (s *Service) OpenAccount(ctx context.Context, spec AccountSpec) (Account, error) {
	rec, err := validateAccountSpec(&spec, s.now())
	if err != nil {
		return Account{}, err
	}
	if err := s.store.OpenAccount(ctx, rec); err != nil {
		return Account{}, err
	}
	return accountFromRecord(rec), nil
}

// CloseAccount closes an account; it then takes no postings or holds.
// Closing is refused with ErrAccountNotEmpty while the balance is not zero or
// holds are pending; closing a closed account is a no-op. It returns
// ErrAccountNotFound for an unknown ID.
func (s *Service) CloseAccount(ctx context.Context, id AccountID) (Account, error) {
	if err := validateID(subject{"close account", ""}, "id", string(id)); err != nil {
		return Account{}, err
	}
	if err := s.store.CloseAccount(ctx, id, s.now()); err != nil {
		return Account{}, err
	}
	return s.Account(ctx, id)
}

// Account returns an account with its balances, or ErrAccountNotFound.
func (s *Service) Account(ctx context.Context, id AccountID) (Account, error) {
	rec, err := s.store.Account(ctx, id)
	if err != nil {
		return Account{}, err
	}
	return accountFromRecord(rec), nil
}
