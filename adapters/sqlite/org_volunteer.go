package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/civicloop/civicloop/org"
)

func checkVolunteer(tx *wtx, v org.Volunteer) (nodeRow, error) {
	if dup, err := exists(tx, `SELECT 1 FROM org_volunteers WHERE id = ?`, string(v.ID)); err != nil || dup {
		if err == nil {
			err = fmt.Errorf("field id: volunteer %q already exists: %w", v.ID, org.ErrDuplicate)
		}
		return nodeRow{}, err
	}
	if v.DocumentHash != "" {
		var other string
		err := tx.queryRow(`SELECT id FROM org_volunteers WHERE doc_hash = ?`, v.DocumentHash).Scan(&other)
		if err == nil {
			return nodeRow{}, fmt.Errorf("field document: already registered (volunteer %q): %w", other, org.ErrDuplicate)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return nodeRow{}, err
		}
	}
	return activeNode(tx, "home", v.Home)
}

func insertVolunteer(tx *wtx, v org.Volunteer, home nodeRow) error {
	_, err := tx.exec(`INSERT INTO org_volunteers (`+volunteerCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		string(v.ID), v.Name, v.Contact, string(v.Home), string(v.Status), docArg(v.DocumentHash),
		v.Version, nanoArg(v.Created), nanoArg(v.Updated))
	if err != nil {
		return translateAs(err, org.ErrDuplicate)
	}
	if v.Status == org.VolunteerActive {
		return addUp(tx, home.Path, volTally)
	}
	return nil
}

// CreateVolunteer implements org.VolunteerStore.
func (s *OrgStore) CreateVolunteer(ctx context.Context, v org.Volunteer, c org.Change) error {
	return s.write(ctx, "create volunteer "+string(v.ID), func(tx *wtx) error {
		home, err := checkVolunteer(tx, v)
		if err != nil {
			return err
		}
		if err := insertVolunteer(tx, v, home); err != nil {
			return err
		}
		_, err = record(tx, c)
		return err
	})
}

// UpdateVolunteer implements org.VolunteerStore.
func (s *OrgStore) UpdateVolunteer(ctx context.Context, v org.Volunteer, c org.Change) (org.Volunteer, error) {
	if !v.Status.Valid() {
		return org.Volunteer{}, fmt.Errorf("sqlite: org: volunteer %q: field status: unknown status %q: %w", v.ID, v.Status, org.ErrInvalid)
	}
	var out org.Volunteer
	err := s.write(ctx, "update volunteer "+string(v.ID), func(tx *wtx) error {
		cur, err := getVolunteer(tx, v.ID)
		if err != nil {
			return err
		}
		if cur.Version != v.Version {
			return fmt.Errorf("volunteer %q: version %d, stored %d: %w", v.ID, v.Version, cur.Version, org.ErrConflict)
		}
		oldHome, err := getNode(tx, cur.Home)
		if err != nil {
			return err
		}
		newHome := oldHome
		if v.Home != cur.Home {
			if newHome, err = activeNode(tx, "home", v.Home); err != nil {
				return err
			}
			if err := checkHomeInAreas(tx, v.ID, newHome); err != nil {
				return err
			}
		}
		if cur.Status == org.VolunteerActive {
			if err := addUp(tx, oldHome.Path, volTally.times(-1)); err != nil {
				return err
			}
		}
		if v.Status == org.VolunteerActive {
			if err := addUp(tx, newHome.Path, volTally); err != nil {
				return err
			}
		}
		cur.Name, cur.Contact, cur.Home, cur.Status = v.Name, v.Contact, v.Home, v.Status
		cur.Version++
		cur.Updated = c.At
		_, err = tx.exec(`UPDATE org_volunteers SET name = ?, contact = ?, home = ?, status = ?, version = ?, updated = ? WHERE id = ?`,
			cur.Name, cur.Contact, string(cur.Home), string(cur.Status), cur.Version, nanoArg(c.At), string(v.ID))
		if err != nil {
			return err
		}
		if _, err := record(tx, c); err != nil {
			return err
		}
		out = cur
		return nil
	})
	if err != nil {
		return org.Volunteer{}, err
	}
	return out, nil
}

func (s *OrgStore) volunteerBy(ctx context.Context, what, where, arg string) (_ org.Volunteer, err error) {
	defer s.db.settled(ctx, &err) // no caller sees a commit before it is durable
	v, err := scanVolunteer(s.db.reader().QueryRowContext(ctx, `SELECT `+volunteerCols+` FROM org_volunteers WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return org.Volunteer{}, fmt.Errorf("sqlite: org: volunteer %s: %w", what, org.ErrNotFound)
	}
	if err != nil {
		return org.Volunteer{}, fmt.Errorf("sqlite: org: volunteer %s: %w", what, translate(err))
	}
	return v, nil
}

// Volunteer implements org.VolunteerStore.
func (s *OrgStore) Volunteer(ctx context.Context, id org.VolunteerID) (org.Volunteer, error) {
	return s.volunteerBy(ctx, fmt.Sprintf("%q", id), `id = ?`, string(id))
}

// VolunteerByDocument implements org.VolunteerStore.
func (s *OrgStore) VolunteerByDocument(ctx context.Context, hash string) (org.Volunteer, error) {
	if hash == "" {
		return org.Volunteer{}, fmt.Errorf("sqlite: org: volunteer with an empty document hash: %w", org.ErrNotFound)
	}
	return s.volunteerBy(ctx, "with that document", `doc_hash = ?`, hash)
}

// Volunteers implements org.VolunteerStore.
func (s *OrgStore) Volunteers(ctx context.Context, root org.NodeID, p org.Page) (org.VolunteerPage, error) {
	page := org.VolunteerPage{Volunteers: []org.Volunteer{}}
	err := s.read(ctx, "volunteers of "+string(root), func(tx reader) error {
		r, err := readNode(ctx, tx, root)
		if err != nil {
			return err
		}
		lim := max(p.Limit, 1)
		vols, more, err := queryPage(ctx, tx, lim, scanVolunteer, `SELECT v.`+strings.ReplaceAll(volunteerCols, ", ", ", v.")+`
			FROM org_volunteers v JOIN org_nodes n ON n.id = v.home
			WHERE n.path >= ? AND n.path < ? AND v.id > ? ORDER BY v.id LIMIT ?`,
			r.Path, subtreeUpper(r.Path), p.After, lim+1)
		if err != nil {
			return err
		}
		page.Volunteers = append(page.Volunteers, vols...)
		if more {
			page.Next = string(vols[lim-1].ID)
		}
		return nil
	})
	if err != nil {
		return org.VolunteerPage{}, err
	}
	return page, nil
}

// checkHomeInAreas refuses a new home outside the area of a team the
// volunteer belongs to. It reads the memberships in the write, so one
// added since the service read them is seen.
func checkHomeInAreas(tx *wtx, v org.VolunteerID, home nodeRow) error {
	rows, err := tx.query(`SELECT t.id, t.area, n.path FROM org_members m
		JOIN org_teams t ON t.id = m.team JOIN org_nodes n ON n.id = t.area
		WHERE m.volunteer = ? ORDER BY t.id`, string(v))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var team, area, path string
		if err := rows.Scan(&team, &area, &path); err != nil {
			return err
		}
		if !strings.HasPrefix(home.Path, path) {
			return fmt.Errorf("field home: %q is outside the area %q of team %q: %w", home.ID, area, team, org.ErrOutOfArea)
		}
	}
	return rows.Err()
}
