package ledger

import "time"

// This file holds the persisted form of the ledger: what a Store keeps and
// what the rules (Apply) read and change. Amounts are int64 minor units of
// the account's or posting's asset; times are UTC with microsecond precision
// (the Service truncates them), so that every adapter stores them exactly.

// AccountState is the part of an account the rules read and change.
type AccountState struct {
	ID    AccountID
	Asset Asset
	// Floor is the lowest balance allowed, in minor units; ignored when
	// NoFloor.
	Floor int64
	// Ceiling is the highest balance allowed when HasCeiling.
	Ceiling int64
	// Balance is the posted balance in minor units.
	Balance int64
	// PendingDebits and PendingCredits are reserved by pending holds.
	PendingDebits  int64
	PendingCredits int64
	// Version counts changes; 1 after opening.
	Version int64
	// Entries is the sequence number of the last entry (0: none).
	Entries int64
	// LastHash is the hash of the last entry (zero: none).
	LastHash   [32]byte
	NoFloor    bool
	HasCeiling bool
	Closed     bool
}

// Available returns Balance minus PendingDebits.
func (s *AccountState) Available() int64 { return s.Balance - s.PendingDebits }

// AccountRecord is a stored account.
type AccountRecord struct {
	AccountState
	Owner    string
	Metadata map[string]string
	OpenedAt time.Time
	ClosedAt time.Time
}

// PostingRecord is a stored posting.
type PostingRecord struct {
	Account AccountID
	Side    Side
	Asset   Asset
	// Units is the positive amount in minor units of Asset.
	Units int64
}

// Command is one write the rules apply: a transfer, hold, post, void,
// expiry or reversal, already validated and converted to minor units by the
// Service.
type Command struct {
	ID   TransferID
	Kind Kind
	// Postings are the legs of a transfer or hold; empty for other kinds.
	Postings []PostingRecord
	// Ref is the hold a post, void or expiry resolves, or the transfer a
	// reversal undoes.
	Ref TransferID
	// Units is a partial post's amount in minor units of the hold's asset;
	// 0 posts the whole hold. A negative value is a placeholder for an
	// amount given for a hold that named no transfer with postings when the
	// Service read it (none at all, or one without postings, such as a void):
	// it depends only on the amount, not on the scale the amount was never
	// converted with. The rules refuse such a post; when it meets a pending
	// hold (placed after the read) they do not record the refusal, and the
	// Service converts the amount and applies the post again. Records of
	// earlier builds have -1 for every such amount.
	Units       int64
	Reason      string
	Principal   string
	Metadata    map[string]string
	RecordedAt  time.Time
	EffectiveAt time.Time
	// HoldUntil is a hold's deadline; zero for other kinds.
	HoldUntil time.Time
	// Fingerprint is the hash of the request's content (Fingerprint), to
	// tell a retry from a different request under the same ID. A store with
	// FingerprintsOnDemand is given commands with it zero, and EffectiveAt
	// as requested; see there.
	Fingerprint [32]byte
}

// TransferRecord is a stored transfer: the command, its outcome and, for
// holds and reversed transfers, what later happened to it. For a post or a
// reversal, Command.Postings are those the rules made (the request had
// none); EffectiveAt is the recorded time when the request left it zero.
// Everything here must be stored and read back exactly: Fingerprint decides
// idempotency, and the rules read Postings, Status and the links.
type TransferRecord struct {
	Command
	Status Status
	// PostedUnits is, for a hold posted in part or full, the units posted
	// by its two-posting form (or 0 for a multi-posting hold posted in full).
	PostedUnits int64
	// ResolvedBy is the post, void or expiry that resolved a hold.
	ResolvedBy TransferID
	// ReversedBy is the reversal of a posted transfer.
	ReversedBy TransferID
	// RefusalCode and RefusalMessage keep a refusal (StatusRefused); see
	// RefusalCode and RefusalError.
	RefusalCode    string
	RefusalMessage string
}

// EntryRecord is a stored entry: one account's net change by one transfer.
// Hash is EntryHash(previous entry's Hash, &entry).
type EntryRecord struct {
	Account  AccountID
	Seq      int64
	Transfer TransferID
	// Units is the signed change: positive for a credit.
	Units       int64
	Balance     int64
	Version     int64
	RecordedAt  time.Time
	EffectiveAt time.Time
	Hash        [32]byte
}
