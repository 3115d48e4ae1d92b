package ledger

import (
	"time"

	"github.com/shopspring/decimal"
)

// AccountID identifies an account: 1 to MaxIDLength bytes of printable ASCII.
type AccountID string

// AccountSpec describes an account to open.
type AccountSpec struct {
	// ID is the new account's identifier; it must be unused.
	ID AccountID
	// Asset is the only asset the account holds.
	Asset Asset
	// Floor is the lowest balance the account may reach through debits and
	// holds; zero (the default, volunteers' accounts) or negative (an
	// allowed overdraft). Ignored when NoFloor is set.
	Floor decimal.Decimal
	// NoFloor removes the floor: the balance may go arbitrarily negative.
	// Issuing accounts, from which points and hours are created, have no
	// floor.
	NoFloor bool
	// Ceiling, when Valid, is the highest balance the account may reach
	// (balance plus pending credits); it must be at least zero and at least
	// the floor.
	Ceiling decimal.NullDecimal
	// Owner references whoever the account belongs to (a volunteer number,
	// a node ID); free text of at most MaxIDLength bytes, may be empty.
	Owner string
	// Metadata is free key/value data, at most MaxMetadataKeys keys and
	// MaxMetadataBytes bytes of keys and values together.
	Metadata map[string]string
}

// Account is an account as read back from the ledger.
type Account struct {
	ID       AccountID
	Asset    Asset
	Floor    decimal.Decimal // meaningless when NoFloor
	NoFloor  bool
	Ceiling  decimal.NullDecimal
	Owner    string
	Metadata map[string]string // owned by the caller
	Closed   bool
	OpenedAt time.Time
	ClosedAt time.Time // zero while open

	// Balance is the posted balance: the sum of the account's entries.
	Balance decimal.Decimal
	// PendingDebits is the sum reserved by holds debiting the account.
	PendingDebits decimal.Decimal
	// PendingCredits is the sum promised by holds crediting the account.
	PendingCredits decimal.Decimal
	// Available is Balance minus PendingDebits: what the account can spend.
	Available decimal.Decimal
	// Version counts the changes to the account (entries, holds placed or
	// released, closing); it starts at 1 when the account is opened.
	Version int64
	// Entries is the number of entries, i.e. the sequence number of the last.
	Entries int64
}

// accountFromRecord converts a stored record to the API form.
func accountFromRecord(r AccountRecord) Account {
	a := Account{
		ID:             r.ID,
		Asset:          r.Asset,
		NoFloor:        r.NoFloor,
		Owner:          r.Owner,
		Metadata:       cloneMetadata(r.Metadata),
		Closed:         r.Closed,
		OpenedAt:       r.OpenedAt,
		ClosedAt:       r.ClosedAt,
		Balance:        r.Asset.FromUnits(r.Balance),
		PendingDebits:  r.Asset.FromUnits(r.PendingDebits),
		PendingCredits: r.Asset.FromUnits(r.PendingCredits),
		Available:      r.Asset.FromUnits(r.Balance - r.PendingDebits),
		Version:        r.Version,
		Entries:        r.Entries,
	}
	if !r.NoFloor {
		a.Floor = r.Asset.FromUnits(r.Floor)
	}
	if r.HasCeiling {
		a.Ceiling = decimal.NewNullDecimal(r.Asset.FromUnits(r.Ceiling))
	}
	return a
}

func cloneMetadata(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
