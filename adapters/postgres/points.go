package postgres

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
)

// PointsStore is the points.Store on PostgreSQL. Get it from DB.Points.
// Objects are stored whole in their encoding/gob form (exact for decimals)
// beside the columns queries select on. Every Commit takes the single row
// of points_lock FOR UPDATE, so commits are serialised across processes and
// their checks (versions, uniqueness, stock) cannot race; reads take no lock.
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

// Points returns the DB's points store.
func (db *DB) Points() *PointsStore { return &PointsStore{db: db} }

func pointsErr(err error) error {
	if err == nil {
		return nil
	}
	for _, s := range []error{points.ErrNotFound, points.ErrDuplicate, points.ErrConflict, points.ErrOutOfStock,
		points.ErrInvalidAmount, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, s) {
			return err
		}
	}
	return fmt.Errorf("postgres: points: %w", translate(err))
}

func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		return nil, fmt.Errorf("postgres: encode %T: %w", v, err)
	}
	return b.Bytes(), nil
}

func decode[T any](data []byte) (T, error) {
	var v T
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&v); err != nil {
		return v, fmt.Errorf("postgres: decode %T: %w", v, err)
	}
	return v, nil
}

// queryGob runs a query selecting one gob column and decodes each row.
func queryGob[T any](ctx context.Context, q queryer, db *DB, sql string, args ...any) ([]T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, db.q(sql), args...)
	if err != nil {
		return nil, pointsErr(err)
	}
	var out []T
	var data []byte
	if _, err := pgx.ForEachRow(rows, []any{&data}, func() error {
		v, err := decode[T](data)
		out = append(out, v)
		return err
	}); err != nil {
		return nil, pointsErr(err)
	}
	return out, nil
}

// one returns the single object a query selects, or ErrNotFound.
func one[T any](ctx context.Context, db *DB, what, id, sql string) (T, error) {
	vs, err := queryGob[T](ctx, db.pool, db, sql, id)
	if err != nil {
		var zero T
		return zero, err
	}
	if len(vs) == 0 {
		var zero T
		return zero, fmt.Errorf("postgres: %s %q: %w", what, id, points.ErrNotFound)
	}
	return vs[0], nil
}

// Commit checks and applies c atomically under the points lock: one
// round trip takes the lock and reads everything the checks need, one
// writes.
func (s *PointsStore) Commit(ctx context.Context, c *points.Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.inTx(ctx, "points commit", func(ctx context.Context, tx pgx.Tx) error {
		st, err := s.load(ctx, tx, c)
		if err != nil {
			return err
		}
		stock, err := st.check(c)
		if err != nil {
			return err
		}
		next, err := s.apply(ctx, tx, c, st.seq, stock)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, s.db.q("UPDATE {s}.points_lock SET seq = $1 WHERE id = 1"), next)
		return err
	})
	return pointsErr(err)
}

// commitState is what Commit's checks read: versions by ID (present when
// stored), IDs taken, items.
type commitState struct {
	seq                                  int64
	wallets, records, objections, redems map[string]int64
	sources, awards, ops, certs          map[string]bool
	items                                map[string]points.Item
}

