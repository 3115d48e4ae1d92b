package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/civicloop/civicloop/ledger"
)

// This file applies ledger commands: one transaction per group-commit batch,
// inside which the ledger's own rules (ledger.Apply) decide everything.
//
// Lock order, the same in every transaction of every process: first the
// transfer rows the commands name (their IDs and the holds or originals they
// refer to), sorted by ID, FOR UPDATE; then the bounded accounts, sorted by
// ID, FOR UPDATE. Deferred accounts (no floor, no ceiling: issuing accounts)
// are only share-locked (FOR KEY SHARE, which does not conflict with itself
// or with sealing), and their changes are appended to ledger_pending rather
// than written to their row, so they are never a hot lock. See ledger_seal.go.

// querier is what applyTx runs statements on: a pgx.Tx, or a *pgx.Conn on
// which the transaction was begun by a BEGIN statement.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// applyTx is the ledger.Tx of one attempt of one batch.
type applyTx struct {
	ctx context.Context
	s   *LedgerStore
	tx  querier
	pg  *pgconn.PgConn // tx's connection, for COPY

	accounts  map[ledger.AccountID]*acctSlot
	transfers map[ledger.TransferID]*xferSlot
	entries   []ledger.EntryRecord
	pending   []pendingRow
	cur       *ledger.Command // the command being applied
}

// acctSlot is one account loaded into the transaction.
type acctSlot struct {
	st       ledger.AccountState
	deferred bool
	missing  bool
	dirty    bool
	// snap is the deferred account's state as of its last PutAccount, so
	// each command's change can be appended as a delta.
	snap ledger.AccountState
	// entry is the deferred account's entry of the current command.
	entry *ledger.EntryRecord
}

// xferSlot is one transfer ID looked up in the transaction.
type xferSlot struct {
	rec     *ledger.TransferRecord
	missing bool
	stored  bool // the row exists in the database
	dirty   bool
}

// pendingRow is one command's change to a deferred account.
type pendingRow struct {
	account             ledger.AccountID
	transfer            ledger.TransferID
	units, pdeb, pcred  int64
	recorded, effective time.Time
}

var _ ledger.Tx = (*applyTx)(nil)

func (t *applyTx) Account(id ledger.AccountID) (*ledger.AccountState, error) {
	a, ok := t.accounts[id]
	if !ok {
		// Not preloaded (the preload covers every account the commands
		// can touch); load it now, out of lock order, and let a deadlock
		// be retried.
		if err := t.loadAccounts([]ledger.AccountID{id}); err != nil {
			return nil, err
		}
		a = t.accounts[id]
	}
	if a.missing {
		return nil, fmt.Errorf("postgres: account %q: %w", id, ledger.ErrAccountNotFound)
	}
	return &a.st, nil
}

func (t *applyTx) Transfer(id ledger.TransferID) (*ledger.TransferRecord, error) {
	x, ok := t.transfers[id]
	if !ok {
		if err := t.loadTransfers([]ledger.TransferID{id}); err != nil {
			return nil, err
		}
		x = t.transfers[id]
	}
	if x.missing {
		return nil, transferNotFound(id)
	}
	return x.rec, nil
}

// transferNotFound is the error of Tx.Transfer for an unknown ID. The rules
// look up every new command's ID, so it is built without formatting; the
// message is made only if someone reads it.
type transferNotFound ledger.TransferID

func (e transferNotFound) Error() string {
	return fmt.Sprintf("postgres: transfer %q: %v", string(e), ledger.ErrTransferNotFound)
}

func (e transferNotFound) Unwrap() error { return ledger.ErrTransferNotFound }

func (t *applyTx) PutAccount(st *ledger.AccountState) error {
	a, ok := t.accounts[st.ID]
	if !ok || &a.st != st {
		return fmt.Errorf("postgres: PutAccount %q: state not from this transaction: %w", st.ID, ledger.ErrInvalid)
	}
	if !a.deferred {
		a.dirty = true
		return nil
	}
	row := pendingRow{
		account:   st.ID,
		transfer:  t.cur.ID,
		units:     st.Balance - a.snap.Balance,
		pdeb:      st.PendingDebits - a.snap.PendingDebits,
		pcred:     st.PendingCredits - a.snap.PendingCredits,
		recorded:  t.cur.RecordedAt,
		effective: t.cur.EffectiveAt,
	}
	if a.entry != nil {
		row.recorded, row.effective = a.entry.RecordedAt, a.entry.EffectiveAt
		a.entry = nil
	}
	t.pending = append(t.pending, row)
	a.snap = a.st
	return nil
}

