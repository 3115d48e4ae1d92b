package memory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/civicloop/civicloop/ledger"
)

// plainLedgerTx hides the RecordBuffer of the Tx it wraps: ledger.Apply
// then makes a record per command, as it does for the SQL stores.
type plainLedgerTx struct{ ledger.Tx }

// applyPlain is LedgerStore.Apply with the Tx's RecordBuffer hidden.
func (s *LedgerStore) applyPlain(cmds []ledger.Command) ([]ledger.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.tx.reset()
	if len(cmds) > 1 {
		s.tx.prepare(cmds)
	}
	return ledger.Apply(plainLedgerTx{&s.tx}, cmds)
}

// TestLedgerStoreLentRecordMatchesPlain applies random batches of every
// kind of command (transfers and holds of two and three postings, with and
// without metadata, posts in full and in part, voids, expiries, reversals,
// refusals, replays and references to commands earlier in the same batch)
// once through the one record the memory Tx lends ledger.Apply and once
// with a record per command, and expects the same results, records,
// accounts and entries.
func TestLedgerStoreLentRecordMatchesPlain(t *testing.T) {
	ctx := context.Background()
	pts := ledger.Asset{Code: "POINTS", Scale: 2}
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	accts := []ledger.AccountID{"issuer", "a", "b", "c"}
	rapid.Check(t, func(t *rapid.T) {
		lent, plain := NewLedgerStore(), NewLedgerStore()
		for _, s := range []*LedgerStore{lent, plain} {
			for _, id := range accts {
				st := ledger.AccountState{ID: id, Asset: pts, Version: 1, NoFloor: id == "issuer"}
				require.NoError(t, s.OpenAccount(ctx, ledger.AccountRecord{AccountState: st, OpenedAt: start}))
			}
		}
		ids := []ledger.TransferID{"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"}
		id := rapid.SampledFrom(ids)
		acct := rapid.SampledFrom(accts)
		var history []ledger.Command // to repeat: replays
		now := start
		nb := rapid.IntRange(1, 4).Draw(t, "batches")
		for b := range nb {
			n := rapid.IntRange(1, 12).Draw(t, "n")
			cmds := make([]ledger.Command, n)
			for i := range cmds {
				c := &cmds[i]
				if len(history) > 0 && rapid.IntRange(0, 3).Draw(t, "repeat") == 0 {
					*c = history[rapid.IntRange(0, len(history)-1).Draw(t, "which")]
					c.RecordedAt = now
					continue
				}
				c.ID = id.Draw(t, "id")
				c.RecordedAt = now
				kinds := []ledger.Kind{ledger.KindTransfer, ledger.KindHold, ledger.KindPost, ledger.KindVoid, ledger.KindExpire, ledger.KindReversal}
				c.Kind = rapid.SampledFrom(kinds).Draw(t, "kind")
				switch c.Kind {
				case ledger.KindTransfer, ledger.KindHold:
					from, to := acct.Draw(t, "from"), acct.Draw(t, "to")
					if rapid.Bool().Draw(t, "issued") {
						from = "issuer"
					}
					u := rapid.Int64Range(1, 500).Draw(t, "units")
					c.Postings = []ledger.PostingRecord{{Account: from, Side: ledger.Debit, Asset: pts, Units: u},
						{Account: to, Side: ledger.Credit, Asset: pts, Units: u}}
					if rapid.Bool().Draw(t, "three") {
						c.Postings[1].Units = u - u/2
						c.Postings = append(c.Postings, ledger.PostingRecord{Account: acct.Draw(t, "third"), Side: ledger.Credit, Asset: pts, Units: u / 2})
					}
					if c.Kind == ledger.KindHold {
						c.HoldUntil = now.Add(time.Duration(rapid.IntRange(1, 3).Draw(t, "hours")) * time.Hour)
					}
				default:
					c.Ref = id.Draw(t, "ref")
					if c.Kind == ledger.KindPost {
						c.Units = rapid.Int64Range(0, 300).Draw(t, "postUnits")
					}
				}
				if rapid.Bool().Draw(t, "meta") {
					c.Metadata = map[string]string{"k": fmt.Sprint(i)}
				}
				c.Reason = fmt.Sprintf("r%d-%d", b, i)
				if c.Kind == ledger.KindExpire {
					c.Fingerprint = ledger.Fingerprint(c)
				}
				history = append(history, *c)
			}
			// Each store gets its own copy: Apply takes the postings and
			// metadata over.
			clone := func() []ledger.Command {
				out := make([]ledger.Command, len(cmds))
				for i, c := range cmds {
					c.Postings = append([]ledger.PostingRecord(nil), c.Postings...)
					if c.Metadata != nil {
						c.Metadata = map[string]string{"k": c.Metadata["k"]}
					}
					out[i] = c
				}
				return out
			}
			got, err := lent.Apply(ctx, clone())
			require.NoError(t, err)
			want, err := plain.applyPlain(clone())
			require.NoError(t, err)
			require.Len(t, got, len(want))
			for i := range want {
				require.Equal(t, want[i].ID, got[i].ID, "batch %d command %d", b, i)
				require.Equal(t, want[i].Status, got[i].Status, "batch %d command %d", b, i)
				require.Equal(t, want[i].Replayed, got[i].Replayed, "batch %d command %d", b, i)
				require.Equal(t, fmt.Sprint(want[i].Err), fmt.Sprint(got[i].Err), "batch %d command %d", b, i)
			}
			now = now.Add(time.Duration(rapid.IntRange(0, 150).Draw(t, "minutes")) * time.Minute)
		}
		for _, tid := range ids {
			w, werr := plain.Transfer(ctx, tid)
			g, gerr := lent.Transfer(ctx, tid)
			require.Equal(t, werr == nil, gerr == nil, "transfer %s", tid)
			require.Equal(t, w, g, "transfer %s", tid)
		}
		for _, aid := range accts {
			w, err := plain.Account(ctx, aid)
			require.NoError(t, err)
			g, err := lent.Account(ctx, aid)
			require.NoError(t, err)
			require.Equal(t, w, g, "account %s", aid)
			we, err := plain.Entries(ctx, aid, 0, 1000)
			require.NoError(t, err)
			ge, err := lent.Entries(ctx, aid, 0, 1000)
			require.NoError(t, err)
			require.Equal(t, we, ge, "entries of %s", aid)
		}
	})
}
