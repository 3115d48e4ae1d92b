package points

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/civicloop/civicloop/org"
	"github.com/shopspring/decimal"
)

// Certificate is a 志愿服务记录证明 (民发〔2015〕149号): a numbered
// statement of a volunteer's confirmed service in a period, issued by a
// unit on a date.
type Certificate struct {
	// Number is "<prefix>-<year>-<6-digit sequence>", unique in the
	// register.
	Number string `json:"number"`
	// Volunteer is the volunteer number; Name his registered name.
	Volunteer org.VolunteerID `json:"volunteer"`
	Name      string          `json:"name"`
	// From and To bound the period, [From, To).
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Hours is the total of Services.
	Hours    decimal.Decimal    `json:"hours"`
	Services []CertifiedService `json:"services"`
	// Issuer is the issuing unit and IssuerName its name.
	Issuer     org.NodeID `json:"issuer"`
	IssuerName string     `json:"issuer_name"`
	IssuedAt   time.Time  `json:"issued_at"`
	IssuedBy   string     `json:"issued_by"`
	// FirstDay and LastDay are the first and last days of the period, and
	// IssuedOn the date of issue, in the scheme's time zone, as each
	// service's Date: the dates the text prints. (Certificates issued
	// before these fields existed print From, To and IssuedAt in UTC.)
	FirstDay string `json:"first_day,omitempty"`
	LastDay  string `json:"last_day,omitempty"`
	IssuedOn string `json:"issued_on,omitempty"`
}

// CertifiedService is one confirmed record on a certificate.
type CertifiedService struct {
	Record    string          `json:"record"`
	Date      string          `json:"date"`
	Activity  string          `json:"activity"`
	Content   string          `json:"content"`
	Place     string          `json:"place"`
	Organiser org.NodeID      `json:"organiser"`
	Hours     decimal.Decimal `json:"hours"`
}

// CertificateRequest asks for a certificate.
type CertificateRequest struct {
	Volunteer  org.VolunteerID
	From, To   time.Time
	Issuer     org.NodeID
	IssuerName string
}

// Text renders the certificate as plain text; the same certificate always
// renders the same bytes.
func (c Certificate) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "志愿服务记录证明 / Certificate of volunteer service\n")
	fmt.Fprintf(&b, "No. %s\n\n", c.Number)
	fmt.Fprintf(&b, "Volunteer number (志愿者编号): %s\n", c.Volunteer)
	fmt.Fprintf(&b, "Name (姓名): %s\n", c.Name)
	first, last, issued := c.FirstDay, c.LastDay, c.IssuedOn
	if first == "" {
		// To is exclusive; the text names the last day covered.
		first, last = c.From.UTC().Format(time.DateOnly), c.To.UTC().Add(-time.Nanosecond).Format(time.DateOnly)
		issued = c.IssuedAt.UTC().Format(time.DateOnly)
	}
	fmt.Fprintf(&b, "Period (期间): %s to %s\n", first, last)
	fmt.Fprintf(&b, "Total hours (服务时长): %s\n\n", c.Hours.StringFixed(2))
	fmt.Fprintf(&b, "%-10s  %6s  %s\n", "Date", "Hours", "Activity | content | place | organiser")
	for _, sv := range c.Services {
		fmt.Fprintf(&b, "%-10s  %6s  %s | %s | %s | %s\n", sv.Date, sv.Hours.StringFixed(2), sv.Activity, sv.Content, sv.Place, sv.Organiser)
	}
	fmt.Fprintf(&b, "\nIssued by (出具单位): %s (%s)\n", c.IssuerName, c.Issuer)
	fmt.Fprintf(&b, "Date of issue (出具日期): %s\n", issued)
	return b.String()
}

// JSON renders the certificate as indented JSON; the same certificate
// always renders the same bytes.
func (c Certificate) JSON() ([]byte, error) {
	c.From, c.To, c.IssuedAt = c.From.UTC(), c.To.UTC(), c.IssuedAt.UTC()
	return json.MarshalIndent(c, "", "  ")
}

// IssueCertificate issues a numbered certificate of the volunteer's
// confirmed service booked in [From, To) and enters it in the register.
// The actor must act for the issuing unit.
func (s *Service) IssueCertificate(ctx context.Context, a org.Actor, req CertificateRequest) (Certificate, error) {
	switch {
	case req.Volunteer == "":
		return Certificate{}, fmt.Errorf("points: certificate: field volunteer: must not be empty: %w", ErrInvalid)
	case req.Issuer == "":
		return Certificate{}, fmt.Errorf("points: certificate: field issuer: must not be empty: %w", ErrInvalid)
	case req.IssuerName == "":
		return Certificate{}, fmt.Errorf("points: certificate: field issuer_name: must not be empty: %w", ErrInvalid)
	case req.From.IsZero() || !req.To.After(req.From):
		return Certificate{}, fmt.Errorf("points: certificate: field to: %s is not after from %s: %w", req.To.Format(time.RFC3339), req.From.Format(time.RFC3339), ErrInvalidTime)
	}
	if err := s.authorize(ctx, a, ActCertificate, org.Target{Node: req.Issuer}); err != nil {
		return Certificate{}, err
	}
	v, err := s.dir.Volunteer(ctx, req.Volunteer)
	if err != nil {
		return Certificate{}, fmt.Errorf("points: certificate: field volunteer: %q: %w: %w", req.Volunteer, ErrUnknownVolunteer, err)
	}
	recs, err := s.store.Records(ctx, req.Volunteer, req.From, req.To)
	if err != nil {
		return Certificate{}, err
	}
	now := s.now()
	c := Certificate{Volunteer: v.ID, Name: v.Name, From: micros(req.From), To: micros(req.To), Hours: zero,
		Issuer: req.Issuer, IssuerName: req.IssuerName, IssuedAt: now, IssuedBy: a.ID, Services: []CertifiedService{}}
	loc := s.scheme.Location
	// To is exclusive: the last day covered is the one before it.
	c.FirstDay, c.LastDay = c.From.In(loc).Format(time.DateOnly), c.To.Add(-time.Nanosecond).In(loc).Format(time.DateOnly)
	c.IssuedOn = now.In(loc).Format(time.DateOnly)
	for _, r := range recs {
		if r.Status != RecordConfirmed {
			continue
		}
		c.Services = append(c.Services, CertifiedService{Record: r.ID, Date: r.At().In(s.scheme.Location).Format(time.DateOnly),
			Activity: r.Activity.Name, Content: r.Activity.Content, Place: r.Activity.Place, Organiser: r.Organiser, Hours: r.Hours})
		c.Hours = c.Hours.Add(r.Hours)
	}
	year := now.In(s.scheme.Location).Year()
	series := fmt.Sprintf("%s-%d", s.opts.CertificatePrefix, year)
	n, err := s.store.NextNumber(ctx, series)
	if err != nil {
		return Certificate{}, err
	}
	c.Number = fmt.Sprintf("%s-%06d", series, n)
	if err := s.store.Commit(ctx, &Change{Certificates: []Certificate{c}}); err != nil {
		return Certificate{}, err
	}
	return c, nil
}

// Certificate returns a certificate from the register.
func (s *Service) Certificate(ctx context.Context, number string) (Certificate, error) {
	return s.store.Certificate(ctx, number)
}

// Certificates returns the register for a volunteer (all when empty).
func (s *Service) Certificates(ctx context.Context, v org.VolunteerID) ([]Certificate, error) {
	return s.store.Certificates(ctx, v)
}
