package org

import (
	"context"
	"fmt"
)

// checkDocument validates a plain identity-document number: 6–32 letters
// or digits after normalisation.
func checkDocument(d string) error {
	n := normDocument(d)
	if len(n) < 6 || len(n) > 32 {
		return fmt.Errorf("field document: length %d after removing spaces, want 6 to 32: %w", len(n), ErrInvalid)
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return fmt.Errorf("field document: character %d is not a letter or digit: %w", i+1, ErrInvalid)
		}
	}
	return nil
}

func (s *Service) validateNewVolunteer(in NewVolunteer) (hash string, err error) {
	if err := checkCode("id", string(in.ID)); err != nil {
		return "", err
	}
	if err := checkName("name", in.Name); err != nil {
		return "", err
	}
	if len(in.Contact) > 200 {
		return "", fmt.Errorf("field contact: longer than 200 bytes: %w", ErrInvalid)
	}
	if err := checkCode("home", string(in.Home)); err != nil {
		return "", err
	}
	if in.Document == "" {
		return "", nil
	}
	if s.key == nil {
		return "", fmt.Errorf("field document: no identity key configured (Options.IdentityKey), documents are refused: %w", ErrInvalid)
	}
	if err := checkDocument(in.Document); err != nil {
		return "", err
	}
	return DocumentHash(s.key, in.Document), nil
}

// RegisterVolunteer registers a volunteer at a home node. An identity
// document, if given, is kept only as its keyed hash, and a document
// already registered is refused. Policy: ActRegisterVolunteer on
// Target{Node: home, Owner: id}, so a volunteer may register himself.
// Errors: ErrInvalid, ErrNotFound (home), ErrRetired (home), ErrDuplicate
// (number or document), ErrForbidden.
func (s *Service) RegisterVolunteer(ctx context.Context, a Actor, in NewVolunteer) (Volunteer, error) {
	hash, err := s.validateNewVolunteer(in)
	if err != nil {
		return Volunteer{}, fmt.Errorf("org: register volunteer %q: %w", in.ID, err)
	}
	if err := s.authorize(ctx, a, ActRegisterVolunteer, Target{Node: in.Home, Owner: string(in.ID)}); err != nil {
		return Volunteer{}, err
	}
	now := s.now()
	v := Volunteer{ID: in.ID, Name: in.Name, Contact: in.Contact, Home: in.Home, Status: VolunteerActive,
		DocumentHash: hash, Version: 1, Created: now, Updated: now}
	c := s.change(a, ActRegisterVolunteer, now)
	c.Volunteer = v.ID
	c.Detail = fmt.Sprintf("registered at %s", v.Home)
	if err := s.store.CreateVolunteer(ctx, v, c); err != nil {
		return Volunteer{}, fmt.Errorf("org: register volunteer %q: %w", in.ID, err)
	}
	return v, nil
}

// UpdateVolunteer changes a volunteer's name, contact or home. A new home
// must lie within the area of every team he belongs to. Policy:
// ActUpdateVolunteer on Target{Node: home, Owner: id} (and on the new home).
// Errors: ErrInvalid, ErrNotFound, ErrRetired, ErrOutOfArea, ErrConflict,
// ErrForbidden.
func (s *Service) UpdateVolunteer(ctx context.Context, a Actor, id VolunteerID, u VolunteerUpdate) (Volunteer, error) {
	if u.Name != nil {
		if err := checkName("name", *u.Name); err != nil {
			return Volunteer{}, fmt.Errorf("org: update volunteer %q: %w", id, err)
		}
	}
	if u.Contact != nil && len(*u.Contact) > 200 {
		return Volunteer{}, fmt.Errorf("org: update volunteer %q: field contact: longer than 200 bytes: %w", id, ErrInvalid)
	}
	if u.Home != nil {
		if err := checkCode("home", string(*u.Home)); err != nil {
			return Volunteer{}, fmt.Errorf("org: update volunteer %q: %w", id, err)
		}
	}
	v, err := s.store.Volunteer(ctx, id)
	if err != nil {
		return Volunteer{}, fmt.Errorf("org: update volunteer %q: %w", id, err)
	}
	if err := s.authorize(ctx, a, ActUpdateVolunteer, Target{Node: v.Home, Owner: string(id)}); err != nil {
		return Volunteer{}, err
	}
	if u.Home != nil && *u.Home != v.Home {
		if err := s.authorize(ctx, a, ActUpdateVolunteer, Target{Node: *u.Home, Owner: string(id)}); err != nil {
			return Volunteer{}, err
		}
		if err := s.checkHomeInAreas(ctx, id, *u.Home); err != nil {
			return Volunteer{}, fmt.Errorf("org: update volunteer %q: %w", id, err)
		}
		v.Home = *u.Home
	}
	if u.Name != nil {
		v.Name = *u.Name
	}
	if u.Contact != nil {
		v.Contact = *u.Contact
	}
	c := s.change(a, ActUpdateVolunteer, s.now())
	c.Volunteer = id
	c.Detail = fmt.Sprintf("name %q, home %s", v.Name, v.Home)
	out, err := s.store.UpdateVolunteer(ctx, v, c)
	if err != nil {
		return Volunteer{}, fmt.Errorf("org: update volunteer %q: %w", id, err)
	}
	return out, nil
}

