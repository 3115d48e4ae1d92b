package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/shopspring/decimal"

	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
)

// PointsStore is the points scheme kept in the database file (tables
// points_*). The points Service hands it whole, checked changes; Commit
// runs the Store contract's checks and writes in one request to the
// writer. Each aggregate is kept as a JSON document beside the columns
// that the lookups and orderings need.
type PointsStore struct {
	db *DB
	// afterDueLots, when set (by tests), runs in DueLotsWallets between
	// its read of the lots and its read of the wallets.
	afterDueLots func()
}

var (
	_ points.Store           = (*PointsStore)(nil)
	_ points.DueWalletsStore = (*PointsStore)(nil)
)

// Points returns the points store of db.
func (db *DB) Points() *PointsStore { return db.points }

// timeKey is a sortable INTEGER for t: nanoseconds since 1970, the zero
// time first, times beyond the range of int64 nanoseconds (before 1678 or
// after 2262) clamped to its ends.
func timeKey(t time.Time) int64 {
	switch {
	case t.IsZero():
		return math.MinInt64
	case t.Before(time.Unix(0, math.MinInt64+1)):
		return math.MinInt64 + 1
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// storedVersion returns the version column of the row with key, 0 if none.
func storedVersion(tx *wtx, query, key string) (int64, error) {
	var v int64
	err := tx.queryRow(query, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

// Commit implements points.Store: it checks c as the Store contract says,
// in the same order as the memory store, then writes it.
func (s *PointsStore) Commit(ctx context.Context, c *points.Change) error {
	err := s.db.w.do(ctx, func(tx *wtx) error {
		items, err := checkPointsChange(tx, c)
		if err != nil {
			return err
		}
		return applyPointsChange(tx, c, items)
	})
	if err != nil {
		return fmt.Errorf("sqlite: points: commit: %w", err)
	}
	return nil
}

// stagedItem is an item as it will be after the change.
type stagedItem struct {
	item   points.Item
	stored bool
}

func checkPointsChange(tx *wtx, c *points.Change) (map[string]*stagedItem, error) {
	for _, w := range c.Wallets {
		got, err := storedVersion(tx, `SELECT version FROM points_wallets WHERE volunteer = ?`, string(w.Volunteer))
		if err != nil {
			return nil, err
		}
		if got != w.Version-1 {
			return nil, fmt.Errorf("wallet %q: version %d, change expects %d: %w", w.Volunteer, got, w.Version-1, points.ErrConflict)
		}
	}
	newIDs := map[string]bool{}
	for _, r := range c.NewRecords {
		dup, err := exists(tx, `SELECT 1 FROM points_records WHERE id = ?`, r.ID)
		if err != nil {
			return nil, err
		}
		if dup || newIDs[r.ID] {
			return nil, fmt.Errorf("record %q: %w", r.ID, points.ErrDuplicate)
		}
		newIDs[r.ID] = true
		if r.SourceKey != "" {
			if dup, err := exists(tx, `SELECT 1 FROM points_records WHERE source_key = ?`, r.SourceKey); err != nil || dup {
				if err == nil {
					err = fmt.Errorf("record source key %q: %w", r.SourceKey, points.ErrDuplicate)
				}
				return nil, err
			}
		}
	}
	for _, r := range c.Records {
		var got int64
		err := tx.queryRow(`SELECT version FROM points_records WHERE id = ?`, r.ID).Scan(&got)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("record %q: %w", r.ID, points.ErrNotFound)
		}
		if err != nil {
			return nil, err
		}
		if got != r.Version-1 {
			return nil, fmt.Errorf("record %q: version %d, change expects %d: %w", r.ID, got, r.Version-1, points.ErrConflict)
		}
	}
	if err := checkUnused(tx, "award", `SELECT 1 FROM points_awards WHERE id = ?`, ids(c.Awards, func(a points.Award) string { return a.ID })); err != nil {
		return nil, err
	}
	if err := checkUnused(tx, "ledger op", `SELECT 1 FROM points_ops WHERE id = ?`, ids(c.Ops, func(o points.Op) string { return o.ID })); err != nil {
		return nil, err
	}
	for _, ct := range c.Certificates {
		if dup, err := exists(tx, `SELECT 1 FROM points_certificates WHERE number = ?`, ct.Number); err != nil || dup {
			if err == nil {
				err = fmt.Errorf("certificate %q: %w", ct.Number, points.ErrDuplicate)
			}
			return nil, err
		}
	}
	for _, o := range c.Objections {
		if err := checkVersion(tx, "objection", `SELECT version FROM points_objections WHERE id = ?`, o.ID, o.Version); err != nil {
			return nil, err
		}
	}
	items, err := stageItems(tx, c)
	if err != nil {
		return nil, err
	}
	for _, r := range c.Redemptions {
		if err := checkVersion(tx, "redemption", `SELECT version FROM points_redemptions WHERE id = ?`, r.ID, r.Version); err != nil {
			return nil, err
		}
	}
	return items, nil
}

func ids[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

// checkUnused refuses an ID that is stored or listed twice.
func checkUnused(tx *wtx, what, query string, list []string) error {
	seen := map[string]bool{}
	for _, id := range list {
		dup, err := exists(tx, query, id)
		if err != nil {
			return err
		}
		if dup || seen[id] {
			return fmt.Errorf("%s %q: %w", what, id, points.ErrDuplicate)
		}
		seen[id] = true
	}
	return nil
}

func checkVersion(tx *wtx, what, query, id string, version int64) error {
	got, err := storedVersion(tx, query, id)
	if err != nil {
		return err
	}
	if got != version-1 {
		return fmt.Errorf("%s %q: version %d, change expects %d: %w", what, id, got, version-1, points.ErrConflict)
	}
	return nil
}

// stageItems checks item versions and stock deltas and returns every item
// the change touches as it will be stored.
func stageItems(tx *wtx, c *points.Change) (map[string]*stagedItem, error) {
	items := map[string]*stagedItem{}
	load := func(id string) (*stagedItem, error) {
		if st, ok := items[id]; ok {
			return st, nil
		}
		var stock int64
		it, err := scanDoc[points.Item](tx.queryRow(`SELECT doc, stock FROM points_items WHERE id = ?`, id), &stock)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		it.Stock = stock
		return &stagedItem{item: it, stored: true}, nil
	}
	for _, it := range c.Items {
		old, err := load(it.ID)
		if err != nil {
			return nil, err
		}
		var got int64
		if old != nil {
			got = old.item.Version
		}
		if got != it.Version-1 {
			return nil, fmt.Errorf("item %q: version %d, change expects %d: %w", it.ID, got, it.Version-1, points.ErrConflict)
		}
		st := &stagedItem{item: it}
		if old != nil {
			st.item.Stock, st.stored = old.item.Stock, old.stored
		}
		items[it.ID] = st
	}
	for _, d := range c.Stock {
		st, err := load(d.Item)
		if err != nil {
			return nil, err
		}
		if st == nil {
			return nil, fmt.Errorf("stock of item %q: %w", d.Item, points.ErrNotFound)
		}
		items[d.Item] = st
		if st.item.Unlimited {
			continue
		}
		if st.item.Stock+d.Delta < 0 {
			return nil, fmt.Errorf("item %q: stock %d cannot take %d: %w", d.Item, st.item.Stock, d.Delta, points.ErrOutOfStock)
		}
		st.item.Stock += d.Delta
	}
	return items, nil
}

func applyPointsChange(tx *wtx, c *points.Change, items map[string]*stagedItem) error {
	for _, w := range c.Wallets {
		if err := upsertDoc(tx, `INSERT INTO points_wallets (volunteer, version, doc) VALUES (?, ?, ?)
			ON CONFLICT (volunteer) DO UPDATE SET version = excluded.version, doc = excluded.doc`,
			w, string(w.Volunteer), w.Version); err != nil {
			return err
		}
	}
	for _, r := range c.NewRecords {
		var key any
		if r.SourceKey != "" {
			key = r.SourceKey
		}
		doc, err := docOf(r)
		if err != nil {
			return err
		}
		if _, err := tx.exec(`INSERT INTO points_records (id, volunteer, at, source_key, version, doc) VALUES (?, ?, ?, ?, ?, ?)`,
			r.ID, string(r.Volunteer), timeKey(r.At()), key, r.Version, doc); err != nil {
			return translateAs(err, points.ErrDuplicate)
		}
	}
	for _, r := range c.Records {
		doc, err := docOf(r)
		if err != nil {
			return err
		}
		if _, err := tx.exec(`UPDATE points_records SET at = ?, version = ?, doc = ? WHERE id = ?`,
			timeKey(r.At()), r.Version, doc, r.ID); err != nil {
			return err
		}
	}
	for _, a := range c.Awards {
		if err := upsertDoc(tx, `INSERT INTO points_awards (id, volunteer, at, doc) VALUES (?, ?, ?, ?)`,
			a, a.ID, string(a.Volunteer), timeKey(a.At)); err != nil {
			return err
		}
	}
	for _, l := range c.Lots {
		var expires any
		if !l.ExpiresAt.IsZero() {
			expires = timeKey(l.ExpiresAt)
		}
		if err := upsertDoc(tx, `INSERT INTO points_lots (id, volunteer, earned_at, expires_at, live, doc) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET volunteer = excluded.volunteer, earned_at = excluded.earned_at,
			expires_at = excluded.expires_at, live = excluded.live, doc = excluded.doc`,
			l, l.ID, string(l.Volunteer), timeKey(l.EarnedAt), expires, boolArg(l.Remaining.Sign() > 0)); err != nil {
			return err
		}
	}
	if err := addUsage(tx, c.Usage); err != nil {
		return err
	}
	for _, lc := range c.Levels {
		if err := upsertDoc(tx, `INSERT INTO points_levels (volunteer, doc) VALUES (?, ?)`, lc, string(lc.Volunteer)); err != nil {
			return err
		}
	}
	for _, o := range c.Objections {
		if err := upsertDoc(tx, `INSERT INTO points_objections (id, record, version, doc) VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET record = excluded.record, version = excluded.version, doc = excluded.doc`,
			o, o.ID, o.Record, o.Version); err != nil {
			return err
		}
	}
	for _, st := range items {
		it := st.item
		if err := upsertDoc(tx, `INSERT INTO points_items (id, owner, version, unlimited, stock, doc) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, version = excluded.version,
			unlimited = excluded.unlimited, stock = excluded.stock, doc = excluded.doc`,
			it, it.ID, string(it.Owner), it.Version, boolArg(it.Unlimited), it.Stock); err != nil {
			return err
		}
	}
	for _, r := range c.Redemptions {
		if err := upsertDoc(tx, `INSERT INTO points_redemptions (id, volunteer, item, held_at, deadline, held, version, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET volunteer = excluded.volunteer, item = excluded.item, held_at = excluded.held_at,
			deadline = excluded.deadline, held = excluded.held, version = excluded.version, doc = excluded.doc`,
			r, r.ID, string(r.Volunteer), r.Item, timeKey(r.HeldAt), timeKey(r.Deadline),
			boolArg(r.Status == points.RedemptionHeld), r.Version); err != nil {
			return err
		}
	}
	for _, ct := range c.Certificates {
		if err := upsertDoc(tx, `INSERT INTO points_certificates (number, volunteer, doc) VALUES (?, ?, ?)`,
			ct, ct.Number, string(ct.Volunteer)); err != nil {
			return err
		}
	}
	for _, op := range c.Ops {
		op.Seq = 0 // the seq column is the truth
		if err := upsertDoc(tx, `INSERT INTO points_ops (id, acked, doc) VALUES (?, 0, ?)`, op, op.ID); err != nil {
			return err
		}
	}
	return nil
}

// upsertDoc runs query with args followed by v's JSON document as the last
// placeholder.
func upsertDoc(tx *wtx, query string, v any, args ...any) error {
	doc, err := docOf(v)
	if err != nil {
		return err
	}
	_, err = tx.exec(query, append(args, doc)...)
	return translateAs(err, points.ErrDuplicate)
}

func addUsage(tx *wtx, usage []points.UsageDelta) error {
	for _, u := range usage {
		var cur string
		err := tx.queryRow(`SELECT points FROM points_usage WHERE volunteer = ? AND period = ?`, string(u.Volunteer), u.Period).Scan(&cur)
		sum := u.Points
		switch {
		case err == nil:
			d, err := decimal.NewFromString(cur)
			if err != nil {
				return fmt.Errorf("%w: usage column: %v", ErrCorrupt, err)
			}
			sum = d.Add(u.Points)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if _, err := tx.exec(`INSERT INTO points_usage (volunteer, period, points) VALUES (?, ?, ?)
			ON CONFLICT (volunteer, period) DO UPDATE SET points = excluded.points`,
			string(u.Volunteer), u.Period, sum.String()); err != nil {
			return err
		}
	}
	return nil
}

// Record implements points.Store.
func (s *PointsStore) Record(ctx context.Context, id string) (points.Record, error) {
	return readOne[points.Record](ctx, s.db, points.ErrNotFound, "points: record", `SELECT doc FROM points_records WHERE id = ?`, id)
}

// RecordBySource implements points.Store.
func (s *PointsStore) RecordBySource(ctx context.Context, key string) (points.Record, error) {
	return readOne[points.Record](ctx, s.db, points.ErrNotFound, "points: record with source key", `SELECT doc FROM points_records WHERE source_key = ?`, key)
}

// Records implements points.Store.
func (s *PointsStore) Records(ctx context.Context, v org.VolunteerID, from, to time.Time) ([]points.Record, error) {
	return readAll[points.Record](ctx, s.db, "points: records", `SELECT doc FROM points_records
		WHERE volunteer = ? AND at >= ? AND at < ? ORDER BY at, id`, string(v), timeKey(from), timeKey(to))
}

// Wallet implements points.Store.
func (s *PointsStore) Wallet(ctx context.Context, v org.VolunteerID) (points.Wallet, error) {
	w, err := readOne[points.Wallet](ctx, s.db, points.ErrNotFound, "points: wallet", `SELECT doc FROM points_wallets WHERE volunteer = ?`, string(v))
	if errors.Is(err, points.ErrNotFound) {
		return points.Wallet{Volunteer: v}, nil
	}
	return w, err
}

// Lots implements points.Store.
func (s *PointsStore) Lots(ctx context.Context, v org.VolunteerID) ([]points.Lot, error) {
	return readAll[points.Lot](ctx, s.db, "points: lots", `SELECT doc FROM points_lots
		WHERE volunteer = ? AND live = 1 ORDER BY earned_at, id`, string(v))
}

// Lot implements points.Store.
func (s *PointsStore) Lot(ctx context.Context, id string) (points.Lot, error) {
	return readOne[points.Lot](ctx, s.db, points.ErrNotFound, "points: lot", `SELECT doc FROM points_lots WHERE id = ?`, id)
}

// dueLotsQuery selects the due lots: live, expires_at at or before ?1, at
// most ?2.
const dueLotsQuery = `SELECT doc FROM points_lots
	WHERE live = 1 AND expires_at <= ? ORDER BY expires_at, id LIMIT ?`

// DueLots implements points.Store.
func (s *PointsStore) DueLots(ctx context.Context, now time.Time, limit int) ([]points.Lot, error) {
	return readAll[points.Lot](ctx, s.db, "points: due lots", dueLotsQuery, timeKey(now), max(limit, 0))
}

// DueLotsWallets implements points.DueWalletsStore: the due lots, then the
// wallets of their volunteers (one query for all of them), in one read
// transaction of the read pool, so both come from one snapshot of the file.
func (s *PointsStore) DueLotsWallets(ctx context.Context, now time.Time, limit int) ([]points.Lot, []points.Wallet, error) {
	var (
		lots  []points.Lot
		ws    []points.Wallet
		inner error // a read's error, which names what failed
	)
	err := s.db.readTx(ctx, func(tx reader) error {
		lots, inner = readAllIn[points.Lot](ctx, tx, "points: due lots", dueLotsQuery, timeKey(now), max(limit, 0))
		if inner != nil || len(lots) == 0 {
			return inner
		}
		if s.afterDueLots != nil {
			s.afterDueLots()
		}
		index := make(map[org.VolunteerID]int) // volunteer → its place in ws
		var vols []string
		for i := range lots {
			v := lots[i].Volunteer
			if _, ok := index[v]; !ok {
				index[v] = len(ws)
				ws = append(ws, points.Wallet{Volunteer: v})
				vols = append(vols, string(v))
			}
		}
		arg, err := json.Marshal(vols)
		if err != nil {
			inner = fmt.Errorf("sqlite: points: due wallets: %w", err)
			return inner
		}
		var stored []points.Wallet
		stored, inner = readAllIn[points.Wallet](ctx, tx, "points: due wallets",
			`SELECT doc FROM points_wallets WHERE volunteer IN (SELECT value FROM json_each(?))`, string(arg))
		for _, w := range stored {
			i, ok := index[w.Volunteer]
			if !ok {
				inner = fmt.Errorf("sqlite: points: due wallets: wallet of %q, not asked for: %w", w.Volunteer, ErrCorrupt)
				break
			}
			ws[i] = w
		}
		return inner
	})
	switch {
	case inner != nil:
		return nil, nil, inner
	case err != nil:
		return nil, nil, fmt.Errorf("sqlite: points: due lots and wallets: %w", translate(err))
	}
	return lots, ws, nil
}

// Award implements points.Store.
func (s *PointsStore) Award(ctx context.Context, id string) (points.Award, error) {
	return readOne[points.Award](ctx, s.db, points.ErrNotFound, "points: award", `SELECT doc FROM points_awards WHERE id = ?`, id)
}

// Awards implements points.Store.
func (s *PointsStore) Awards(ctx context.Context, v org.VolunteerID, from, to time.Time) ([]points.Award, error) {
	return readAll[points.Award](ctx, s.db, "points: awards", `SELECT doc FROM points_awards
		WHERE volunteer = ? AND at >= ? AND at < ? ORDER BY at, id`, string(v), timeKey(from), timeKey(to))
}

// Usage implements points.Store.
func (s *PointsStore) Usage(ctx context.Context, v org.VolunteerID, periods []string) (_ []decimal.Decimal, err error) {
	defer s.db.settled(ctx, &err) // no caller sees a commit before it is durable
	out := make([]decimal.Decimal, len(periods))
	for i, p := range periods {
		var cur string
		err := s.db.reader().QueryRowContext(ctx, `SELECT points FROM points_usage WHERE volunteer = ? AND period = ?`, string(v), p).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: points: usage: %w", translate(err))
		}
		if out[i], err = decimal.NewFromString(cur); err != nil {
			return nil, fmt.Errorf("sqlite: points: usage: %w: %v", ErrCorrupt, err)
		}
	}
	return out, nil
}

// Levels implements points.Store.
func (s *PointsStore) Levels(ctx context.Context, v org.VolunteerID) ([]points.LevelChange, error) {
	return readAll[points.LevelChange](ctx, s.db, "points: levels", `SELECT doc FROM points_levels WHERE volunteer = ? ORDER BY seq`, string(v))
}

// Objection implements points.Store.
func (s *PointsStore) Objection(ctx context.Context, id string) (points.Objection, error) {
	return readOne[points.Objection](ctx, s.db, points.ErrNotFound, "points: objection", `SELECT doc FROM points_objections WHERE id = ?`, id)
}

// Objections implements points.Store.
func (s *PointsStore) Objections(ctx context.Context, record string) ([]points.Objection, error) {
	return readAll[points.Objection](ctx, s.db, "points: objections", `SELECT doc FROM points_objections WHERE record = ? ORDER BY raised`, record)
}

// Item implements points.Store.
func (s *PointsStore) Item(ctx context.Context, id string) (_ points.Item, err error) {
	defer s.db.settled(ctx, &err) // no caller sees a commit before it is durable
	var stock int64
	it, err := scanDoc[points.Item](s.db.reader().QueryRowContext(ctx, `SELECT doc, stock FROM points_items WHERE id = ?`, id), &stock)
	if errors.Is(err, sql.ErrNoRows) {
		return points.Item{}, fmt.Errorf("sqlite: points: item %q: %w", id, points.ErrNotFound)
	}
	if err != nil {
		return points.Item{}, fmt.Errorf("sqlite: points: item %q: %w", id, translate(err))
	}
	it.Stock = stock
	return it, nil
}

// Items implements points.Store.
func (s *PointsStore) Items(ctx context.Context, owner org.NodeID) ([]points.Item, error) {
	query := `SELECT doc FROM points_items ORDER BY id`
	args := []any{}
	if owner != "" {
		query = `SELECT doc FROM points_items WHERE owner = ? ORDER BY id`
		args = append(args, string(owner))
	}
	return readAll[points.Item](ctx, s.db, "points: items", query, args...)
}

// Redemption implements points.Store.
func (s *PointsStore) Redemption(ctx context.Context, id string) (points.Redemption, error) {
	return readOne[points.Redemption](ctx, s.db, points.ErrNotFound, "points: redemption", `SELECT doc FROM points_redemptions WHERE id = ?`, id)
}

// Redemptions implements points.Store.
func (s *PointsStore) Redemptions(ctx context.Context, v org.VolunteerID, item string, since time.Time) ([]points.Redemption, error) {
	return readAll[points.Redemption](ctx, s.db, "points: redemptions", `SELECT doc FROM points_redemptions
		WHERE volunteer = ? AND held_at >= ? AND item = ? ORDER BY held_at, id`, string(v), timeKey(since), item)
}

// DueRedemptions implements points.Store.
func (s *PointsStore) DueRedemptions(ctx context.Context, now time.Time, limit int) ([]points.Redemption, error) {
	return readAll[points.Redemption](ctx, s.db, "points: due redemptions", `SELECT doc FROM points_redemptions
		WHERE held = 1 AND deadline <= ? ORDER BY deadline, id LIMIT ?`, timeKey(now), max(limit, 0))
}

// Certificate implements points.Store.
func (s *PointsStore) Certificate(ctx context.Context, number string) (points.Certificate, error) {
	return readOne[points.Certificate](ctx, s.db, points.ErrNotFound, "points: certificate", `SELECT doc FROM points_certificates WHERE number = ?`, number)
}

// Certificates implements points.Store.
func (s *PointsStore) Certificates(ctx context.Context, v org.VolunteerID) ([]points.Certificate, error) {
	if v == "" {
		return readAll[points.Certificate](ctx, s.db, "points: certificates", `SELECT doc FROM points_certificates ORDER BY number`)
	}
	return readAll[points.Certificate](ctx, s.db, "points: certificates", `SELECT doc FROM points_certificates
		WHERE volunteer = ? ORDER BY number`, string(v))
}

// NextNumber implements points.Store.
func (s *PointsStore) NextNumber(ctx context.Context, series string) (int64, error) {
	var n int64
	err := s.db.w.do(ctx, func(tx *wtx) error {
		return tx.queryRow(`INSERT INTO points_sequences (series, value) VALUES (?, 1)
			ON CONFLICT (series) DO UPDATE SET value = value + 1 RETURNING value`, series).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: points: next number of %q: %w", series, err)
	}
	return n, nil
}

// RecordRefusal implements points.Store.
func (s *PointsStore) RecordRefusal(ctx context.Context, r org.Refusal) (int64, error) {
	var seq int64
	err := s.db.w.do(ctx, func(tx *wtx) error {
		if err := tx.queryRow(`SELECT coalesce(max(seq), 0) + 1 FROM points_refusals`).Scan(&seq); err != nil {
			return err
		}
		r.Seq = seq
		return upsertDoc(tx, `INSERT INTO points_refusals (seq, doc) VALUES (?, ?)`, r, seq)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: points: record refusal: %w", err)
	}
	return seq, nil
}

// Refusals implements points.Store.
func (s *PointsStore) Refusals(ctx context.Context, after int64, limit int) ([]org.Refusal, error) {
	return readAll[org.Refusal](ctx, s.db, "points: refusals",
		`SELECT doc FROM points_refusals WHERE seq > ? ORDER BY seq LIMIT ?`, after, max(limit, 0))
}

// PendingOps implements points.Store.
func (s *PointsStore) PendingOps(ctx context.Context, limit int) (_ []points.Op, err error) {
	defer s.db.settled(ctx, &err) // no caller sees a commit before it is durable
	rows, err := s.db.reader().QueryContext(ctx, `SELECT doc, seq FROM points_ops WHERE acked = 0 ORDER BY seq LIMIT ?`, max(limit, 0))
	if err != nil {
		return nil, fmt.Errorf("sqlite: points: pending ops: %w", translate(err))
	}
	defer rows.Close()
	var out []points.Op
	for rows.Next() {
		var seq int64
		op, err := scanDoc[points.Op](rows, &seq)
		if err != nil {
			return nil, fmt.Errorf("sqlite: points: pending ops: %w", translate(err))
		}
		op.Seq = seq
		out = append(out, op)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: points: pending ops: %w", translate(err))
	}
	return out, nil
}

// AckOps implements points.Store.
func (s *PointsStore) AckOps(ctx context.Context, opIDs []string) error {
	if len(opIDs) == 0 {
		return ctx.Err()
	}
	arg, err := json.Marshal(opIDs)
	if err != nil {
		return err
	}
	err = s.db.w.do(ctx, func(tx *wtx) error {
		_, err := tx.exec(`UPDATE points_ops SET acked = 1 WHERE id IN (SELECT value FROM json_each(?))`, string(arg))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: points: ack ops: %w", err)
	}
	return nil
}
