package ledger

import (
	"time"

	"github.com/shopspring/decimal"
)

// TransferID identifies a transfer and is its idempotency key: 1 to
// MaxIDLength bytes of printable ASCII, not starting with ExpirePrefix.
type TransferID string

// ExpirePrefix starts the IDs of the expiries ExpireHolds records
// (ExpirePrefix + hold ID). Callers may not use IDs that start with it.
const ExpirePrefix = "expire:"

// Side says whether a posting takes value from its account or gives value
// to it.
type Side uint8

const (
	// Debit takes the amount from the account: its balance goes down.
	Debit Side = 1
	// Credit gives the amount to the account: its balance goes up.
	Credit Side = 2
)

// String returns "debit" or "credit".
func (s Side) String() string {
	switch s {
	case Debit:
		return "debit"
	case Credit:
		return "credit"
	}
	return "side(?)"
}

// Posting is one leg of a transfer: an amount debited from or credited to
// one account. A transfer's debits and credits must balance per asset.
type Posting struct {
	Account AccountID
	Side    Side
	Asset   Asset
	// Amount is positive, with at most Asset.Scale digits after the point.
	Amount decimal.Decimal
}

// Move returns the two postings that move amount of asset from one account
// to another.
func Move(asset Asset, from, to AccountID, amount decimal.Decimal) []Posting {
	return []Posting{
		{Account: from, Side: Debit, Asset: asset, Amount: amount},
		{Account: to, Side: Credit, Asset: asset, Amount: amount},
	}
}

// TransferRequest asks to move value between accounts, at once or as a hold.
type TransferRequest struct {
	// ID is the idempotency key. Empty means "generate one" (Options.NewID);
	// such a request cannot be retried safely.
	ID TransferID
	// Postings are the legs, at least two, balanced per asset, at most
	// MaxPostings. An account may appear in several postings.
	Postings []Posting
	// Reason is a short code saying why (e.g. "service", "redeem"); at most
	// MaxReasonLength bytes.
	Reason string
	// Principal is who asks (an org.Actor ID); at most MaxIDLength bytes.
	Principal string
	// Metadata is free key/value data, bounded like account metadata.
	Metadata map[string]string
	// EffectiveAt is when the movement takes effect in the business sense;
	// zero means the recorded time.
	EffectiveAt time.Time
	// HoldUntil, when not zero, makes the transfer a hold (pending
	// transfer): debits are reserved and credits promised until it is
	// posted, voided, or expires at HoldUntil. It must be after the
	// recorded time.
	HoldUntil time.Time
}

// PostRequest asks to post (settle) a pending hold, in full or in part.
type PostRequest struct {
	// ID is the post's own idempotency key.
	ID TransferID
	// Hold is the ID of the pending transfer to post.
	Hold TransferID
	// Amount, when not zero, posts only this much of a two-posting hold and
	// releases the rest; it may not exceed the held amount. Zero posts all.
	Amount    decimal.Decimal
	Reason    string
	Principal string
	Metadata  map[string]string
	// EffectiveAt is zero for the recorded time.
	EffectiveAt time.Time
}

// VoidRequest asks to release a pending hold without moving anything.
type VoidRequest struct {
	ID        TransferID
	Hold      TransferID
	Reason    string
	Principal string
	Metadata  map[string]string
}

// ReverseRequest asks to undo a posted transfer with a new transfer that
// swaps its debits and credits and references it. A transfer is reversed at
// most once; reversals obey floors and ceilings like any transfer.
type ReverseRequest struct {
	ID TransferID
	// Original is the transfer to reverse: a plain transfer or a post.
	Original  TransferID
	Reason    string
	Principal string
	Metadata  map[string]string
	// EffectiveAt is zero for the recorded time.
	EffectiveAt time.Time
}

// Kind says what a transfer record does.
type Kind uint8

const (
	// KindTransfer moves value at once.
	KindTransfer Kind = 1
	// KindHold reserves value: a pending transfer.
	KindHold Kind = 2
	// KindPost settles a hold (Ref), in full or in part.
	KindPost Kind = 3
	// KindVoid releases a hold (Ref).
	KindVoid Kind = 4
	// KindExpire releases a hold (Ref) whose deadline has passed.
	KindExpire Kind = 5
	// KindReversal undoes a posted transfer (Ref).
	KindReversal Kind = 6
)

var kindNames = [...]string{"", "transfer", "hold", "post", "void", "expire", "reversal"}

// String returns the kind's lower-case name.
func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return "kind(?)"
}

// Status is the outcome of a transfer record.
type Status uint8

const (
	// StatusPosted: the transfer's entries are written (transfer, post,
	// reversal), or the hold was posted.
	StatusPosted Status = 1
	// StatusPending: the hold reserves its amounts.
	StatusPending Status = 2
	// StatusVoided: the hold was released by a void (also the void itself).
	StatusVoided Status = 3
	// StatusExpired: the hold was released at its deadline (also the expiry
	// itself).
	StatusExpired Status = 4
	// StatusRefused: the rules refused the request; nothing changed, and a
	// retry returns the same refusal.
	StatusRefused Status = 5
)

var statusNames = [...]string{"", "posted", "pending", "voided", "expired", "refused"}

// String returns the status's lower-case name.
func (s Status) String() string {
	if int(s) < len(statusNames) && s != 0 {
		return statusNames[s]
	}
	return "status(?)"
}

// Result is the outcome of one command.
type Result struct {
	// ID is the transfer ID the command was recorded under.
	ID TransferID
	// Status is the transfer's status right after the command; zero when
	// the command was not recorded (invalid, idempotency conflict).
	Status Status
	// Replayed is true when ID was already recorded with the same content
	// and this result is the stored first outcome.
	Replayed bool
	// Err is nil when the command took effect (or took effect the first
	// time), else the refusal, wrapping a sentinel error.
	Err error
}

// Transfer is a recorded transfer as read back from the ledger.
type Transfer struct {
	ID          TransferID
	Kind        Kind
	Status      Status
	Postings    []Posting // for a post or reversal, the postings it made
	Ref         TransferID
	Amount      decimal.Decimal // partial post amount; zero otherwise
	Reason      string
	Principal   string
	Metadata    map[string]string
	RecordedAt  time.Time
	EffectiveAt time.Time
	HoldUntil   time.Time
	// PostedAmount is, for a posted hold, how much was posted (per posting
	// of a two-posting hold); zero otherwise.
	PostedAmount decimal.Decimal
	// ResolvedBy is the post, void or expiry that resolved a hold.
	ResolvedBy TransferID
	// ReversedBy is the reversal of this transfer, if any.
	ReversedBy TransferID
	// Refusal is the stored refusal of a refused transfer.
	Refusal error
}

// Entry is one change of one account's posted balance.
type Entry struct {
	Account AccountID
	// Seq numbers the account's entries from 1 without gaps.
	Seq      int64
	Transfer TransferID
	// Amount is signed: positive for a credit, negative for a debit.
	Amount decimal.Decimal
	// Balance and Version are the account's after this entry.
	Balance     decimal.Decimal
	Version     int64
	RecordedAt  time.Time
	EffectiveAt time.Time
	// Hash chains this entry to the previous one of the account.
	Hash [32]byte
}

// Statement is one page of an account's entries, oldest first.
type Statement struct {
	Account AccountID
	Entries []Entry
	// Next is the cursor for the following page: pass it as After. Zero
	// when there are no more entries.
	Next int64
}
