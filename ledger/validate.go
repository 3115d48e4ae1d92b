package ledger

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// Limits on request fields. Requests beyond them are refused with ErrInvalid
// or ErrMetadataTooLarge.
const (
	// MaxIDLength bounds account IDs, transfer IDs, owners and principals.
	MaxIDLength = 128
	// MaxReasonLength bounds reason codes.
	MaxReasonLength = 64
	// MaxPostings bounds the postings of one transfer.
	MaxPostings = 64
	// MaxMetadataKeys bounds the keys of account and transfer metadata.
	MaxMetadataKeys = 32
	// MaxMetadataBytes bounds the summed length of metadata keys and values.
	MaxMetadataBytes = 4096
	// MaxBatch bounds the requests of one TransferBatch call.
	MaxBatch = 10000
)

// subject names what a message is about, e.g. `transfer "t1"`. It is
// formatted only when an error is built, so valid requests do not allocate.
type subject struct {
	kind string
	id   string
}

func (s subject) String() string {
	if s.id == "" {
		return s.kind
	}
	return s.kind + " " + fmt.Sprintf("%q", s.id)
}

// validateID checks an account or transfer ID: 1..MaxIDLength bytes of
// printable ASCII.
func validateID(what subject, field, id string) error {
	if id == "" || len(id) > MaxIDLength {
		return fmt.Errorf("ledger: %s: field %s: %q must be 1 to %d bytes: %w", what, field, id, MaxIDLength, ErrInvalid)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' {
			return fmt.Errorf("ledger: %s: field %s: %q has a byte outside printable ASCII at %d: %w", what, field, id, i, ErrInvalid)
		}
	}
	return nil
}

// validID reports whether id is 1..MaxIDLength bytes of printable ASCII.
func validID(id string) bool {
	if id == "" || len(id) > MaxIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// validateText checks free text: valid UTF-8 of at most max bytes.
func validateText(what subject, field, s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("ledger: %s: field %s: %d bytes exceed %d: %w", what, field, len(s), max, ErrInvalid)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("ledger: %s: field %s: not valid UTF-8: %w", what, field, ErrInvalid)
	}
	return nil
}

// validateMetadata checks metadata bounds.
func validateMetadata(what subject, m map[string]string) error {
	if len(m) == 0 {
		return nil
	}
	if len(m) > MaxMetadataKeys {
		return fmt.Errorf("ledger: %s: field metadata: %d keys exceed %d: %w", what, len(m), MaxMetadataKeys, ErrMetadataTooLarge)
	}
	size := 0
	for k, v := range m {
		if k == "" {
			return fmt.Errorf("ledger: %s: field metadata: empty key: %w", what, ErrInvalid)
		}
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("ledger: %s: field metadata: key %q: not valid UTF-8: %w", what, k, ErrInvalid)
		}
		size += len(k) + len(v)
	}
	if size > MaxMetadataBytes {
		return fmt.Errorf("ledger: %s: field metadata: %d bytes exceed %d: %w", what, size, MaxMetadataBytes, ErrMetadataTooLarge)
	}
	return nil
}

// validateTransferID checks a caller-chosen transfer ID.
func validateTransferID(what subject, id TransferID) error {
	if err := validateID(what, "id", string(id)); err != nil {
		return err
	}
	if len(id) >= len(ExpirePrefix) && string(id[:len(ExpirePrefix)]) == ExpirePrefix {
		return fmt.Errorf("ledger: %s: field id: %q starts with the reserved %q: %w", what, id, ExpirePrefix, ErrInvalid)
	}
	return nil
}

// validateCommon checks the fields every request has.
func validateCommon(what subject, reason, principal string, meta map[string]string) error {
	if err := validateText(what, "reason", reason, MaxReasonLength); err != nil {
		return err
	}
	if err := validateText(what, "principal", principal, MaxIDLength); err != nil {
		return err
	}
	return validateMetadata(what, meta)
}

// ValidateTransfer checks a transfer request without touching any store and
// converts its postings to minor units: the ID (when not empty), 1 to
// MaxPostings postings with valid accounts, sides, assets and positive
// amounts within scale, debits equal to credits per asset, the bounds on
// reason, principal and metadata. It returns errors wrapping ErrInvalid,
// ErrInvalidAmount, ErrOverflow, ErrUnbalanced or ErrMetadataTooLarge.
func ValidateTransfer(req *TransferRequest) ([]PostingRecord, error) {
	if n := len(req.Postings); n == 0 || n > MaxPostings {
		return nil, validateTransfer(req, nil) // the error, from the same code
	}
	ps := make([]PostingRecord, len(req.Postings))
	if err := validateTransfer(req, ps); err != nil {
		return nil, err
	}
	return ps, nil
}

