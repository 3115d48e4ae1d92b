package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
)

// DispatchStore is the five-order loop kept in the database file (tables
// dispatch_*). Commit writes an order, its history entry and its feed
// events in one request to the writer, checking the expected version and,
// when asked, the team's capacity inside the same transaction, so
// concurrent commits never overfill a team.
type DispatchStore struct {
	db *DB
}

var _ dispatch.Store = (*DispatchStore)(nil)

// Dispatch returns the dispatch store of db.
func (db *DB) Dispatch() *DispatchStore { return db.dispatch }

func dispatchErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sqlite: dispatch: %s: %w", op, err)
}

// SaveMenuItem implements dispatch.Store.
func (s *DispatchStore) SaveMenuItem(ctx context.Context, item dispatch.MenuItem, expected uint64) error {
	doc, err := docOf(item)
	if err != nil {
		return dispatchErr("save menu item", err)
	}
	return dispatchErr(fmt.Sprintf("save menu item %q", item.Code), s.db.w.do(ctx, func(tx *wtx) error {
		var stored uint64
		err := tx.queryRow(`SELECT version FROM dispatch_menu WHERE code = ?`, string(item.Code)).Scan(&stored)
		found := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		switch {
		case expected == 0 && found:
			return fmt.Errorf("menu item exists: %w", dispatch.ErrDuplicate)
		case expected > 0 && !found:
			return dispatch.ErrNotFound
		case expected > 0 && stored != expected:
			return fmt.Errorf("stored version %d, expected %d: %w", stored, expected, dispatch.ErrConflict)
		}
		_, err = tx.exec(`INSERT INTO dispatch_menu (code, version, doc) VALUES (?, ?, ?)
			ON CONFLICT (code) DO UPDATE SET version = excluded.version, doc = excluded.doc`,
			string(item.Code), item.Version, doc)
		return err
	}))
}

// MenuItem implements dispatch.Store.
func (s *DispatchStore) MenuItem(ctx context.Context, code dispatch.ItemCode) (dispatch.MenuItem, error) {
	return readOne[dispatch.MenuItem](ctx, s.db, dispatch.ErrNotFound, "dispatch: menu item",
		`SELECT doc FROM dispatch_menu WHERE code = ?`, string(code))
}

// Menu implements dispatch.Store.
func (s *DispatchStore) Menu(ctx context.Context, after dispatch.ItemCode, limit int) ([]dispatch.MenuItem, error) {
	out, err := readAll[dispatch.MenuItem](ctx, s.db, "dispatch: menu",
		`SELECT doc FROM dispatch_menu WHERE code > ? ORDER BY code LIMIT ?`, string(after), max(limit, 0))
	if out == nil && err == nil {
		out = []dispatch.MenuItem{}
	}
	return out, err
}

// Commit implements dispatch.Store. It returns the Seq of the commit's
// event.
func (s *DispatchStore) Commit(ctx context.Context, c dispatch.Commit) (uint64, error) {
	o := c.Order
	if o.Version != c.Expected+1 || c.Entry.Version != o.Version {
		return 0, fmt.Errorf("sqlite: dispatch: order %q: version %d and history version %d must be %d: %w",
			o.ID, o.Version, c.Entry.Version, c.Expected+1, dispatch.ErrInvalid)
	}
	itemDoc, err := docOf(o.Item)
	if err != nil {
		return 0, dispatchErr("commit", err)
	}
	bare := o
	bare.Item = dispatch.MenuItem{}
	orderDoc, err := docOf(bare)
	if err != nil {
		return 0, dispatchErr("commit", err)
	}
	entryDoc, err := docOf(c.Entry)
	if err != nil {
		return 0, dispatchErr("commit", err)
	}
	var last uint64
	err = s.db.w.do(ctx, func(tx *wtx) error {
		last = 0
		if err := checkCommit(tx, &c); err != nil {
			return err
		}
		var due, showcased any
		if d := o.Due(); !d.IsZero() {
			due = timeKey(d)
		}
		if o.State == dispatch.Showcased {
			showcased = timeKey(o.ShowcasedAt)
		}
		// The item snapshot is written on creation only.
		_, err := tx.exec(`INSERT INTO dispatch_orders (id, version, state, team, active, due, showcased_at, item, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET version = excluded.version, state = excluded.state, team = excluded.team,
			active = excluded.active, due = excluded.due, showcased_at = excluded.showcased_at, doc = excluded.doc`,
			string(o.ID), o.Version, string(o.State), string(o.Team), boolArg(o.State.Active()), due, showcased,
			itemDoc, orderDoc)
		if err != nil {
			return err
		}
		if _, err := tx.exec(`INSERT INTO dispatch_history (order_id, version, doc) VALUES (?, ?, ?)`,
			string(o.ID), c.Entry.Version, entryDoc); err != nil {
			return translateAs(err, dispatch.ErrConflict)
		}
		if last, err = appendEvent(tx, c.Event); err != nil {
			return err
		}
		if c.Assigned && o.Team != "" {
			_, err = tx.exec(`INSERT INTO dispatch_assigned (team, seq) VALUES (?, ?)
				ON CONFLICT (team) DO UPDATE SET seq = excluded.seq`, string(o.Team), last)
		}
		return err
	})
	if err != nil {
		return 0, dispatchErr(fmt.Sprintf("commit order %q", o.ID), err)
	}
	return last, nil
}

