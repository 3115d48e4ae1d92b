package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/civicloop/civicloop/org"
)

const pairingCols = "id, unit, unit_name, unit_kind, node, start_at, end_at, created"

var pairTally = tally{pairings: 1}

func scanPairing(row pgx.CollectableRow) (org.Pairing, error) {
	var p org.Pairing
	var kind, node string
	var start, end, created pgtype.Timestamptz
	err := row.Scan(&p.ID, &p.Unit, &p.UnitName, &kind, &node, &start, &end, &created)
	p.UnitKind, p.Node = org.UnitKind(kind), org.NodeID(node)
	p.Start, p.End, p.Created = timeOf(start), timeOf(end), timeOf(created)
	return p, err
}

func (s *OrgStore) pairing(ctx context.Context, q queryer, id string) (org.Pairing, error) {
	rows, err := q.Query(ctx, s.db.q("SELECT "+pairingCols+" FROM {s}.org_pairings WHERE id = $1"), id)
	if err != nil {
		return org.Pairing{}, err
	}
	ps, err := pgx.CollectRows(rows, scanPairing)
	if err != nil {
		return org.Pairing{}, err
	}
	if len(ps) == 0 {
		return org.Pairing{}, fmt.Errorf("pairing %q: %w", id, org.ErrNotFound)
	}
	return ps[0], nil
}

// insertPairing checks and inserts p and counts it at its node and up.
func (t *orgTx) insertPairing(p org.Pairing) error {
	if old, err := t.s.pairing(t.ctx, t.tx, p.ID); err == nil {
		if landedCreate(t.ctx, old, p) {
			return errLanded
		}
		return fmt.Errorf("field id: pairing %q already exists: %w", p.ID, org.ErrDuplicate)
	} else if !errors.Is(err, org.ErrNotFound) {
		return err
	}
	n, err := t.s.node(t.ctx, t.tx, p.Node)
	if err != nil {
		return fmt.Errorf("field node: %w", err)
	}
	if n.Status == org.Retired {
		return fmt.Errorf("field node: node %q is retired: %w", p.Node, org.ErrRetired)
	}
	rows, err := t.tx.Query(t.ctx, t.s.db.q("SELECT "+pairingCols+" FROM {s}.org_pairings WHERE unit = $1 AND node = $2 ORDER BY id"), p.Unit, string(p.Node))
	if err != nil {
		return err
	}
	same, err := pgx.CollectRows(rows, scanPairing)
	if err != nil {
		return err
	}
	for _, q := range same {
		if q.Overlaps(p) {
			return fmt.Errorf("field start: overlaps pairing %q of unit %q with %q: %w", q.ID, p.Unit, p.Node, org.ErrDuplicate)
		}
	}
	if _, err := t.tx.Exec(t.ctx, t.s.db.q("INSERT INTO {s}.org_pairings ("+pairingCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
		p.ID, p.Unit, p.UnitName, string(p.UnitKind), string(p.Node), tstz(p.Start), tstz(p.End), tstz(p.Created)); err != nil {
		return err
	}
	return t.addUp(n.Path, pairTally)
}

// CreatePairing inserts p.
func (s *OrgStore) CreatePairing(ctx context.Context, p org.Pairing, c org.Change) error {
	return s.write(ctx, "create pairing", func(t *orgTx) error {
		if err := t.insertPairing(p); err != nil {
			return err
		}
		return t.record(c)
	})
}

// EndPairing sets the pairing's end.
func (s *OrgStore) EndPairing(ctx context.Context, id string, end time.Time, c org.Change) (org.Pairing, error) {
	var out org.Pairing
	err := s.write(ctx, "end pairing", func(t *orgTx) error {
		// Read under the org lock: the service checked end against the
		// pairing it read, and a stale call must not move an end
		// committed since to a later date (and the pairing into an
		// overlap).
		p, err := s.pairing(ctx, t.tx, id)
		if err != nil {
			return err
		}
		if err := p.CheckEnd(end); err != nil {
			return fmt.Errorf("pairing %q: %w", id, err)
		}
		if _, err := t.tx.Exec(ctx, s.db.q("UPDATE {s}.org_pairings SET end_at = $2 WHERE id = $1"), id, tstz(end)); err != nil {
			return err
		}
		if err := t.record(c); err != nil {
			return err
		}
		out, err = s.pairing(ctx, t.tx, id)
		return err
	})
	return out, err
}

// Pairing returns one pairing.
func (s *OrgStore) Pairing(ctx context.Context, id string) (org.Pairing, error) {
	p, err := s.pairing(ctx, s.db.pool, id)
	return p, orgErr(err)
}

// Pairings returns the pairings matching q, by start then ID.
func (s *OrgStore) Pairings(ctx context.Context, q org.PairingQuery) ([]org.Pairing, error) {
	lo, hi := "", ""
	if q.Node != "" {
		n, err := s.node(ctx, s.db.pool, q.Node)
		if err != nil {
			return nil, orgErr(err)
		}
		lo, hi = n.Path, pathEnd(n.Path)
	}
	rows, err := s.db.pool.Query(ctx, s.db.q(`SELECT p.id, p.unit, p.unit_name, p.unit_kind, p.node, p.start_at, p.end_at, p.created
		FROM {s}.org_pairings p JOIN {s}.org_nodes n ON n.id = p.node
		WHERE ($1 = '' OR p.unit = $1) AND ($2 = '' OR (n.path >= $2 AND n.path < $3))
		ORDER BY p.start_at, p.id`), q.Unit, lo, hi)
	if err != nil {
		return nil, orgErr(err)
	}
	out, err := pgx.CollectRows(rows, scanPairing)
	if out == nil && err == nil {
		out = []org.Pairing{}
	}
	return out, orgErr(err)
}
