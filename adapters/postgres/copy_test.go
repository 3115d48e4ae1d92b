package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
)

// foreignPool hides the adapter's own pool type, so the store takes the
// path of any other Pool (pgx.Tx transactions).
type foreignPool struct{ Pool }

// TestLedgerBulkCopy runs batches large enough for COPY (transfers,
// entries and deferred changes) and checks what they stored: records
// round-trip field for field, hash chains verify, a replay is recognised,
// and a batch mixing new and recorded IDs records only the new ones.
//
// With Options.NoCopy the same batches take the pipelined INSERT path and
// must store the same.
func TestLedgerBulkCopy(t *testing.T) {
	for _, mode := range []string{"own", "foreign", "nocopy"} {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			var db *DB
			switch mode {
			case "foreign":
				var err error
				schema := newSchema()
				db, err = New(ctx, foreignPool{sharedPool(t)}, &Options{Schema: schema, Stores: []string{StoreLedger}})
				require.NoError(t, err)
				t.Cleanup(func() {
					require.NoError(t, db.Close())
					require.NoError(t, db.DropSchema(context.Background()))
				})
			case "nocopy":
				db = newTestDB(t, &Options{Stores: []string{StoreLedger}, NoCopy: true})
				tx, err := db.pool.Begin(ctx)
				require.NoError(t, err)
				require.Nil(t, db.copyConn(tx), "NoCopy must leave no connection for COPY")
				require.NoError(t, tx.Rollback(ctx))
				db.opts.NoCopy = false
				tx, err = db.pool.Begin(ctx)
				require.NoError(t, err)
				require.NotNil(t, db.copyConn(tx), "without NoCopy a transaction offers its connection")
				require.NoError(t, tx.Rollback(ctx))
				db.opts.NoCopy = true
			default:
				db = newTestDB(t, &Options{Stores: []string{StoreLedger}})
			}
			svc, err := ledger.New(db.Ledger(), nil)
			require.NoError(t, err)
			_, err = svc.OpenAccount(ctx, ledger.AccountSpec{ID: "issuer", Asset: pointsAsset, NoFloor: true})
			require.NoError(t, err)
			accts := []ledger.AccountID{"a", "b", "c"}
			for _, id := range accts {
				_, err = svc.OpenAccount(ctx, ledger.AccountSpec{ID: id, Asset: pointsAsset})
				require.NoError(t, err)
				_, err = svc.Transfer(ctx, ledger.TransferRequest{ID: ledger.TransferID("fund-" + id),
					Postings: ledger.Move(pointsAsset, "issuer", id, decimal.NewFromInt(1000))})
				require.NoError(t, err)
			}
			const refused = 5 // one caller's refusal among the others' transfers
			const n = 3 * copyMin
			until := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
			reqs := make([]ledger.TransferRequest, n)
			for i := range reqs {
				from, to := accts[i%3], accts[(i+1)%3]
				if i%2 == 0 {
					from = "issuer" // more than copyMin deferred changes
				}
				reqs[i] = ledger.TransferRequest{ID: ledger.TransferID(fmt.Sprintf("t%03d", i)), Reason: "bulk", Principal: "p",
					Postings: ledger.Move(pointsAsset, from, to, decimal.NewFromInt(int64(1+i%5)))}
				if i == refused {
					reqs[i].Postings = ledger.Move(pointsAsset, accts[0], accts[1], decimal.NewFromInt(1e6))
				}
				if i%10 == 0 {
					reqs[i].Metadata = map[string]string{"k": fmt.Sprint(i), "q": `"x"`}
				}
				if i%17 == 0 {
					reqs[i].HoldUntil = until
				}
			}
			res, err := svc.TransferBatch(ctx, reqs)
			require.NoError(t, err)
			for i, r := range res {
				if i == refused {
					require.ErrorIs(t, r.Err, ledger.ErrInsufficientFunds)
					continue
				}
				require.NoError(t, r.Err, "transfer %d", i)
				require.False(t, r.Replayed)
			}
			for i, req := range reqs {
				rec, err := db.Ledger().Transfer(ctx, req.ID)
				require.NoError(t, err)
				require.Equal(t, "bulk", rec.Reason)
				require.Equal(t, "p", rec.Principal)
				require.Equal(t, req.Metadata, rec.Metadata, "transfer %d", i)
				require.Len(t, rec.Postings, 2)
				require.Equal(t, pointsAsset, rec.Postings[0].Asset)
				require.False(t, rec.RecordedAt.IsZero())
				require.NotEqual(t, [32]byte{}, rec.Fingerprint)
				switch {
				case i == refused:
					require.Equal(t, ledger.StatusRefused, rec.Status)
					require.NotEmpty(t, rec.RefusalCode)
					require.NotEmpty(t, rec.RefusalMessage)
				case req.HoldUntil.IsZero():
					require.Equal(t, 1+int64(i%5), rec.Postings[0].Units/100)
					require.Equal(t, ledger.StatusPosted, rec.Status)
					require.True(t, rec.HoldUntil.IsZero())
				default:
					require.Equal(t, ledger.StatusPending, rec.Status)
					require.True(t, until.Equal(rec.HoldUntil), "%s != %s", until, rec.HoldUntil)
				}
			}
			require.NoError(t, svc.Verify(ctx, ""))

			// The same batch again: every result is the stored first one.
			res, err = svc.TransferBatch(ctx, reqs)
			require.NoError(t, err)
			for i, r := range res {
				if i == refused {
					require.ErrorIs(t, r.Err, ledger.ErrInsufficientFunds)
				} else {
					require.NoError(t, r.Err, "transfer %d", i)
				}
				require.True(t, r.Replayed, "transfer %d", i)
			}
			// Recorded and new IDs mixed: only the new ones are written.
			more := append([]ledger.TransferRequest(nil), reqs[:copyMin]...)
			for i := range copyMin {
				more = append(more, ledger.TransferRequest{ID: ledger.TransferID(fmt.Sprintf("u%03d", i)),
					Postings: ledger.Move(pointsAsset, "issuer", accts[i%3], decimal.NewFromInt(1))})
			}
			res, err = svc.TransferBatch(ctx, more)
			require.NoError(t, err)
			for i, r := range res {
				if i != refused {
					require.NoError(t, r.Err, "transfer %d", i)
				}
				require.Equal(t, i < copyMin, r.Replayed, "transfer %d", i)
			}
			require.NoError(t, svc.Verify(ctx, ""))
			var total decimal.Decimal
			for _, id := range append(accts, "issuer") {
				a, err := svc.Account(ctx, id)
				require.NoError(t, err)
				total = total.Add(a.Balance)
			}
			require.True(t, total.IsZero(), "balances sum to %s", total)
			issuer, err := svc.Account(ctx, "issuer")
			require.NoError(t, err)
			var entries int64
			require.NoError(t, db.pool.QueryRow(ctx, db.q("SELECT count(*) FROM {s}.ledger_entries WHERE account = 'issuer'")).Scan(&entries))
			require.Equal(t, issuer.Entries, entries)
		})
	}
}

