package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/civicloop/civicloop/org"
)

// Rollup implements org.RollupStore.
func (s *OrgStore) Rollup(ctx context.Context, node org.NodeID) (_ org.Rollup, err error) {
	defer s.db.settled(ctx, &err) // no caller sees a commit before it is durable
	var (
		r org.Rollup
		k [5]int64
	)
	err = s.db.reader().QueryRowContext(ctx, `SELECT `+tallyCols+`, sub_hours, sub_points, sub_orders, sub_completed, sub_activities
		FROM org_nodes WHERE id = ?`, string(node)).Scan(&r.Centres, &r.Institutes, &r.Stations, &r.Points,
		&r.Corps, &r.Detachments, &r.Specialty, &r.Volunteers, &r.Pairings, &k[0], &k[1], &k[2], &k[3], &k[4])
	if errors.Is(err, sql.ErrNoRows) {
		return org.Rollup{}, fmt.Errorf("sqlite: org: roll-up: %w", notFound("node", string(node)))
	}
	if err != nil {
		return org.Rollup{}, fmt.Errorf("sqlite: org: roll-up of %q: %w", node, translate(err))
	}
	r.Node = node
	r.Counters = org.Counters{
		Hours:  decimal.New(k[0], -org.CounterScale),
		Points: decimal.New(k[1], -org.CounterScale),
		Orders: k[2], Completed: k[3], Activities: k[4],
	}
	return r, nil
}

// counterUnits converts a counter to hundredths.
func counterUnits(field string, d decimal.Decimal) (int64, error) {
	m := d.Shift(org.CounterScale)
	if !m.Equal(m.Truncate(0)) || m.Abs().GreaterThan(decimal.New(1, 17)) {
		return 0, fmt.Errorf("field %s: %s is not a whole number of hundredths in range: %w", field, d, org.ErrInvalid)
	}
	return m.IntPart(), nil
}

// AddCounters implements org.RollupStore.
func (s *OrgStore) AddCounters(ctx context.Context, a org.CounterAdd) (bool, error) {
	var d [5]int64
	var err error
	if d[0], err = counterUnits("hours", a.Delta.Hours); err != nil {
		return false, fmt.Errorf("sqlite: org: add counters %q: %w", a.Key, err)
	}
	if d[1], err = counterUnits("points", a.Delta.Points); err != nil {
		return false, fmt.Errorf("sqlite: org: add counters %q: %w", a.Key, err)
	}
	d[2], d[3], d[4] = a.Delta.Orders, a.Delta.Completed, a.Delta.Activities
	var applied bool
	err = s.write(ctx, fmt.Sprintf("add counters %q", a.Key), func(tx *wtx) error {
		applied = false
		var (
			node string
			p    [5]int64
		)
		err := tx.queryRow(`SELECT node, hours, points, orders, completed, activities FROM org_counter_keys WHERE key = ?`, a.Key).
			Scan(&node, &p[0], &p[1], &p[2], &p[3], &p[4])
		if err == nil {
			if org.NodeID(node) != a.Node || p != d {
				return fmt.Errorf("key %q was used for node %q with another delta: %w", a.Key, node, org.ErrConflict)
			}
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		n, err := getNode(tx, a.Node)
		if err != nil {
			return err
		}
		var oh, op int64
		if err := tx.queryRow(`SELECT own_hours, own_points FROM org_nodes WHERE id = ?`, string(a.Node)).Scan(&oh, &op); err != nil {
			return err
		}
		if oh+d[0] < 0 || op+d[1] < 0 {
			return fmt.Errorf("node %q: own hours or points would fall below zero: %w", a.Node, org.ErrInvalid)
		}
		if _, err := tx.exec(`UPDATE org_nodes SET own_hours = own_hours + ?, own_points = own_points + ? WHERE id = ?`,
			d[0], d[1], string(a.Node)); err != nil {
			return err
		}
		if err := addCountersUp(tx, n.Path, d); err != nil {
			return err
		}
		if _, err := tx.exec(`INSERT INTO org_counter_keys (key, node, hours, points, orders, completed, activities)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, a.Key, string(a.Node), d[0], d[1], d[2], d[3], d[4]); err != nil {
			return err
		}
		applied = true
		return nil
	})
	return applied, err
}
