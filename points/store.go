package points

import (
	"context"
	"sync"
	"time"

	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/org"
	"github.com/shopspring/decimal"
)

// Store keeps the points scheme's state: records, wallets, lots, awards,
// objections, catalogue items, redemptions, certificates and the outbox of
// ledger operations. It holds no rules; the Service decides and hands the
// Store whole, checked changes.
//
// Contract for every method:
//   - ctx is honoured: a cancelled context makes the method return ctx.Err()
//     (possibly wrapped) without changing anything. The Store does not keep
//     ctx.
//   - Errors wrap the sentinels of this package (ErrNotFound, ErrDuplicate,
//     ErrConflict, ErrOutOfStock) so that errors.Is matches them; any other
//     error is a storage failure.
//   - Returned slices and structs belong to the caller; the Store keeps no
//     reference to what it returns nor to what it is given, except the
//     Lines of the awards given to Commit, which the Service hands over
//     and changes no more: a Store may keep them instead of a copy.
//   - Lists are ordered as stated; an empty result is a nil or empty slice
//     and no error.
//   - It is safe for concurrent use.
type Store interface {
	// Commit applies c atomically: all of it or nothing. Before it writes,
	// it checks, and refuses the whole change on the first failure:
	//   - each wallet in c.Wallets has Version = stored Version + 1 (a wallet
	//     never stored counts as Version 0), else ErrConflict;
	//   - each record in c.NewRecords has an unused ID and, when set, an
	//     unused SourceKey, else ErrDuplicate;
	//   - each record in c.Records exists with Version = its Version − 1,
	//     else ErrNotFound or ErrConflict;
	//   - each award in c.Awards and each op in c.Ops has an unused ID, and
	//     each certificate an unused Number, else ErrDuplicate;
	//   - each objection, item and redemption (upserts) has Version = stored
	//     Version + 1 (1 for a new one), else ErrConflict;
	//   - each stock delta keeps its item's stock at zero or above, else
	//     ErrOutOfStock; a delta on an unlimited item is ignored; an unknown
	//     item is ErrNotFound.
	// Lots in c.Lots are upserted by ID; c.Usage deltas are added to the
	// usage counters. An item update keeps the stored
	// Stock: stock changes only through c.Stock. Ops get increasing Seq
	// numbers in their order in c.Ops.
	Commit(ctx context.Context, c *Change) error

	// Record returns the record with the given ID, or ErrNotFound.
	Record(ctx context.Context, id string) (Record, error)
	// RecordBySource returns the record created under a source key, or
	// ErrNotFound.
	RecordBySource(ctx context.Context, key string) (Record, error)
	// Records returns the volunteer's records whose At() lies in
	// [from, to), ordered by At() then ID, in every status.
	Records(ctx context.Context, v org.VolunteerID, from, to time.Time) ([]Record, error)

	// Wallet returns the volunteer's wallet; a volunteer never written has
	// a zero Wallet with Version 0 and no error.
	Wallet(ctx context.Context, v org.VolunteerID) (Wallet, error)
	// Lots returns the volunteer's lots with Remaining > 0, oldest first
	// (EarnedAt, then ID).
	Lots(ctx context.Context, v org.VolunteerID) ([]Lot, error)
	// Lot returns one lot by ID, whatever its Remaining, or ErrNotFound.
	Lot(ctx context.Context, id string) (Lot, error)
	// DueLots returns at most limit lots with Remaining > 0 and a non-zero
	// ExpiresAt at or before now, ordered by ExpiresAt then ID.
	DueLots(ctx context.Context, now time.Time, limit int) ([]Lot, error)

	// Award returns an award by ID, or ErrNotFound.
	Award(ctx context.Context, id string) (Award, error)
	// Awards returns the volunteer's awards with At in [from, to), ordered
	// by At then ID.
	Awards(ctx context.Context, v org.VolunteerID, from, to time.Time) ([]Award, error)
	// Usage returns the volunteer's usage counters for the given periods,
	// in the same order; a counter never written is zero.
	Usage(ctx context.Context, v org.VolunteerID, periods []string) ([]decimal.Decimal, error)
	// Levels returns the volunteer's star level changes, oldest first.
	Levels(ctx context.Context, v org.VolunteerID) ([]LevelChange, error)

	// Objection returns an objection by ID, or ErrNotFound.
	Objection(ctx context.Context, id string) (Objection, error)
	// Objections returns the objections to a record, in the order raised.
	Objections(ctx context.Context, record string) ([]Objection, error)

	// Item returns a catalogue item by ID (with its current stock), or
	// ErrNotFound.
	Item(ctx context.Context, id string) (Item, error)
	// Items returns the items owned by a node, ordered by ID; an empty
	// owner returns all items.
	Items(ctx context.Context, owner org.NodeID) ([]Item, error)

	// Redemption returns a redemption by ID, or ErrNotFound.
	Redemption(ctx context.Context, id string) (Redemption, error)
	// Redemptions returns the volunteer's redemptions of an item with
	// HeldAt at or after since, in every status, ordered by HeldAt then ID.
	Redemptions(ctx context.Context, v org.VolunteerID, item string, since time.Time) ([]Redemption, error)
	// DueRedemptions returns at most limit held redemptions whose Deadline
	// is at or before now, ordered by Deadline then ID.
	DueRedemptions(ctx context.Context, now time.Time, limit int) ([]Redemption, error)

	// Certificate returns a certificate by number, or ErrNotFound.
	Certificate(ctx context.Context, number string) (Certificate, error)
	// Certificates returns the register: certificates issued to a volunteer
	// (all volunteers when v is empty), ordered by Number.
	Certificates(ctx context.Context, v org.VolunteerID) ([]Certificate, error)
	// NextNumber increments the named sequence and returns its new value,
	// starting at 1. A number taken by a change that is then refused is
	// not given again.
	NextNumber(ctx context.Context, series string) (int64, error)

	// RecordRefusal appends a refused command to the refusal log and
	// returns its Seq, strictly increasing from 1.
	RecordRefusal(ctx context.Context, r org.Refusal) (int64, error)
	// Refusals returns refusals with Seq > after, oldest first, at most
	// limit.
	Refusals(ctx context.Context, after int64, limit int) ([]org.Refusal, error)

	// PendingOps returns at most limit ops not yet acknowledged, in Seq
	// order.
	PendingOps(ctx context.Context, limit int) ([]Op, error)
	// AckOps marks ops as applied to the ledger. Unknown or already
	// acknowledged IDs are ignored.
	AckOps(ctx context.Context, ids []string) error
}

