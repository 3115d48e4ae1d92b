package sqlite

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/ledger"
)

func TestPostingsArgIsJSONMarshal(t *testing.T) {
	names := []string{"", "vol-001", "issuer", `a"b`, `back\slash`, "<tag>&amp;", "tab\there", "nul\x00", "é ü 中文", "\u2028line", "bad\xffutf8", "~!@#$%^*()_+{}|:?"}
	for _, a := range names {
		for _, code := range []string{"POINTS", "h<o>urs", "ünits"} {
			ps := []ledger.PostingRecord{
				{Account: ledger.AccountID(a), Side: ledger.Side(0), Asset: ledger.Asset{Code: code, Scale: 2}, Units: 125},
				{Account: "vol-002", Side: ledger.Side(1), Asset: ledger.Asset{Code: code, Scale: 18}, Units: -9223372036854775808},
			}
			got, err := postingsArg(ps)
			require.NoError(t, err)
			js := make([]postingJSON, len(ps))
			for i, p := range ps {
				js[i] = postingJSON{string(p.Account), uint8(p.Side), p.Asset.Code, p.Asset.Scale, p.Units}
			}
			want, err := json.Marshal(js)
			require.NoError(t, err)
			require.Equal(t, string(want), got)
			if utf8.ValidString(a) && utf8.ValidString(code) {
				back, err := postingsCol(got)
				require.NoError(t, err)
				require.Equal(t, ps, back)
			}
		}
	}
	got, err := postingsArg(nil)
	require.NoError(t, err)
	require.Equal(t, "[]", got)
}

// TestMigration5KeepsTransfers builds a file at schema version 4, with a
// transfer and a pending hold in the clustered ledger_transfers of 0001,
// and checks that opening it moves both into the rowid table of 0005
// unchanged, with the due-holds index rebuilt.
func TestMigration5KeepsTransfers(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v4.db")
	conn, o, closeConn := migrationConn(t, path)
	ms := mustMigrations(t)
	for _, m := range ms {
		if m.version <= 4 {
			require.NoError(t, apply(ctx, conn, m, o))
		}
	}
	fp := make([]byte, 32)
	for i := range fp {
		fp[i] = byte(i)
	}
	at := time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC)
	_, err := conn.ExecContext(ctx, `INSERT INTO ledger_transfers (`+transferCols+`) VALUES
		('t1', 0, 1, '', 125, 'award', 'admin', '[{"account":"issuer","side":0,"asset":"POINTS","scale":2,"units":125},{"account":"vol-001","side":1,"asset":"POINTS","scale":2,"units":125}]', '{"k":"v"}', ?, ?, NULL, ?, 0, '', '', '', ''),
		('h1', 1, 2, '', 50, 'hold', 'admin', '[]', NULL, ?, ?, ?, ?, 0, '', '', '', '')`,
		at.UnixMicro(), at.UnixMicro(), fp, at.UnixMicro(), at.UnixMicro(), at.Add(time.Hour).UnixMicro(), fp)
	require.NoError(t, err)
	closeConn()

	db, err := Open(path, &Options{Synchronous: SyncNormal})
	require.NoError(t, err)
	defer db.Close()
	var version int
	require.NoError(t, db.read.QueryRow("SELECT max(version) FROM schema_version").Scan(&version))
	require.Equal(t, SchemaVersion(), version)
	var withoutRowid int
	require.NoError(t, db.read.QueryRow(`SELECT count(*) FROM pragma_index_list('ledger_transfers') WHERE origin = 'pk'`).Scan(&withoutRowid))
	require.Zero(t, withoutRowid, "ledger_transfers has no PRIMARY KEY index: it is a rowid table")

	rec, err := db.Ledger().Transfer(ctx, "t1")
	require.NoError(t, err)
	require.Equal(t, ledger.TransferID("t1"), rec.ID)
	require.Equal(t, int64(125), rec.Units)
	require.Equal(t, "award", rec.Reason)
	require.Equal(t, map[string]string{"k": "v"}, rec.Metadata)
	require.Equal(t, at.Truncate(time.Microsecond), rec.RecordedAt)
	require.Len(t, rec.Postings, 2)
	require.Equal(t, [32]byte(fp), rec.Fingerprint)

	due, err := db.Ledger().DueHolds(ctx, at.Add(2*time.Hour), 10)
	require.NoError(t, err)
	require.Equal(t, []ledger.TransferID{"h1"}, due)
	rows, err := db.read.Query(`EXPLAIN QUERY PLAN
		SELECT id FROM ledger_transfers WHERE status = 2 AND hold_until <= 0 ORDER BY hold_until, id LIMIT 1`)
	require.NoError(t, err)
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
		plan = append(plan, detail)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.Contains(t, strings.Join(plan, "; "), "ledger_transfers_due")

	_, err = db.Ledger().Transfer(ctx, "nope")
	require.ErrorIs(t, err, ledger.ErrTransferNotFound)
}