func (t *applyTx) PutTransfer(r *ledger.TransferRecord) error {
	x, ok := t.transfers[r.ID]
	if !ok || x.missing {
		t.transfers[r.ID] = &xferSlot{rec: r, dirty: true}
		return nil
	}
	if x.rec != r {
		return fmt.Errorf("postgres: PutTransfer %q: a different record is already stored: %w", r.ID, ledger.ErrInvalid)
	}
	x.dirty = true
	return nil
}

func (t *applyTx) PutEntry(e ledger.EntryRecord) error {
	a, ok := t.accounts[e.Account]
	if !ok {
		return fmt.Errorf("postgres: PutEntry %q: account not loaded: %w", e.Account, ledger.ErrInvalid)
	}
	if a.deferred {
		// Seq, balance, version and hash are assigned when sealed.
		a.entry = &e
		return nil
	}
	t.entries = append(t.entries, e)
	return nil
}

// applyBatch is one attempt: load and lock, run the rules, persist, commit.
// On the adapter's own pool it takes two round trips (BEGIN, the locking
// reads; the writes, COMMIT), plus one when posts, voids or reversals name
// accounts the commands do not; on another Pool four.
func (s *LedgerStore) applyBatch(ctx context.Context, cmds []ledger.Command) ([]ledger.Result, map[string]int, error) {
	if p, ok := s.db.pool.(*connPool); ok {
		c, err := p.acquire(ctx)
		if err != nil {
			return nil, nil, err
		}
		defer p.release(c)
		res, pending, err := s.applyOn(ctx, c, cmds, true)
		if err != nil && !c.IsClosed() {
			// Leave the connection idle. If even that fails — pgx leaves a
			// connection busy after an error while reading batch rows —
			// close it, and release discards it.
			if _, rerr := c.Exec(context.Background(), "ROLLBACK"); rerr != nil {
				_ = c.Close(context.Background())
			}
		}
		return res, pending, err
	}
	tx, err := s.db.pool.Begin(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	res, pending, err := s.applyOn(ctx, tx, cmds, false)
	if err != nil {
		return nil, nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, nil, err
	}
	return res, pending, nil
}

// applyOn runs the batch on q and returns the results and the
// ledger_pending rows it added per deferred account. With own set, q is a connection outside any
// transaction: applyOn begins and commits the transaction itself, pipelined
// with the reads and the writes.
func (s *LedgerStore) applyOn(ctx context.Context, q querier, cmds []ledger.Command, own bool) ([]ledger.Result, map[string]int, error) {
	t := &applyTx{
		ctx:       ctx,
		s:         s,
		tx:        q,
		pg:        s.db.copyConn(q),
		accounts:  make(map[ledger.AccountID]*acctSlot),
		transfers: make(map[ledger.TransferID]*xferSlot, 2*len(cmds)),
	}
	if err := t.preload(cmds, own); err != nil {
		return nil, nil, err
	}
	results := make([]ledger.Result, len(cmds))
	for i := range cmds {
		t.cur = &cmds[i]
		r, err := ledger.Apply(t, cmds[i:i+1])
		if err != nil {
			return nil, nil, err
		}
		results[i] = r[0]
	}
	if err := t.persist(own); err != nil {
		if pe := pgError(err); pe != nil && pe.Code == codeUniqueViolation {
			// Another process recorded one of these IDs since we looked:
			// run again, and the rules will see it as a replay.
			return nil, nil, errRetry{err}
		}
		return nil, nil, err
	}
	pending := map[string]int{}
	for _, p := range t.pending {
		pending[string(p.account)]++
	}
	return results, pending, nil
}

// copyConn returns the connection under q for COPY, or nil when q offers
// none or Options.NoCopy is set.
func (db *DB) copyConn(q querier) *pgconn.PgConn {
	if db.opts.NoCopy {
		return nil
	}
	switch q := q.(type) {
	case *pgx.Conn:
		return q.PgConn()
	case pgx.Tx:
		return q.Conn().PgConn()
	}
	return nil
}

// preload locks and loads, in lock order, every transfer and account the
// commands may touch. When no command refers to another transfer, this is
// one pipelined round trip (preceded by BEGIN when begin is set): the
// transfer rows, then the accounts. Otherwise the transfers come first, in a
// round trip of their own, so that the accounts their postings name are
// locked in the same sorted statement as the others.
func (t *applyTx) preload(cmds []ledger.Command, begin bool) error {
	ids := make([]ledger.TransferID, 0, len(cmds)+4)
	refs := false
	for i := range cmds {
		ids = append(ids, cmds[i].ID)
		if cmds[i].Ref != "" {
			ids = append(ids, cmds[i].Ref)
			refs = true
		}
	}
	b := &pgx.Batch{}
	if begin {
		b.Queue("BEGIN")
	}
	xfers := t.queueLoadTransfers(b, ids)
	var acctIDs []string
	if !refs {
		acctIDs = t.queueLoadAccounts(b, postingAccounts(cmds, nil))
	}
	br := t.tx.SendBatch(t.ctx, b)
	err := func() error {
		if begin {
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		if err := t.readTransfers(br, xfers); err != nil {
			return err
		}
		return t.readAccounts(br, acctIDs)
	}()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil || !refs {
		return err
	}
	return t.loadAccounts(postingAccounts(cmds, t.transfers))
}

// postingAccounts lists the accounts the commands' postings name and, with
// loaded set, those of the transfers they refer to.
func postingAccounts(cmds []ledger.Command, loaded map[ledger.TransferID]*xferSlot) []ledger.AccountID {
	var accts []ledger.AccountID
	seen := make(map[ledger.AccountID]bool)
	add := func(ps []ledger.PostingRecord) {
		for _, p := range ps {
			if !seen[p.Account] {
				seen[p.Account] = true
				accts = append(accts, p.Account)
			}
		}
	}
	for i := range cmds {
		add(cmds[i].Postings)
		if x := loaded[cmds[i].Ref]; cmds[i].Ref != "" && x != nil && !x.missing {
			add(x.rec.Postings)
		}
	}
	return accts
}

// loadTransfers locks and loads the transfers with these IDs; the ones that
// do not exist are remembered as missing.
func (t *applyTx) loadTransfers(ids []ledger.TransferID) error {
	b := &pgx.Batch{}
	q := t.queueLoadTransfers(b, ids)
	if q == nil {
		return nil
	}
	br := t.tx.SendBatch(t.ctx, b)
	err := t.readTransfers(br, q)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// queueLoadTransfers queues the locking read of the transfers not yet
// loaded and returns their IDs, or nil when there are none.
func (t *applyTx) queueLoadTransfers(b *pgx.Batch, ids []ledger.TransferID) []string {
	strs := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, ok := t.transfers[id]; !ok {
			strs = append(strs, string(id))
		}
	}
	if len(strs) == 0 {
		return nil
	}
	slices.Sort(strs)
	strs = slices.Compact(strs)
	b.Queue(t.s.db.q("SELECT "+transferCols+" FROM {s}.ledger_transfers WHERE id = ANY($1) ORDER BY id FOR UPDATE"), strs)
	return strs
}

func (t *applyTx) readTransfers(br pgx.BatchResults, strs []string) error {
	if strs == nil {
		return nil
	}
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		rec, err := scanTransfer(rows)
		if err != nil {
			return err
		}
		t.transfers[rec.ID] = &xferSlot{rec: rec, stored: true}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range strs {
		if _, ok := t.transfers[ledger.TransferID(id)]; !ok {
			t.transfers[ledger.TransferID(id)] = &xferSlot{missing: true}
		}
	}
	return nil
}

// loadAccounts locks and loads the accounts not yet loaded.
func (t *applyTx) loadAccounts(ids []ledger.AccountID) error {
	b := &pgx.Batch{}
	q := t.queueLoadAccounts(b, ids)
	if q == nil {
		return nil
	}
	br := t.tx.SendBatch(t.ctx, b)
	err := t.readAccounts(br, q)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// queueLoadAccounts queues the reads of the accounts not yet loaded: bounded
// ones FOR UPDATE in ID order, deferred ones FOR KEY SHARE, and the sums of
// the deferred ones' unsealed changes. It returns their IDs, or nil.
func (t *applyTx) queueLoadAccounts(b *pgx.Batch, ids []ledger.AccountID) []string {
	strs := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, ok := t.accounts[id]; !ok {
			strs = append(strs, string(id))
		}
	}
	if len(strs) == 0 {
		return nil
	}
	slices.Sort(strs)
	strs = slices.Compact(strs)
	b.Queue(t.s.db.q("SELECT "+accountStateCols+" FROM {s}.ledger_accounts WHERE id = ANY($1) AND NOT deferred ORDER BY id FOR UPDATE"), strs)
	b.Queue(t.s.db.q("SELECT "+accountStateCols+" FROM {s}.ledger_accounts WHERE id = ANY($1) AND deferred ORDER BY id FOR KEY SHARE"), strs)
	b.Queue(t.s.db.q("SELECT account, SUM(units), SUM(pending_debits), SUM(pending_credits) FROM {s}.ledger_pending WHERE account = ANY($1) GROUP BY account"), strs)
	return strs
}

func (t *applyTx) readAccounts(br pgx.BatchResults, strs []string) error {
	if strs == nil {
		return nil
	}
	for range 2 {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		for rows.Next() {
			a := &acctSlot{}
			if err := scanAccountState(rows, &a.st, &a.deferred); err != nil {
				rows.Close()
				return err
			}
			a.snap = a.st
			t.accounts[a.st.ID] = a
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var units, pdeb, pcred int64
		if err := rows.Scan(&id, &units, &pdeb, &pcred); err != nil {
			return err
		}
		if a := t.accounts[ledger.AccountID(id)]; a != nil {
			// The rules check overflow and pending amounts against these.
			a.st.Balance += units
			a.st.PendingDebits += pdeb
			a.st.PendingCredits += pcred
			a.snap = a.st
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range strs {
		if _, ok := t.accounts[ledger.AccountID(id)]; !ok {
			t.accounts[ledger.AccountID(id)] = &acctSlot{missing: true}
		}
	}
	return nil
}

// copyMin is the fewest rows a bulk insert sends by COPY rather than as
// INSERT ... unnest in the pipelined batch. A COPY costs a round trip of its
// own, but much less CPU per row on both sides: no argument arrays to build
// and decode, no executor projection.
const copyMin = 64

// persist writes what the rules changed and ends with COMMIT when commit is
// set: large inserts by COPY, then the rest pipelined in one round trip.
func (t *applyTx) persist(commit bool) error {
	var ins, upd []*ledger.TransferRecord
	for _, x := range t.transfers {
		switch {
		case !x.dirty:
		case x.stored:
			upd = append(upd, x.rec)
		default:
			ins = append(ins, x.rec)
		}
	}
	b := &pgx.Batch{}
	if t.useCopy(len(ins)) {
		if err := t.copyTransfers(ins); err != nil {
			return err
		}
	} else if err := t.queueTransfers(b, ins); err != nil {
		return err
	}
	t.queueTransferUpdates(b, upd)
	if t.useCopy(len(t.entries)) {
		if err := copyEntries(t.ctx, t.s.db, t.pg, t.entries); err != nil {
			return err
		}
	} else {
		t.queueEntries(b)
	}
	if t.useCopy(len(t.pending)) {
		if err := t.copyPending(); err != nil {
			return err
		}
	} else {
		t.queuePending(b)
	}
	t.queueAccounts(b)
	if commit {
		b.Queue("COMMIT")
	}
	if b.Len() == 0 {
		return nil
	}
	return t.tx.SendBatch(t.ctx, b).Close()
}

func (t *applyTx) useCopy(rows int) bool { return rows >= copyMin && t.pg != nil }

// copyTransfers inserts new transfer records by COPY.
func (t *applyTx) copyTransfers(ins []*ledger.TransferRecord) error {
	c := getCopyBuf()
	defer putCopyBuf(c)
	c.grow(len(ins) * 200)
	for _, r := range ins {
		meta, err := metadataJSON(r.Metadata)
		if err != nil {
			return err
		}
		c.row(18)
		c.text(string(r.ID))
		c.int2(int16(r.Kind))
		c.int2(int16(r.Status))
		c.postings(r.Postings)
		c.text(string(r.Ref))
		c.int8(r.Units)
		c.text(r.Reason)
		c.text(r.Principal)
		c.jsonb(meta.String, meta.Valid)
		c.tstz(r.RecordedAt)
		c.tstz(r.EffectiveAt)
		c.tstz(r.HoldUntil)
		c.bytea(r.Fingerprint[:])
		c.int8(r.PostedUnits)
		c.text(string(r.ResolvedBy))
		c.text(string(r.ReversedBy))
		c.text(r.RefusalCode)
		c.text(r.RefusalMessage)
	}
	return c.send(t.ctx, t.pg, t.s.db.q("COPY {s}.ledger_transfers ("+transferCols+") FROM STDIN BINARY"))
}

// copyEntries inserts entries by COPY on pg.
func copyEntries(ctx context.Context, db *DB, pg *pgconn.PgConn, es []ledger.EntryRecord) error {
	c := getCopyBuf()
	defer putCopyBuf(c)
	c.grow(len(es) * 130)
	for i := range es {
		e := &es[i]
		c.row(9)
		c.text(string(e.Account))
		c.int8(e.Seq)
		c.text(string(e.Transfer))
		c.int8(e.Units)
		c.int8(e.Balance)
		c.int8(e.Version)
		c.tstz(e.RecordedAt)
		c.tstz(e.EffectiveAt)
		c.bytea(e.Hash[:])
	}
	return c.send(ctx, pg, db.q("COPY {s}.ledger_entries ("+entryCols+") FROM STDIN BINARY"))
}

// copyPending inserts the deferred accounts' changes by COPY.
func (t *applyTx) copyPending() error {
	c := getCopyBuf()
	defer putCopyBuf(c)
	c.grow(len(t.pending) * 100)
	for i := range t.pending {
		p := &t.pending[i]
		c.row(7)
		c.text(string(p.account))
		c.text(string(p.transfer))
		c.int8(p.units)
		c.int8(p.pdeb)
		c.int8(p.pcred)
		c.tstz(p.recorded)
		c.tstz(p.effective)
	}
	return c.send(t.ctx, t.pg, t.s.db.q("COPY {s}.ledger_pending (account, transfer, units, pending_debits, pending_credits, recorded_at, effective_at) FROM STDIN BINARY"))
}

// queueTransfers queues the insert of new transfer records.
func (t *applyTx) queueTransfers(b *pgx.Batch, ins []*ledger.TransferRecord) error {
	if len(ins) > 0 {
		c := newTransferColumns(len(ins))
		for _, r := range ins {
			if err := c.add(r); err != nil {
				return err
			}
		}
		b.Queue(t.s.db.q(`INSERT INTO {s}.ledger_transfers (`+transferCols+`)
			SELECT id, kind, status, postings, ref, units, reason, principal, metadata::jsonb, recorded_at, effective_at,
			       hold_until, fingerprint, posted_units, resolved_by, reversed_by, refusal_code, refusal_message
			FROM unnest($1::text[], $2::int2[], $3::int2[], $4::bytea[], $5::text[], $6::int8[], $7::text[], $8::text[], $9::text[],
			            $10::timestamptz[], $11::timestamptz[], $12::timestamptz[], $13::bytea[], $14::int8[], $15::text[], $16::text[],
			            $17::text[], $18::text[])
			  AS u(id, kind, status, postings, ref, units, reason, principal, metadata, recorded_at, effective_at,
			       hold_until, fingerprint, posted_units, resolved_by, reversed_by, refusal_code, refusal_message)`),
			c.args()...)
	}
	return nil
}

// queueTransferUpdates queues the update of stored transfer records.
func (t *applyTx) queueTransferUpdates(b *pgx.Batch, upd []*ledger.TransferRecord) {
	if len(upd) > 0 {
		ids := make([]string, len(upd))
		status := make([]int16, len(upd))
		posted := make([]int64, len(upd))
		resolved := make([]string, len(upd))
		reversed := make([]string, len(upd))
		for i, r := range upd {
			ids[i], status[i], posted[i] = string(r.ID), int16(r.Status), r.PostedUnits
			resolved[i], reversed[i] = string(r.ResolvedBy), string(r.ReversedBy)
		}
		b.Queue(t.s.db.q(`UPDATE {s}.ledger_transfers AS t
			SET status = u.status, posted_units = u.posted_units, resolved_by = u.resolved_by, reversed_by = u.reversed_by
			FROM unnest($1::text[], $2::int2[], $3::int8[], $4::text[], $5::text[]) AS u(id, status, posted_units, resolved_by, reversed_by)
			WHERE t.id = u.id`), ids, status, posted, resolved, reversed)
	}
}

func (t *applyTx) queueEntries(b *pgx.Batch) {
	n := len(t.entries)
	if n == 0 {
		return
	}
	b.Queue(t.s.db.q(insertEntriesSQL), entryArgs(t.entries)...)
}

func (t *applyTx) queuePending(b *pgx.Batch) {
	n := len(t.pending)
	if n == 0 {
		return
	}
	acct := make([]string, n)
	xfer := make([]string, n)
	units := make([]int64, n)
	pdeb := make([]int64, n)
	pcred := make([]int64, n)
	rec := make([]pgtype.Timestamptz, n)
	eff := make([]pgtype.Timestamptz, n)
	for i, p := range t.pending {
		acct[i], xfer[i] = string(p.account), string(p.transfer)
		units[i], pdeb[i], pcred[i] = p.units, p.pdeb, p.pcred
		rec[i], eff[i] = tstz(p.recorded), tstz(p.effective)
	}
	b.Queue(t.s.db.q(`INSERT INTO {s}.ledger_pending (account, transfer, units, pending_debits, pending_credits, recorded_at, effective_at)
		SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::int8[], $6::timestamptz[], $7::timestamptz[])`),
		acct, xfer, units, pdeb, pcred, rec, eff)
}

func (t *applyTx) queueAccounts(b *pgx.Batch) {
	var ids []string
	var bal, pdeb, pcred, ver, ents []int64
	var hashes [][]byte
	var closed []bool
	for id, a := range t.accounts {
		if !a.dirty {
			continue
		}
		ids = append(ids, string(id))
		bal = append(bal, a.st.Balance)
		pdeb = append(pdeb, a.st.PendingDebits)
		pcred = append(pcred, a.st.PendingCredits)
		ver = append(ver, a.st.Version)
		ents = append(ents, a.st.Entries)
		hashes = append(hashes, append([]byte(nil), a.st.LastHash[:]...))
		closed = append(closed, a.st.Closed)
	}
	if len(ids) == 0 {
		return
	}
	b.Queue(t.s.db.q(updateAccountsSQL), ids, bal, pdeb, pcred, ver, ents, hashes, closed)
}

const updateAccountsSQL = `UPDATE {s}.ledger_accounts AS a
	SET balance = u.balance, pending_debits = u.pending_debits, pending_credits = u.pending_credits,
	    version = u.version, entries = u.entries, last_hash = u.last_hash, closed = u.closed
	FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::bytea[], $8::bool[])
	  AS u(id, balance, pending_debits, pending_credits, version, entries, last_hash, closed)
	WHERE a.id = u.id`

const insertEntriesSQL = `INSERT INTO {s}.ledger_entries (account, seq, transfer, units, balance, version, recorded_at, effective_at, hash)
	SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::int8[], $5::int8[], $6::int8[], $7::timestamptz[], $8::timestamptz[], $9::bytea[])`

// entryArgs returns the column arrays of insertEntriesSQL.
func entryArgs(es []ledger.EntryRecord) []any {
	n := len(es)
	acct := make([]string, n)
	seq := make([]int64, n)
	xfer := make([]string, n)
	units := make([]int64, n)
	bal := make([]int64, n)
	ver := make([]int64, n)
	rec := make([]pgtype.Timestamptz, n)
	eff := make([]pgtype.Timestamptz, n)
	hash := make([][]byte, n)
	for i := range es {
		e := &es[i]
		acct[i], seq[i], xfer[i] = string(e.Account), e.Seq, string(e.Transfer)
		units[i], bal[i], ver[i] = e.Units, e.Balance, e.Version
		rec[i], eff[i] = tstz(e.RecordedAt), tstz(e.EffectiveAt)
		hash[i] = e.Hash[:]
	}
	return []any{acct, seq, xfer, units, bal, ver, rec, eff, hash}
}

// tstz converts t for a nullable timestamptz column: the zero time is NULL.
func tstz(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

// timeOf converts a nullable timestamptz back: NULL is the zero time.
func timeOf(ts pgtype.Timestamptz) time.Time {
	if !ts.Valid {
		return time.Time{}
	}
	return ts.Time.UTC()
}
