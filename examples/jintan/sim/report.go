package sim

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/shopspring/decimal"

	"github.com/civicloop/civicloop/org"
)

// Report is what a centre director wants to see after the period, and the
// audit. Everything but the wall-clock fields (Wall, SimWall) follows from
// the Config.
type Report struct {
	Seed  int64
	Store string
	// DB is the SQLite file, empty in memory. Write does not show it, so
	// that the same Config gives the same text on both stores.
	DB       string
	From, To time.Time // first and last simulated day
	Days     int
	// Resumed is true when the period continued a store's earlier one.
	Resumed bool

	// Network is the centre's roll-up: nodes, teams, volunteers, pairings
	// and the all-time counters.
	Network   org.Rollup
	Pairings  int
	MenuItems int

	// Counts tally the five-order loop, PointsCounts the points scheme, in
	// the period.
	Counts       []Count
	PointsCounts []Count
	// Activities are completed services and action days; Hours and Points
	// the confirmed hours and the net points awarded in the period; Served
	// the volunteers with a service award in it.
	Activities    int
	Hours, Points decimal.Decimal
	ExpiredPoints decimal.Decimal
	Served        int

	// District and Institutes are the period's figures per subtree.
	District   NodeRow
	Institutes []NodeRow
	// Stars counts volunteers by star level (0: below the first
	// threshold), all time.
	Stars [6]int
	// TopStations are the ten stations with the most hours in the period.
	TopStations []NodeRow
	// Stock is the catalogue with the stock left (-1: unlimited).
	Stock []StockRow

	Audit AuditSummary

	// Transfers is the number of ledger transfers that took effect in this
	// run; Wall the run's wall time and SimWall that of the simulated days
	// alone (without set-up and audit).
	Transfers     int64
	Wall, SimWall time.Duration
	// Engine says how the run used the store: the SQLite commit durability
	// and the workers (it changes the throughput, never the figures).
	Engine string
}

// Count is one tallied event.
type Count struct {
	Name string
	N    int
}

// NodeRow is the period's figures of a node's subtree.
type NodeRow struct {
	ID                org.NodeID
	Name              string
	Orders, Completed int
	Evaluated         int
	ResponseRate      decimal.Decimal // 响应率: responded / routed
	MeanCompletion    time.Duration   // ordering to first completion
	SatisfactionRate  decimal.Decimal // 满意率: scores 4–5 / evaluated
	Hours, Points     decimal.Decimal
}

// StockRow is one catalogue item.
type StockRow struct {
	ID, Name string
	Price    decimal.Decimal
	Stock    int64 // -1: unlimited
	Redeemed int   // in the period
}

// Clean reports whether the audit found nothing wrong.
func (r Report) Clean() bool { return len(r.Audit.Violations) == 0 }

func (r Report) auditErr() error {
	if r.Clean() {
		return nil
	}
	v := r.Audit.Violations
	more := ""
	if len(v) > 5 {
		v, more = v[:5], fmt.Sprintf(" (and %d more)", len(r.Audit.Violations)-5)
	}
	return fmt.Errorf("%w: %s%s", ErrAudit, strings.Join(v, "; "), more)
}

// ThroughputPrefix starts the lines of Write that depend on wall-clock
// time; everything else is the same for the same Config.
const ThroughputPrefix = "throughput"

