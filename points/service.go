package points

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/org"
)

// Directory is what points needs from the organisation: volunteer look-up
// and the policy. *org.Service satisfies it. When the Directory also
// implements org.CounterSink (as *org.Service does), confirmed hours and
// points are rolled up to the organising node.
type Directory interface {
	// Volunteer returns a registered volunteer, or an error wrapping
	// org.ErrNotFound.
	Volunteer(ctx context.Context, id org.VolunteerID) (org.Volunteer, error)
	// Policy returns the policy every command is authorised against.
	Policy() org.Policy
}

// Options configure a Service. nil or zero fields mean defaults.
type Options struct {
	// Scheme is the points scheme; see Scheme for its defaults.
	Scheme Scheme
	// Now is the clock; default time.Now in UTC.
	Now func() time.Time
	// NewID generates record, objection, redemption and item IDs; default
	// 16 random hex characters.
	NewID func() string
	// NewCode generates pickup codes; default 8 random decimal digits.
	NewCode func() string
	// Logger receives refusals, ledger failures and settlements (see
	// Service.SettleRedemption); default discards.
	Logger *slog.Logger
	// Policy overrides the directory's policy when set.
	Policy org.Policy
	// Counters receives the roll-ups of confirmed hours and points per
	// organising node; default the directory when it implements
	// org.CounterSink.
	Counters org.CounterSink
	// NoRollups turns roll-ups off.
	NoRollups bool
	// CertificatePrefix starts certificate numbers; default "ZYFW".
	CertificatePrefix string
	// Retries is how often a command retries on ErrConflict; default 16.
	Retries int
}

func (o *Options) validate(dir Directory) error {
	if o.Now == nil {
		o.Now = func() time.Time { return time.Now().UTC() }
	}
	if o.NewID == nil {
		o.NewID = randomID
	}
	if o.NewCode == nil {
		o.NewCode = randomCode
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Policy == nil {
		o.Policy = dir.Policy()
	}
	if o.Policy == nil {
		return fmt.Errorf("points: options: field policy: the directory has none and none is given: %w", ErrInvalid)
	}
	if o.Counters == nil && !o.NoRollups {
		if cs, ok := dir.(org.CounterSink); ok {
			o.Counters = cs
		}
	}
	if o.NoRollups {
		o.Counters = nil
	}
	if o.CertificatePrefix == "" {
		o.CertificatePrefix = "ZYFW"
	}
	if o.Retries < 0 {
		return fmt.Errorf("points: options: field retries: %d is negative: %w", o.Retries, ErrInvalid)
	}
	if o.Retries == 0 {
		o.Retries = 16
	}
	return o.Scheme.validate()
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func randomCode() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b[:])
}

// Service applies the points scheme's commands. Every command validates its
// input, asks the policy, writes one atomic Change to the Store (the points
// store decides), then applies the ledger operations the change carries
// (the ledger follows). It is safe for concurrent use.
type Service struct {
	store  Store
	book   *book
	dir    Directory
	opts   Options
	scheme *Scheme
	log    *slog.Logger
}

