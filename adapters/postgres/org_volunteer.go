package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/civicloop/civicloop/org"
)

const volunteerCols = "id, name, contact, home, status, doc_hash, version, created, updated"

var volTally = tally{vols: 1}

func scanVolunteer(row pgx.CollectableRow) (org.Volunteer, error) {
	var v org.Volunteer
	var id, home, status string
	var created, updated pgtype.Timestamptz
	err := row.Scan(&id, &v.Name, &v.Contact, &home, &status, &v.DocumentHash, &v.Version, &created, &updated)
	v.ID, v.Home, v.Status = org.VolunteerID(id), org.NodeID(home), org.VolunteerStatus(status)
	v.Created, v.Updated = timeOf(created), timeOf(updated)
	return v, err
}

func (s *OrgStore) volunteerWhere(ctx context.Context, q queryer, where string, arg any) ([]org.Volunteer, error) {
	rows, err := q.Query(ctx, s.db.q("SELECT "+volunteerCols+" FROM {s}.org_volunteers WHERE "+where), arg)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanVolunteer)
}

func (s *OrgStore) volunteer(ctx context.Context, q queryer, id org.VolunteerID) (org.Volunteer, error) {
	vs, err := s.volunteerWhere(ctx, q, "id = $1", string(id))
	if err != nil {
		return org.Volunteer{}, err
	}
	if len(vs) == 0 {
		return org.Volunteer{}, fmt.Errorf("volunteer %q: %w", id, org.ErrNotFound)
	}
	return vs[0], nil
}

