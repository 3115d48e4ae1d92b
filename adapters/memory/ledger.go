package memory

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/civicloop/civicloop/ledger"
)

var (
	_ ledger.Store                = (*LedgerStore)(nil)
	_ ledger.FingerprintsOnDemand = (*LedgerStore)(nil)
	_ ledger.PostingsCopied       = (*LedgerStore)(nil)
)

// LedgerStore keeps a ledger in memory. It is safe for concurrent use: one
// mutex serialises writes, each Apply runs the ledger's rules under it, so
// a batch is atomic; reads take a shared lock.
//
// To keep a million accounts and tens of millions of entries in little
// memory, it stores accounts in fixed-size chunks without per-account maps,
// transfers in a compact form (two postings inline, the rarely used fields
// behind one pointer) and entries as 56 bytes each, deriving sequence
// numbers, amounts and times from their position and transfer.
//
// It fingerprints on demand (ledger.FingerprintsOnDemand): it keeps each
// transfer's request content anyway, so it computes a record's fingerprint
// when the record is read instead of hashing every request on the way in.
// Behind a wrapper that hides the capability, it is given fingerprints and
// defaulted effective times, and still returns the fingerprints it was given.
type LedgerStore struct {
	mu      sync.RWMutex
	ids     map[ledger.AccountID]int32
	chunks  [][]ledgerAccount // accounts by index, 1<<ledgerChunkBits per chunk
	n       int32
	assets  map[ledger.Asset]ledger.Asset // interned asset codes
	tids    ledgerIndex                   // transfer indexes by ID
	tchunks [][]ledgerTransfer            // transfers by index, 1<<ledgerChunkBits per chunk
	tn      int32
	pending map[ledger.TransferID]int32 // holds with StatusPending
	sorted  []int32                     // account indexes by ID; nil when stale
	tx      ledgerTx                    // reused by Apply under mu
}

const (
	ledgerChunkBits      = 12 // accounts and transfers per chunk: 4096
	ledgerEntryChunkBits = 8  // entries per chunk: 256
)

// ledgerAccount is one account: the state the rules change, and the rest.
type ledgerAccount struct {
	ledger.AccountState
	owner    string
	meta     map[string]string
	openedAt int64 // Unix microseconds
	closedAt int64
	// entries holds the entries in chunks of 1<<ledgerEntryChunkBits; only the
	// first grows by appending, so long histories are never copied.
	entries [][]ledgerEntry
}

// ledgerEntry is one stored entry. Its sequence number is its position + 1, its
// amount the difference to the previous balance, its transfer ID and times
// those of transfer tr. It holds no pointer, so the collector skips entries.
type ledgerEntry struct {
	tr      int32
	balance int64
	version int64
	hash    [32]byte
}

// ledgerPosting is a posting on an existing account, by index.
type ledgerPosting struct {
	acct  int32
	side  ledger.Side
	units int64
}

// ledgerTransfer is a stored transfer record.
type ledgerTransfer struct {
	id        ledger.TransferID
	recorded  int64 // Unix microseconds
	effective int64 // as requested: ledgerNoTime for "the recorded time"
	reason    string
	principal string
	inline    [2]ledgerPosting // the postings when np <= 2 and x.raw is nil
	np        uint8
	kind      ledger.Kind
	status    ledger.Status
	x         *ledgerTransferExtra // nil for a plain transfer
}

// ledgerTransferExtra holds what few transfers need.
type ledgerTransferExtra struct {
	raw            []ledger.PostingRecord // postings not stored inline
	ref            ledger.TransferID
	units          int64
	metadata       map[string]string
	holdUntil      int64
	postedUnits    int64
	resolvedBy     ledger.TransferID
	reversedBy     ledger.TransferID
	refusalCode    string
	refusalMessage string
}

// FingerprintsOnDemand implements ledger.FingerprintsOnDemand.
func (s *LedgerStore) FingerprintsOnDemand() {}

// PostingsCopied implements ledger.PostingsCopied: a transfer keeps its
// postings inline or in a copy (PutTransfer), and the record lent to
// ledger.Apply drops its own when Apply returns (ledgerTx.reset).
func (s *LedgerStore) PostingsCopied() {}

// NewLedgerStore returns an empty in-memory ledger store.
func NewLedgerStore() *LedgerStore {
	s := &LedgerStore{
		ids:     make(map[ledger.AccountID]int32),
		assets:  make(map[ledger.Asset]ledger.Asset),
		tids:    newLedgerIndex(),
		pending: make(map[ledger.TransferID]int32),
	}
	s.tx.s = s
	s.tx.last = -1
	return s
}

const ledgerNoTime = math.MinInt64

func ledgerMicros(t time.Time) int64 {
	if t.IsZero() {
		return ledgerNoTime
	}
	return t.UnixMicro()
}