// load takes the points lock and reads, in one pipelined round trip, what
// the checks of c need.
func (s *PointsStore) load(ctx context.Context, tx pgx.Tx, c *points.Change) (*commitState, error) {
	st := &commitState{}
	var recIDs, sources, itemIDs []string
	for _, r := range c.NewRecords {
		recIDs = append(recIDs, r.ID)
		if r.SourceKey != "" {
			sources = append(sources, r.SourceKey)
		}
	}
	for _, r := range c.Records {
		recIDs = append(recIDs, r.ID)
	}
	for _, it := range c.Items {
		itemIDs = append(itemIDs, it.ID)
	}
	for _, d := range c.Stock {
		itemIDs = append(itemIDs, d.Item)
	}
	b := &pgx.Batch{}
	b.Queue(s.db.q("SELECT seq FROM {s}.points_lock WHERE id = 1 FOR UPDATE")).QueryRow(func(r pgx.Row) error { return r.Scan(&st.seq) })
	versions := func(sql string, ids []string, into *map[string]int64) {
		*into = map[string]int64{}
		if len(ids) == 0 {
			return
		}
		m := *into
		b.Queue(s.db.q(sql), ids).Query(func(rows pgx.Rows) error {
			var id string
			var v int64
			_, err := pgx.ForEachRow(rows, []any{&id, &v}, func() error { m[id] = v; return nil })
			return err
		})
	}
	taken := func(sql string, ids []string, into *map[string]bool) {
		*into = map[string]bool{}
		if len(ids) == 0 {
			return
		}
		m := *into
		b.Queue(s.db.q(sql), ids).Query(func(rows pgx.Rows) error {
			var id string
			_, err := pgx.ForEachRow(rows, []any{&id}, func() error { m[id] = true; return nil })
			return err
		})
	}
	versions("SELECT volunteer, version FROM {s}.points_wallets WHERE volunteer = ANY($1)",
		idsOf(c.Wallets, func(w points.Wallet) string { return string(w.Volunteer) }), &st.wallets)
	versions("SELECT id, version FROM {s}.points_records WHERE id = ANY($1)", recIDs, &st.records)
	taken("SELECT source_key FROM {s}.points_records WHERE source_key = ANY($1)", sources, &st.sources)
	taken("SELECT id FROM {s}.points_awards WHERE id = ANY($1)", idsOf(c.Awards, func(a points.Award) string { return a.ID }), &st.awards)
	taken("SELECT id FROM {s}.points_ops WHERE id = ANY($1)", idsOf(c.Ops, func(o points.Op) string { return o.ID }), &st.ops)
	taken("SELECT number FROM {s}.points_certificates WHERE number = ANY($1)",
		idsOf(c.Certificates, func(ct points.Certificate) string { return ct.Number }), &st.certs)
	versions("SELECT id, version FROM {s}.points_objections WHERE id = ANY($1)", idsOf(c.Objections, func(o points.Objection) string { return o.ID }), &st.objections)
	versions("SELECT id, version FROM {s}.points_redemptions WHERE id = ANY($1)", idsOf(c.Redemptions, func(r points.Redemption) string { return r.ID }), &st.redems)
	st.items = map[string]points.Item{}
	if len(itemIDs) > 0 {
		b.Queue(s.db.q("SELECT stock, data FROM {s}.points_items WHERE id = ANY($1)"), itemIDs).Query(func(rows pgx.Rows) error {
			var stock int64
			var data []byte
			_, err := pgx.ForEachRow(rows, []any{&stock, &data}, func() error {
				it, err := decode[points.Item](data)
				it.Stock = stock
				st.items[it.ID] = it
				return err
			})
			return err
		})
	}
	return st, tx.SendBatch(ctx, b).Close()
}