// checkCommit checks the expected version and the team's capacity.
func checkCommit(tx *wtx, c *dispatch.Commit) error {
	o := &c.Order
	var (
		stored             uint64
		storedTeam, state  string
		storedActive, held bool
	)
	err := tx.queryRow(`SELECT version, team, state FROM dispatch_orders WHERE id = ?`, string(o.ID)).Scan(&stored, &storedTeam, &state)
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	switch {
	case c.Expected == 0 && exists:
		return fmt.Errorf("order exists: %w", dispatch.ErrDuplicate)
	case c.Expected > 0 && !exists:
		return dispatch.ErrNotFound
	case exists && stored != c.Expected:
		return fmt.Errorf("stored version %d, expected %d: %w", stored, c.Expected, dispatch.ErrConflict)
	}
	storedActive = exists && dispatch.State(state).Active()
	held = storedActive && org.TeamID(storedTeam) == o.Team
	if !c.CheckCapacity || !o.State.Active() || o.Team == "" {
		return nil
	}
	var n int
	if err := tx.queryRow(`SELECT count(*) FROM dispatch_orders WHERE team = ? AND active = 1`, string(o.Team)).Scan(&n); err != nil {
		return err
	}
	if !held {
		n++
	}
	if n > c.Capacity {
		return fmt.Errorf("team %q: capacity %d would be exceeded: %w", o.Team, c.Capacity, dispatch.ErrCapacity)
	}
	return nil
}

// appendEvent gives ev the Seq after the last one, stores it and returns
// the Seq.
func appendEvent(tx *wtx, ev dispatch.Event) (uint64, error) {
	var seq uint64
	if err := tx.queryRow(`SELECT coalesce(max(seq), 0) + 1 FROM dispatch_events`).Scan(&seq); err != nil {
		return 0, err
	}
	ev.Seq = seq
	doc, err := docOf(ev)
	if err != nil {
		return 0, err
	}
	_, err = tx.exec(`INSERT INTO dispatch_events (seq, doc) VALUES (?, ?)`, seq, doc)
	return seq, err
}

// scanOrder reads an order row (doc, item).
func scanOrder(r rowScanner) (dispatch.Order, error) {
	var item string
	o, err := scanDoc[dispatch.Order](r, &item)
	if err != nil {
		return dispatch.Order{}, err
	}
	if err := json.Unmarshal([]byte(item), &o.Item); err != nil {
		return dispatch.Order{}, fmt.Errorf("%w: item column: %v", ErrCorrupt, err)
	}
	return o, nil
}

// orders runs a query selecting (doc, item) through the read pool.
func (s *DispatchStore) orders(ctx context.Context, what, query string, args ...any) (_ []dispatch.Order, err error) {
	defer s.db.settled(ctx, &err) // no caller sees a commit before it is durable
	rows, err := s.db.reader().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, dispatchErr(what, translate(err))
	}
	defer rows.Close()
	out := []dispatch.Order{}
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, dispatchErr(what, translate(err))
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, dispatchErr(what, translate(err))
	}
	return out, nil
}

