package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/civicloop/civicloop/ledger"
)

// LedgerStore is the ledger kept in the database file (tables ledger_*).
// Every write is one request to the writer: the package's rules
// (ledger.Apply, ledger.CloseState) run inside the shared transaction over
// a ledger.Tx backed by it, and what they changed is written before the
// request's savepoint is released. Reads use the read pool.
type LedgerStore struct {
	db *DB
}

var _ ledger.Store = (*LedgerStore)(nil)

// Ledger returns the ledger store of db.
func (db *DB) Ledger() *LedgerStore { return db.ledger }

const accountStateCols = `id, asset_code, asset_scale, floor, no_floor, ceiling, has_ceiling,
	closed, balance, pending_debits, pending_credits, version, entries, last_hash`

const accountCols = accountStateCols + `, owner, metadata, opened_at, closed_at`

// OpenAccount stores a new account. It returns an error wrapping
// ledger.ErrAccountExists if the ID is taken.
func (s *LedgerStore) OpenAccount(ctx context.Context, rec ledger.AccountRecord) error {
	meta, err := metaArg(rec.Metadata)
	if err != nil {
		return fmt.Errorf("sqlite: ledger: open account %q: %w", rec.ID, err)
	}
	err = s.db.w.doStrict(ctx, func(tx *wtx) error {
		st := &rec.AccountState
		_, err := tx.exec(`INSERT INTO ledger_accounts (`+accountCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			string(st.ID), st.Asset.Code, st.Asset.Scale, st.Floor, boolArg(st.NoFloor),
			st.Ceiling, boolArg(st.HasCeiling), boolArg(st.Closed), st.Balance,
			st.PendingDebits, st.PendingCredits, st.Version, st.Entries, st.LastHash[:],
			rec.Owner, meta, timeArg(rec.OpenedAt), timeArg(rec.ClosedAt))
		return translateAs(err, ledger.ErrAccountExists)
	})
	if err != nil {
		return fmt.Errorf("sqlite: ledger: open account %q: %w", rec.ID, err)
	}
	return nil
}