// check refuses c on the first failed check, in the order of the Store
// contract, and returns the resulting stock of every item c touches.
func (st *commitState) check(c *points.Change) (map[string]points.Item, error) {
	for _, w := range c.Wallets {
		if got := st.wallets[string(w.Volunteer)]; got != w.Version-1 {
			return nil, fmt.Errorf("postgres: wallet %q: version %d, change expects %d: %w", w.Volunteer, got, w.Version-1, points.ErrConflict)
		}
	}
	seen := map[string]bool{}
	for _, r := range c.NewRecords {
		if seen[r.ID] {
			return nil, fmt.Errorf("postgres: record %q twice in one change: %w", r.ID, points.ErrDuplicate)
		}
		seen[r.ID] = true
		if _, ok := st.records[r.ID]; ok {
			return nil, fmt.Errorf("postgres: record %q: %w", r.ID, points.ErrDuplicate)
		}
		if r.SourceKey != "" && st.sources[r.SourceKey] {
			return nil, fmt.Errorf("postgres: record source key %q: %w", r.SourceKey, points.ErrDuplicate)
		}
	}
	for _, r := range c.Records {
		got, ok := st.records[r.ID]
		if !ok {
			return nil, fmt.Errorf("postgres: record %q: %w", r.ID, points.ErrNotFound)
		}
		if got != r.Version-1 {
			return nil, fmt.Errorf("postgres: record %q: version %d, change expects %d: %w", r.ID, got, r.Version-1, points.ErrConflict)
		}
	}
	for _, u := range []struct {
		what  string
		ids   []string
		taken map[string]bool
	}{
		{"award", idsOf(c.Awards, func(a points.Award) string { return a.ID }), st.awards},
		{"ledger op", idsOf(c.Ops, func(o points.Op) string { return o.ID }), st.ops},
		{"certificate", idsOf(c.Certificates, func(ct points.Certificate) string { return ct.Number }), st.certs},
	} {
		seen := map[string]bool{}
		for _, id := range u.ids {
			if seen[id] {
				return nil, fmt.Errorf("postgres: %s %q twice in one change: %w", u.what, id, points.ErrDuplicate)
			}
			seen[id] = true
			if u.taken[id] {
				return nil, fmt.Errorf("postgres: %s %q: %w", u.what, id, points.ErrDuplicate)
			}
		}
	}
	for _, o := range c.Objections {
		if got := st.objections[o.ID]; got != o.Version-1 {
			return nil, fmt.Errorf("postgres: objection %q: version %d, change expects %d: %w", o.ID, got, o.Version-1, points.ErrConflict)
		}
	}
	for _, u := range c.Usage {
		if _, err := points.PointsAsset.ToUnits(u.Points); err != nil {
			return nil, fmt.Errorf("postgres: usage of %q in %s: %w: %w", u.Volunteer, u.Period, points.ErrInvalidAmount, err)
		}
	}
	items := map[string]points.Item{}
	for _, it := range c.Items {
		old, ok := st.items[it.ID]
		if old.Version != it.Version-1 {
			return nil, fmt.Errorf("postgres: item %q: version %d, change expects %d: %w", it.ID, old.Version, it.Version-1, points.ErrConflict)
		}
		if ok {
			it.Stock = old.Stock
		}
		items[it.ID] = it
	}
	for _, d := range c.Stock {
		it, ok := items[d.Item]
		if !ok {
			if it, ok = st.items[d.Item]; !ok {
				return nil, fmt.Errorf("postgres: stock of item %q: %w", d.Item, points.ErrNotFound)
			}
		}
		if it.Unlimited {
			continue
		}
		if it.Stock+d.Delta < 0 {
			return nil, fmt.Errorf("postgres: item %q: stock %d cannot take %d: %w", d.Item, it.Stock, d.Delta, points.ErrOutOfStock)
		}
		it.Stock += d.Delta
		items[d.Item] = it
	}
	for _, r := range c.Redemptions {
		if got := st.redems[r.ID]; got != r.Version-1 {
			return nil, fmt.Errorf("postgres: redemption %q: version %d, change expects %d: %w", r.ID, got, r.Version-1, points.ErrConflict)
		}
	}
	return items, nil
}

