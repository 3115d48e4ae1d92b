package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
)

// DispatchStore is the dispatch.Store on PostgreSQL. Get it from
// DB.Dispatch. Orders, history entries and events are stored whole as JSON
// beside the columns that queries select on. Every Commit takes the single
// row of dispatch_feed FOR UPDATE to number its event: commits are
// serialised across processes, so the feed is gap-free and read in commit
// order, and the capacity check and the write are one atomic step.
type DispatchStore struct{ db *DB }

var _ dispatch.Store = (*DispatchStore)(nil)

// Dispatch returns the DB's dispatch store.
func (db *DB) Dispatch() *DispatchStore { return &DispatchStore{db: db} }

// dispatchErr passes domain errors through and translates driver errors.
func dispatchErr(err error) error {
	if err == nil {
		return nil
	}
	for _, s := range []error{dispatch.ErrInvalid, dispatch.ErrNotFound, dispatch.ErrDuplicate, dispatch.ErrConflict,
		dispatch.ErrCapacity, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, s) {
			return err
		}
	}
	return fmt.Errorf("postgres: dispatch: %w", translate(err))
}

// SaveMenuItem creates (expected 0) or replaces (on a version match) item.
func (s *DispatchStore) SaveMenuItem(ctx context.Context, item dispatch.MenuItem, expected uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := json.Marshal(item)
	if err != nil {
		return fmt.Errorf("postgres: menu item %q: %w", item.Code, err)
	}
	err = s.db.inTx(ctx, "save menu item", func(ctx context.Context, tx pgx.Tx) error {
		if expected == 0 {
			tag, err := tx.Exec(ctx, s.db.q("INSERT INTO {s}.dispatch_menu (code, version, data) VALUES ($1, $2, $3) ON CONFLICT (code) DO NOTHING"),
				string(item.Code), int64(item.Version), string(data))
			if err == nil && tag.RowsAffected() == 0 {
				if commitUncertain(ctx) {
					// Ours, if it holds exactly what we wrote.
					var ver int64
					var stored string
					if err := tx.QueryRow(ctx, s.db.q("SELECT version, data FROM {s}.dispatch_menu WHERE code = $1"), string(item.Code)).Scan(&ver, &stored); err != nil {
						return err
					}
					if ver == int64(item.Version) && stored == string(data) {
						return errLanded
					}
				}
				err = fmt.Errorf("menu item %q exists: %w", item.Code, dispatch.ErrDuplicate)
			}
			return err
		}
		var ver int64
		err := tx.QueryRow(ctx, s.db.q("SELECT version FROM {s}.dispatch_menu WHERE code = $1 FOR UPDATE"), string(item.Code)).Scan(&ver)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("menu item %q: %w", item.Code, dispatch.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if uint64(ver) != expected {
			return fmt.Errorf("menu item %q: version %d, expected %d: %w", item.Code, ver, expected, dispatch.ErrConflict)
		}
		_, err = tx.Exec(ctx, s.db.q("UPDATE {s}.dispatch_menu SET version = $2, data = $3 WHERE code = $1"), string(item.Code), int64(item.Version), string(data))
		return err
	})
	return dispatchErr(err)
}

// MenuItem returns one menu item.
func (s *DispatchStore) MenuItem(ctx context.Context, code dispatch.ItemCode) (dispatch.MenuItem, error) {
	var data string
	err := s.db.pool.QueryRow(ctx, s.db.q("SELECT data FROM {s}.dispatch_menu WHERE code = $1"), string(code)).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return dispatch.MenuItem{}, fmt.Errorf("menu item %q: %w", code, dispatch.ErrNotFound)
	}
	if err != nil {
		return dispatch.MenuItem{}, dispatchErr(err)
	}
	var m dispatch.MenuItem
	return m, unmarshal(data, &m)
}

// Menu returns a page of menu items by code.
func (s *DispatchStore) Menu(ctx context.Context, after dispatch.ItemCode, limit int) ([]dispatch.MenuItem, error) {
	return queryJSON[dispatch.MenuItem](ctx, s.db, "SELECT data FROM {s}.dispatch_menu WHERE code > $1 ORDER BY code LIMIT $2", string(after), clampLimit(limit))
}

// Commit writes one transition: order, history entry and event.
func (s *DispatchStore) Commit(ctx context.Context, c dispatch.Commit) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if c.Order.Version != c.Expected+1 || c.Entry.Version != c.Expected+1 {
		return 0, fmt.Errorf("dispatch: commit %q: order version %d and entry version %d must be %d: %w",
			c.Order.ID, c.Order.Version, c.Entry.Version, c.Expected+1, dispatch.ErrInvalid)
	}
	var seq uint64
	err := s.db.inTx(ctx, "dispatch commit", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		seq, err = s.commit(ctx, tx, c)
		return err
	})
	return seq, dispatchErr(err)
}