func (s *Service) checkHomeInAreas(ctx context.Context, id VolunteerID, home NodeID) error {
	ms, err := s.store.Memberships(ctx, id)
	if err != nil {
		return err
	}
	for _, m := range ms {
		t, err := s.store.Team(ctx, m.Team)
		if err != nil {
			return err
		}
		ok, err := s.store.Within(ctx, t.Area, home)
		if err != nil {
			return fmt.Errorf("field home: %w", err)
		}
		if !ok {
			return fmt.Errorf("field home: %q is outside the area %q of team %q: %w", home, t.Area, t.ID, ErrOutOfArea)
		}
	}
	return nil
}

// SetVolunteerStatus suspends, retires or reactivates a volunteer. Policy:
// ActSetVolunteer on Target{Node: home} (a volunteer does not lift his own
// suspension). Errors: ErrInvalid (unknown or unchanged status),
// ErrNotFound, ErrConflict, ErrForbidden.
func (s *Service) SetVolunteerStatus(ctx context.Context, a Actor, id VolunteerID, st VolunteerStatus, reason string) (Volunteer, error) {
	if !st.Valid() {
		return Volunteer{}, fmt.Errorf("org: volunteer %q: field status: unknown status %q: %w", id, st, ErrInvalid)
	}
	v, err := s.store.Volunteer(ctx, id)
	if err != nil {
		return Volunteer{}, fmt.Errorf("org: volunteer %q status: %w", id, err)
	}
	if err := s.authorize(ctx, a, ActSetVolunteer, Target{Node: v.Home}); err != nil {
		return Volunteer{}, err
	}
	if v.Status == st {
		return Volunteer{}, fmt.Errorf("org: volunteer %q: field status: already %s: %w", id, st, ErrInvalid)
	}
	v.Status = st
	c := s.change(a, ActSetVolunteer, s.now())
	c.Volunteer = id
	c.Detail = fmt.Sprintf("%s: %s", st, reason)
	out, err := s.store.UpdateVolunteer(ctx, v, c)
	if err != nil {
		return Volunteer{}, fmt.Errorf("org: volunteer %q status: %w", id, err)
	}
	return out, nil
}

// Volunteer returns a volunteer (status, home node). Errors: ErrNotFound.
func (s *Service) Volunteer(ctx context.Context, id VolunteerID) (Volunteer, error) {
	v, err := s.store.Volunteer(ctx, id)
	if err != nil {
		return Volunteer{}, fmt.Errorf("org: volunteer %q: %w", id, err)
	}
	return v, nil
}

// VolunteerByDocument finds the volunteer registered with a plain
// identity-document number (hashed before the lookup). Errors: ErrInvalid
// (no key, malformed number), ErrNotFound.
func (s *Service) VolunteerByDocument(ctx context.Context, document string) (Volunteer, error) {
	if s.key == nil {
		return Volunteer{}, fmt.Errorf("org: volunteer by document: no identity key configured: %w", ErrInvalid)
	}
	if err := checkDocument(document); err != nil {
		return Volunteer{}, fmt.Errorf("org: volunteer by document: %w", err)
	}
	v, err := s.store.VolunteerByDocument(ctx, DocumentHash(s.key, document))
	if err != nil {
		return Volunteer{}, fmt.Errorf("org: volunteer by document: %w", err)
	}
	return v, nil
}

// Volunteers returns a page of the volunteers whose home lies in root's
// subtree, ordered by ID. Errors: ErrNotFound.
func (s *Service) Volunteers(ctx context.Context, root NodeID, p Page) (VolunteerPage, error) {
	p.Limit = limit(p.Limit)
	out, err := s.store.Volunteers(ctx, root, p)
	if err != nil {
		return VolunteerPage{}, fmt.Errorf("org: volunteers of %q: %w", root, err)
	}
	return out, nil
}
