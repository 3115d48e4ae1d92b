package ledger

import (
	"errors"
	"fmt"
)

// The sentinel errors of the ledger. Every error returned by this package and
// by a conforming Store wraps exactly one of them; match with errors.Is, never
// by message text. Messages name the field and the reason.
var (
	// ErrInvalid reports a malformed request or record: an empty or too long
	// ID, a missing posting, a field out of range. The request changed nothing
	// and is not recorded under its ID.
	ErrInvalid = errors.New("ledger: invalid request")

	// ErrInvalidAmount reports an amount that is not positive, has more
	// digits after the point than its asset's scale, or cannot be parsed.
	// Amounts are never rounded.
	ErrInvalidAmount = errors.New("ledger: invalid amount")

	// ErrOverflow reports an amount, a sum of postings or a resulting balance
	// that does not fit the ledger's 64-bit minor units.
	ErrOverflow = errors.New("ledger: amount overflow")

	// ErrUnbalanced reports a transfer whose debits and credits differ for
	// some asset.
	ErrUnbalanced = errors.New("ledger: postings do not balance")

	// ErrMetadataTooLarge reports metadata beyond MaxMetadataKeys keys or
	// MaxMetadataBytes bytes.
	ErrMetadataTooLarge = errors.New("ledger: metadata too large")

	// ErrNotFound reports an unknown account, transfer or entry. The more
	// specific ErrAccountNotFound and ErrTransferNotFound wrap it.
	ErrNotFound = errors.New("ledger: not found")

	// ErrAccountNotFound reports an unknown account. It wraps ErrNotFound.
	ErrAccountNotFound = fmt.Errorf("account %w", ErrNotFound)

	// ErrTransferNotFound reports an unknown transfer. It wraps ErrNotFound.
	ErrTransferNotFound = fmt.Errorf("transfer %w", ErrNotFound)

	// ErrAccountExists reports an attempt to open an account whose ID is
	// already taken.
	ErrAccountExists = errors.New("ledger: account already exists")

	// ErrAccountClosed reports a posting or hold on a closed account.
	ErrAccountClosed = errors.New("ledger: account closed")

	// ErrAccountNotEmpty reports an attempt to close an account whose balance
	// is not zero or that has pending holds.
	ErrAccountNotEmpty = errors.New("ledger: account not empty")

	// ErrAssetMismatch reports a posting whose asset differs from the asset
	// of its account (code or scale).
	ErrAssetMismatch = errors.New("ledger: asset mismatch")

	// ErrInsufficientFunds reports a debit or hold that would take an
	// account's available balance (posted minus pending debits) below its
	// floor.
	ErrInsufficientFunds = errors.New("ledger: insufficient funds")

	// ErrCeilingExceeded reports a credit or hold that would take an
	// account's balance plus pending credits above its ceiling.
	ErrCeilingExceeded = errors.New("ledger: ceiling exceeded")

	// ErrIdempotencyConflict reports a request whose ID was used before with
	// different content. The first request's outcome stays as it was.
	ErrIdempotencyConflict = errors.New("ledger: idempotency key reused with different content")

	// ErrNotPending reports a post or void of a transfer that is not a hold,
	// or of a hold that is already posted, voided or expired.
	ErrNotPending = errors.New("ledger: transfer is not a pending hold")

	// ErrHoldExpired reports a post of a hold whose deadline has passed.
	ErrHoldExpired = errors.New("ledger: hold expired")

	// ErrHoldNotDue reports an expiry of a hold whose deadline has not come.
	ErrHoldNotDue = errors.New("ledger: hold not due")

	// ErrNotReversible reports a reversal of a transfer that cannot be
	// reversed: a hold (void it instead), a refused transfer, or a reversal.
	ErrNotReversible = errors.New("ledger: transfer cannot be reversed")

	// ErrAlreadyReversed reports a second reversal of the same transfer.
	ErrAlreadyReversed = errors.New("ledger: transfer already reversed")

	// ErrTampered reports a broken hash chain or an inconsistent history
	// found by Verify or Audit. The message names the account and the
	// sequence number of the first broken entry.
	ErrTampered = errors.New("ledger: history does not verify")

	// ErrInvariant reports a violated ledger invariant found by Audit: the
	// balances of an asset do not sum to zero, a balance is past its floor
	// or ceiling, pending amounts differ from what the pending holds
	// reserve, an entry differs from its transfer's postings or a transfer
	// lacks its entries, or transfer records contradict each other. The
	// message names the account, the transfer and the amounts.
	ErrInvariant = errors.New("ledger: invariant violated")
)

// refusalCodes maps the sentinels a rule can refuse a transfer with to the
// stable codes stores persist in TransferRecord.RefusalCode.
var refusalCodes = []struct {
	code string
	err  error
}{
	{"invalid", ErrInvalid},
	{"invalid_amount", ErrInvalidAmount},
	{"overflow", ErrOverflow},
	{"unbalanced", ErrUnbalanced},
	{"account_not_found", ErrAccountNotFound},
	{"transfer_not_found", ErrTransferNotFound},
	{"account_closed", ErrAccountClosed},
	{"asset_mismatch", ErrAssetMismatch},
	{"insufficient_funds", ErrInsufficientFunds},
	{"ceiling_exceeded", ErrCeilingExceeded},
	{"not_pending", ErrNotPending},
	{"hold_expired", ErrHoldExpired},
	{"hold_not_due", ErrHoldNotDue},
	{"not_reversible", ErrNotReversible},
	{"already_reversed", ErrAlreadyReversed},
}

// RefusalCode returns the stable code under which a store persists a refusal
// wrapping err, or "" when err wraps none of the refusal sentinels.
func RefusalCode(err error) string {
	for _, c := range refusalCodes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return ""
}

// refusal is a rule's refusal of a transfer: the message as first produced
// and the sentinel it wraps. It survives a round trip through a store as
// (RefusalCode, RefusalMessage).
type refusal struct {
	msg      string
	sentinel error
	// unconverted marks the refusal of a partial post whose amount the
	// Service could not convert because the hold did not exist when it read
	// it, but did when the rules ran: it is not recorded, and Post converts
	// the amount and tries again.
	unconverted bool
}

// isUnconverted reports whether err is the rules' refusal of a partial post
// whose amount was not converted although its hold exists.
func isUnconverted(err error) bool {
	var rf *refusal
	return errors.As(err, &rf) && rf.unconverted
}

func (r *refusal) Error() string { return r.msg }
func (r *refusal) Unwrap() error { return r.sentinel }

// RefusalError rebuilds the error of a stored refusal from its code and
// message, so that a retry returns an error that errors.Is matches exactly as
// the first one. An unknown code yields an error wrapping ErrInvalid.
func RefusalError(code, message string) error {
	for _, c := range refusalCodes {
		if c.code == code {
			return &refusal{msg: message, sentinel: c.err}
		}
	}
	return &refusal{msg: message + " (unknown refusal code " + code + ")", sentinel: ErrInvalid}
}

// refuse formats a refusal wrapping sentinel.
func refuse(sentinel error, format string, args ...any) error {
	return &refusal{msg: fmt.Sprintf(format, args...) + ": " + sentinel.Error(), sentinel: sentinel}
}