// UsageUnitsStore is an optional capability of a Store: when the Store
// given to New has it, confirmations read the usage counters through it and
// skip the decimals. It answers as Store.Usage does, in hundredths of a
// point: out[i] receives the counter of periods[i]; len(out) equals
// len(periods).
type UsageUnitsStore interface {
	UsageUnits(ctx context.Context, v org.VolunteerID, periods []string, out []int64) error
}

// FirstPendingStore is an optional capability of a Store: FirstPendingOp
// returns the ID of the pending op (not yet acknowledged) with the lowest
// Seq, or "" when no op is pending, as PendingOps(ctx, 1) would. A command
// that finds its own op first then applies it without reading the pending
// ops (see Service.inOrder).
type FirstPendingStore interface {
	FirstPendingOp(ctx context.Context) (string, error)
}

// DueWalletsStore is an optional capability of a Store: DueLotsWallets
// answers as DueLots does and also returns the wallets of the returned
// lots' volunteers, each once, in the order of their first lot, all read in
// one snapshot (a volunteer never written has a zero Wallet with Version 0
// and Volunteer set). An expiry sweep then reads the due lots once; without
// it, the sweep reads them twice (see Service.ExpireLots).
type DueWalletsStore interface {
	DueLotsWallets(ctx context.Context, now time.Time, limit int) ([]Lot, []Wallet, error)
}

// Change is one atomic write to a Store; see Store.Commit for the checks.
type Change struct {
	Wallets      []Wallet
	NewRecords   []Record
	Records      []Record
	Awards       []Award
	Lots         []Lot
	Levels       []LevelChange
	Objections   []Objection
	Items        []Item
	Stock        []StockDelta
	Redemptions  []Redemption
	Certificates []Certificate
	Usage        []UsageDelta
	Ops          []Op

	// buf is the pooled buffer the slices above were cut from, if any; the
	// Service recycles it once the change is committed and its ops applied
	// (a Store keeps no reference to a Change it was given).
	buf interface{ recycle() }
	// Scratch space for the usage look-up and the applied op IDs, so that
	// passing them through an interface does not allocate them.
	usageKeys  [3]string
	usageUnits [3]int64
	done       [1]string
	// postings of a lone op's ledger request, which the ledger copies.
	postings [4]ledger.Posting
}