// insertVolunteer checks and inserts v, counting it (when active) at its
// home and up.
func (t *orgTx) insertVolunteer(v org.Volunteer) error {
	if old, err := t.s.volunteer(t.ctx, t.tx, v.ID); err == nil {
		if landedCreate(t.ctx, old, v) {
			return errLanded
		}
		return fmt.Errorf("field id: volunteer %q already exists: %w", v.ID, org.ErrDuplicate)
	} else if !errors.Is(err, org.ErrNotFound) {
		return err
	}
	if v.DocumentHash != "" {
		others, err := t.s.volunteerWhere(t.ctx, t.tx, "doc_hash = $1", v.DocumentHash)
		if err != nil {
			return err
		}
		if len(others) > 0 {
			return fmt.Errorf("field document: already registered (volunteer %q): %w", others[0].ID, org.ErrDuplicate)
		}
	}
	home, err := t.s.node(t.ctx, t.tx, v.Home)
	if err != nil {
		return fmt.Errorf("field home: %w", err)
	}
	if home.Status == org.Retired {
		return fmt.Errorf("field home: node %q is retired: %w", v.Home, org.ErrRetired)
	}
	if _, err := t.tx.Exec(t.ctx, t.s.db.q("INSERT INTO {s}.org_volunteers ("+volunteerCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
		string(v.ID), v.Name, v.Contact, string(v.Home), string(v.Status), v.DocumentHash, v.Version, tstz(v.Created), tstz(v.Updated)); err != nil {
		return err
	}
	if v.Status != org.VolunteerActive {
		return nil
	}
	return t.addUp(home.Path, volTally)
}

// CreateVolunteer inserts v.
func (s *OrgStore) CreateVolunteer(ctx context.Context, v org.Volunteer, c org.Change) error {
	return s.write(ctx, "create volunteer", func(t *orgTx) error {
		if err := t.insertVolunteer(v); err != nil {
			return err
		}
		return t.record(c)
	})
}

// UpdateVolunteer replaces name, contact, home and status on a version
// match, moving the volunteer between roll-ups as needed.
func (s *OrgStore) UpdateVolunteer(ctx context.Context, v org.Volunteer, c org.Change) (org.Volunteer, error) {
	if !v.Status.Valid() {
		return org.Volunteer{}, fmt.Errorf("field status: unknown status %q: %w", v.Status, org.ErrInvalid)
	}
	var out org.Volunteer
	err := s.write(ctx, "update volunteer", func(t *orgTx) error {
		cur, err := s.volunteer(ctx, t.tx, v.ID)
		if err != nil {
			return err
		}
		if cur.Version != v.Version {
			return fmt.Errorf("volunteer %q: version %d, stored %d: %w", v.ID, v.Version, cur.Version, org.ErrConflict)
		}
		oldHome, err := s.node(ctx, t.tx, cur.Home)
		if err != nil {
			return err
		}
		newHome := oldHome
		if v.Home != cur.Home {
			if newHome, err = s.node(ctx, t.tx, v.Home); err != nil {
				return fmt.Errorf("field home: %w", err)
			}
			if newHome.Status == org.Retired {
				return fmt.Errorf("field home: node %q is retired: %w", v.Home, org.ErrRetired)
			}
			if err := t.checkHomeInAreas(v.ID, newHome); err != nil {
				return err
			}
		}
		if cur.Status == org.VolunteerActive {
			if err := t.addUp(oldHome.Path, volTally.scaled(-1)); err != nil {
				return err
			}
		}
		if v.Status == org.VolunteerActive {
			if err := t.addUp(newHome.Path, volTally); err != nil {
				return err
			}
		}
		if _, err := t.tx.Exec(ctx, s.db.q(`UPDATE {s}.org_volunteers SET name = $2, contact = $3, home = $4, status = $5,
			version = version + 1, updated = $6 WHERE id = $1`),
			string(v.ID), v.Name, v.Contact, string(v.Home), string(v.Status), tstz(c.At)); err != nil {
			return err
		}
		if err := t.record(c); err != nil {
			return err
		}
		out, err = s.volunteer(ctx, t.tx, v.ID)
		return err
	})
	return out, err
}

// Volunteer returns one volunteer.
func (s *OrgStore) Volunteer(ctx context.Context, id org.VolunteerID) (org.Volunteer, error) {
	v, err := s.volunteer(ctx, s.db.pool, id)
	return v, orgErr(err)
}

// VolunteerByDocument returns the volunteer with that document hash.
func (s *OrgStore) VolunteerByDocument(ctx context.Context, hash string) (org.Volunteer, error) {
	if hash == "" {
		return org.Volunteer{}, fmt.Errorf("volunteer with that document: %w", org.ErrNotFound)
	}
	vs, err := s.volunteerWhere(ctx, s.db.pool, "doc_hash = $1", hash)
	if err != nil {
		return org.Volunteer{}, orgErr(err)
	}
	if len(vs) == 0 {
		return org.Volunteer{}, fmt.Errorf("volunteer with that document: %w", org.ErrNotFound)
	}
	return vs[0], nil
}

// Volunteers returns a page of the volunteers whose home lies in root's
// subtree, by ID.
func (s *OrgStore) Volunteers(ctx context.Context, root org.NodeID, p org.Page) (org.VolunteerPage, error) {
	r, err := s.node(ctx, s.db.pool, root)
	if err != nil {
		return org.VolunteerPage{}, orgErr(err)
	}
	lim := max(p.Limit, 1)
	rows, err := s.db.pool.Query(ctx, s.db.q(`SELECT v.id, v.name, v.contact, v.home, v.status, v.doc_hash, v.version, v.created, v.updated
		FROM {s}.org_volunteers v JOIN {s}.org_nodes n ON n.id = v.home
		WHERE n.path >= $1 AND n.path < $2 AND v.id > $3 ORDER BY v.id LIMIT $4`), r.Path, pathEnd(r.Path), p.After, lim+1)
	if err != nil {
		return org.VolunteerPage{}, orgErr(err)
	}
	vs, err := pgx.CollectRows(rows, scanVolunteer)
	if err != nil {
		return org.VolunteerPage{}, orgErr(err)
	}
	page := org.VolunteerPage{Volunteers: vs}
	if page.Volunteers == nil {
		page.Volunteers = []org.Volunteer{}
	}
	if len(vs) > lim {
		page.Volunteers = vs[:lim]
		page.Next = string(vs[lim-1].ID)
	}
	return page, nil
}

// checkHomeInAreas refuses a new home outside the area of a team the
// volunteer belongs to. It reads the memberships under the org lock, so
// one added since the service read them is seen.
func (t *orgTx) checkHomeInAreas(v org.VolunteerID, home org.Node) error {
	rows, err := t.tx.Query(t.ctx, t.s.db.q(`SELECT tm.id, tm.area, n.path FROM {s}.org_members m
		JOIN {s}.org_teams tm ON tm.id = m.team JOIN {s}.org_nodes n ON n.id = tm.area
		WHERE m.volunteer = $1 ORDER BY tm.id`), string(v))
	if err != nil {
		return err
	}
	var team, area, path string
	var out error
	_, err = pgx.ForEachRow(rows, []any{&team, &area, &path}, func() error {
		if out == nil && !strings.HasPrefix(home.Path, path) {
			out = fmt.Errorf("field home: %q is outside the area %q of team %q: %w", home.ID, area, team, org.ErrOutOfArea)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return out
}
