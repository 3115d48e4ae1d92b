package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/civicloop/civicloop/org"
)

const changeCols = `seq, action, node, team, volunteer, pairing, actor, at, detail`

func scanChange(r rowScanner) (org.Change, error) {
	var (
		c                                            org.Change
		action, node, team, volunteer, actor, detail string
		at                                           sql.NullInt64
	)
	if err := r.Scan(&c.Seq, &action, &node, &team, &volunteer, &c.Pairing, &actor, &at, &detail); err != nil {
		return org.Change{}, err
	}
	c.Action, c.Node, c.Team, c.Volunteer = org.Action(action), org.NodeID(node), org.TeamID(team), org.VolunteerID(volunteer)
	c.At, c.Detail = nanoCol(at), detail
	if err := json.Unmarshal([]byte(actor), &c.Actor); err != nil {
		return org.Change{}, fmt.Errorf("%w: actor column: %v", ErrCorrupt, err)
	}
	return c, nil
}

// Changes implements org.AuditStore.
func (s *OrgStore) Changes(ctx context.Context, q org.ChangeQuery) (_ []org.Change, err error) {
	defer s.db.settled(ctx, &err) // no caller sees a commit before it is durable
	var (
		col, id string
		named   int
	)
	for _, f := range []struct{ col, id string }{
		{"node", string(q.Node)}, {"team", string(q.Team)}, {"volunteer", string(q.Volunteer)}, {"pairing", q.Pairing},
	} {
		if f.id != "" {
			col, id = f.col, f.id
			named++
		}
	}
	if named != 1 {
		return nil, fmt.Errorf("sqlite: org: changes: exactly one object must be named, got %d: %w", named, org.ErrInvalid)
	}
	query := `SELECT ` + changeCols + ` FROM org_changes WHERE ` + col + ` = ? AND seq > ? ORDER BY seq LIMIT ?`
	args := []any{id, q.After, max(q.Limit, 1)}
	if col == "node" {
		// A node's history starts with the change that created it, which
		// a bulk load records once for all its nodes.
		query = `SELECT ` + changeCols + ` FROM org_changes
			WHERE (node = ? OR seq = (SELECT created_change FROM org_nodes WHERE id = ?)) AND seq > ? ORDER BY seq LIMIT ?`
		args = []any{id, id, q.After, max(q.Limit, 1)}
	}
	rows, err := s.db.reader().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: org: changes: %w", translate(err))
	}
	defer rows.Close()
	out := []org.Change{}
	for rows.Next() {
		c, err := scanChange(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: org: changes: %w", translate(err))
		}
		if col == "node" {
			c.Node = q.Node
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: org: changes: %w", translate(err))
	}
	return out, nil
}

// RecordRefusal implements org.AuditStore.
func (s *OrgStore) RecordRefusal(ctx context.Context, r org.Refusal) (int64, error) {
	actor, err := json.Marshal(r.Actor)
	if err != nil {
		return 0, err
	}
	target, err := json.Marshal(r.Target)
	if err != nil {
		return 0, err
	}
	var seq int64
	err = s.write(ctx, "record refusal", func(tx *wtx) error {
		var err error
		if seq, err = nextOrgSeq(tx); err != nil {
			return err
		}
		_, err = tx.exec(`INSERT INTO org_refusals (seq, actor, action, target, reason, at) VALUES (?, ?, ?, ?, ?, ?)`,
			seq, string(actor), string(r.Action), string(target), r.Reason, nanoArg(r.At))
		return err
	})
	return seq, err
}

// Refusals implements org.AuditStore.
func (s *OrgStore) Refusals(ctx context.Context, after int64, limit int) (_ []org.Refusal, err error) {
	defer s.db.settled(ctx, &err) // no caller sees a commit before it is durable
	rows, err := s.db.reader().QueryContext(ctx, `SELECT seq, actor, action, target, reason, at FROM org_refusals
		WHERE seq > ? ORDER BY seq LIMIT ?`, after, max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("sqlite: org: refusals: %w", translate(err))
	}
	defer rows.Close()
	out := []org.Refusal{}
	for rows.Next() {
		var (
			r                     org.Refusal
			actor, action, target string
			at                    sql.NullInt64
		)
		if err := rows.Scan(&r.Seq, &actor, &action, &target, &r.Reason, &at); err != nil {
			return nil, fmt.Errorf("sqlite: org: refusals: %w", translate(err))
		}
		r.Action, r.At = org.Action(action), nanoCol(at)
		if err := errors.Join(json.Unmarshal([]byte(actor), &r.Actor), json.Unmarshal([]byte(target), &r.Target)); err != nil {
			return nil, fmt.Errorf("sqlite: org: refusals: %w: %v", ErrCorrupt, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: org: refusals: %w", translate(err))
	}
	return out, nil
}