// Write renders the report as text.
func (r Report) Write(out io.Writer) error {
	p := &printer{w: out}
	how := "new network"
	if r.Resumed {
		how = "continuing the store's earlier period"
	}
	p.f("金坛 Jintan district, %s to %s (%d days), seed %d, %s store, %s\n",
		r.From.Format(time.DateOnly), r.To.Format(time.DateOnly), r.Days, r.Seed, r.Store, how)
	n := r.Network
	p.f("network: %d centre, %d institutes, %s stations, %d practice points; %d corps, %d detachments, %d specialty teams; %s volunteers; %d pairings; %d menu items\n\n",
		n.Centres, n.Institutes, num(n.Stations), n.Points, n.Corps, n.Detachments, n.Specialty, num(n.Volunteers), r.Pairings, r.MenuItems)
	p.f("period: %s activities, %s service hours, %s points awarded, %s volunteers served\n\n",
		num(r.Activities), dnum(r.Hours, 1), dnum(r.Points, 2), num(r.Served))
	p.counts("five-order loop (五单闭环)", r.Counts)
	p.counts("points scheme (益+积分 金•礼遇)", r.PointsCounts)
	p.f("  points expired: %s\n\n", dnum(r.ExpiredPoints, 2))

	rows := [][]string{{"per institute", "orders", "done", "response", "completion", "satisfied", "hours", "points"}}
	for _, row := range append(r.Institutes, r.District) {
		rows = append(rows, []string{short(row), num(row.Orders), num(row.Completed), pct(row.ResponseRate),
			dur(row.MeanCompletion), pct(row.SatisfactionRate), dnum(row.Hours, 1), dnum(row.Points, 2)})
	}
	p.table(rows)

	p.f("\nstar levels (星级志愿者, all time): no star %s", num(r.Stars[0]))
	for i, c := range r.Stars[1:] {
		p.f(", %d★ %s", i+1, num(c))
	}
	p.f("\n\n")

	rows = [][]string{{"top stations by hours", "orders", "done", "hours", "points"}}
	for _, row := range r.TopStations {
		rows = append(rows, []string{short(row), num(row.Orders), num(row.Completed), dnum(row.Hours, 1), dnum(row.Points, 2)})
	}
	p.table(rows)

	rows = [][]string{{"stock left (礼遇)", "price", "stock", "redeemed"}}
	for _, s := range r.Stock {
		stock := "unlimited"
		if s.Stock >= 0 {
			stock = num(int(s.Stock))
		}
		rows = append(rows, []string{s.Name + " (" + s.ID + ")", dnum(s.Price, 0), stock, num(s.Redeemed)})
	}
	p.f("\n")
	p.table(rows)

	a := r.Audit
	verdict := "clean"
	if !r.Clean() {
		verdict = fmt.Sprintf("%d VIOLATIONS", len(a.Violations))
	}
	p.f("\naudit: %s\n", verdict)
	p.f("  ledger: %s accounts, %s entries, %s transfers (%s holds): invariants, hash chains, entries against transfers, holds against pending amounts\n",
		num(a.Accounts), num(int(a.Entries)), num(int(a.Transfers)), num(int(a.Holds)))
	p.f("  points: %s service records backed by a completed order or a confirmed record; %s wallets equal records and ledger\n", num(a.Records), num(a.Volunteers))
	p.f("  dispatch: %s order histories (%s transitions) follow the transition table\n", num(a.Orders), num(a.Transitions))
	p.f("  roll-ups: %d roll-ups and statistics equal their recounts\n", a.Rollups)
	for _, v := range a.Violations {
		p.f("  VIOLATION %s\n", v)
	}
	p.f("  ledger transfers this run: %s\n", num(int(r.Transfers)))
	if secs := r.SimWall.Seconds(); secs > 0 {
		p.f("%s: %s orders/s, %s ledger transfers/s over %.1f s simulated (%.1f s with set-up and audit)\n", ThroughputPrefix,
			num(int(float64(r.Counts[0].N)/secs)), num(int(float64(r.Transfers)/secs)), secs, r.Wall.Seconds())
		p.f("%s: %s\n", ThroughputPrefix, r.Engine)
	}
	return p.err
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) counts(title string, cs []Count) {
	p.f("%s\n", title)
	for i, c := range cs {
		p.f("  %s%s %6s", c.Name, strings.Repeat(" ", max(0, 26-cells(c.Name))), num(c.N))
		if i%3 == 2 || i == len(cs)-1 {
			p.f("\n")
		}
	}
}

// table prints rows in aligned columns: the first left-aligned, the others
// right-aligned, widths counted in terminal cells (a Chinese character
// takes two).
func (p *printer) table(rows [][]string) {
	var widths []int
	for _, row := range rows {
		for i, c := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], cells(c))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, c := range row {
			gap := strings.Repeat(" ", widths[i]-cells(c))
			if i == 0 {
				b.WriteString(c + gap)
			} else {
				b.WriteString("  " + gap + c)
			}
		}
		p.f("%s\n", b.String())
	}
}

// cells is the width of s on a terminal: East Asian wide characters take
// two cells.
func cells(s string) int {
	n := 0
	for _, r := range s {
		n++
		if unicode.Is(unicode.Han, r) || (r >= 0x3000 && r <= 0x303f) || (r >= 0xff00 && r <= 0xff60) {
			n++
		}
	}
	return n
}

// short names a node by its name's first words and its ID.
func short(r NodeRow) string {
	name := strings.TrimSuffix(strings.TrimSuffix(r.Name, "新时代文明实践所"), "新时代文明实践站")
	name = strings.TrimSuffix(name, "新时代文明实践中心")
	if r.ID == "jt" {
		name = "district total"
	}
	return fmt.Sprintf("%s (%s)", name, r.ID)
}

func num(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

func dnum(d decimal.Decimal, places int32) string {
	s := d.StringFixed(places)
	whole, frac, _ := strings.Cut(s, ".")
	var n int
	fmt.Sscan(whole, &n)
	out := num(n)
	if whole == "-0" {
		out = "-0"
	}
	if frac != "" {
		out += "." + frac
	}
	return out
}

func pct(d decimal.Decimal) string {
	return d.Mul(decimal.NewFromInt(100)).StringFixed(1) + "%"
}

func dur(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	h := int(d.Round(time.Hour).Hours())
	return fmt.Sprintf("%dd %02dh", h/24, h%24)
}