// validateTransfer is ValidateTransfer writing the postings into ps, which
// has len(req.Postings) elements when that number is within bounds. On error
// ps holds garbage.
func validateTransfer(req *TransferRequest, ps []PostingRecord) error {
	what := subject{"transfer", string(req.ID)}
	if req.ID != "" {
		if err := validateTransferID(what, req.ID); err != nil {
			return err
		}
	}
	if n := len(req.Postings); n == 0 || n > MaxPostings {
		return fmt.Errorf("ledger: %s: field postings: %d postings, want 1 to %d: %w", what, n, MaxPostings, ErrInvalid)
	}
	if err := validateCommon(what, req.Reason, req.Principal, req.Metadata); err != nil {
		return err
	}
	ps = ps[:len(req.Postings)]
	// Per-asset sums of debits minus credits; few assets per transfer.
	type sum struct {
		asset Asset
		net   int64
	}
	var sumBuf [4]sum
	sums := sumBuf[:0]
	for i := range req.Postings {
		p := &req.Postings[i]
		if !validID(string(p.Account)) {
			return validateID(what, fmt.Sprintf("postings[%d].account", i), string(p.Account))
		}
		if p.Side != Debit && p.Side != Credit {
			return fmt.Errorf("ledger: %s: field postings[%d].side: %d is neither Debit nor Credit: %w", what, i, p.Side, ErrInvalid)
		}
		if i == 0 || p.Asset != req.Postings[i-1].Asset { // checked once per run of one asset
			if err := p.Asset.Validate(); err != nil {
				return fmt.Errorf("ledger: %s: field postings[%d].asset: %w", what, i, err)
			}
		}
		var units int64
		if i > 0 && p.Amount == req.Postings[i-1].Amount && p.Asset == req.Postings[i-1].Asset {
			// The same amount of the same asset as the posting before
			// (same coefficient, same exponent), as Move makes them:
			// converted and checked already.
			units = ps[i-1].Units
		} else {
			var err error
			if units, err = p.Asset.ToUnits(p.Amount); err != nil {
				return fmt.Errorf("ledger: %s: field postings[%d].amount: %w", what, i, err)
			}
			if units <= 0 {
				return fmt.Errorf("ledger: %s: field postings[%d].amount: %s is not positive: %w", what, i, p.Amount, ErrInvalidAmount)
			}
		}
		// Field by field: a struct copy into the heap costs a bulk write
		// barrier while the collector marks.
		q := &ps[i]
		q.Account, q.Side, q.Asset, q.Units = p.Account, p.Side, p.Asset, units
		d := units
		if p.Side == Credit {
			d = -d
		}
		j := 0
		for j < len(sums) && sums[j].asset != p.Asset {
			j++
		}
		if j == len(sums) {
			sums = append(sums, sum{asset: p.Asset})
		}
		var ok bool
		if sums[j].net, ok = addUnits(sums[j].net, d); !ok {
			return fmt.Errorf("ledger: %s: field postings: sum of %s: %w", what, p.Asset, ErrOverflow)
		}
	}
	for _, s := range sums {
		if s.net != 0 {
			return fmt.Errorf("ledger: %s: field postings: debits and credits of %s differ by %s: %w", what, s.asset, s.asset.FromUnits(s.net).Abs(), ErrUnbalanced)
		}
	}
	return nil
}

// validateAccountSpec checks an account to open and converts it to a record.
func validateAccountSpec(spec *AccountSpec, now time.Time) (AccountRecord, error) {
	var rec AccountRecord
	what := subject{"account", string(spec.ID)}
	if err := validateID(what, "id", string(spec.ID)); err != nil {
		return rec, err
	}
	if err := spec.Asset.Validate(); err != nil {
		return rec, fmt.Errorf("ledger: %s: field asset: %w", what, err)
	}
	if err := validateText(what, "owner", spec.Owner, MaxIDLength); err != nil {
		return rec, err
	}
	if err := validateMetadata(what, spec.Metadata); err != nil {
		return rec, err
	}
	rec.ID, rec.Asset, rec.NoFloor = spec.ID, spec.Asset, spec.NoFloor
	if !spec.NoFloor {
		f, err := spec.Asset.ToUnits(spec.Floor)
		if err != nil {
			return rec, fmt.Errorf("ledger: %s: field floor: %w", what, err)
		}
		if f > 0 {
			return rec, fmt.Errorf("ledger: %s: field floor: %s is above zero, a new account would start below it: %w", what, spec.Floor, ErrInvalid)
		}
		rec.Floor = f
	}
	if spec.Ceiling.Valid {
		c, err := spec.Asset.ToUnits(spec.Ceiling.Decimal)
		if err != nil {
			return rec, fmt.Errorf("ledger: %s: field ceiling: %w", what, err)
		}
		if c < 0 {
			return rec, fmt.Errorf("ledger: %s: field ceiling: %s is below zero, a new account would start above it: %w", what, spec.Ceiling.Decimal, ErrInvalid)
		}
		rec.Ceiling, rec.HasCeiling = c, true
	}
	rec.Owner = spec.Owner
	rec.Metadata = cloneMetadata(spec.Metadata)
	rec.Version = 1
	rec.OpenedAt = now
	return rec, nil
}