// Order implements dispatch.Store.
func (s *DispatchStore) Order(ctx context.Context, id dispatch.OrderID) (_ dispatch.Order, err error) {
	defer s.db.settled(ctx, &err) // no caller sees a commit before it is durable
	o, err := scanOrder(s.db.reader().QueryRowContext(ctx, `SELECT doc, item FROM dispatch_orders WHERE id = ?`, string(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return dispatch.Order{}, fmt.Errorf("sqlite: dispatch: order %q: %w", id, dispatch.ErrNotFound)
	}
	if err != nil {
		return dispatch.Order{}, dispatchErr(fmt.Sprintf("order %q", id), translate(err))
	}
	return o, nil
}

// History implements dispatch.Store.
func (s *DispatchStore) History(ctx context.Context, id dispatch.OrderID) ([]dispatch.HistoryEntry, error) {
	var out []dispatch.HistoryEntry
	err := s.db.readTx(ctx, func(tx reader) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM dispatch_orders WHERE id = ?`, string(id)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return dispatch.ErrNotFound
		}
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT doc FROM dispatch_history WHERE order_id = ? ORDER BY version`, string(id))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanDoc[dispatch.HistoryEntry](rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, dispatchErr(fmt.Sprintf("history of %q", id), translate(err))
	}
	return out, nil
}

// Orders implements dispatch.Store.
func (s *DispatchStore) Orders(ctx context.Context, after dispatch.OrderID, limit int) ([]dispatch.Order, error) {
	return s.orders(ctx, "orders", `SELECT doc, item FROM dispatch_orders WHERE id > ? ORDER BY id LIMIT ?`,
		string(after), max(limit, 0))
}

// Due implements dispatch.Store.
func (s *DispatchStore) Due(ctx context.Context, now time.Time, limit int) ([]dispatch.Order, error) {
	return s.orders(ctx, "due orders", `SELECT doc, item FROM dispatch_orders
		WHERE due IS NOT NULL AND due <= ? ORDER BY due, id LIMIT ?`, timeKey(now), max(limit, 0))
}

// Loads implements dispatch.Store.
func (s *DispatchStore) Loads(ctx context.Context, teams []org.TeamID) ([]dispatch.Load, error) {
	out := make([]dispatch.Load, len(teams))
	err := s.db.readTx(ctx, func(tx reader) error {
		for i, t := range teams {
			out[i].Team = t
			err := tx.QueryRowContext(ctx, `SELECT
				(SELECT count(*) FROM dispatch_orders WHERE team = ?1 AND active = 1),
				coalesce((SELECT seq FROM dispatch_assigned WHERE team = ?1), 0)`, string(t)).
				Scan(&out[i].Active, &out[i].LastAssigned)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, dispatchErr("loads", translate(err))
	}
	return out, nil
}

// Events implements dispatch.Store.
func (s *DispatchStore) Events(ctx context.Context, after uint64, limit int) (_ []dispatch.Event, err error) {
	defer s.db.settled(ctx, &err) // no caller sees a commit before it is durable
	rows, err := s.db.reader().QueryContext(ctx, `SELECT doc, seq FROM dispatch_events WHERE seq > ? ORDER BY seq LIMIT ?`, after, max(limit, 0))
	if err != nil {
		return nil, dispatchErr("events", translate(err))
	}
	defer rows.Close()
	out := []dispatch.Event{}
	for rows.Next() {
		var seq uint64
		ev, err := scanDoc[dispatch.Event](rows, &seq)
		if err != nil {
			return nil, dispatchErr("events", translate(err))
		}
		ev.Seq = seq
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, dispatchErr("events", translate(err))
	}
	return out, nil
}

// Position implements dispatch.Store.
func (s *DispatchStore) Position(ctx context.Context, relay string) (_ uint64, err error) {
	defer s.db.settled(ctx, &err) // no caller sees a commit before it is durable
	var seq uint64
	err = s.db.reader().QueryRowContext(ctx, `SELECT seq FROM dispatch_positions WHERE relay = ?`, relay).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, dispatchErr(fmt.Sprintf("position of %q", relay), translate(err))
	}
	return seq, nil
}

// Ack implements dispatch.Store.
func (s *DispatchStore) Ack(ctx context.Context, relay string, seq uint64) error {
	return dispatchErr(fmt.Sprintf("ack %d for %q", seq, relay), s.db.w.do(ctx, func(tx *wtx) error {
		var last uint64
		if err := tx.queryRow(`SELECT coalesce(max(seq), 0) FROM dispatch_events`).Scan(&last); err != nil {
			return err
		}
		if seq > last {
			return fmt.Errorf("beyond the last event %d: %w", last, dispatch.ErrInvalid)
		}
		_, err := tx.exec(`INSERT INTO dispatch_positions (relay, seq) VALUES (?, ?)
			ON CONFLICT (relay) DO UPDATE SET seq = max(seq, excluded.seq)`, relay, seq)
		return err
	}))
}

// Showcase implements dispatch.Store.
func (s *DispatchStore) Showcase(ctx context.Context, after dispatch.FeedCursor, limit int) ([]dispatch.Order, error) {
	query := `SELECT doc, item FROM dispatch_orders WHERE showcased_at IS NOT NULL`
	var args []any
	if !after.At.IsZero() || after.ID != "" {
		at := timeKey(after.At)
		query += ` AND (showcased_at < ? OR showcased_at = ? AND id < ?)`
		args = append(args, at, at, string(after.ID))
	}
	return s.orders(ctx, "showcase", query+` ORDER BY showcased_at DESC, id DESC LIMIT ?`, append(args, max(limit, 0))...)
}
