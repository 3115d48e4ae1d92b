package org

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// VolunteerStatus is the state of a volunteer's registration.
type VolunteerStatus string

// Volunteer statuses.
const (
	// VolunteerActive volunteers serve, join teams and earn points.
	VolunteerActive VolunteerStatus = "active"
	// VolunteerSuspended volunteers are kept but may not serve until
	// reactivated.
	VolunteerSuspended VolunteerStatus = "suspended"
	// VolunteerRetired volunteers have left; kept for history.
	VolunteerRetired VolunteerStatus = "retired"
)

// Valid reports whether s is a known status.
func (s VolunteerStatus) Valid() bool {
	return s == VolunteerActive || s == VolunteerSuspended || s == VolunteerRetired
}

// Volunteer is a registered volunteer.
type Volunteer struct {
	// ID is the unified volunteer number (全国志愿服务信息系统 number or a
	// local one); same character rules as Node.ID.
	ID VolunteerID
	// Name and Contact (a phone number or address) as registered.
	Name    string
	Contact string
	// Home is the node the volunteer is registered at.
	Home NodeID
	// Status is active, suspended or retired.
	Status VolunteerStatus
	// DocumentHash is the hex HMAC-SHA256 of the normalised
	// identity-document number under Options.IdentityKey; empty when no
	// document was given. The plain number is never stored.
	DocumentHash string
	// Version increases by one with every change.
	Version int64
	// Created and Updated are the times of the first and the latest change.
	Created time.Time
	Updated time.Time
}

// NewVolunteer is the input to Service.RegisterVolunteer.
type NewVolunteer struct {
	ID      VolunteerID
	Name    string
	Contact string
	Home    NodeID
	// Document is the identity-document number in plain text; optional.
	// Only its keyed hash is kept.
	Document string
}

// VolunteerUpdate changes a volunteer; nil fields stay as they are.
type VolunteerUpdate struct {
	Name    *string
	Contact *string
	Home    *NodeID
}

// VolunteerPage is one page of volunteers ordered by ID.
type VolunteerPage struct {
	Volunteers []Volunteer
	// Next is the cursor for the following page; empty on the last page.
	Next string
}

// DocumentHash returns the hex HMAC-SHA256 of an identity-document number
// under key, after trimming spaces and upper-casing (a Chinese resident ID
// may end in "x" or "X").
func DocumentHash(key []byte, document string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(normDocument(document)))
	return hex.EncodeToString(m.Sum(nil))
}

func normDocument(d string) string {
	return strings.ToUpper(strings.Join(strings.Fields(d), ""))
}
