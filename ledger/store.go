package ledger

import (
	"context"
	"time"
)

// Store keeps the ledger. It is the contract between the Service and an
// adapter (adapters/memory, adapters/sqlite, adapters/postgres); the
// conformance suite ledger/ledgertest checks it.
//
// The rules are not the store's business: a store implements each write as
// one atomic unit (one SQL transaction) inside which it lets the package's
// pure functions decide — Apply for transfers, CloseState for closing — and
// persists what they changed. Reads return copies.
//
// Contract for every method:
//   - ctx is checked before any change; a cancelled or expired context
//     returns an error wrapping ctx.Err() and changes nothing. A store must
//     not keep ctx after the call returns.
//   - Errors that are not the documented sentinels (I/O, a lost connection)
//     are returned wrapped, and a write that fails that way changed nothing.
//   - Returned slices and maps belong to the caller; arguments are not kept
//     after the call returns (a store copies what it keeps), except what
//     Applier.Apply says it may keep.
//   - Implementations are safe for concurrent use.
type Store interface {
	AccountWriter
	Applier
	Reader
}

// AccountWriter opens and closes accounts.
type AccountWriter interface {
	// OpenAccount stores a new account, validated by the Service, with
	// Version 1, zero balances and no entries. It returns an error wrapping
	// ErrAccountExists if the ID is taken (whatever the other fields).
	OpenAccount(ctx context.Context, rec AccountRecord) error

	// CloseAccount closes an account at time at, in one atomic write: it
	// loads the account and calls CloseState(&state), which refuses with
	// ErrAccountNotEmpty an account with a non-zero balance or pending
	// holds; if CloseState reports a change, the store saves the state
	// (Closed, incremented Version) with ClosedAt = at. It returns an error
	// wrapping ErrAccountNotFound for an unknown ID. Closing a closed account
	// returns nil and changes nothing.
	CloseAccount(ctx context.Context, id AccountID, at time.Time) error
}

// Applier applies transfers.
type Applier interface {
	// Apply applies cmds in order as one atomic write: the store opens a
	// transaction, wraps it in a Tx and calls the package function
	// Apply(tx, cmds), then persists what the Tx was told (PutTransfer,
	// PutEntry, PutAccount) and commits. It returns one Result per command,
	// in order: a refusal is a Result with Err set, not an error of Apply.
	// Apply's own error is for the whole call (cancelled context, I/O):
	// then nothing of the batch was stored, and the results are nil.
	// cmds may be empty (nil results, nil error). Unlike other arguments,
	// the Postings slices and Metadata maps of cmds are handed over: the
	// store may keep them, and the caller does not change them afterwards.
	Apply(ctx context.Context, cmds []Command) ([]Result, error)
}

// Reader reads the ledger.
type Reader interface {
	// Account returns the account, or an error wrapping ErrAccountNotFound.
	Account(ctx context.Context, id AccountID) (AccountRecord, error)

	// Accounts returns up to limit accounts with IDs greater than after,
	// ordered by ID ascending (byte-wise). An empty result means no more.
	// limit must be positive; a store may return fewer (at least one if any
	// remain).
	Accounts(ctx context.Context, after AccountID, limit int) ([]AccountRecord, error)

	// Transfer returns the transfer record with the given ID, refused ones
	// included, or an error wrapping ErrTransferNotFound.
	Transfer(ctx context.Context, id TransferID) (TransferRecord, error)

	// Transfers returns up to limit transfer records, refused ones
	// included, that follow the record with ID after ("" for the first
	// page) in an order of the store's choosing that is the same on every
	// call: by ID, or by when they were recorded. An empty result means no
	// more. A transfer recorded while a caller pages through may be
	// returned or not. It may return an error wrapping ErrTransferNotFound
	// when after is not empty and names no transfer. limit must be
	// positive; a store may return fewer (at least one if any remain).
	// Audit reads every transfer through it.
	Transfers(ctx context.Context, after TransferID, limit int) ([]TransferRecord, error)

	// Entries returns up to limit entries of the account with Seq greater
	// than after, ordered by Seq ascending. An empty result means no more.
	// It returns an error wrapping ErrAccountNotFound for an unknown
	// account. limit must be positive; a store may return fewer (at least
	// one if any remain).
	Entries(ctx context.Context, id AccountID, after int64, limit int) ([]EntryRecord, error)

	// EntryAsOf returns the account's last entry (highest Seq) whose
	// RecordedAt is at or before at. The Service's recorded times never
	// decrease along an account's entries, so a store may search by time.
	// It returns an error wrapping ErrNotFound when the account has no such
	// entry (its balance then was zero), and wrapping ErrAccountNotFound for
	// an unknown account.
	EntryAsOf(ctx context.Context, id AccountID, at time.Time) (EntryRecord, error)

	// DueHolds returns the IDs of up to limit pending holds whose HoldUntil
	// is at or before now, ordered by HoldUntil then ID ascending. limit
	// must be positive.
	DueHolds(ctx context.Context, now time.Time, limit int) ([]TransferID, error)
}

