package org

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Network is a declarative description of (part of) a practice network,
// written as a Go value or as JSON (see ParseNetwork and
// testdata/jintan.json), applied by Service.Import. Rows refer to each
// other by ID; a row may refer to an object created by an earlier row of
// the same section or already in the store.
type Network struct {
	Nodes      []NodeSpec      `json:"nodes"`
	Teams      []TeamSpec      `json:"teams"`
	Volunteers []VolunteerSpec `json:"volunteers"`
	Pairings   []PairingSpec   `json:"pairings"`
}

// NodeSpec describes one node. Parent comes before child.
type NodeSpec struct {
	ID     NodeID `json:"id"`
	Kind   Kind   `json:"kind"`
	Name   string `json:"name"`
	Parent NodeID `json:"parent,omitempty"`
	// Line is the JSON line the row starts on (0 for Go values).
	Line int `json:"-"`
}

// TeamSpec describes one team. A parent team comes before its children.
// Members and Leader refer to volunteers of the same Network or the store.
type TeamSpec struct {
	ID       TeamID        `json:"id"`
	Name     string        `json:"name"`
	Tier     Tier          `json:"tier"`
	Parent   TeamID        `json:"parent,omitempty"`
	Anchor   NodeID        `json:"anchor"`
	Area     NodeID        `json:"area,omitempty"`
	Skills   []string      `json:"skills,omitempty"`
	Capacity int           `json:"capacity"`
	Leader   VolunteerID   `json:"leader,omitempty"`
	Members  []VolunteerID `json:"members,omitempty"`
	Line     int           `json:"-"`
}

// VolunteerSpec describes one volunteer.
type VolunteerSpec struct {
	ID       VolunteerID `json:"id"`
	Name     string      `json:"name"`
	Contact  string      `json:"contact,omitempty"`
	Home     NodeID      `json:"home"`
	Document string      `json:"document,omitempty"`
	Line     int         `json:"-"`
}

// PairingSpec describes one pairing; dates are "2006-01-02".
type PairingSpec struct {
	ID       string   `json:"id,omitempty"`
	Unit     string   `json:"unit"`
	UnitName string   `json:"unit_name"`
	UnitKind UnitKind `json:"unit_kind"`
	Node     NodeID   `json:"node"`
	Start    string   `json:"start"`
	End      string   `json:"end,omitempty"`
	Line     int      `json:"-"`
}

// RowError is one bad row of an import.
type RowError struct {
	// Section is "nodes", "teams", "volunteers" or "pairings".
	Section string
	// Index is the row's 0-based position in its section; Line its JSON
	// line (0 when the Network was built in Go).
	Index int
	Line  int
	// ID is the row's ID, if it has one.
	ID  string
	Err error
}

func (e RowError) Error() string {
	where := fmt.Sprintf("%s[%d]", e.Section, e.Index)
	if e.Line > 0 {
		where = fmt.Sprintf("line %d: %s", e.Line, where)
	}
	if e.ID != "" {
		where += fmt.Sprintf(" %q", e.ID)
	}
	return where + ": " + e.Err.Error()
}

func (e RowError) Unwrap() error { return e.Err }

// ImportError lists every bad row of a refused import or parse. It matches
// ErrInvalid and, through its rows, every sentinel a row failed with.
type ImportError struct {
	Rows []RowError
}

func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "org: import refused, %d bad rows", len(e.Rows))
	for _, r := range e.Rows {
		b.WriteString("\n\t")
		b.WriteString(r.Error())
	}
	return b.String()
}

// Unwrap returns ErrInvalid followed by the rows' errors.
func (e *ImportError) Unwrap() []error {
	out := make([]error, 0, len(e.Rows)+1)
	out = append(out, ErrInvalid)
	for _, r := range e.Rows {
		out = append(out, r)
	}
	return out
}

// ParseNetwork reads a Network from JSON, recording each row's line.
// Unknown fields are refused. Every malformed row is reported (as an
// *ImportError); a syntax error stops the parse.
func ParseNetwork(r io.Reader) (Network, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Network{}, fmt.Errorf("org: parse network: %w", err)
	}
	p := parser{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.DisallowUnknownFields()
	var n Network
	if err := p.network(&n); err != nil {
		return Network{}, err
	}
	if len(p.bad) > 0 {
		return Network{}, &ImportError{Rows: p.bad}
	}
	return n, nil
}

type parser struct {
	data []byte
	dec  *json.Decoder
	bad  []RowError
}

// line returns the 1-based line of the first non-blank, non-comma byte at
// or after off.
func (p *parser) line(off int64) int {
	i := int(off)
	for i < len(p.data) && strings.IndexByte(" \t\r\n,", p.data[i]) >= 0 {
		i++
	}
	return bytes.Count(p.data[:i], []byte{'\n'}) + 1
}

func (p *parser) syntax(err error) error {
	line := p.line(p.dec.InputOffset())
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line = bytes.Count(p.data[:min(int(se.Offset), len(p.data))], []byte{'\n'}) + 1
	}
	return fmt.Errorf("org: parse network: line %d: %v: %w", line, err, ErrInvalid)
}

func (p *parser) delim(want json.Delim) error {
	tok, err := p.dec.Token()
	if err != nil {
		return p.syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return p.syntax(fmt.Errorf("expected %q, got %v", want, tok))
	}
	return nil
}

func (p *parser) network(n *Network) error {
	if err := p.delim('{'); err != nil {
		return err
	}
	for p.dec.More() {
		tok, err := p.dec.Token()
		if err != nil {
			return p.syntax(err)
		}
		key, _ := tok.(string)
		switch key {
		case "nodes":
			err = section(p, key, &n.Nodes, func(s *NodeSpec, l int) { s.Line = l })
		case "teams":
			err = section(p, key, &n.Teams, func(s *TeamSpec, l int) { s.Line = l })
		case "volunteers":
			err = section(p, key, &n.Volunteers, func(s *VolunteerSpec, l int) { s.Line = l })
		case "pairings":
			err = section(p, key, &n.Pairings, func(s *PairingSpec, l int) { s.Line = l })
		default:
			return p.syntax(fmt.Errorf("unknown section %q", key))
		}
		if err != nil {
			return err
		}
	}
	return p.delim('}')
}

func section[T any](p *parser, name string, out *[]T, setLine func(*T, int)) error {
	if err := p.delim('['); err != nil {
		return err
	}
	for i := 0; p.dec.More(); i++ {
		line := p.line(p.dec.InputOffset())
		var row T
		if err := p.dec.Decode(&row); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return p.syntax(err)
			}
			p.bad = append(p.bad, RowError{Section: name, Index: i, Line: line, Err: fmt.Errorf("%v: %w", err, ErrInvalid)})
			continue
		}
		setLine(&row, line)
		*out = append(*out, row)
	}
	return p.delim(']')
}
