package dispatch

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/civicloop/civicloop/org"
)

// ItemCode is the service code of a menu item (服务菜单), e.g. "ELD-MEAL".
type ItemCode string

// FieldKind is the type of a value a resident fills in when ordering.
type FieldKind string

// The field kinds a menu item may require.
const (
	// FieldText is free text; it must not be blank.
	FieldText FieldKind = "text"
	// FieldNumber is a decimal number such as "3" or "2.5".
	FieldNumber FieldKind = "number"
	// FieldDate is a calendar date in the form 2006-01-02.
	FieldDate FieldKind = "date"
	// FieldChoice is one of the field's Choices.
	FieldChoice FieldKind = "choice"
)

// Field is one value a resident must (or may) give when ordering a menu item.
type Field struct {
	// Name is the key under which the value is given in Order.Fields.
	Name string
	// Label is the human-readable question shown on the screens.
	Label string
	// Kind is the value's type.
	Kind FieldKind
	// Required makes an order without the value invalid.
	Required bool
	// Choices lists the allowed values of a FieldChoice field.
	Choices []string
}

// Deadlines are the default time limits of a menu item. A zero duration
// takes the service's default from Options.
type Deadlines struct {
	// AcceptWithin is how long a dispatched team has to accept (accept-by);
	// when it passes, Sweep returns the order automatically.
	AcceptWithin time.Duration
	// CompleteWithin is how long an accepted team has to complete
	// (complete-by); approved extensions move it; when it passes, Sweep urges.
	CompleteWithin time.Duration
	// EvaluateWithin is how long the resident has to evaluate a completed
	// order (evaluate-by); when it passes, Sweep closes the order unrated.
	EvaluateWithin time.Duration
}

// MenuItem is a service residents can order (菜单化服务). An order keeps a
// copy of the item as it was when ordered, so later edits and retirement do
// not change existing orders.
type MenuItem struct {
	// Code is the item's service code, unique in the store.
	Code ItemCode
	// Name is the service's name, e.g. "Meal delivery for the elderly".
	Name string
	// Category is the service category; a team must have it among its
	// skills to be dispatched.
	Category string
	// Offeror is the node that offers the item (a centre, institute or
	// station).
	Offeror org.NodeID
	// Area is the root of the subtree whose residents may order the item;
	// empty means the Offeror's subtree.
	Area org.NodeID
	// Fields are the values a resident fills in when ordering.
	Fields []Field
	// Deadlines are the item's default time limits.
	Deadlines Deadlines
	// Retired marks an item that can no longer be ordered.
	Retired bool
	// Version counts the item's changes; the store sets it.
	Version uint64
}

// ServedArea returns the root of the subtree the item covers.
func (m MenuItem) ServedArea() org.NodeID {
	if m.Area != "" {
		return m.Area
	}
	return m.Offeror
}

