package postgres

import (
	"context"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/civicloop/civicloop/ledger"
)

// Deferred accounts — no floor and no ceiling, such as the issuing account
// every award is debited from — would be the hottest row of the ledger if
// each transfer locked and rewrote them. Nothing about them needs a lock at
// transfer time: no rule can refuse a posting to them for want of funds or
// room. So a transfer only share-locks their row (FOR KEY SHARE, which keeps
// a concurrent close out but does not conflict with other transfers) and
// appends one ledger_pending row per command: its change of balance and
// pending amounts, its time, its transfer ID.
//
// Sealing folds those rows into the account: under the account's row lock
// (FOR NO KEY UPDATE: compatible with the transfers' share locks, exclusive
// among sealers) it takes the unsealed rows in (recorded_at, transfer) order,
// numbers them, computes each entry's balance, version and hash with
// ledger.EntryHash, inserts the entries, deletes the rows and updates the
// account. Every read of a deferred account (Account, Accounts, Entries,
// EntryAsOf) and CloseAccount seal first, so readers always see a complete,
// hash-chained history; what a transfer commits is durable in
// ledger_pending before it is sealed. The chain order of a deferred account
// is its sealing order, which is fixed once sealed.

// seal seals the deferred account id in a transaction of its own.
func (s *LedgerStore) seal(ctx context.Context, id string) error {
	return s.db.inTx(ctx, "seal", func(ctx context.Context, tx pgx.Tx) error {
		var st ledger.AccountState
		var deferred bool
		row := tx.QueryRow(ctx, s.db.q("SELECT "+accountStateCols+" FROM {s}.ledger_accounts WHERE id = $1 FOR NO KEY UPDATE"), id)
		if err := scanAccountState(row, &st, &deferred); err != nil || !deferred {
			return err
		}
		return s.sealLocked(ctx, tx, &st)
	})
}

// sealLocked seals the deferred account st, whose row tx has locked, and
// leaves st as stored.
func (s *LedgerStore) sealLocked(ctx context.Context, tx pgx.Tx, st *ledger.AccountState) error {
	rows, err := tx.Query(ctx, s.db.q(`SELECT transfer, units, pending_debits, pending_credits, recorded_at, effective_at
		FROM {s}.ledger_pending WHERE account = $1 ORDER BY recorded_at, transfer`), string(st.ID))
	if err != nil {
		return err
	}
	var entries []ledger.EntryRecord
	var done []string
	for rows.Next() {
		var xfer string
		var units, pdeb, pcred int64
		var rec, eff pgtype.Timestamptz
		if err := rows.Scan(&xfer, &units, &pdeb, &pcred, &rec, &eff); err != nil {
			rows.Close()
			return err
		}
		done = append(done, xfer)
		st.PendingDebits += pdeb
		st.PendingCredits += pcred
		st.Version++
		if units == 0 {
			continue
		}
		st.Balance += units
		st.Entries++
		e := ledger.EntryRecord{Account: st.ID, Seq: st.Entries, Transfer: ledger.TransferID(xfer), Units: units,
			Balance: st.Balance, Version: st.Version, RecordedAt: timeOf(rec), EffectiveAt: timeOf(eff)}
		e.Hash = ledger.EntryHash(st.LastHash, &e)
		st.LastHash = e.Hash
		entries = append(entries, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(done) == 0 {
		return err
	}
	b := &pgx.Batch{}
	if pg := s.db.copyConn(tx); len(entries) >= copyMin && pg != nil {
		if err := copyEntries(ctx, s.db, pg, entries); err != nil {
			return err
		}
	} else if len(entries) > 0 {
		b.Queue(s.db.q(insertEntriesSQL), entryArgs(entries)...)
	}
	b.Queue(s.db.q("DELETE FROM {s}.ledger_pending WHERE account = $1 AND transfer = ANY($2)"), string(st.ID), done)
	b.Queue(s.db.q(updateAccountsSQL), []string{string(st.ID)}, []int64{st.Balance}, []int64{st.PendingDebits},
		[]int64{st.PendingCredits}, []int64{st.Version}, []int64{st.Entries}, [][]byte{st.LastHash[:]}, []bool{st.Closed})
	return tx.SendBatch(ctx, b).Close()
}
