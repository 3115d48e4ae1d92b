package org

import (
	"fmt"
	"strings"
	"time"
)

// Kind is the tier of a node of the practice network.
type Kind string

// The four node kinds, from the top tier down.
const (
	// Centre is a district (county) practice centre, 新时代文明实践中心. It
	// is a root: it has no parent.
	Centre Kind = "centre"
	// Institute is a town or street practice institute, 实践所; its parent
	// is a centre.
	Institute Kind = "institute"
	// Station is a village or community practice station, 实践站; its
	// parent is an institute.
	Station Kind = "station"
	// Point is a practice point, 实践点 (a service hall, a square); its
	// parent is a station.
	Point Kind = "point"
)

// Kinds lists the node kinds from the top tier down.
var kinds = [...]Kind{Centre, Institute, Station, Point}

// Kinds returns the node kinds from the top tier down.
func Kinds() []Kind { return kinds[:] }

// Level returns the depth of the kind's tier: 0 for Centre, 3 for Point,
// -1 for an unknown kind.
func (k Kind) Level() int {
	for i, x := range kinds {
		if x == k {
			return i
		}
	}
	return -1
}

// Valid reports whether k is one of the four kinds.
func (k Kind) Valid() bool { return k.Level() >= 0 }

// ParentKind returns the kind a node of kind k must have as parent, and
// false for Centre (a root) or an unknown kind.
func (k Kind) ParentKind() (Kind, bool) {
	l := k.Level()
	if l <= 0 {
		return "", false
	}
	return kinds[l-1], true
}

// CheckParent applies the tier rule: a node of kind child may hang below a
// node of kind parent (empty for a root). It returns an error wrapping
// ErrTier or ErrInvalid.
func CheckParent(child, parent Kind) error {
	if !child.Valid() {
		return fmt.Errorf("field kind: unknown kind %q: %w", child, ErrInvalid)
	}
	want, ok := child.ParentKind()
	switch {
	case !ok && parent != "":
		return fmt.Errorf("field parent: a %s is a root and has no parent, got a %s: %w", child, parent, ErrTier)
	case ok && parent == "":
		return fmt.Errorf("field parent: a %s needs a %s as parent: %w", child, want, ErrTier)
	case ok && parent != want:
		return fmt.Errorf("field parent: a %s needs a %s as parent, got a %s: %w", child, want, parent, ErrTier)
	}
	return nil
}

// Status is the life-cycle state of a node or team.
type Status string

// Node and team statuses.
const (
	// Active nodes and teams take part in everything.
	Active Status = "active"
	// Retired nodes and teams are kept for history; they take no new
	// children, teams, members or orders and are not counted in roll-ups.
	Retired Status = "retired"
)

// Node is one node of the practice network.
type Node struct {
	// ID is the node's code, unique across the store: 1–64 characters
	// from [A-Za-z0-9._-] (no "/", which separates Path segments).
	ID NodeID
	// Kind is the node's tier; it never changes.
	Kind Kind
	// Name is the display name, e.g. "西城街道新时代文明实践所".
	Name string
	// Parent is the parent node; empty for a centre.
	Parent NodeID
	// Path is the materialised ancestry, "/" + the IDs from the root down
	// to this node, each followed by "/": "/jt/jt-xc/jt-xc-hj/". A
	// subtree is every node whose Path starts with the root's Path.
	Path string
	// Status is Active or Retired.
	Status Status
	// Created and Updated are the times of the first and the latest change.
	Created time.Time
	Updated time.Time
}

// Depth returns the node's depth: 0 for a root.
func (n Node) Depth() int { return strings.Count(n.Path, "/") - 2 }

// NewNode is the input to Service.CreateNode.
type NewNode struct {
	// ID is the new node's code (see Node.ID).
	ID NodeID
	// Kind is the node's tier.
	Kind Kind
	// Name is the display name; required.
	Name string
	// Parent is the parent node; empty for a centre.
	Parent NodeID
}

// SubtreeQuery selects a page of a subtree.
type SubtreeQuery struct {
	// Kinds keeps only nodes of these kinds; empty keeps all.
	Kinds []Kind
	// IncludeRetired also returns retired nodes.
	IncludeRetired bool
	// After is the Next cursor of the previous page; empty starts at the
	// subtree's root.
	After string
	// Limit is the page size; 0 means DefaultLimit, values above MaxLimit
	// are cut to MaxLimit.
	Limit int
}

// NodePage is one page of nodes in Path order (a pre-order walk with
// siblings sorted by ID).
type NodePage struct {
	Nodes []Node
	// Next is the cursor for the following page; empty on the last page.
	Next string
}

// Page sizes for every paged query.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Page is a page request for queries without filters of their own.
type Page struct {
	// After is the Next cursor of the previous page; empty for the first.
	After string
	// Limit is the page size; 0 means DefaultLimit, values above MaxLimit
	// are cut to MaxLimit.
	Limit int
}

// PathOf returns the materialised path of a node with the given ID below a
// parent with the given path (empty for a root).
func PathOf(parentPath string, id NodeID) string {
	if parentPath == "" {
		parentPath = "/"
	}
	return parentPath + string(id) + "/"
}

// PathIDs splits a materialised path into its node IDs, root first.
func PathIDs(path string) []NodeID {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	out := make([]NodeID, 0, len(parts))
	for _, p := range parts {
		if p != "" {
			out = append(out, NodeID(p))
		}
	}
	return out
}

// checkCode validates an ID-like code: 1–64 characters from
// [A-Za-z0-9._-].
func checkCode(field, code string) error {
	if code == "" {
		return fmt.Errorf("field %s: empty: %w", field, ErrInvalid)
	}
	if len(code) > 64 {
		return fmt.Errorf("field %s: %q is longer than 64 characters: %w", field, code, ErrInvalid)
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("field %s: %q has character %q outside [A-Za-z0-9._-]: %w", field, code, c, ErrInvalid)
		}
	}
	return nil
}

// checkName validates a display name: not blank, at most 200 bytes.
func checkName(field, name string) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("field %s: empty: %w", field, ErrInvalid)
	}
	if len(name) > 200 {
		return fmt.Errorf("field %s: longer than 200 bytes: %w", field, ErrInvalid)
	}
	return nil
}

// Validate checks the fields of a NewNode that need no store: the ID, the
// name and the kind. Tier rules against the parent are checked by the
// service (CheckParent).
func (n NewNode) Validate() error {
	if err := checkCode("id", string(n.ID)); err != nil {
		return err
	}
	if err := checkName("name", n.Name); err != nil {
		return fmt.Errorf("node %q: %w", n.ID, err)
	}
	if !n.Kind.Valid() {
		return fmt.Errorf("node %q: field kind: unknown kind %q: %w", n.ID, n.Kind, ErrInvalid)
	}
	if n.Parent != "" {
		if err := checkCode("parent", string(n.Parent)); err != nil {
			return fmt.Errorf("node %q: %w", n.ID, err)
		}
	}
	if n.Kind == Centre && n.Parent != "" {
		return fmt.Errorf("node %q: field parent: a centre is a root and has no parent: %w", n.ID, ErrTier)
	}
	if n.Kind != Centre && n.Parent == "" {
		pk, _ := n.Kind.ParentKind()
		return fmt.Errorf("node %q: field parent: a %s needs a %s as parent: %w", n.ID, n.Kind, pk, ErrTier)
	}
	return nil
}