// TestLedgerBulkCopyRace: two servers apply the same large batches at once.
// The loser's COPY meets the winner's rows (a unique violation), is retried,
// and finds them recorded: every transfer is stored once, every caller gets
// the outcome, and the hash chains verify.
func TestLedgerBulkCopyRace(t *testing.T) {
	svcs, dbs, accts, _ := faultLedger(t, 4, [2]int{})
	ctx := context.Background()
	const rounds, n = 4, 2 * copyMin
	for round := range rounds {
		reqs := make([]ledger.TransferRequest, n)
		for i := range reqs {
			from, to := accts[i%len(accts)], accts[(i+1)%len(accts)]
			if i%3 == 0 {
				from = "issuer"
			}
			reqs[i] = ledger.TransferRequest{ID: ledger.TransferID(fmt.Sprintf("r%d-%03d", round, i)),
				Postings: ledger.Move(pointsAsset, from, to, decimal.NewFromInt(1))}
		}
		var res [2][]ledger.Result
		var errs [2]error
		done := make(chan int)
		for s := range svcs {
			go func() {
				res[s], errs[s] = svcs[s].TransferBatch(ctx, reqs)
				done <- s
			}()
		}
		<-done
		<-done
		for s := range svcs {
			require.NoError(t, errs[s])
			for i, r := range res[s] {
				require.NoError(t, r.Err, "server %d transfer %d", s, i)
				require.Equal(t, ledger.StatusPosted, r.Status)
			}
		}
	}
	var rows int
	require.NoError(t, dbs[0].pool.QueryRow(ctx, dbs[0].q("SELECT count(*) FROM {s}.ledger_transfers WHERE id LIKE 'r%'")).Scan(&rows))
	require.Equal(t, rounds*n, rows)
	require.NoError(t, svcs[0].Verify(ctx, ""))
	var total decimal.Decimal
	for _, id := range append(accts, "issuer") {
		a, err := svcs[1].Account(ctx, id)
		require.NoError(t, err)
		total = total.Add(a.Balance)
	}
	require.True(t, total.IsZero(), "balances sum to %s", total)
}