// validate checks the item's own rules.
func (m MenuItem) validate() error {
	if strings.TrimSpace(string(m.Code)) == "" {
		return fmt.Errorf("dispatch: menu item: field code: empty: %w", ErrInvalid)
	}
	if strings.TrimSpace(m.Name) == "" {
		return fmt.Errorf("dispatch: menu item %q: field name: empty: %w", m.Code, ErrInvalid)
	}
	if strings.TrimSpace(m.Category) == "" {
		return fmt.Errorf("dispatch: menu item %q: field category: empty: %w", m.Code, ErrInvalid)
	}
	if m.Offeror == "" {
		return fmt.Errorf("dispatch: menu item %q: field offeror: empty: %w", m.Code, ErrInvalid)
	}
	if m.Deadlines.AcceptWithin < 0 || m.Deadlines.CompleteWithin < 0 || m.Deadlines.EvaluateWithin < 0 {
		return fmt.Errorf("dispatch: menu item %q: field deadlines: negative duration: %w", m.Code, ErrInvalid)
	}
	seen := make(map[string]bool, len(m.Fields))
	for i, f := range m.Fields {
		if strings.TrimSpace(f.Name) == "" {
			return fmt.Errorf("dispatch: menu item %q: field fields[%d].name: empty: %w", m.Code, i, ErrInvalid)
		}
		if seen[f.Name] {
			return fmt.Errorf("dispatch: menu item %q: field fields[%d].name: %q repeated: %w", m.Code, i, f.Name, ErrInvalid)
		}
		seen[f.Name] = true
		switch f.Kind {
		case FieldText, FieldNumber, FieldDate:
			if len(f.Choices) > 0 {
				return fmt.Errorf("dispatch: menu item %q: field fields[%d].choices: only a choice field has choices: %w", m.Code, i, ErrInvalid)
			}
		case FieldChoice:
			if len(f.Choices) == 0 {
				return fmt.Errorf("dispatch: menu item %q: field fields[%d].choices: a choice field needs choices: %w", m.Code, i, ErrInvalid)
			}
		default:
			return fmt.Errorf("dispatch: menu item %q: field fields[%d].kind: unknown kind %q: %w", m.Code, i, f.Kind, ErrInvalid)
		}
	}
	return nil
}

// checkValues validates the values a resident gave against the item's
// fields: every required field present and well-typed, no unknown field.
func (m MenuItem) checkValues(values map[string]string) error {
	known := 0 // names in values that are fields of m
	for _, f := range m.Fields {
		v, ok := values[f.Name]
		if ok {
			known++
		}
		if !ok || strings.TrimSpace(v) == "" {
			if f.Required {
				return fmt.Errorf("dispatch: order of %q: field %s: required: %w", m.Code, f.Name, ErrInvalid)
			}
			continue
		}
		switch f.Kind {
		case FieldNumber:
			if !isNumber(v) {
				return fmt.Errorf("dispatch: order of %q: field %s: %q is not a number: %w", m.Code, f.Name, v, ErrInvalid)
			}
		case FieldDate:
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				return fmt.Errorf("dispatch: order of %q: field %s: %q is not a date YYYY-MM-DD: %w", m.Code, f.Name, v, ErrInvalid)
			}
		case FieldChoice:
			if !slices.Contains(f.Choices, v) {
				return fmt.Errorf("dispatch: order of %q: field %s: %q is not one of %q: %w", m.Code, f.Name, v, f.Choices, ErrInvalid)
			}
		}
	}
	if known == len(values) {
		return nil
	}
	// Report the first unknown name in sorted order, without sorting the
	// names of a valid request.
	unknown, found := "", false
	for name := range values {
		if !slices.ContainsFunc(m.Fields, func(f Field) bool { return f.Name == name }) && (!found || name < unknown) {
			unknown, found = name, true
		}
	}
	if found {
		return fmt.Errorf("dispatch: order of %q: field %s: not a field of the menu item: %w", m.Code, unknown, ErrInvalid)
	}
	return nil
}

// Clone returns a deep copy that shares no slice with m.
func (m MenuItem) Clone() MenuItem {
	m.Fields = slices.Clone(m.Fields)
	n := 0
	for _, f := range m.Fields {
		n += len(f.Choices)
	}
	// One backing array for every field's choices: a clone per order
	// costs one allocation however many choice fields the item has.
	choices := make([]string, 0, n)
	for i := range m.Fields {
		if m.Fields[i].Choices != nil {
			start := len(choices)
			choices = append(choices, m.Fields[i].Choices...)
			m.Fields[i].Choices = choices[start:len(choices):len(choices)]
		}
	}
	return m
}

// isNumber accepts a plain decimal number: optional minus sign, digits,
// optionally a point and more digits ("3", "-2", "2.5"). No exponents,
// signs other than minus, hex, NaN or infinities.
func isNumber(v string) bool {
	v = strings.TrimPrefix(v, "-")
	whole, frac, hasPoint := strings.Cut(v, ".")
	return allDigits(whole) && (!hasPoint || allDigits(frac))
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