func idsOf[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

// apply writes c (checked) and returns the points lock's next seq.
func (s *PointsStore) apply(ctx context.Context, tx pgx.Tx, c *points.Change, seq int64, items map[string]points.Item) (int64, error) {
	b := &pgx.Batch{}
	q := func(sql string, args ...any) { b.Queue(s.db.q(sql), args...) }
	var err error
	enc := func(v any) []byte {
		data, e := encode(v)
		if e != nil && err == nil {
			err = e
		}
		return data
	}
	for _, w := range c.Wallets {
		q(`INSERT INTO {s}.points_wallets (volunteer, version, data) VALUES ($1, $2, $3)
			ON CONFLICT (volunteer) DO UPDATE SET version = excluded.version, data = excluded.data`, string(w.Volunteer), w.Version, enc(w))
	}
	for _, r := range c.NewRecords {
		q("INSERT INTO {s}.points_records (id, source_key, volunteer, at, version, data) VALUES ($1, $2, $3, $4, $5, $6)",
			r.ID, r.SourceKey, string(r.Volunteer), tstz(r.At()), r.Version, enc(r))
	}
	for _, r := range c.Records {
		q("UPDATE {s}.points_records SET volunteer = $2, at = $3, version = $4, data = $5 WHERE id = $1",
			r.ID, string(r.Volunteer), tstz(r.At()), r.Version, enc(r))
	}
	for _, a := range c.Awards {
		q("INSERT INTO {s}.points_awards (id, volunteer, at, data) VALUES ($1, $2, $3, $4)", a.ID, string(a.Volunteer), tstz(a.At), enc(a))
	}
	for _, l := range c.Lots {
		q(`INSERT INTO {s}.points_lots (id, volunteer, earned_at, expires_at, positive, data) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (id) DO UPDATE SET volunteer = excluded.volunteer, earned_at = excluded.earned_at, expires_at = excluded.expires_at,
			  positive = excluded.positive, data = excluded.data`,
			l.ID, string(l.Volunteer), tstz(l.EarnedAt), tstz(l.ExpiresAt), l.Remaining.Sign() > 0, enc(l))
	}
	for _, u := range c.Usage {
		n, _ := points.PointsAsset.ToUnits(u.Points) // checked
		q(`INSERT INTO {s}.points_usage (volunteer, period, units) VALUES ($1, $2, $3)
			ON CONFLICT (volunteer, period) DO UPDATE SET units = {s}.points_usage.units + excluded.units`, string(u.Volunteer), u.Period, n)
	}
	seq++
	for i, lc := range c.Levels {
		q("INSERT INTO {s}.points_levels (volunteer, seq, ord, data) VALUES ($1, $2, $3, $4)", string(lc.Volunteer), seq, i, enc(lc))
	}
	for _, o := range c.Objections {
		q(`INSERT INTO {s}.points_objections (id, record, version, seq, data) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (id) DO UPDATE SET version = excluded.version, data = excluded.data`, o.ID, o.Record, o.Version, seq, enc(o))
	}
	for _, it := range c.Items {
		q(`INSERT INTO {s}.points_items (id, owner, version, unlimited, stock, data) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, version = excluded.version, unlimited = excluded.unlimited, data = excluded.data`,
			it.ID, string(it.Owner), it.Version, it.Unlimited, items[it.ID].Stock, enc(it))
	}
	for id, it := range items {
		q("UPDATE {s}.points_items SET stock = $2 WHERE id = $1", id, it.Stock)
	}
	for _, r := range c.Redemptions {
		q(`INSERT INTO {s}.points_redemptions (id, volunteer, item, held_at, deadline, held, version, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (id) DO UPDATE SET held_at = excluded.held_at, deadline = excluded.deadline, held = excluded.held,
			  version = excluded.version, data = excluded.data`,
			r.ID, string(r.Volunteer), r.Item, tstz(r.HeldAt), tstz(r.Deadline), r.Status == points.RedemptionHeld, r.Version, enc(r))
	}
	for _, ct := range c.Certificates {
		q("INSERT INTO {s}.points_certificates (number, volunteer, data) VALUES ($1, $2, $3)", ct.Number, string(ct.Volunteer), enc(ct))
	}
	for _, op := range c.Ops {
		seq++
		op.Seq = seq
		q("INSERT INTO {s}.points_ops (id, seq, acked, data) VALUES ($1, $2, false, $3)", op.ID, seq, enc(op))
	}
	if err != nil {
		return 0, err
	}
	if b.Len() == 0 {
		return seq, nil
	}
	return seq, tx.SendBatch(ctx, b).Close()
}

func (s *PointsStore) item(ctx context.Context, q queryer, id string) (points.Item, error) {
	rows, err := q.Query(ctx, s.db.q("SELECT stock, data FROM {s}.points_items WHERE id = $1"), id)
	if err != nil {
		return points.Item{}, err
	}
	var stock int64
	var data []byte
	found := false
	var it points.Item
	if _, err := pgx.ForEachRow(rows, []any{&stock, &data}, func() error {
		var err error
		it, err = decode[points.Item](data)
		it.Stock, found = stock, true
		return err
	}); err != nil {
		return points.Item{}, err
	}
	if !found {
		return points.Item{}, fmt.Errorf("postgres: item %q: %w", id, points.ErrNotFound)
	}
	return it, nil
}

// Record returns one record.
func (s *PointsStore) Record(ctx context.Context, id string) (points.Record, error) {
	return one[points.Record](ctx, s.db, "record", id, "SELECT data FROM {s}.points_records WHERE id = $1")
}

// RecordBySource returns the record created under a source key.
func (s *PointsStore) RecordBySource(ctx context.Context, key string) (points.Record, error) {
	if key == "" {
		return points.Record{}, fmt.Errorf("postgres: record by empty source key: %w", points.ErrNotFound)
	}
	return one[points.Record](ctx, s.db, "record with source key", key, "SELECT data FROM {s}.points_records WHERE source_key = $1")
}

// Records returns the volunteer's records with At in [from, to).
func (s *PointsStore) Records(ctx context.Context, v org.VolunteerID, from, to time.Time) ([]points.Record, error) {
	return queryGob[points.Record](ctx, s.db.pool, s.db, "SELECT data FROM {s}.points_records WHERE volunteer = $1 AND at >= $2 AND at < $3 ORDER BY at, id",
		string(v), ceilMicro(from), ceilMicro(to))
}

// ceilMicro rounds t up to the microsecond, the precision of timestamptz:
// for a stored (whole-microsecond) time x, x >= t exactly when
// x >= ceilMicro(t), and likewise for <.
func ceilMicro(t time.Time) time.Time {
	c := t.Truncate(time.Microsecond)
	if c.Before(t) {
		c = c.Add(time.Microsecond)
	}
	return c
}

// Wallet returns the volunteer's wallet, or a zero one.
func (s *PointsStore) Wallet(ctx context.Context, v org.VolunteerID) (points.Wallet, error) {
	ws, err := queryGob[points.Wallet](ctx, s.db.pool, s.db, "SELECT data FROM {s}.points_wallets WHERE volunteer = $1", string(v))
	if err != nil || len(ws) == 0 {
		return points.Wallet{Volunteer: v}, err
	}
	return ws[0], nil
}

// Lots returns the volunteer's lots with points remaining, oldest first.
func (s *PointsStore) Lots(ctx context.Context, v org.VolunteerID) ([]points.Lot, error) {
	return queryGob[points.Lot](ctx, s.db.pool, s.db, "SELECT data FROM {s}.points_lots WHERE volunteer = $1 AND positive ORDER BY earned_at, id", string(v))
}

// Lot returns one lot.
func (s *PointsStore) Lot(ctx context.Context, id string) (points.Lot, error) {
	return one[points.Lot](ctx, s.db, "lot", id, "SELECT data FROM {s}.points_lots WHERE id = $1")
}

// dueLots reads the lots with points remaining whose expiry has come
// through q.
func (s *PointsStore) dueLots(ctx context.Context, q queryer, now time.Time, limit int) ([]points.Lot, error) {
	return queryGob[points.Lot](ctx, q, s.db, `SELECT data FROM {s}.points_lots WHERE positive AND expires_at IS NOT NULL AND expires_at <= $1
		ORDER BY expires_at, id LIMIT $2`, now, max(limit, 0))
}

// DueLots returns lots with points remaining whose expiry has come.
func (s *PointsStore) DueLots(ctx context.Context, now time.Time, limit int) ([]points.Lot, error) {
	return s.dueLots(ctx, s.db.pool, now, limit)
}

// DueLotsWallets implements points.DueWalletsStore: the due lots, then the
// wallets of their volunteers (one query for all of them), in one
// REPEATABLE READ, READ ONLY transaction, so both come from one snapshot.
func (s *PointsStore) DueLotsWallets(ctx context.Context, now time.Time, limit int) ([]points.Lot, []points.Wallet, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	tx, err := s.db.pool.Begin(ctx)
	if err != nil {
		return nil, nil, pointsErr(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }() // read only: nothing to keep
	if _, err := tx.Exec(ctx, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"); err != nil {
		return nil, nil, pointsErr(err)
	}
	lots, err := s.dueLots(ctx, tx, now, limit)
	if err != nil || len(lots) == 0 {
		return nil, nil, err
	}
	if s.afterDueLots != nil {
		s.afterDueLots()
	}
	index := make(map[org.VolunteerID]int) // volunteer → its place in ws
	var (
		ws   []points.Wallet
		vols []string
	)
	for i := range lots {
		v := lots[i].Volunteer
		if _, ok := index[v]; !ok {
			index[v] = len(ws)
			ws = append(ws, points.Wallet{Volunteer: v})
			vols = append(vols, string(v))
		}
	}
	stored, err := queryGob[points.Wallet](ctx, tx, s.db, "SELECT data FROM {s}.points_wallets WHERE volunteer = ANY($1)", vols)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range stored {
		i, ok := index[w.Volunteer]
		if !ok {
			return nil, nil, fmt.Errorf("postgres: points: due wallets: wallet of %q, not asked for", w.Volunteer)
		}
		ws[i] = w
	}
	return lots, ws, nil
}

// Award returns one award.
func (s *PointsStore) Award(ctx context.Context, id string) (points.Award, error) {
	return one[points.Award](ctx, s.db, "award", id, "SELECT data FROM {s}.points_awards WHERE id = $1")
}

// Awards returns the volunteer's awards with At in [from, to).
func (s *PointsStore) Awards(ctx context.Context, v org.VolunteerID, from, to time.Time) ([]points.Award, error) {
	return queryGob[points.Award](ctx, s.db.pool, s.db, "SELECT data FROM {s}.points_awards WHERE volunteer = $1 AND at >= $2 AND at < $3 ORDER BY at, id",
		string(v), ceilMicro(from), ceilMicro(to))
}

// Usage returns the volunteer's usage counters for the periods.
func (s *PointsStore) Usage(ctx context.Context, v org.VolunteerID, periods []string) ([]decimal.Decimal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.db.pool.Query(ctx, s.db.q("SELECT period, units FROM {s}.points_usage WHERE volunteer = $1 AND period = ANY($2)"), string(v), periods)
	if err != nil {
		return nil, pointsErr(err)
	}
	got := map[string]int64{}
	var p string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&p, &n}, func() error { got[p] = n; return nil }); err != nil {
		return nil, pointsErr(err)
	}
	out := make([]decimal.Decimal, len(periods))
	for i, p := range periods {
		out[i] = points.PointsAsset.FromUnits(got[p])
	}
	return out, nil
}