func (s *DispatchStore) commit(ctx context.Context, tx pgx.Tx, c dispatch.Commit) (uint64, error) {
	var seq int64
	if err := tx.QueryRow(ctx, s.db.q("UPDATE {s}.dispatch_feed SET seq = seq + 1 WHERE id = 1 RETURNING seq")).Scan(&seq); err != nil {
		return 0, err
	}
	o := c.Order
	id := string(o.ID)
	var item string
	var ver int64
	err := tx.QueryRow(ctx, s.db.q("SELECT version, item FROM {s}.dispatch_orders WHERE id = $1"), id).Scan(&ver, &item)
	exists := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, err
	}
	if exists {
		switch {
		case c.Expected == 0:
			return 0, fmt.Errorf("dispatch: order %q exists: %w", o.ID, dispatch.ErrDuplicate)
		case uint64(ver) != c.Expected:
			return 0, fmt.Errorf("dispatch: order %q: version %d, expected %d: %w", o.ID, ver, c.Expected, dispatch.ErrConflict)
		}
		// The item snapshot is written once, when the order is created.
		if err := unmarshal(item, &o.Item); err != nil {
			return 0, err
		}
	} else {
		if c.Expected > 0 {
			return 0, fmt.Errorf("dispatch: order %q: %w", o.ID, dispatch.ErrNotFound)
		}
		b, err := json.Marshal(o.Item)
		if err != nil {
			return 0, err
		}
		item = string(b)
	}
	if c.CheckCapacity {
		var n int
		if err := tx.QueryRow(ctx, s.db.q("SELECT count(*) FROM {s}.dispatch_orders WHERE team = $1 AND active AND id <> $2"),
			string(o.Team), id).Scan(&n); err != nil {
			return 0, err
		}
		if o.State.Active() {
			n++
		}
		if n > c.Capacity {
			return 0, fmt.Errorf("dispatch: order %q: team %q would hold %d active orders, capacity %d: %w", o.ID, o.Team, n, c.Capacity, dispatch.ErrCapacity)
		}
	}
	data, err := json.Marshal(o)
	if err != nil {
		return 0, err
	}
	due := o.Due()
	var showcased *time.Time
	if o.State == dispatch.Showcased {
		showcased = &o.ShowcasedAt
	}
	if _, err := tx.Exec(ctx, s.db.q(`INSERT INTO {s}.dispatch_orders (id, version, state, team, active, due, showcased_at, item, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (id) DO UPDATE SET version = excluded.version, state = excluded.state, team = excluded.team, active = excluded.active,
		  due = excluded.due, showcased_at = excluded.showcased_at, data = excluded.data`),
		id, int64(o.Version), string(o.State), string(o.Team), o.State.Active(), tstz(due), showcased, item, string(data)); err != nil {
		return 0, err
	}
	entry, err := json.Marshal(c.Entry)
	if err != nil {
		return 0, err
	}
	ev := c.Event
	ev.Seq = uint64(seq)
	event, err := json.Marshal(ev)
	if err != nil {
		return 0, err
	}
	b := &pgx.Batch{}
	b.Queue(s.db.q("INSERT INTO {s}.dispatch_history (order_id, version, data) VALUES ($1, $2, $3)"), id, int64(c.Entry.Version), string(entry))
	b.Queue(s.db.q("INSERT INTO {s}.dispatch_events (seq, data) VALUES ($1, $2)"), seq, string(event))
	if c.Assigned {
		b.Queue(s.db.q("INSERT INTO {s}.dispatch_assigned (team, seq) VALUES ($1, $2) ON CONFLICT (team) DO UPDATE SET seq = excluded.seq"),
			string(o.Team), seq)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, err
	}
	return uint64(seq), nil
}

// Order returns one order.
func (s *DispatchStore) Order(ctx context.Context, id dispatch.OrderID) (dispatch.Order, error) {
	os, err := queryJSON[dispatch.Order](ctx, s.db, "SELECT data FROM {s}.dispatch_orders WHERE id = $1", string(id))
	if err != nil {
		return dispatch.Order{}, err
	}
	if len(os) == 0 {
		return dispatch.Order{}, fmt.Errorf("dispatch: order %q: %w", id, dispatch.ErrNotFound)
	}
	return os[0], nil
}

// History returns the order's history in version order.
func (s *DispatchStore) History(ctx context.Context, id dispatch.OrderID) ([]dispatch.HistoryEntry, error) {
	if _, err := s.Order(ctx, id); err != nil {
		return nil, err
	}
	return queryJSON[dispatch.HistoryEntry](ctx, s.db, "SELECT data FROM {s}.dispatch_history WHERE order_id = $1 ORDER BY version", string(id))
}

// Orders returns a page of orders by ID.
func (s *DispatchStore) Orders(ctx context.Context, after dispatch.OrderID, limit int) ([]dispatch.Order, error) {
	return queryJSON[dispatch.Order](ctx, s.db, "SELECT data FROM {s}.dispatch_orders WHERE id > $1 ORDER BY id LIMIT $2", string(after), clampLimit(limit))
}