// Tx is what the rules (the package function Apply) see of a store inside
// one atomic write. An adapter implements it over its transaction, using the
// context of the Apply call it serves. Within one Tx, reads must reflect the
// writes made before them: a later command of the same batch sees the
// earlier ones' accounts and transfers. Any error other than the not-found
// sentinels makes Apply stop and return it; the adapter then rolls back.
type Tx interface {
	// Account returns the state of the account for reading and changing,
	// or an error wrapping ErrAccountNotFound. For the same ID it returns
	// the same pointer throughout the Tx. The rules change the state only
	// once all checks of a command passed, and then call PutAccount.
	Account(id AccountID) (*AccountState, error)

	// Transfer returns the transfer record with this ID, or an error
	// wrapping ErrTransferNotFound. For the same ID it returns the same
	// pointer throughout the Tx; a record put earlier in the Tx is found.
	Transfer(id TransferID) (*TransferRecord, error)

	// PutAccount records that the state returned by Account has changed and
	// must be stored.
	PutAccount(s *AccountState) error

	// PutTransfer stores a new transfer record, or the changed status of one
	// returned by Transfer (a resolved hold, a reversed transfer). r stays
	// valid and unchanged by the rules until the store's Apply returns, so a
	// later Transfer of the same ID in this Tx may return it; the store
	// must copy what it keeps beyond that (r.Postings and r.Metadata it may
	// keep, see Applier).
	PutTransfer(r *TransferRecord) error

	// PutEntry stores a new entry.
	PutEntry(e EntryRecord) error
}

// RecordBuffer is an optional capability of a Tx. A Tx that has it lends
// Apply the space for a batch's new transfer records instead of Apply
// allocating it, which spares a memory store an allocation per call.
type RecordBuffer interface {
	// RecordBuffer returns a slice of n records that nothing else uses
	// until the store's Apply returns. Apply overwrites them.
	//
	// It may instead return a slice of one record when the Tx keeps
	// nothing of a record given to PutTransfer beyond that call (it copies
	// what it keeps, and its Transfer never returns that record): Apply
	// then reuses the one record for every command of the batch, so that
	// a batch's new records take the space of one rather than of n.
	RecordBuffer(n int) []TransferRecord
}

// FingerprintsOnDemand is an optional capability of a Store: the store
// keeps each recorded transfer's request content exactly and computes the
// record's Fingerprint from it when asked. A fingerprint is only needed when
// an ID is used again, so the Service and the rules then skip computing one
// for each command:
//   - The Service hands Apply commands with a zero Fingerprint (except
//     expiries, which carry theirs) and EffectiveAt as requested: zero for
//     "the recorded time".
//   - The rules fingerprint a command (Fingerprint) only when its ID is
//     already recorded, and give PutTransfer new records with the zero
//     Fingerprint and EffectiveAt of their command; entries get the
//     recorded time for a zero effective time, as always.
//   - In return, every TransferRecord the store returns (from Tx.Transfer
//     and Reader.Transfer) has Fingerprint set to the fingerprint of the
//     first request, and EffectiveAt set to RecordedAt where the request
//     left it zero. PutTransfer of a record returned by Tx.Transfer changes
//     only its outcome (status and links), never its request content.
type FingerprintsOnDemand interface {
	// FingerprintsOnDemand marks the capability; it is never called.
	FingerprintsOnDemand()
}

// PostingsCopied is an optional capability of a Store: its Apply keeps no
// command's Postings slice once it returns (it copies what it keeps). The
// Service then reuses the space of the postings it builds from call to
// call instead of handing a new slice over each time (see Applier).
type PostingsCopied interface {
	// PostingsCopied marks the capability; it is never called.
	PostingsCopied()
}