// Levels returns the volunteer's star level changes, oldest first.
func (s *PointsStore) Levels(ctx context.Context, v org.VolunteerID) ([]points.LevelChange, error) {
	return queryGob[points.LevelChange](ctx, s.db.pool, s.db, "SELECT data FROM {s}.points_levels WHERE volunteer = $1 ORDER BY seq, ord", string(v))
}

// Objection returns one objection.
func (s *PointsStore) Objection(ctx context.Context, id string) (points.Objection, error) {
	return one[points.Objection](ctx, s.db, "objection", id, "SELECT data FROM {s}.points_objections WHERE id = $1")
}

// Objections returns the objections to a record, in the order raised.
func (s *PointsStore) Objections(ctx context.Context, record string) ([]points.Objection, error) {
	return queryGob[points.Objection](ctx, s.db.pool, s.db, "SELECT data FROM {s}.points_objections WHERE record = $1 ORDER BY seq, id", record)
}

// Item returns one catalogue item with its current stock.
func (s *PointsStore) Item(ctx context.Context, id string) (points.Item, error) {
	it, err := s.item(ctx, s.db.pool, id)
	return it, pointsErr(err)
}

// Items returns the items owned by a node (all when owner is empty).
func (s *PointsStore) Items(ctx context.Context, owner org.NodeID) ([]points.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.db.pool.Query(ctx, s.db.q("SELECT stock, data FROM {s}.points_items WHERE $1 = '' OR owner = $1 ORDER BY id"), string(owner))
	if err != nil {
		return nil, pointsErr(err)
	}
	var out []points.Item
	var stock int64
	var data []byte
	if _, err := pgx.ForEachRow(rows, []any{&stock, &data}, func() error {
		it, err := decode[points.Item](data)
		it.Stock = stock
		out = append(out, it)
		return err
	}); err != nil {
		return nil, pointsErr(err)
	}
	return out, nil
}