// CloseAccount closes an account with ledger.CloseState. It returns an
// error wrapping ledger.ErrAccountNotFound or ledger.ErrAccountNotEmpty.
func (s *LedgerStore) CloseAccount(ctx context.Context, id ledger.AccountID, at time.Time) error {
	err := s.db.w.doStrict(ctx, func(tx *wtx) error {
		// The row changes here, not through flush: the cache forgets it.
		tx.w.ac.forget(id)
		st, err := loadAccountState(tx, id)
		if err != nil {
			return err
		}
		changed, err := ledger.CloseState(st)
		if err != nil || !changed {
			return err
		}
		_, err = tx.exec(`UPDATE ledger_accounts SET closed = 1, version = ?, closed_at = ? WHERE id = ?`,
			st.Version, timeArg(at), string(id))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: ledger: close account %q: %w", id, err)
	}
	return nil
}

// Apply applies cmds with ledger.Apply as one atomic write and returns one
// result per command.
func (s *LedgerStore) Apply(ctx context.Context, cmds []ledger.Command) ([]ledger.Result, error) {
	if len(cmds) == 0 {
		return nil, ctx.Err()
	}
	c := applyCalls.Get().(*applyCall)
	c.req.ctx, c.cmds = ctx, cmds
	err := s.db.w.queue(ctx, &c.req)
	results := c.results
	c.reset()
	applyCalls.Put(c)
	if err != nil {
		return nil, fmt.Errorf("sqlite: ledger: apply %d commands: %w", len(cmds), err)
	}
	return results, nil
}

// applyReq is one Apply call queued to the writer.
type applyReq struct {
	cmds    []ledger.Command
	results []ledger.Result
}

// applyCall is an Apply call's request to the writer and its payload in
// one allocation. Apply takes them from applyCalls and puts them back once
// the writer has handed the outcome over (see writeReq.done), so that a
// call allocates neither the request, nor its done channel, nor the
// function value the writer runs.
type applyCall struct {
	req writeReq
	applyReq
}

var applyCalls = sync.Pool{New: func() any {
	c := new(applyCall)
	c.req = writeReq{fn: c.run, strict: true, group: applyGroup{}, payload: &c.applyReq, done: newDone()}
	return c
}}

// reset drops what the call referred to, keeping what every call shares.
func (c *applyCall) reset() {
	c.req.ctx, c.req.err = nil, nil
	c.cmds, c.results = nil, nil
}

// run applies the call alone, in its own pass over the tables.
func (a *applyReq) run(tx *wtx) error {
	a.results = nil
	lt := newLedgerTx(tx)
	// Whatever its size, a call loads what it names in two queries, not one
	// per ID.
	if err := lt.prefetch(a.cmds); err != nil {
		return err
	}
	rs, err := ledger.Apply(lt, a.cmds)
	if err != nil {
		return err
	}
	if err := lt.flush(); err != nil {
		return err
	}
	a.results = rs
	return nil
}

// applyGroup runs Apply calls that the writer took in one batch in a single
// pass: one prefetch for all of them, ledger.Apply for each in queue order
// over the same ledgerTx (so each sees the effects of the ones before it,
// exactly as if they had run one after the other), and one flush. Many
// callers' transfers thus cost a handful of statements, not a handful each.
// If any call fails, the writer rolls the transaction back and runs the
// calls again one by one, each in its savepoint.
type applyGroup struct{}

func (applyGroup) runGroup(tx *wtx, rs []*writeReq) error {
	calls := make([]*applyReq, len(rs))
	cmds := make([][]ledger.Command, len(rs))
	for i, r := range rs {
		calls[i] = r.payload.(*applyReq)
		calls[i].results = nil
		cmds[i] = calls[i].cmds
	}
	lt := newLedgerTx(tx)
	if err := lt.prefetch(cmds...); err != nil {
		return err
	}
	results := make([][]ledger.Result, len(calls))
	for i, a := range calls {
		var err error
		if results[i], err = ledger.Apply(lt, a.cmds); err != nil {
			return err
		}
	}
	if err := lt.flush(); err != nil {
		return err
	}
	for i, a := range calls {
		a.results = results[i]
	}
	return nil
}

// Account returns an account, or an error wrapping
// ledger.ErrAccountNotFound.
func (s *LedgerStore) Account(ctx context.Context, id ledger.AccountID) (_ ledger.AccountRecord, err error) {
	defer s.db.settled(ctx, &err) // no caller sees a commit before it is durable
	q, err := s.db.readStmt(ctx, `SELECT `+accountCols+` FROM ledger_accounts WHERE id = ?`)
	if err != nil {
		return ledger.AccountRecord{}, fmt.Errorf("sqlite: ledger: account %q: %w", id, err)
	}
	rec, err := scanAccount(q.QueryRowContext(ctx, string(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return ledger.AccountRecord{}, fmt.Errorf("sqlite: ledger: account %q: %w", id, ledger.ErrAccountNotFound)
	}
	if err != nil {
		return ledger.AccountRecord{}, fmt.Errorf("sqlite: ledger: account %q: %w", id, translate(err))
	}
	return rec, nil
}

// maxPage caps the page size of every paged read.
const maxPage = 1000

// Accounts returns up to limit accounts with IDs greater than after, by ID.
func (s *LedgerStore) Accounts(ctx context.Context, after ledger.AccountID, limit int) (_ []ledger.AccountRecord, err error) {
	defer s.db.settled(ctx, &err) // no caller sees a commit before it is durable
	if limit <= 0 {
		return nil, fmt.Errorf("sqlite: ledger: accounts: field limit: %d is not positive: %w", limit, ledger.ErrInvalid)
	}
	q, err := s.db.readStmt(ctx, `SELECT `+accountCols+` FROM ledger_accounts WHERE id > ? ORDER BY id LIMIT ?`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: ledger: accounts: %w", err)
	}
	rows, err := q.QueryContext(ctx, string(after), min(limit, maxPage))
	if err != nil {
		return nil, fmt.Errorf("sqlite: ledger: accounts: %w", translate(err))
	}
	defer rows.Close()
	var out []ledger.AccountRecord
	for rows.Next() {
		rec, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: ledger: accounts: %w", translate(err))
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: ledger: accounts: %w", translate(err))
	}
	return out, nil
}

// Transfer returns a transfer record, or an error wrapping
// ledger.ErrTransferNotFound.
func (s *LedgerStore) Transfer(ctx context.Context, id ledger.TransferID) (_ ledger.TransferRecord, err error) {
	defer s.db.settled(ctx, &err) // no caller sees a commit before it is durable
	q, err := s.db.readStmt(ctx, selectTransfer)
	if err != nil {
		return ledger.TransferRecord{}, fmt.Errorf("sqlite: ledger: transfer %q: %w", id, err)
	}
	rec, err := scanTransfer(q.QueryRowContext(ctx, string(id)))
	if err != nil {
		return ledger.TransferRecord{}, fmt.Errorf("sqlite: ledger: transfer %q: %w", id, translate(err))
	}
	return *rec, nil
}

// Transfers returns up to limit transfer records with IDs greater than
// after, by ID.
func (s *LedgerStore) Transfers(ctx context.Context, after ledger.TransferID, limit int) (_ []ledger.TransferRecord, err error) {
	defer s.db.settled(ctx, &err) // no caller sees a commit before it is durable
	if limit <= 0 {
		return nil, fmt.Errorf("sqlite: ledger: transfers: field limit: %d is not positive: %w", limit, ledger.ErrInvalid)
	}
	q, err := s.db.readStmt(ctx, `SELECT `+transferCols+` FROM ledger_transfers WHERE id > ? ORDER BY id LIMIT ?`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: ledger: transfers: %w", err)
	}
	rows, err := q.QueryContext(ctx, string(after), min(limit, maxPage))
	if err != nil {
		return nil, fmt.Errorf("sqlite: ledger: transfers: %w", translate(err))
	}
	defer rows.Close()
	var out []ledger.TransferRecord
	for rows.Next() {
		rec, err := scanTransfer(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: ledger: transfers: %w", translate(err))
		}
		out = append(out, *rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: ledger: transfers: %w", translate(err))
	}
	return out, nil
}

const entryCols = `account, seq, transfer_id, units, balance, version, recorded_at, effective_at, hash`

// Entries returns up to limit entries of an account with Seq greater than
// after, by Seq. It returns an error wrapping ledger.ErrAccountNotFound for
// an unknown account.
func (s *LedgerStore) Entries(ctx context.Context, id ledger.AccountID, after int64, limit int) ([]ledger.EntryRecord, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("sqlite: ledger: entries of %q: field limit: %d is not positive: %w", id, limit, ledger.ErrInvalid)
	}
	var out []ledger.EntryRecord
	err := s.db.readTx(ctx, func(tx reader) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+entryCols+` FROM ledger_entries
			WHERE account = ? AND seq > ? ORDER BY seq LIMIT ?`, string(id), after, min(limit, maxPage))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanEntry(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out) == 0 {
			return accountExists(ctx, tx, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: ledger: entries of %q: %w", id, translate(err))
	}
	return out, nil
}

// EntryAsOf returns the account's last entry recorded at or before at.
func (s *LedgerStore) EntryAsOf(ctx context.Context, id ledger.AccountID, at time.Time) (ledger.EntryRecord, error) {
	var e ledger.EntryRecord
	err := s.db.readTx(ctx, func(tx reader) error {
		var err error
		e, err = scanEntry(tx.QueryRowContext(ctx, `SELECT `+entryCols+` FROM ledger_entries
			WHERE account = ? AND recorded_at <= ? ORDER BY recorded_at DESC, seq DESC LIMIT 1`,
			string(id), timeArg(at)))
		if errors.Is(err, sql.ErrNoRows) {
			if err := accountExists(ctx, tx, id); err != nil {
				return err
			}
			return fmt.Errorf("no entry at or before %s: %w", at.Format(time.RFC3339Nano), ledger.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return ledger.EntryRecord{}, fmt.Errorf("sqlite: ledger: entry of %q as of %s: %w", id, at.Format(time.RFC3339Nano), translate(err))
	}
	return e, nil
}

// DueHolds returns the IDs of up to limit pending holds due at now, by
// HoldUntil then ID.
func (s *LedgerStore) DueHolds(ctx context.Context, now time.Time, limit int) (_ []ledger.TransferID, err error) {
	defer s.db.settled(ctx, &err) // no caller sees a commit before it is durable
	if limit <= 0 {
		return nil, fmt.Errorf("sqlite: ledger: due holds: field limit: %d is not positive: %w", limit, ledger.ErrInvalid)
	}
	// status = 2 (pending) is a literal so that the partial index serves.
	q, err := s.db.readStmt(ctx, `SELECT id FROM ledger_transfers
		WHERE status = 2 AND hold_until <= ? ORDER BY hold_until, id LIMIT ?`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: ledger: due holds: %w", err)
	}
	rows, err := q.QueryContext(ctx, timeArg(now), min(limit, maxPage))
	if err != nil {
		return nil, fmt.Errorf("sqlite: ledger: due holds: %w", translate(err))
	}
	defer rows.Close()
	var ids []ledger.TransferID
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlite: ledger: due holds: %w", translate(err))
		}
		ids = append(ids, ledger.TransferID(id))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: ledger: due holds: %w", translate(err))
	}
	return ids, nil
}

// accountExists returns nil, or an error wrapping ledger.ErrAccountNotFound.
func accountExists(ctx context.Context, tx reader, id ledger.AccountID) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM ledger_accounts WHERE id = ?`, string(id)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ledger.ErrAccountNotFound
	}
	return err
}

func scanAccountState(r rowScanner, st *ledger.AccountState, extra ...any) error {
	var (
		id, code string
		hash     []byte
	)
	dest := append([]any{&id, &code, &st.Asset.Scale, &st.Floor, &st.NoFloor, &st.Ceiling,
		&st.HasCeiling, &st.Closed, &st.Balance, &st.PendingDebits, &st.PendingCredits,
		&st.Version, &st.Entries, &hash}, extra...)
	if err := r.Scan(dest...); err != nil {
		return err
	}
	st.ID, st.Asset.Code = ledger.AccountID(id), code
	var err error
	st.LastHash, err = hashCol(hash)
	return err
}

func scanAccount(r rowScanner) (ledger.AccountRecord, error) {
	var (
		rec              ledger.AccountRecord
		meta             sql.NullString
		opened, closedAt sql.NullInt64
	)
	if err := scanAccountState(r, &rec.AccountState, &rec.Owner, &meta, &opened, &closedAt); err != nil {
		return ledger.AccountRecord{}, err
	}
	var err error
	if rec.Metadata, err = metaCol(meta); err != nil {
		return ledger.AccountRecord{}, err
	}
	rec.OpenedAt, rec.ClosedAt = timeCol(opened), timeCol(closedAt)
	return rec, nil
}

func scanEntry(r rowScanner) (ledger.EntryRecord, error) {
	var (
		e                 ledger.EntryRecord
		account, transfer string
		rec, eff          sql.NullInt64
		hash              []byte
	)
	if err := r.Scan(&account, &e.Seq, &transfer, &e.Units, &e.Balance, &e.Version, &rec, &eff, &hash); err != nil {
		return ledger.EntryRecord{}, err
	}
	e.Account, e.Transfer = ledger.AccountID(account), ledger.TransferID(transfer)
	e.RecordedAt, e.EffectiveAt = timeCol(rec), timeCol(eff)
	var err error
	e.Hash, err = hashCol(hash)
	return e, err
}

// loadAccountState reads an account's state inside the write transaction.
func loadAccountState(tx *wtx, id ledger.AccountID) (*ledger.AccountState, error) {
	st := new(ledger.AccountState)
	err := scanAccountState(tx.queryRow(`SELECT `+accountStateCols+` FROM ledger_accounts WHERE id = ?`, string(id)), st)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ledger.ErrAccountNotFound
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

const transferCols = `id, kind, status, ref, units, reason, principal, postings, metadata,
	recorded_at, effective_at, hold_until, fingerprint, posted_units, resolved_by,
	reversed_by, refusal_code, refusal_message`

const selectTransfer = `SELECT ` + transferCols + ` FROM ledger_transfers WHERE id = ?`

// scanTransfer reads a transfer row. It returns ledger.ErrTransferNotFound
// when there is no row.
func scanTransfer(row rowScanner) (*ledger.TransferRecord, error) {
	var (
		rec                         ledger.TransferRecord
		id, ref, resolved, reversed string
		postings                    string
		meta                        sql.NullString
		recAt, effAt, until         sql.NullInt64
		fp                          []byte
	)
	err := row.Scan(&id, &rec.Kind, &rec.Status, &ref, &rec.Units, &rec.Reason, &rec.Principal, &postings, &meta,
		&recAt, &effAt, &until, &fp, &rec.PostedUnits, &resolved, &reversed, &rec.RefusalCode, &rec.RefusalMessage)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ledger.ErrTransferNotFound
	}
	if err != nil {
		return nil, err
	}
	rec.ID, rec.Ref = ledger.TransferID(id), ledger.TransferID(ref)
	rec.ResolvedBy, rec.ReversedBy = ledger.TransferID(resolved), ledger.TransferID(reversed)
	rec.RecordedAt, rec.EffectiveAt, rec.HoldUntil = timeCol(recAt), timeCol(effAt), timeCol(until)
	if rec.Metadata, err = metaCol(meta); err != nil {
		return nil, err
	}
	if rec.Fingerprint, err = hashCol(fp); err != nil {
		return nil, err
	}
	if rec.Postings, err = postingsCol(postings); err != nil {
		return nil, err
	}
	return &rec, nil
}

// postingJSON is one posting in the postings column.
type postingJSON struct {
	Account string `json:"account"`
	Side    uint8  `json:"side"`
	Asset   string `json:"asset"`
	Scale   int32  `json:"scale"`
	Units   int64  `json:"units"`
}

// postingsArg is the postings column of ps: the JSON array
// json.Marshal makes of ps as []postingJSON, byte for byte, written by hand
// because a batch writes one per transfer and reflection costs more than
// the rest of the row.
func postingsArg(ps []ledger.PostingRecord) (string, error) {
	b := make([]byte, 0, 80*len(ps)+2)
	b = append(b, '[')
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"account":`...)
		var err error
		if b, err = appendJSONString(b, string(p.Account)); err != nil {
			return "", err
		}
		b = append(b, `,"side":`...)
		b = strconv.AppendUint(b, uint64(p.Side), 10)
		b = append(b, `,"asset":`...)
		if b, err = appendJSONString(b, p.Asset.Code); err != nil {
			return "", err
		}
		b = append(b, `,"scale":`...)
		b = strconv.AppendInt(b, int64(p.Asset.Scale), 10)
		b = append(b, `,"units":`...)
		b = strconv.AppendInt(b, p.Units, 10)
		b = append(b, '}')
	}
	b = append(b, ']')
	return string(b), nil
}

// appendJSONString appends s as json.Marshal writes it: printable ASCII
// other than the characters it escapes goes as it is, anything else
// through json.Marshal itself.
func appendJSONString(b []byte, s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			if err != nil {
				return nil, err
			}
			return append(b, q...), nil
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), nil
}

func postingsCol(s string) ([]ledger.PostingRecord, error) {
	var js []postingJSON
	if err := json.Unmarshal([]byte(s), &js); err != nil {
		return nil, fmt.Errorf("%w: postings column: %v", ErrCorrupt, err)
	}
	if len(js) == 0 {
		return nil, nil
	}
	ps := make([]ledger.PostingRecord, len(js))
	for i, j := range js {
		ps[i] = ledger.PostingRecord{
			Account: ledger.AccountID(j.Account),
			Side:    ledger.Side(j.Side),
			Asset:   ledger.Asset{Code: j.Asset, Scale: j.Scale},
			Units:   j.Units,
		}
	}
	return ps, nil
}

// ledgerTx is the ledger.Tx the rules see inside one Apply. It caches what
// it reads, so that the rules get the same pointer for the same ID, and
// keeps what they change in memory until flush writes it: an account
// touched by many commands of a batch is written once.
type ledgerTx struct {
	tx       *wtx
	accounts map[ledger.AccountID]*ledger.AccountState
	// loaded holds each account's version as this pass found it (in the
	// file or in the writer's cache): flush updates a row only if it still
	// has that version (see updateAccount).
	loaded     map[ledger.AccountID]int64
	dirtyAccts []*ledger.AccountState
	isDirty    map[*ledger.AccountState]bool
	transfers  map[ledger.TransferID]*txTransfer
	dirtyXfers []*txTransfer
	entries    []ledger.EntryRecord
	// noAccount and noTransfer hold the IDs prefetch looked for and did
	// not find, so that the rules' lookups of new IDs cost no query.
	noAccount  map[ledger.AccountID]bool
	noTransfer map[ledger.TransferID]bool
	// Working space of prefetch, and a slab of txTransfers for a pass's
	// new transfers (see newLedgerTx).
	seenX map[ledger.TransferID]bool
	seenA map[ledger.AccountID]bool
	xids  []string
	aids  []string
	xfers []txTransfer
}

type txTransfer struct {
	rec    *ledger.TransferRecord
	stored bool // the row exists in the file: flush updates it
	dirty  bool
}

// newLedgerTx returns the writer's ledgerTx, emptied, for one pass. Only
// the writer goroutine makes one, and a pass ends before the next begins,
// so the writer keeps a single ledgerTx and reuses its maps and slices
// from batch to batch instead of growing new ones for every batch.
func newLedgerTx(tx *wtx) *ledgerTx {
	lt := tx.w.lt
	if lt == nil {
		lt = &ledgerTx{
			accounts:   make(map[ledger.AccountID]*ledger.AccountState),
			loaded:     make(map[ledger.AccountID]int64),
			isDirty:    make(map[*ledger.AccountState]bool),
			transfers:  make(map[ledger.TransferID]*txTransfer),
			noAccount:  make(map[ledger.AccountID]bool),
			noTransfer: make(map[ledger.TransferID]bool),
			seenX:      make(map[ledger.TransferID]bool),
			seenA:      make(map[ledger.AccountID]bool),
		}
		tx.w.lt = lt
	}
	lt.reset()
	lt.tx = tx
	return lt
}

// reset empties lt, keeping the space of its maps and slices but no
// reference to what the last pass held.
func (lt *ledgerTx) reset() {
	lt.tx = nil
	clear(lt.accounts)
	clear(lt.loaded)
	clear(lt.isDirty)
	clear(lt.transfers)
	clear(lt.noAccount)
	clear(lt.noTransfer)
	clear(lt.seenX)
	clear(lt.seenA)
	clear(lt.dirtyAccts)
	lt.dirtyAccts = lt.dirtyAccts[:0]
	clear(lt.dirtyXfers)
	lt.dirtyXfers = lt.dirtyXfers[:0]
	clear(lt.entries)
	lt.entries = lt.entries[:0]
	clear(lt.xfers)
	lt.xfers = lt.xfers[:0]
	clear(lt.xids)
	lt.xids = lt.xids[:0]
	clear(lt.aids)
	lt.aids = lt.aids[:0]
}

// newTxTransfer returns a zero txTransfer from lt's slab.
func (lt *ledgerTx) newTxTransfer() *txTransfer {
	if len(lt.xfers) < cap(lt.xfers) {
		lt.xfers = lt.xfers[:len(lt.xfers)+1]
		return &lt.xfers[len(lt.xfers)-1]
	}
	return new(txTransfer)
}

// prefetch loads, in one query each, the transfers cmds name (their IDs
// and references) and the accounts their postings name, and remembers
// which do not exist. A batch then costs two lookups, not one per command
// (and one more for each of its transfer IDs already recorded).
func (lt *ledgerTx) prefetch(calls ...[]ledger.Command) error {
	n := 0
	for _, cmds := range calls {
		n += len(cmds)
	}
	// A transfer writes two entries; more postings grow the slice.
	if cap(lt.entries) < 2*n {
		lt.entries = make([]ledger.EntryRecord, 0, 2*n)
	}
	if cap(lt.xfers) < n {
		lt.xfers = make([]txTransfer, 0, n)
	}
	var (
		xids  = lt.xids
		aids  = lt.aids
		seenX = lt.seenX
		seenA = lt.seenA
	)
	defer func() { lt.xids, lt.aids = xids, aids }()
	for _, cmds := range calls {
		for i := range cmds {
			c := &cmds[i]
			for _, id := range [2]ledger.TransferID{c.ID, c.Ref} {
				if id != "" && !seenX[id] {
					seenX[id] = true
					xids = append(xids, string(id))
				}
			}
			for _, p := range c.Postings {
				if !seenA[p.Account] {
					seenA[p.Account] = true
					aids = append(aids, string(p.Account))
				}
			}
		}
	}
	if err := lt.prefetchTransfers(xids); err != nil {
		return err
	}
	for id := range seenX {
		if _, ok := lt.transfers[id]; !ok {
			lt.noTransfer[id] = true
		}
	}
	if err := lt.prefetchAccounts(aids); err != nil {
		return err
	}
	for id := range seenA {
		if _, ok := lt.accounts[id]; !ok {
			lt.noAccount[id] = true
		}
	}
	return nil
}

// prefetchTransfers loads the transfers among ids. Most IDs of a call are
// new, so it first asks which exist, reading one column, and reads the
// whole rows of those alone.
func (lt *ledgerTx) prefetchTransfers(ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	var found []string
	err := lt.queryIDs(`SELECT id FROM ledger_transfers WHERE id IN `, ids, func(r valuesRow) error {
		var id string
		if err := r.Scan(&id); err != nil {
			return err
		}
		found = append(found, id)
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range found {
		rec, err := scanTransfer(lt.tx.queryRow(selectTransfer, id))
		if err != nil {
			return err
		}
		lt.transfers[rec.ID] = &txTransfer{rec: rec, stored: true}
	}
	return nil
}

// prefetchAccounts loads the accounts among ids, those the writer's
// cache knows from the cache.
func (lt *ledgerTx) prefetchAccounts(ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	ac := lt.tx.w.ac
	if err := ac.check(lt.tx); err != nil {
		return err
	}
	missing := ids[:0]
	for _, id := range ids {
		if st, ok := ac.get(ledger.AccountID(id)); ok {
			lt.accounts[st.ID] = &st
			lt.loaded[st.ID] = st.Version
			continue
		}
		missing = append(missing, id)
	}
	if len(missing) == 0 {
		return nil
	}
	return lt.queryIDs(`SELECT `+accountStateCols+` FROM ledger_accounts WHERE id IN `, missing, func(r valuesRow) error {
		st := new(ledger.AccountState)
		if err := scanAccountState(r, st); err != nil {
			return err
		}
		lt.accounts[st.ID] = st
		lt.loaded[st.ID] = st.Version
		return nil
	})
}

// listMax is the longest ID list bound as one placeholder per ID; longer
// lists travel as one JSON array, so that a few prepared statements serve
// every length.
const listMax = 16

// queryIDs runs prefix + a list of ids ("... WHERE id IN ") on the driver
// connection and calls each for every row.
func (lt *ledgerTx) queryIDs(prefix string, ids []string, each func(valuesRow) error) error {
	if len(ids) > listMax {
		arg, err := json.Marshal(ids)
		if err != nil {
			return err
		}
		return lt.tx.queryValues(prefix+`(SELECT value FROM json_each(?))`, []any{string(arg)}, each)
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return lt.tx.queryValues(lt.tx.w.listQuery(prefix, len(ids)), args, each)
}

func (lt *ledgerTx) Account(id ledger.AccountID) (*ledger.AccountState, error) {
	if st, ok := lt.accounts[id]; ok {
		return st, nil
	}
	if lt.noAccount[id] {
		return nil, ledger.ErrAccountNotFound
	}
	st, err := loadAccountState(lt.tx, id)
	if err != nil {
		return nil, err
	}
	lt.accounts[id] = st
	lt.loaded[id] = st.Version
	return st, nil
}

func (lt *ledgerTx) Transfer(id ledger.TransferID) (*ledger.TransferRecord, error) {
	if t, ok := lt.transfers[id]; ok {
		return t.rec, nil
	}
	if lt.noTransfer[id] {
		return nil, ledger.ErrTransferNotFound
	}
	rec, err := scanTransfer(lt.tx.queryRow(selectTransfer, string(id)))
	if err != nil {
		return nil, err
	}
	lt.transfers[id] = &txTransfer{rec: rec, stored: true}
	return rec, nil
}

func (lt *ledgerTx) PutAccount(st *ledger.AccountState) error {
	if lt.accounts[st.ID] != st {
		return fmt.Errorf("sqlite: ledger: PutAccount %q: state was not returned by Account: %w", st.ID, ledger.ErrInvariant)
	}
	if !lt.isDirty[st] {
		lt.isDirty[st] = true
		lt.dirtyAccts = append(lt.dirtyAccts, st)
	}
	return nil
}

func (lt *ledgerTx) PutTransfer(r *ledger.TransferRecord) error {
	t, ok := lt.transfers[r.ID]
	if !ok {
		t = lt.newTxTransfer()
		lt.transfers[r.ID] = t
	}
	t.rec = r
	if !t.dirty {
		t.dirty = true
		lt.dirtyXfers = append(lt.dirtyXfers, t)
	}
	return nil
}

func (lt *ledgerTx) PutEntry(e ledger.EntryRecord) error {
	lt.entries = append(lt.entries, e)
	return nil
}

// flush writes what the rules changed: new and changed transfers, new
// entries, changed account states. New rows go in multi-row INSERTs.
//
// Its multi-row statements say OR FAIL: one that fails midway keeps the
// rows it wrote before the failure instead of undoing itself, which spares
// SQLite the statement journal it would otherwise fill with a copy of every
// page the statement touches (see migration 0006). flush's error always
// reaches the writer, which then rolls the request back to its savepoint or
// with its whole transaction, so those rows are never committed.
func (lt *ledgerTx) flush() error {
	// The argument lists go in one buffer the writer keeps from batch to
	// batch; it is cleared on the way out so that it holds no record alive.
	w := lt.tx.w
	args := w.args[:0]
	defer func() {
		clear(args[:cap(args)])
		w.args = args[:0]
	}()
	var tb [3]timeBox
	for _, t := range lt.dirtyXfers {
		if t.stored {
			if err := updateTransfer(lt.tx, t.rec); err != nil {
				return fmt.Errorf("transfer %q: %w", t.rec.ID, err)
			}
			continue
		}
		var err error
		if args, err = appendTransferArgs(args, t.rec, &tb); err != nil {
			return fmt.Errorf("transfer %q: %w", t.rec.ID, err)
		}
	}
	if err := insertRows(lt.tx, `INSERT OR FAIL INTO ledger_transfers (`+transferCols+`) VALUES `, transferArgs, transferShared, args); err != nil {
		return fmt.Errorf("transfers: %w", err)
	}
	args = args[:0]
	// The entries of a batch mostly share their times: box each once.
	var rec, eff timeBox
	for i := range lt.entries {
		e := &lt.entries[i]
		args = append(args, string(e.Account), e.Seq, string(e.Transfer), e.Units, e.Balance, e.Version,
			rec.arg(e.RecordedAt), eff.arg(e.EffectiveAt), e.Hash[:])
	}
	if err := insertRows(lt.tx, `INSERT OR FAIL INTO ledger_entries (`+entryCols+`) VALUES `, entryArgs, entryShared, args); err != nil {
		return fmt.Errorf("entries: %w", err)
	}
	args = args[:0]
	for _, st := range lt.dirtyAccts {
		args = append(args, string(st.ID), boolArg(st.Closed), st.Balance, st.PendingDebits,
			st.PendingCredits, st.Version, st.Entries, st.LastHash[:], lt.loaded[st.ID])
	}
	// One statement per account: an UPDATE ... FROM (VALUES ...) of many
	// accounts first copies its rows to a temporary table, which costs
	// more than running this one again (a twentieth of a single
	// transfer's work).
	for i := 0; i < len(args); i += accountArgs {
		res, err := lt.tx.execValues(updateAccount, args[i:i+accountArgs])
		if err != nil {
			return fmt.Errorf("account %q: %w", args[i], err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			// The row is not at the version this pass read: the state
			// came from a stale cache. Nothing of this transaction may
			// stand; the writer drops the cache and runs the request
			// again from the file (see errStaleAccount).
			w.ac.drop()
			return fmt.Errorf("%w: %w: account %q is not at version %d (%d rows updated, %v)",
				errTxLost, errStaleAccount, args[i], args[i+accountArgs-1], n, err)
		}
	}
	for _, st := range lt.dirtyAccts {
		w.ac.put(st)
	}
	return nil
}

// timeBox is timeArg that reuses the value it made last for an equal
// time.Time, sparing an allocation per row when rows share a time.
type timeBox struct {
	t   time.Time
	v   any
	set bool
}

func (b *timeBox) arg(t time.Time) any {
	if !b.set || t != b.t {
		b.t, b.v, b.set = t, timeArg(t), true
	}
	return b.v
}

const (
	transferArgs = 18 // columns in transferCols
	entryArgs    = 9  // columns in entryCols
	accountArgs  = 9  // the parameters of updateAccount
)

// updateAccount writes the state columns the rules change of one account,
// provided the row still has the version the pass read (?9): a stale state
// from the writer's cache then changes no row instead of overwriting the
// balance and the hash chain.
const updateAccount = `UPDATE OR FAIL ledger_accounts SET closed = ?2, balance = ?3, pending_debits = ?4,
	pending_credits = ?5, version = ?6, entries = ?7, last_hash = ?8 WHERE id = ?1 AND version = ?9`

// errStaleAccount marks a write refused because an account's row was not
// at the version the pass read: the writer's cache was stale. It comes
// wrapped with errTxLost, so the writer rolls the transaction back and
// runs the requests again, reading the accounts from the file.
var errStaleAccount = errors.New("sqlite: ledger account changed under the writer's cache")

// The columns of each list above whose value the rows of one statement
// often share (see execRows): everything of a transfer but its ID,
// postings and fingerprint (a batch's transfers tend to share their kind,
// reason, times and empty fields); an entry's times.
const (
	transferShared = (1<<transferArgs - 1) &^ (1<<0 | 1<<7 | 1<<12)
	entryShared    = 1<<6 | 1<<7
)

func appendTransferArgs(args []any, r *ledger.TransferRecord, tb *[3]timeBox) ([]any, error) {
	meta, err := metaArg(r.Metadata)
	if err != nil {
		return nil, err
	}
	postings, err := postingsArg(r.Postings)
	if err != nil {
		return nil, err
	}
	return append(args, string(r.ID), int64(r.Kind), int64(r.Status), string(r.Ref), r.Units, r.Reason,
		r.Principal, postings, meta, tb[0].arg(r.RecordedAt), tb[1].arg(r.EffectiveAt), tb[2].arg(r.HoldUntil),
		r.Fingerprint[:], r.PostedUnits, string(r.ResolvedBy), string(r.ReversedBy), r.RefusalCode,
		r.RefusalMessage), nil
}

// updateTransfer writes what the rules may change on a stored transfer:
// its status and resolution.
func updateTransfer(tx *wtx, r *ledger.TransferRecord) error {
	_, err := tx.exec(`UPDATE ledger_transfers SET status = ?, posted_units = ?, resolved_by = ?,
		reversed_by = ?, refusal_code = ?, refusal_message = ? WHERE id = ?`,
		int64(r.Status), r.PostedUnits, string(r.ResolvedBy), string(r.ReversedBy),
		r.RefusalCode, r.RefusalMessage, string(r.ID))
	return err
}