// recycle returns c's pooled buffer, if any, for reuse; c must not be used
// afterwards.
func (c *Change) recycle() {
	if c != nil && c.buf != nil {
		c.buf.recycle()
	}
}

// StockDelta changes an item's stock by Delta (−1 reserves one unit, +1
// restores it).
type StockDelta struct {
	Item  string
	Delta int64
}

// confirmBuf backs the slices of the Change of one record's confirmation,
// so that building it takes one allocation instead of one per slice;
// appending past a backing array still works (append copies).
type confirmBuf struct {
	c       Change
	wallets [1]Wallet
	records [1]Record
	awards  [1]Award
	lots    [1]Lot
	levels  [1]LevelChange
	usage   [3]UsageDelta
	ops     [1]Op
}

var confirmPool = sync.Pool{New: func() any {
	b := new(confirmBuf)
	b.c = Change{Wallets: b.wallets[:0], Records: b.records[:0], Awards: b.awards[:0], Lots: b.lots[:0],
		Levels: b.levels[:0], Usage: b.usage[:0], Ops: b.ops[:0], buf: b}
	return b
}}

func (b *confirmBuf) recycle() {
	b.c.truncate()
	confirmPool.Put(b)
}

// truncate empties c's slices, keeping their space. What they held stays
// until overwritten: clearing it would cost a bulk write barrier while the
// collector marks, and nothing reads past a slice's length.
func (c *Change) truncate() {
	c.Wallets = c.Wallets[:0]
	c.NewRecords = c.NewRecords[:0]
	c.Records = c.Records[:0]
	c.Awards = c.Awards[:0]
	c.Lots = c.Lots[:0]
	c.Levels = c.Levels[:0]
	c.Objections = c.Objections[:0]
	c.Items = c.Items[:0]
	c.Stock = c.Stock[:0]
	c.Redemptions = c.Redemptions[:0]
	c.Certificates = c.Certificates[:0]
	c.Usage = c.Usage[:0]
	c.Ops = c.Ops[:0]
}

// newConfirmChange returns an empty Change with room for one confirmation,
// from a pool: confirmations are frequent and the buffer is large.
func newConfirmChange() *Change {
	return &confirmPool.Get().(*confirmBuf).c
}

// redeemBuf is confirmBuf for a redemption's hold, fulfilment or release.
type redeemBuf struct {
	c           Change
	wallets     [1]Wallet
	lots        [1]Lot
	redemptions [1]Redemption
	stock       [1]StockDelta
	ops         [1]Op
}

// settleBuf is confirmBuf for a redemption's fulfilment.
type settleBuf struct {
	c           Change
	redemptions [1]Redemption
	ops         [1]Op
}

var (
	settlePool = sync.Pool{New: func() any {
		b := new(settleBuf)
		b.c = Change{Redemptions: b.redemptions[:0], Ops: b.ops[:0], buf: b}
		return b
	}}
	redeemPool = sync.Pool{New: func() any {
		b := new(redeemBuf)
		b.c = Change{Wallets: b.wallets[:0], Lots: b.lots[:0], Redemptions: b.redemptions[:0], Stock: b.stock[:0], Ops: b.ops[:0], buf: b}
		return b
	}}
)

func (b *settleBuf) recycle() {
	b.c.truncate()
	settlePool.Put(b)
}

func (b *redeemBuf) recycle() {
	b.c.truncate()
	redeemPool.Put(b)
}

// newSettleChange returns an empty Change with room for one redemption and
// one op, from a pool.
func newSettleChange() *Change {
	return &settlePool.Get().(*settleBuf).c
}

// newRedeemChange returns an empty Change with room for one redemption
// step, from a pool.
func newRedeemChange() *Change {
	return &redeemPool.Get().(*redeemBuf).c
}