// Due returns orders whose deadline is at or before now, earliest first.
func (s *DispatchStore) Due(ctx context.Context, now time.Time, limit int) ([]dispatch.Order, error) {
	return queryJSON[dispatch.Order](ctx, s.db, "SELECT data FROM {s}.dispatch_orders WHERE due IS NOT NULL AND due <= $1 ORDER BY due, id LIMIT $2", now, clampLimit(limit))
}

// Loads returns each team's active orders and last assignment.
func (s *DispatchStore) Loads(ctx context.Context, teams []org.TeamID) ([]dispatch.Load, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ids := make([]string, len(teams))
	for i, t := range teams {
		ids[i] = string(t)
	}
	active := map[string]int{}
	last := map[string]uint64{}
	rows, err := s.db.pool.Query(ctx, s.db.q(`SELECT t.team, COALESCE(a.n, 0), COALESCE(l.seq, 0) FROM unnest($1::text[]) AS t(team)
		LEFT JOIN (SELECT team, count(*) AS n FROM {s}.dispatch_orders WHERE active AND team = ANY($1) GROUP BY team) a ON a.team = t.team
		LEFT JOIN {s}.dispatch_assigned l ON l.team = t.team`), ids)
	if err != nil {
		return nil, dispatchErr(err)
	}
	var team string
	var n, seq int64
	if _, err := pgx.ForEachRow(rows, []any{&team, &n, &seq}, func() error {
		active[team], last[team] = int(n), uint64(seq)
		return nil
	}); err != nil {
		return nil, dispatchErr(err)
	}
	out := make([]dispatch.Load, len(teams))
	for i, t := range teams {
		out[i] = dispatch.Load{Team: t, Active: active[string(t)], LastAssigned: last[string(t)]}
	}
	return out, nil
}

// Events returns a page of the change feed.
func (s *DispatchStore) Events(ctx context.Context, after uint64, limit int) ([]dispatch.Event, error) {
	return queryJSON[dispatch.Event](ctx, s.db, "SELECT data FROM {s}.dispatch_events WHERE seq > $1 ORDER BY seq LIMIT $2", int64(after), clampLimit(limit))
}

// Position returns a relay's acknowledged position.
func (s *DispatchStore) Position(ctx context.Context, relay string) (uint64, error) {
	var seq int64
	err := s.db.pool.QueryRow(ctx, s.db.q("SELECT seq FROM {s}.dispatch_relays WHERE relay = $1"), relay).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return uint64(seq), dispatchErr(err)
}

// Ack moves a relay's position forward.
func (s *DispatchStore) Ack(ctx context.Context, relay string, seq uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.inTx(ctx, "ack", func(ctx context.Context, tx pgx.Tx) error {
		var last int64
		if err := tx.QueryRow(ctx, s.db.q("SELECT seq FROM {s}.dispatch_feed WHERE id = 1")).Scan(&last); err != nil {
			return err
		}
		if seq > uint64(last) {
			return fmt.Errorf("dispatch: ack %q: seq %d is beyond the last event %d: %w", relay, seq, last, dispatch.ErrInvalid)
		}
		_, err := tx.Exec(ctx, s.db.q(`INSERT INTO {s}.dispatch_relays (relay, seq) VALUES ($1, $2)
			ON CONFLICT (relay) DO UPDATE SET seq = GREATEST({s}.dispatch_relays.seq, excluded.seq)`), relay, int64(seq))
		return err
	})
	return dispatchErr(err)
}

// Showcase returns showcased orders, newest first, after the cursor.
func (s *DispatchStore) Showcase(ctx context.Context, after dispatch.FeedCursor, limit int) ([]dispatch.Order, error) {
	if after.At.IsZero() && after.ID == "" {
		return queryJSON[dispatch.Order](ctx, s.db, `SELECT data FROM {s}.dispatch_orders WHERE state = 'showcased'
			ORDER BY showcased_at DESC, id DESC LIMIT $1`, clampLimit(limit))
	}
	return queryJSON[dispatch.Order](ctx, s.db, `SELECT data FROM {s}.dispatch_orders WHERE state = 'showcased'
		AND (showcased_at < $1 OR (showcased_at = $1 AND id < $2)) ORDER BY showcased_at DESC, id DESC LIMIT $3`,
		after.At, string(after.ID), clampLimit(limit))
}

func clampLimit(limit int) int { return min(max(limit, 1), 1000) }

// queryJSON runs a query selecting one JSON column and decodes each row;
// empty, not nil, when there are none.
func queryJSON[T any](ctx context.Context, db *DB, sql string, args ...any) ([]T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, db.q(sql), args...)
	if err != nil {
		return nil, dispatchErr(err)
	}
	out := []T{}
	var data string
	if _, err := pgx.ForEachRow(rows, []any{&data}, func() error {
		var v T
		if err := unmarshal(data, &v); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	}); err != nil {
		return nil, dispatchErr(err)
	}
	return out, nil
}

func unmarshal(data string, v any) error {
	if err := json.Unmarshal([]byte(data), v); err != nil {
		return fmt.Errorf("postgres: dispatch: stored JSON: %w", err)
	}
	return nil
}