func ledgerTime(us int64) time.Time {
	if us == ledgerNoTime {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func (s *LedgerStore) acct(i int32) *ledgerAccount {
	return &s.chunks[i>>ledgerChunkBits][i&(1<<ledgerChunkBits-1)]
}

func (s *LedgerStore) transferAt(i int32) *ledgerTransfer {
	return &s.tchunks[i>>ledgerChunkBits][i&(1<<ledgerChunkBits-1)]
}

// newTransferHash appends an empty transfer with this ID, whose
// s.tids.hash is h.
func (s *LedgerStore) newTransferHash(id ledger.TransferID, h uint32) (int32, *ledgerTransfer) {
	i := s.tn
	if int(i>>ledgerChunkBits) == len(s.tchunks) {
		s.tchunks = append(s.tchunks, make([]ledgerTransfer, 1<<ledgerChunkBits))
	}
	s.tn++
	s.tids.addHash(i, h)
	t := s.transferAt(i)
	t.id = id
	return i, t
}

func (a *ledgerAccount) entryCount() int64 {
	n := len(a.entries)
	if n == 0 {
		return 0
	}
	return int64(n-1)<<ledgerEntryChunkBits + int64(len(a.entries[n-1]))
}

func (a *ledgerAccount) entryAt(k int64) *ledgerEntry {
	return &a.entries[k>>ledgerEntryChunkBits][k&(1<<ledgerEntryChunkBits-1)]
}

// newEntry appends a zero entry and returns it, for the caller to fill in
// place: an entry built on the stack and then copied in is read back with
// wide loads right after its narrow stores, a store-forwarding stall per
// entry.
func (a *ledgerAccount) newEntry() *ledgerEntry {
	n := len(a.entries)
	if n == 0 || len(a.entries[n-1]) == 1<<ledgerEntryChunkBits {
		c := 4
		if n > 0 {
			c = 1 << ledgerEntryChunkBits
		}
		a.entries = append(a.entries, make([]ledgerEntry, 0, c))
		n++
	}
	c := &a.entries[n-1]
	if k := len(*c); k < cap(*c) {
		*c = (*c)[:k+1] // zero: chunks are never shortened
	} else {
		*c = append(*c, ledgerEntry{}) // the first chunk, growing
	}
	return &(*c)[len(*c)-1]
}

func ledgerCtxErr(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: ledger %s: %w", op, err)
	}
	return nil
}

// OpenAccount implements ledger.Store.
func (s *LedgerStore) OpenAccount(ctx context.Context, rec ledger.AccountRecord) error {
	if err := ledgerCtxErr(ctx, "open account"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ids[rec.ID]; ok {
		return fmt.Errorf("memory: open account %q: %w", rec.ID, ledger.ErrAccountExists)
	}
	asset, ok := s.assets[rec.Asset]
	if !ok {
		asset = ledger.Asset{Code: strings.Clone(rec.Asset.Code), Scale: rec.Asset.Scale}
		s.assets[asset] = asset
	}
	rec.Asset = asset
	i := s.n
	if int(i>>ledgerChunkBits) == len(s.chunks) {
		s.chunks = append(s.chunks, make([]ledgerAccount, 1<<ledgerChunkBits))
	}
	a := s.acct(i)
	*a = ledgerAccount{AccountState: rec.AccountState, owner: rec.Owner, meta: ledgerCloneMeta(rec.Metadata),
		openedAt: ledgerMicros(rec.OpenedAt), closedAt: ledgerMicros(rec.ClosedAt)}
	s.ids[rec.ID] = i
	s.n++
	s.sorted = nil
	return nil
}

// CloseAccount implements ledger.Store.
func (s *LedgerStore) CloseAccount(ctx context.Context, id ledger.AccountID, at time.Time) error {
	if err := ledgerCtxErr(ctx, "close account"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.ids[id]
	if !ok {
		return fmt.Errorf("memory: close account %q: %w", id, ledger.ErrAccountNotFound)
	}
	a := s.acct(i)
	changed, err := ledger.CloseState(&a.AccountState)
	if err != nil {
		return err
	}
	if changed {
		a.closedAt = ledgerMicros(at)
	}
	return nil
}

// Apply implements ledger.Store.
func (s *LedgerStore) Apply(ctx context.Context, cmds []ledger.Command) ([]ledger.Result, error) {
	if err := ledgerCtxErr(ctx, "apply"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Checked again: the lock may have taken a while.
	if err := ledgerCtxErr(ctx, "apply"); err != nil {
		return nil, err
	}
	defer s.tx.reset()
	if len(cmds) > 1 {
		s.tx.prepare(cmds)
	}
	// The rules check everything before they change anything, and nothing
	// below fails, so every command is all or nothing.
	return ledger.Apply(&s.tx, cmds)
}