// New returns a Service over a points store, the ledger and the directory.
// opts may be nil.
func New(store Store, led *ledger.Service, dir Directory, opts *Options) (*Service, error) {
	switch {
	case store == nil:
		return nil, fmt.Errorf("points: new: field store: nil: %w", ErrInvalid)
	case led == nil:
		return nil, fmt.Errorf("points: new: field ledger: nil: %w", ErrInvalid)
	case dir == nil:
		return nil, fmt.Errorf("points: new: field directory: nil: %w", ErrInvalid)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if err := o.validate(dir); err != nil {
		return nil, err
	}
	s := &Service{store: store, dir: dir, opts: o, log: o.Logger}
	s.scheme = &s.opts.Scheme
	s.book = &book{led: led, allowNegative: o.Scheme.AllowNegative}
	return s, nil
}

// Scheme returns the scheme in force, with defaults filled in.
func (s *Service) Scheme() Scheme {
	sc := *s.scheme
	sc.cache = nil // the caller may change the copy's rules
	return sc
}

// Store returns the store the service was built on.
func (s *Service) Store() Store { return s.store }

func (s *Service) now() time.Time { return micros(s.opts.Now()) }

// micros returns t in UTC truncated to microseconds, the precision every
// store keeps; the zero time stays zero.
func micros(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

// Actions checked against the policy.
const (
	ActRecord      org.Action = "points.record"
	ActConfirm     org.Action = "points.confirm"
	ActObject      org.Action = "points.object"
	ActResolve     org.Action = "points.resolve"
	ActBonus       org.Action = "points.bonus"
	ActPenalty     org.Action = "points.penalty"
	ActItem        org.Action = "points.item"
	ActRedeem      org.Action = "points.redeem"
	ActFulfil      org.Action = "points.fulfil"
	ActCancel      org.Action = "points.cancel"
	ActSettle      org.Action = "points.settle"
	ActCertificate org.Action = "points.certificate"
)

// authorize asks the policy; a refusal is recorded and returned wrapping
// ErrForbidden (and the policy's org.ErrForbidden).
func (s *Service) authorize(ctx context.Context, a org.Actor, act org.Action, t org.Target) error {
	err := s.opts.Policy.Authorize(ctx, a, act, t)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return s.refuse(ctx, a, act, t, err)
}

// refuse records a refusal in the store's refusal log, logs it at Warn and
// returns it wrapping ErrForbidden.
func (s *Service) refuse(ctx context.Context, a org.Actor, act org.Action, t org.Target, why error) error {
	err := fmt.Errorf("points: %s: actor %q: %w: %w", act, a.ID, why, ErrForbidden)
	r := org.Refusal{Actor: a, Action: act, Target: t, Reason: err.Error(), At: s.now()}
	if _, rerr := s.store.RecordRefusal(context.WithoutCancel(ctx), r); rerr != nil {
		s.log.ErrorContext(ctx, "points: recording refusal failed", "err", rerr)
	}
	s.log.WarnContext(ctx, "points: refused", "action", act, "actor", a.ID, "role", a.Role, "node", t.Node, "reason", why.Error())
	return err
}

// Refusals returns the refused commands with Seq > after, oldest first, at
// most limit.
func (s *Service) Refusals(ctx context.Context, after int64, limit int) ([]org.Refusal, error) {
	return s.store.Refusals(ctx, after, limit)
}

// authorizeOrganiser enforces 谁组织谁记录 and that no one records or
// confirms his own service, then asks the policy.
func (s *Service) authorizeOrganiser(ctx context.Context, a org.Actor, act org.Action, in *RecordInput) error {
	t := org.Target{Node: in.Organiser, Team: in.Team, Owner: string(in.Volunteer)}
	switch {
	case a.ID == string(in.Volunteer):
		return s.refuse(ctx, a, act, t, errors.New("no one records or confirms his own service"))
	case a.Role == org.RoleVolunteer || a.Role == org.RoleResident:
		return s.refuse(ctx, a, act, t, fmt.Errorf("a %s does not record service; the organising unit does", a.Role))
	case (a.Role == org.RoleAdmin || a.Role == org.RoleDesk) && a.Scope != in.Organiser:
		return s.refuse(ctx, a, act, t, fmt.Errorf("unit %q did not organise the activity (organiser %q): 谁组织谁记录", a.Scope, in.Organiser))
	case a.Role == org.RoleTeamLeader && (in.Team == "" || a.Team != in.Team):
		return s.refuse(ctx, a, act, t, fmt.Errorf("team %q did not organise the activity (team %q)", a.Team, in.Team))
	}
	t.Owner = "" // the policy must not allow the volunteer as owner
	return s.authorize(ctx, a, act, t)
}

// volunteer checks that a volunteer exists and is active.
func (s *Service) volunteer(ctx context.Context, field string, id org.VolunteerID) (org.Volunteer, error) {
	v, err := s.dir.Volunteer(ctx, id)
	if errors.Is(err, org.ErrNotFound) {
		return v, fmt.Errorf("points: field %s: volunteer %q is not registered: %w: %w", field, id, ErrUnknownVolunteer, err)
	}
	if err != nil {
		return v, err
	}
	if v.Status != org.VolunteerActive {
		return v, fmt.Errorf("points: field %s: volunteer %q is %s: %w", field, id, v.Status, ErrVolunteerInactive)
	}
	return v, nil
}

// commit builds a change with build and commits it, rebuilding on
// ErrConflict up to Options.Retries times, then applies its ledger ops.
func (s *Service) commit(ctx context.Context, build func() (*Change, error)) error {
	_, err := s.commitSaved(ctx, build)
	return err
}

// commitSaved is commit, and reports whether the change was stored: an
// error with saved true means its ledger ops are pending (ErrLedger), and
// Sync or a retry applies them.
func (s *Service) commitSaved(ctx context.Context, build func() (*Change, error)) (saved bool, err error) {
	for attempt := 0; ; attempt++ {
		c, err := build()
		if err != nil {
			return false, err
		}
		err = s.store.Commit(ctx, c)
		if errors.Is(err, ErrConflict) && attempt < s.opts.Retries {
			c.recycle()
			continue
		}
		saved = err == nil
		if err == nil {
			var ops []Op
			if ops, err = s.inOrder(ctx, c.Ops); err == nil {
				_, err = s.applyOps(ctx, ops, c.done[:0], c.postings[:0])
			}
			if err != nil && !errors.Is(err, ErrLedger) {
				// The change stands whatever failed after it was stored.
				err = fmt.Errorf("%w: %w", ErrLedger, err)
			}
		}
		c.recycle()
		return saved, err
	}
}

// applyOps applies ledger ops, rolls their hours and points up, and
// acknowledges them. Ops left unapplied stay pending for Sync. done is
// room for the applied IDs and scratch for a lone op's postings (either
// may be nil).
func (s *Service) applyOps(ctx context.Context, ops []Op, done []string, scratch []ledger.Posting) (int, error) {
	if len(ops) == 0 {
		return 0, nil
	}
	done, err := s.book.apply(ctx, ops, done, scratch)
	if s.opts.Counters != nil {
		for i := range ops[:len(done)] {
			op := &ops[i]
			// Hours and points issued (and reversed) roll up to the
			// organising node; penalties, spending and expiry do not.
			if op.Node == "" || op.Kind != OpTransfer || op.Counterparty != Issued {
				continue
			}
			delta := org.Counters{Hours: op.Hours, Points: op.Points}
			cerr := s.opts.Counters.AddCounters(ctx, "points:"+op.ID, op.Node, delta)
			if cerr != nil && (errors.Is(cerr, org.ErrNotFound) || errors.Is(cerr, org.ErrInvalid)) {
				// Retrying cannot help: log it and let the op go.
				s.log.ErrorContext(ctx, "points: roll-up refused", "op", op.ID, "node", op.Node, "err", cerr)
				continue
			}
			if cerr != nil {
				s.log.WarnContext(ctx, "points: roll-up failed; Sync retries", "op", op.ID, "err", cerr)
				done = done[:i]
				err = errors.Join(err, fmt.Errorf("points: roll-up of %s: %w: %w", op.ID, ErrLedger, cerr))
				break
			}
		}
	}
	if len(done) > 0 {
		if aerr := s.store.AckOps(ctx, done); aerr != nil {
			err = errors.Join(err, fmt.Errorf("%w: %w", errAck, aerr))
		}
	}
	if err != nil {
		s.log.ErrorContext(ctx, "points: ledger ops pending", "err", err)
	}
	return len(done), err
}

// errAck marks the failure to acknowledge ops applied to the ledger: the
// store refuses writes, and Sync stops rather than apply them again.
var errAck = errors.New("points: acknowledge ledger ops")

// inOrderWindow is how many pending ops inOrder reads first to find those
// stored before a change's own; it reads up to inOrderMax when there are
// more.
const (
	inOrderWindow = 256
	inOrderMax    = 1 << 16
)

// inOrder returns ops, the ops of a change just stored, preceded by the
// pending ops of the same volunteers stored before them, oldest first. A
// volunteer's ops must reach the ledger in the order they were stored: a
// hold must not arrive before the award that pays for it, nor a reversal
// before its original, or the ledger refuses it, and keeps that refusal.
// Ops of an earlier command are still pending while that command applies
// them, in this process or another, or after its ledger write failed;
// applying them again here is harmless, since the ledger answers a repeated
// ID with its first outcome. When more ops are pending than inOrder reads
// and the change's own are not among them, the ledger is far behind:
// inOrder leaves the ops to Sync, which applies them in order, and reports
// ErrLedger.
func (s *Service) inOrder(ctx context.Context, ops []Op) ([]Op, error) {
	if len(ops) == 0 {
		return ops, nil
	}
	if fs, ok := s.store.(FirstPendingStore); ok {
		// The usual case: nothing pending before the change's own ops (or
		// nothing pending at all: a concurrent Sync or command applied
		// them), known without reading the pending ops.
		if first, err := fs.FirstPendingOp(ctx); err == nil && (first == "" || first == ops[0].ID) {
			return ops, nil
		}
	}
	var vols map[org.VolunteerID]bool // the change's volunteers, made when needed
	for limit := inOrderWindow; ; limit *= 16 {
		pending, err := s.store.PendingOps(ctx, limit)
		if err != nil {
			return nil, fmt.Errorf("points: read pending ledger ops: %w: %w", ErrLedger, err)
		}
		var earlier []Op
		found := false
		for _, p := range pending {
			if found = p.ID == ops[0].ID; found {
				break
			}
			if vols == nil {
				vols = make(map[org.VolunteerID]bool, len(ops))
				for i := range ops {
					vols[ops[i].Volunteer] = true
				}
			}
			if vols[p.Volunteer] {
				earlier = append(earlier, p)
			}
		}
		// Not found in a short page: applied already, by a concurrent
		// Sync or command, and nothing of these volunteers is pending
		// before them.
		if found || len(pending) < limit {
			if len(earlier) == 0 {
				return ops, nil
			}
			return append(earlier, ops...), nil
		}
		if limit >= inOrderMax {
			return nil, fmt.Errorf("points: ledger op %s: %d or more ops are pending before it; Sync applies them in order: %w", ops[0].ID, limit, ErrLedger)
		}
	}
}

// Sync applies every ledger operation the store holds as pending (after a
// crash or a ledger failure) and returns how many it applied. Running it
// again, or concurrently, changes nothing twice: each op's ledger ID is its
// idempotency key.
//
// Each volunteer's ops are applied in the order they were stored. When one
// fails, Sync applies no later op of that volunteer in this run, goes on
// with the other volunteers' ops, and returns the failures joined.
//
// Run it from a job, often: a redemption's hold that reaches the ledger
// after its deadline and the 30 days of grace past it (the ledger's own
// expiry of a forgotten hold) is refused there, and so is a post or void
// of it; a post that reaches the ledger after that time is refused too,
// even when its hold was placed on time (the ledger expires the hold, or
// holds it as due). The ledger keeps those refusals, and Sync reports
// them, and holds back the volunteer's later ops, every time until an
// operator settles the redemption with SettleRedemption (once it is
// fulfilled, cancelled or expired), which acknowledges them.
func (s *Service) Sync(ctx context.Context) (int, error) {
	n := 0
	var errs []error
	for page := 1000; ; {
		errs = errs[:0] // an op that failed in the last run fails again here
		ops, err := s.store.PendingOps(ctx, page)
		if err != nil {
			return n, err
		}
		full := len(ops) == page
		blocked := map[org.VolunteerID]bool{}
		progress := false
		for len(ops) > 0 {
			k, err := s.applyOps(ctx, ops, nil, nil)
			if err == nil {
				n += k
				progress = progress || k > 0
				break
			}
			errs = append(errs, err)
			if errors.Is(err, errAck) || ledger.RefusalCode(err) == "" || k >= len(ops) {
				// The store takes no acknowledgement, or the ledger or
				// the roll-up failed as a whole (not one op refused):
				// the next ops would fail alike.
				return n, errors.Join(errs...)
			}
			n += k
			progress = progress || k > 0
			// The ledger refused ops[k]: the rest, without that
			// volunteer's.
			blocked[ops[k].Volunteer] = true
			rest := ops[:0]
			for _, op := range ops[k+1:] {
				if !blocked[op.Volunteer] {
					rest = append(rest, op)
				}
			}
			ops = rest
		}
		switch {
		case progress:
		case len(errs) > 0 && full && page < 1<<20:
			// A page of refused ops and their volunteers' later ones:
			// read further, past them.
			page *= 8
		case len(errs) > 0:
			return n, errors.Join(errs...)
		default:
			return n, nil
		}
	}
}