// Redemption returns one redemption.
func (s *PointsStore) Redemption(ctx context.Context, id string) (points.Redemption, error) {
	return one[points.Redemption](ctx, s.db, "redemption", id, "SELECT data FROM {s}.points_redemptions WHERE id = $1")
}

// Redemptions returns the volunteer's redemptions of an item held since.
func (s *PointsStore) Redemptions(ctx context.Context, v org.VolunteerID, item string, since time.Time) ([]points.Redemption, error) {
	return queryGob[points.Redemption](ctx, s.db.pool, s.db, `SELECT data FROM {s}.points_redemptions WHERE volunteer = $1 AND item = $2 AND held_at >= $3
		ORDER BY held_at, id`, string(v), item, ceilMicro(since))
}

// DueRedemptions returns held redemptions whose deadline has come.
func (s *PointsStore) DueRedemptions(ctx context.Context, now time.Time, limit int) ([]points.Redemption, error) {
	return queryGob[points.Redemption](ctx, s.db.pool, s.db, `SELECT data FROM {s}.points_redemptions WHERE held AND deadline <= $1
		ORDER BY deadline, id LIMIT $2`, now, max(limit, 0))
}

// Certificate returns one certificate.
func (s *PointsStore) Certificate(ctx context.Context, number string) (points.Certificate, error) {
	return one[points.Certificate](ctx, s.db, "certificate", number, "SELECT data FROM {s}.points_certificates WHERE number = $1")
}

