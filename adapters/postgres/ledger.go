package postgres

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/civicloop/civicloop/ledger"
)

// LedgerStore is the ledger.Store on PostgreSQL. Get it from DB.Ledger.
// Writes from concurrent callers are coalesced into shared transactions (see
// groupCommit); reads run on the pool. It is safe for concurrent use, also
// by several processes on the same schema.
type LedgerStore struct {
	db *DB
	gc *groupCommit

	// unsealed estimates, per deferred account, the ledger_pending rows
	// this process appended since it last sealed the account; past
	// sealEvery a background seal folds them in, so that the rows a
	// transfer sums stay few.
	mu       sync.Mutex
	unsealed map[string]int
	sealing  sync.Mutex
	wg       sync.WaitGroup
}

// sealEvery is how many unsealed changes of one deferred account this
// process lets accumulate before sealing it in the background.
const sealEvery = 512

var _ ledger.Store = (*LedgerStore)(nil)

func newLedgerStore(db *DB) *LedgerStore {
	s := &LedgerStore{db: db, unsealed: map[string]int{}}
	s.gc = newGroupCommit(db.opts.Writers, db.opts.MaxBatch, func(ctx context.Context, cmds []ledger.Command) ([]ledger.Result, error) {
		var res []ledger.Result
		var pending map[string]int
		err := db.retry(ctx, "ledger apply", func(ctx context.Context) error {
			var err error
			res, pending, err = s.applyBatch(ctx, cmds)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("postgres: ledger apply: %w", translate(err))
		}
		s.noteUnsealed(pending)
		return res, nil
	})
	return s
}

// noteUnsealed adds a committed batch's ledger_pending rows to the
// estimates and starts a background seal of accounts past sealEvery.
func (s *LedgerStore) noteUnsealed(pending map[string]int) {
	if len(pending) == 0 {
		return
	}
	var due []string
	s.mu.Lock()
	for id, n := range pending {
		s.unsealed[id] += n
		if s.unsealed[id] >= sealEvery {
			due = append(due, id)
			delete(s.unsealed, id)
		}
	}
	s.mu.Unlock()
	if len(due) == 0 || !s.sealing.TryLock() {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.sealing.Unlock()
		for _, id := range due {
			// A failure only leaves the rows for the next seal or read.
			if err := s.seal(context.Background(), id); err != nil {
				s.db.log.Warn("postgres: background seal failed", "account", id, "err", err)
			}
		}
	}()
}

func (s *LedgerStore) close() {
	s.gc.close()
	s.wg.Wait()
}

// Ledger returns the DB's ledger store.
func (db *DB) Ledger() *LedgerStore { return db.ledger }

// constraint names mapped to ledger sentinels (see constraintError).
var ledgerConstraints = map[string]error{
	"ledger_accounts_pkey": ledger.ErrAccountExists,
}

// OpenAccount inserts the account; ErrAccountExists if the ID is taken.
func (s *LedgerStore) OpenAccount(ctx context.Context, rec ledger.AccountRecord) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: open account %q: %w", rec.ID, err)
	}
	meta, err := metadataJSON(rec.Metadata)
	if err != nil {
		return err
	}
	err = s.db.retry(ctx, "open account", func(ctx context.Context) error {
		_, err := s.db.pool.Exec(ctx, s.db.q(`INSERT INTO {s}.ledger_accounts (`+accountCols+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17::text::jsonb, $18, $19)`),
			string(rec.ID), rec.Asset.Code, int16(rec.Asset.Scale), rec.Floor, rec.NoFloor, rec.Ceiling, rec.HasCeiling,
			rec.NoFloor && !rec.HasCeiling, rec.Closed, rec.Balance, rec.PendingDebits, rec.PendingCredits,
			rec.Version, rec.Entries, rec.LastHash[:], rec.Owner, meta, tstz(rec.OpenedAt), tstz(rec.ClosedAt))
		return err
	})
	if sentinel, ok := constraintError(err, ledgerConstraints); ok {
		return fmt.Errorf("postgres: open account %q: %w", rec.ID, sentinel)
	}
	if err != nil {
		return fmt.Errorf("postgres: open account %q: %w", rec.ID, translate(err))
	}
	return nil
}

// CloseAccount closes the account under its row lock, after sealing a
// deferred account so that CloseState sees its true balance.
func (s *LedgerStore) CloseAccount(ctx context.Context, id ledger.AccountID, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: close account %q: %w", id, err)
	}
	err := s.db.inTx(ctx, "close account", func(ctx context.Context, tx pgx.Tx) error {
		var st ledger.AccountState
		var deferred bool
		row := tx.QueryRow(ctx, s.db.q("SELECT "+accountStateCols+" FROM {s}.ledger_accounts WHERE id = $1 FOR UPDATE"), string(id))
		if err := scanAccountState(row, &st, &deferred); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("postgres: close account %q: %w", id, ledger.ErrAccountNotFound)
			}
			return err
		}
		if deferred {
			if err := s.sealLocked(ctx, tx, &st); err != nil {
				return err
			}
		}
		changed, err := ledger.CloseState(&st)
		if err != nil || !changed {
			return err
		}
		_, err = tx.Exec(ctx, s.db.q("UPDATE {s}.ledger_accounts SET closed = true, closed_at = $2, version = $3 WHERE id = $1"),
			string(id), tstz(at), st.Version)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: close account %q: %w", id, translate(err))
	}
	return nil
}

// Apply applies cmds as one atomic write through the group-commit writer.
func (s *LedgerStore) Apply(ctx context.Context, cmds []ledger.Command) ([]ledger.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("postgres: ledger apply: %w", err)
	}
	if len(cmds) == 0 {
		return nil, nil
	}
	return s.gc.submit(ctx, cmds)
}

// Account returns the account, sealing it first if it is deferred and has
// unsealed changes.
func (s *LedgerStore) Account(ctx context.Context, id ledger.AccountID) (ledger.AccountRecord, error) {
	for range 2 {
		row := s.db.pool.QueryRow(ctx, s.db.q("SELECT "+accountCols+", "+unsealedCol+" FROM {s}.ledger_accounts a WHERE id = $1"), string(id))
		rec, unsealed, err := scanAccountUnsealed(row)
		if errors.Is(err, pgx.ErrNoRows) {
			return ledger.AccountRecord{}, fmt.Errorf("postgres: account %q: %w", id, ledger.ErrAccountNotFound)
		}
		if err != nil {
			return ledger.AccountRecord{}, fmt.Errorf("postgres: account %q: %w", id, translate(err))
		}
		if !unsealed {
			return rec, nil
		}
		if err := s.seal(ctx, string(id)); err != nil {
			return ledger.AccountRecord{}, fmt.Errorf("postgres: account %q: %w", id, translate(err))
		}
	}
	// Sealed once; what arrived since belongs to the next read.
	row := s.db.pool.QueryRow(ctx, s.db.q("SELECT "+accountCols+", false FROM {s}.ledger_accounts a WHERE id = $1"), string(id))
	rec, _, err := scanAccountUnsealed(row)
	if err != nil {
		return ledger.AccountRecord{}, fmt.Errorf("postgres: account %q: %w", id, translate(err))
	}
	return rec, nil
}

// unsealedCol selects whether account a is deferred and has unsealed
// changes.
const unsealedCol = "a.deferred AND EXISTS (SELECT 1 FROM {s}.ledger_pending p WHERE p.account = a.id)"

func scanAccountUnsealed(row pgx.Row) (ledger.AccountRecord, bool, error) {
	var unsealed bool
	rec, err := scanAccountExtra(row, &unsealed)
	return rec, unsealed, err
}

// Accounts returns a page of accounts ordered by ID (byte-wise: the ID
// column is COLLATE "C"), sealing deferred accounts with unsealed changes.
func (s *LedgerStore) Accounts(ctx context.Context, after ledger.AccountID, limit int) ([]ledger.AccountRecord, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("postgres: accounts: field limit: %d must be positive: %w", limit, ledger.ErrInvalid)
	}
	limit = min(limit, 1000)
	query := s.db.q(`SELECT ` + accountCols + `, ` + unsealedCol + ` FROM {s}.ledger_accounts a WHERE id > $1 ORDER BY id LIMIT $2`)
	var recs []ledger.AccountRecord
	for attempt := 0; ; attempt++ {
		rows, err := s.db.pool.Query(ctx, query, string(after), limit)
		if err != nil {
			return nil, fmt.Errorf("postgres: accounts: %w", translate(err))
		}
		var unsealed []string
		recs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ledger.AccountRecord, error) {
			rec, u, err := scanAccountUnsealed(r)
			if u {
				unsealed = append(unsealed, string(rec.ID))
			}
			return rec, err
		})
		if err != nil {
			return nil, fmt.Errorf("postgres: accounts: %w", translate(err))
		}
		if len(unsealed) == 0 || attempt == 1 {
			return recs, nil
		}
		for _, id := range unsealed {
			if err := s.seal(ctx, id); err != nil {
				return nil, fmt.Errorf("postgres: accounts: %w", translate(err))
			}
		}
	}
}

// Transfer returns the transfer record.
func (s *LedgerStore) Transfer(ctx context.Context, id ledger.TransferID) (ledger.TransferRecord, error) {
	rows, err := s.db.pool.Query(ctx, s.db.q("SELECT "+transferCols+" FROM {s}.ledger_transfers WHERE id = $1"), string(id))
	if err != nil {
		return ledger.TransferRecord{}, fmt.Errorf("postgres: transfer %q: %w", id, translate(err))
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return ledger.TransferRecord{}, fmt.Errorf("postgres: transfer %q: %w", id, translate(err))
		}
		return ledger.TransferRecord{}, fmt.Errorf("postgres: transfer %q: %w", id, ledger.ErrTransferNotFound)
	}
	rec, err := scanTransfer(rows)
	if err != nil {
		return ledger.TransferRecord{}, fmt.Errorf("postgres: transfer %q: %w", id, err)
	}
	return *rec, nil
}

// Transfers returns a page of transfer records ordered by ID (byte-wise:
// the ID column is COLLATE "C").
func (s *LedgerStore) Transfers(ctx context.Context, after ledger.TransferID, limit int) ([]ledger.TransferRecord, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("postgres: transfers: field limit: %d must be positive: %w", limit, ledger.ErrInvalid)
	}
	rows, err := s.db.pool.Query(ctx, s.db.q("SELECT "+transferCols+" FROM {s}.ledger_transfers WHERE id > $1 ORDER BY id LIMIT $2"),
		string(after), min(limit, 1000))
	if err != nil {
		return nil, fmt.Errorf("postgres: transfers: %w", translate(err))
	}
	recs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ledger.TransferRecord, error) {
		rec, err := scanTransfer(r)
		if err != nil {
			return ledger.TransferRecord{}, err
		}
		return *rec, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: transfers: %w", translate(err))
	}
	return recs, nil
}

// Entries returns a page of the account's entries by Seq.
func (s *LedgerStore) Entries(ctx context.Context, id ledger.AccountID, after int64, limit int) ([]ledger.EntryRecord, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("postgres: entries of %q: field limit: %d must be positive: %w", id, limit, ledger.ErrInvalid)
	}
	limit = min(limit, 10000)
	if err := s.mustExist(ctx, id); err != nil {
		return nil, err
	}
	rows, err := s.db.pool.Query(ctx, s.db.q("SELECT "+entryCols+" FROM {s}.ledger_entries WHERE account = $1 AND seq > $2 ORDER BY seq LIMIT $3"),
		string(id), after, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: entries of %q: %w", id, translate(err))
	}
	es, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ledger.EntryRecord, error) { return scanEntry(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: entries of %q: %w", id, translate(err))
	}
	return es, nil
}

// EntryAsOf returns the account's last entry recorded at or before at.
func (s *LedgerStore) EntryAsOf(ctx context.Context, id ledger.AccountID, at time.Time) (ledger.EntryRecord, error) {
	if err := s.mustExist(ctx, id); err != nil {
		return ledger.EntryRecord{}, err
	}
	rows, err := s.db.pool.Query(ctx, s.db.q("SELECT "+entryCols+" FROM {s}.ledger_entries WHERE account = $1 AND recorded_at <= $2 ORDER BY seq DESC LIMIT 1"),
		string(id), at)
	if err != nil {
		return ledger.EntryRecord{}, fmt.Errorf("postgres: entry of %q as of %s: %w", id, at, translate(err))
	}
	es, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ledger.EntryRecord, error) { return scanEntry(r) })
	if err != nil {
		return ledger.EntryRecord{}, fmt.Errorf("postgres: entry of %q as of %s: %w", id, at, translate(err))
	}
	if len(es) == 0 {
		return ledger.EntryRecord{}, fmt.Errorf("postgres: entry of %q as of %s: %w", id, at.Format(time.RFC3339Nano), ledger.ErrNotFound)
	}
	return es[0], nil
}

// DueHolds returns pending holds due at now, by deadline then ID.
func (s *LedgerStore) DueHolds(ctx context.Context, now time.Time, limit int) ([]ledger.TransferID, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("postgres: due holds: field limit: %d must be positive: %w", limit, ledger.ErrInvalid)
	}
	rows, err := s.db.pool.Query(ctx, s.db.q(`SELECT id FROM {s}.ledger_transfers WHERE status = 2 AND hold_until <= $1
		ORDER BY hold_until, id LIMIT $2`), now, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: due holds: %w", translate(err))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[ledger.TransferID])
	if err != nil {
		return nil, fmt.Errorf("postgres: due holds: %w", translate(err))
	}
	return ids, nil
}

// mustExist seals a deferred account with unsealed changes and returns
// ErrAccountNotFound for an unknown one: one round trip when nothing needs
// sealing.
func (s *LedgerStore) mustExist(ctx context.Context, id ledger.AccountID) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: account %q: %w", id, err)
	}
	var unsealed bool
	err := s.db.pool.QueryRow(ctx, s.db.q("SELECT "+unsealedCol+" FROM {s}.ledger_accounts a WHERE id = $1"), string(id)).Scan(&unsealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: account %q: %w", id, ledger.ErrAccountNotFound)
	}
	if err == nil && unsealed {
		err = s.seal(ctx, string(id))
	}
	if err != nil {
		return fmt.Errorf("postgres: account %q: %w", id, translate(err))
	}
	return nil
}

// Row mapping.

const accountStateCols = `id, asset_code, asset_scale, floor, no_floor, ceiling, has_ceiling, deferred, closed,
	balance, pending_debits, pending_credits, version, entries, last_hash`

const accountCols = accountStateCols + `, owner, metadata, opened_at, closed_at`

const transferCols = `id, kind, status, postings, ref, units, reason, principal, metadata, recorded_at, effective_at,
	hold_until, fingerprint, posted_units, resolved_by, reversed_by, refusal_code, refusal_message`

const entryCols = `account, seq, transfer, units, balance, version, recorded_at, effective_at, hash`

func accountStateDest(st *ledger.AccountState, deferred *bool, scale *int16, id *string, hash *[]byte) []any {
	return []any{id, &st.Asset.Code, scale, &st.Floor, &st.NoFloor, &st.Ceiling, &st.HasCeiling, deferred, &st.Closed,
		&st.Balance, &st.PendingDebits, &st.PendingCredits, &st.Version, &st.Entries, hash}
}

func scanAccountState(row pgx.Row, st *ledger.AccountState, deferred *bool) error {
	var scale int16
	var id string
	var hash []byte
	if err := row.Scan(accountStateDest(st, deferred, &scale, &id, &hash)...); err != nil {
		return err
	}
	st.ID, st.Asset.Scale = ledger.AccountID(id), int32(scale)
	copy(st.LastHash[:], hash)
	return nil
}

func scanAccount(row pgx.Row) (ledger.AccountRecord, error) { return scanAccountExtra(row) }

// scanAccountExtra scans accountCols followed by the extra columns.
func scanAccountExtra(row pgx.Row, extra ...any) (ledger.AccountRecord, error) {
	var rec ledger.AccountRecord
	var deferred bool
	var scale int16
	var id string
	var hash, meta []byte
	var opened, closed pgtype.Timestamptz
	dest := append(accountStateDest(&rec.AccountState, &deferred, &scale, &id, &hash), &rec.Owner, &meta, &opened, &closed)
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return rec, err
	}
	rec.ID, rec.Asset.Scale = ledger.AccountID(id), int32(scale)
	copy(rec.LastHash[:], hash)
	rec.OpenedAt, rec.ClosedAt = timeOf(opened), timeOf(closed)
	m, err := metadataOf(meta)
	rec.Metadata = m
	return rec, err
}

func scanEntry(row pgx.Row) (ledger.EntryRecord, error) {
	var e ledger.EntryRecord
	var acct, xfer string
	var rec, eff pgtype.Timestamptz
	var hash []byte
	if err := row.Scan(&acct, &e.Seq, &xfer, &e.Units, &e.Balance, &e.Version, &rec, &eff, &hash); err != nil {
		return e, err
	}
	e.Account, e.Transfer = ledger.AccountID(acct), ledger.TransferID(xfer)
	e.RecordedAt, e.EffectiveAt = timeOf(rec), timeOf(eff)
	copy(e.Hash[:], hash)
	return e, nil
}

func scanTransfer(row pgx.Row) (*ledger.TransferRecord, error) {
	r := &ledger.TransferRecord{}
	var id, ref, resolved, reversed string
	var kind, status int16
	var postings, meta, fp []byte
	var rec, eff, until pgtype.Timestamptz
	if err := row.Scan(&id, &kind, &status, &postings, &ref, &r.Units, &r.Reason, &r.Principal, &meta, &rec, &eff,
		&until, &fp, &r.PostedUnits, &resolved, &reversed, &r.RefusalCode, &r.RefusalMessage); err != nil {
		return nil, err
	}
	r.ID, r.Ref, r.ResolvedBy, r.ReversedBy = ledger.TransferID(id), ledger.TransferID(ref), ledger.TransferID(resolved), ledger.TransferID(reversed)
	r.Kind, r.Status = ledger.Kind(kind), ledger.Status(status)
	r.RecordedAt, r.EffectiveAt, r.HoldUntil = timeOf(rec), timeOf(eff), timeOf(until)
	copy(r.Fingerprint[:], fp)
	ps, err := decodePostings(postings)
	if err != nil {
		return nil, fmt.Errorf("postgres: transfer %q: %w", id, err)
	}
	r.Postings = ps
	r.Metadata, err = metadataOf(meta)
	return r, err
}

// transferColumns gathers transfer records into the column arrays of the
// bulk INSERT in queueTransfers.
type transferColumns struct {
	id, ref, reason, principal, resolved, reversed, code, msg []string
	postings                                                  [][]byte
	meta                                                      []pgtype.Text
	kind, status                                              []int16
	units, posted                                             []int64
	rec, eff, until                                           []pgtype.Timestamptz
	fp                                                        [][]byte
}

func newTransferColumns(n int) *transferColumns {
	return &transferColumns{
		id: make([]string, 0, n), postings: make([][]byte, 0, n), ref: make([]string, 0, n), reason: make([]string, 0, n),
		principal: make([]string, 0, n), resolved: make([]string, 0, n), reversed: make([]string, 0, n),
		code: make([]string, 0, n), msg: make([]string, 0, n), meta: make([]pgtype.Text, 0, n),
		kind: make([]int16, 0, n), status: make([]int16, 0, n), units: make([]int64, 0, n), posted: make([]int64, 0, n),
		rec: make([]pgtype.Timestamptz, 0, n), eff: make([]pgtype.Timestamptz, 0, n), until: make([]pgtype.Timestamptz, 0, n),
		fp: make([][]byte, 0, n),
	}
}

func (c *transferColumns) add(r *ledger.TransferRecord) error {
	meta, err := metadataJSON(r.Metadata)
	if err != nil {
		return err
	}
	c.id = append(c.id, string(r.ID))
	c.kind = append(c.kind, int16(r.Kind))
	c.status = append(c.status, int16(r.Status))
	c.postings = append(c.postings, encodePostings(r.Postings))
	c.ref = append(c.ref, string(r.Ref))
	c.units = append(c.units, r.Units)
	c.reason = append(c.reason, r.Reason)
	c.principal = append(c.principal, r.Principal)
	c.meta = append(c.meta, meta)
	c.rec = append(c.rec, tstz(r.RecordedAt))
	c.eff = append(c.eff, tstz(r.EffectiveAt))
	c.until = append(c.until, tstz(r.HoldUntil))
	c.fp = append(c.fp, append([]byte(nil), r.Fingerprint[:]...))
	c.posted = append(c.posted, r.PostedUnits)
	c.resolved = append(c.resolved, string(r.ResolvedBy))
	c.reversed = append(c.reversed, string(r.ReversedBy))
	c.code = append(c.code, r.RefusalCode)
	c.msg = append(c.msg, r.RefusalMessage)
	return nil
}

func (c *transferColumns) args() []any {
	return []any{c.id, c.kind, c.status, c.postings, c.ref, c.units, c.reason, c.principal, c.meta, c.rec, c.eff,
		c.until, c.fp, c.posted, c.resolved, c.reversed, c.code, c.msg}
}

// metadataJSON encodes metadata for a JSONB column; empty is NULL.
func metadataJSON(m map[string]string) (pgtype.Text, error) {
	if len(m) == 0 {
		return pgtype.Text{}, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return pgtype.Text{}, fmt.Errorf("postgres: metadata: %w", err)
	}
	return pgtype.Text{String: string(b), Valid: true}, nil
}

func metadataOf(b []byte) (map[string]string, error) {
	if len(b) == 0 || string(b) == "null" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("postgres: metadata: %w", err)
	}
	return m, nil
}

// encodePostings is the binary form of ledger_transfers.postings: per
// posting the account (uvarint length, bytes), the side (1 byte), the asset
// code (uvarint length, bytes), the scale (1 byte) and the units (varint).
func encodePostings(ps []ledger.PostingRecord) []byte {
	return appendPostings(make([]byte, 0, 40*len(ps)), ps)
}

// appendPostings appends encodePostings(ps) to b.
func appendPostings(b []byte, ps []ledger.PostingRecord) []byte {
	for _, p := range ps {
		b = binary.AppendUvarint(b, uint64(len(p.Account)))
		b = append(b, p.Account...)
		b = append(b, byte(p.Side))
		b = binary.AppendUvarint(b, uint64(len(p.Asset.Code)))
		b = append(b, p.Asset.Code...)
		b = append(b, byte(p.Asset.Scale))
		b = binary.AppendVarint(b, p.Units)
	}
	return b
}

var errBadPostings = errors.New("postgres: malformed postings column")

// decodePostings reverses encodePostings.
func decodePostings(b []byte) ([]ledger.PostingRecord, error) {
	var ps []ledger.PostingRecord
	str := func() (string, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return "", false
		}
		s := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return s, true
	}
	for len(b) > 0 {
		var p ledger.PostingRecord
		acct, ok := str()
		if !ok || len(b) < 1 {
			return nil, errBadPostings
		}
		p.Account, p.Side, b = ledger.AccountID(acct), ledger.Side(b[0]), b[1:]
		code, ok := str()
		if !ok || len(b) < 1 {
			return nil, errBadPostings
		}
		p.Asset, b = ledger.Asset{Code: code, Scale: int32(b[0])}, b[1:]
		units, k := binary.Varint(b)
		if k <= 0 {
			return nil, errBadPostings
		}
		p.Units, b = units, b[k:]
		ps = append(ps, p)
	}
	return ps, nil
}
