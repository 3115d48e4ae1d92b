package points

import (
	"time"

	"github.com/civicloop/civicloop/org"
	"github.com/shopspring/decimal"
)

// OpKind is the kind of a ledger operation.
type OpKind string

// Ledger operation kinds.
const (
	// OpTransfer moves hours and points between a volunteer and a scheme
	// account at once.
	OpTransfer OpKind = "transfer"
	// OpHold reserves a volunteer's points for a redemption (two-phase).
	OpHold OpKind = "hold"
	// OpPost spends a hold in full.
	OpPost OpKind = "post"
	// OpVoid releases a hold.
	OpVoid OpKind = "void"
)

// Counterparty names the scheme account on the other side of an operation.
type Counterparty string

// Scheme accounts. Each is unbounded; together with the volunteers' accounts
// they sum to zero per asset.
const (
	// Issued is where awarded hours and points come from (and reversals
	// return to).
	Issued Counterparty = "issued"
	// Redeemed receives the points of fulfilled redemptions.
	Redeemed Counterparty = "redeemed"
	// Expired receives expired points.
	Expired Counterparty = "expired"
	// Penalised receives deducted points.
	Penalised Counterparty = "penalised"
)

// Op is a ledger operation the points store has committed to, kept in the
// store (an outbox) until the ledger has applied it. Its ID is the ledger
// transfer ID, derived from its source, so applying it twice changes
// nothing.
type Op struct {
	// ID is the ledger transfer ID: "rec:R1", "rev:R1", "bonus:K",
	// "penalty:K", "exp:<lot>:<n>", "hold:<redemption>", "post:<redemption>",
	// "void:<redemption>" (of a cancellation, an expiry, or a settlement
	// that releases a hold), "settle:<redemption>" (see
	// Service.SettleRedemption).
	ID string
	// Seq orders operations; set by the store at Commit, increasing.
	Seq  int64
	Kind OpKind
	// Volunteer whose accounts move.
	Volunteer org.VolunteerID
	// Hours and Points are signed from the volunteer's side: positive
	// credits him, negative debits him. A hold carries negative Points.
	Hours  decimal.Decimal
	Points decimal.Decimal
	// Counterparty is the scheme account on the other side.
	Counterparty Counterparty
	// Hold is the ID of the hold a post or void settles.
	Hold string
	// Deadline of a hold.
	Deadline time.Time
	// Reason is the ledger reason code, e.g. "points.confirm".
	Reason string
	// Node is the organising unit credited in roll-ups; empty for none.
	Node org.NodeID
	// At is the effective time.
	At time.Time
	// Principal is the actor the ledger records.
	Principal string
}