// Certificates returns the register, by number.
func (s *PointsStore) Certificates(ctx context.Context, v org.VolunteerID) ([]points.Certificate, error) {
	return queryGob[points.Certificate](ctx, s.db.pool, s.db, "SELECT data FROM {s}.points_certificates WHERE $1 = '' OR volunteer = $1 ORDER BY number", string(v))
}

// NextNumber increments the named sequence.
func (s *PointsStore) NextNumber(ctx context.Context, series string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n int64
	err := s.db.inTx(ctx, "next number", func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, s.db.q(`INSERT INTO {s}.points_numbers (series, n) VALUES ($1, 1)
			ON CONFLICT (series) DO UPDATE SET n = {s}.points_numbers.n + 1 RETURNING n`), series).Scan(&n)
	})
	return n, pointsErr(err)
}

// RecordRefusal appends r to the refusal log.
func (s *PointsStore) RecordRefusal(ctx context.Context, r org.Refusal) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var seq int64
	err := s.db.inTx(ctx, "record refusal", func(ctx context.Context, tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, s.db.q("UPDATE {s}.points_lock SET refusals = refusals + 1 WHERE id = 1 RETURNING refusals")).Scan(&seq); err != nil {
			return err
		}
		r.Seq = seq
		data, err := encode(r)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, s.db.q("INSERT INTO {s}.points_refusals (seq, data) VALUES ($1, $2)"), seq, data)
		return err
	})
	return seq, pointsErr(err)
}

// Refusals returns a page of the refusal log.
func (s *PointsStore) Refusals(ctx context.Context, after int64, limit int) ([]org.Refusal, error) {
	return queryGob[org.Refusal](ctx, s.db.pool, s.db, "SELECT data FROM {s}.points_refusals WHERE seq > $1 ORDER BY seq LIMIT $2", after, max(limit, 0))
}

// PendingOps returns unacknowledged ops in Seq order.
func (s *PointsStore) PendingOps(ctx context.Context, limit int) ([]points.Op, error) {
	return queryGob[points.Op](ctx, s.db.pool, s.db, "SELECT data FROM {s}.points_ops WHERE NOT acked ORDER BY seq LIMIT $1", max(limit, 0))
}

// AckOps marks ops as applied; unknown IDs are ignored.
func (s *PointsStore) AckOps(ctx context.Context, ids []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.retry(ctx, "ack ops", func(ctx context.Context) error {
		_, err := s.db.pool.Exec(ctx, s.db.q("UPDATE {s}.points_ops SET acked = true WHERE id = ANY($1) AND NOT acked"), ids)
		return err
	})
	return pointsErr(err)
}
