package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/civicloop/civicloop/org"
)

// checkPairing checks a new pairing against the stored ones and, in a bulk
// load, the staged ones before it.
func checkPairing(tx *wtx, p org.Pairing, staged []org.Pairing) (nodeRow, error) {
	if dup, err := exists(tx, `SELECT 1 FROM org_pairings WHERE id = ?`, p.ID); err != nil || dup {
		if err == nil {
			err = fmt.Errorf("field id: pairing %q already exists: %w", p.ID, org.ErrDuplicate)
		}
		return nodeRow{}, err
	}
	n, err := activeNode(tx, "node", p.Node)
	if err != nil {
		return nodeRow{}, err
	}
	rows, err := tx.query(`SELECT `+pairingCols+` FROM org_pairings WHERE unit = ? AND node = ?`, p.Unit, string(p.Node))
	if err != nil {
		return nodeRow{}, err
	}
	defer rows.Close()
	for rows.Next() {
		q, err := scanPairing(rows)
		if err != nil {
			return nodeRow{}, err
		}
		if q.Overlaps(p) {
			return nodeRow{}, fmt.Errorf("field start: overlaps pairing %q of unit %q with %q: %w", q.ID, p.Unit, p.Node, org.ErrDuplicate)
		}
	}
	if err := rows.Err(); err != nil {
		return nodeRow{}, err
	}
	for _, q := range staged {
		if q.ID == p.ID || q.Unit == p.Unit && q.Node == p.Node && q.Overlaps(p) {
			return nodeRow{}, fmt.Errorf("field id: duplicates or overlaps pairing %q: %w", q.ID, org.ErrDuplicate)
		}
	}
	return n, nil
}

func insertPairing(tx *wtx, p org.Pairing, n nodeRow) error {
	_, err := tx.exec(`INSERT INTO org_pairings (`+pairingCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.Unit, p.UnitName, string(p.UnitKind), string(p.Node), nanoArg(p.Start), nanoArg(p.End), nanoArg(p.Created))
	if err != nil {
		return translateAs(err, org.ErrDuplicate)
	}
	return addUp(tx, n.Path, pairTally)
}

// CreatePairing implements org.PairingStore.
func (s *OrgStore) CreatePairing(ctx context.Context, p org.Pairing, c org.Change) error {
	return s.write(ctx, "create pairing "+p.ID, func(tx *wtx) error {
		n, err := checkPairing(tx, p, nil)
		if err != nil {
			return err
		}
		if err := insertPairing(tx, p, n); err != nil {
			return err
		}
		_, err = record(tx, c)
		return err
	})
}

// EndPairing implements org.PairingStore.
func (s *OrgStore) EndPairing(ctx context.Context, id string, end time.Time, c org.Change) (org.Pairing, error) {
	var out org.Pairing
	err := s.write(ctx, "end pairing "+id, func(tx *wtx) error {
		p, err := scanPairing(tx.queryRow(`SELECT `+pairingCols+` FROM org_pairings WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("pairing", id)
		}
		if err != nil {
			return err
		}
		// The service checked end against the pairing it read; check
		// again in this write so that a stale call cannot move a
		// committed end later (and the pairing into an overlap).
		if err := p.CheckEnd(end); err != nil {
			return fmt.Errorf("pairing %q: %w", id, err)
		}
		if _, err := tx.exec(`UPDATE org_pairings SET end_at = ? WHERE id = ?`, nanoArg(end), id); err != nil {
			return err
		}
		if _, err := record(tx, c); err != nil {
			return err
		}
		p.End = end
		out = p
		return nil
	})
	return out, err
}

// Pairing implements org.PairingStore.
func (s *OrgStore) Pairing(ctx context.Context, id string) (_ org.Pairing, err error) {
	defer s.db.settled(ctx, &err) // no caller sees a commit before it is durable
	p, err := scanPairing(s.db.reader().QueryRowContext(ctx, `SELECT `+pairingCols+` FROM org_pairings WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return org.Pairing{}, fmt.Errorf("sqlite: org: %w", notFound("pairing", id))
	}
	if err != nil {
		return org.Pairing{}, fmt.Errorf("sqlite: org: pairing %q: %w", id, translate(err))
	}
	return p, nil
}

// Pairings implements org.PairingStore.
func (s *OrgStore) Pairings(ctx context.Context, q org.PairingQuery) ([]org.Pairing, error) {
	out := []org.Pairing{}
	err := s.read(ctx, "pairings", func(tx reader) error {
		query := `SELECT p.` + strings.ReplaceAll(pairingCols, ", ", ", p.") + ` FROM org_pairings p`
		var (
			where []string
			args  []any
		)
		if q.Node != "" {
			r, err := readNode(ctx, tx, q.Node)
			if err != nil {
				return err
			}
			query += ` JOIN org_nodes n ON n.id = p.node`
			where = append(where, `n.path >= ? AND n.path < ?`)
			args = append(args, r.Path, subtreeUpper(r.Path))
		}
		if q.Unit != "" {
			where = append(where, `p.unit = ?`)
			args = append(args, q.Unit)
		}
		if len(where) > 0 {
			query += ` WHERE ` + strings.Join(where, ` AND `)
		}
		rows, err := tx.QueryContext(ctx, query+` ORDER BY p.start_at, p.id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanPairing(rows)
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
