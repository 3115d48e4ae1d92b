package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shopspring/decimal"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
)

// The district's principals.
const centre org.NodeID = "jt"

var (
	system = org.Actor{ID: "jintan.setup", Role: org.RoleSystem}
	desk   = org.Actor{ID: "jt.desk", Role: org.RoleDesk, Scope: centre}
	// director is the centre's administrator: rejects, forced
	// assignments, cancellations, hiding.
	director = org.Actor{ID: "jt.admin", Role: org.RoleAdmin, Scope: centre}
)

// admin returns the administrator of a node (a station confirms and
// corrects the service it organised: 谁组织谁记录).
func admin(n org.NodeID) org.Actor {
	return org.Actor{ID: string(n) + ".admin", Role: org.RoleAdmin, Scope: n}
}

func resident(id string) org.Actor { return org.Actor{ID: id, Role: org.RoleResident} }

func volunteer(v org.VolunteerID) org.Actor {
	return org.Actor{ID: string(v), Role: org.RoleVolunteer}
}

// world is a running simulation: the services, the clock, what the
// simulation remembers between phases, and its tallies.
type world struct {
	cfg   Config
	seed  int64
	clk   *clock
	st    *stores
	count *countingLedger

	led *ledger.Service
	org *org.Service
	pts *points.Service
	dsp *dispatch.Service
	// lanes are the workers of parallel phases; ptsIDs numbers both the
	// sequential points service's IDs and the lanes' jobs.
	lanes  []*lane
	ptsIDs *ids
	dspIDs *ids

	// start and end bound the simulated period, [start, end).
	start, end time.Time
	// resumed is true when the store held an earlier period.
	resumed bool
	rng     *rand.Rand

	institutes []org.Node
	stations   []org.NodeID // stations that take orders
	weights    []float64    // cumulative order weights of stations
	instOf     map[org.NodeID]org.NodeID
	teams      []org.Team
	members    map[org.TeamID][]org.VolunteerID // members without the leader
	leaders    map[org.TeamID]org.VolunteerID
	volunteers []org.VolunteerID
	homes      map[org.VolunteerID]org.NodeID // active volunteers' homes
	names      map[org.NodeID]string
	menu       []dispatch.MenuItem
	items      []points.Item
	pairings   int

	// open lists the orders still needing a decision, oldest first, and
	// orders caches them as last read or written.
	open   []dispatch.OrderID
	orders map[dispatch.OrderID]dispatch.Order
	nextID int
	// busy keeps each volunteer's recent service intervals: points refuses
	// overlapping records, and so would a real sign-in sheet.
	busy map[org.VolunteerID][]span

	pending []pendingObjection
	held    []string // redemptions awaiting pickup, oldest first
	toHide  []dispatch.OrderID
	// redeemedItem counts the period's redemptions by item.
	redeemedItem map[string]int

	t tally
}

type span struct{ from, to time.Time }

type pendingObjection struct {
	key       string // record source key
	volunteer org.VolunteerID
	objection string // set once raised
	due       time.Time
}

// tally counts what happened in the period.
type tally struct {
	placed, rejected, published, dispatched, claimed, accepted   int
	returnedByTeam, returnedByTimer, reassigned, forced          int
	extensions, urged, started, completed, evaluated, closed     int
	reopened, showcased, hidden, cancelledRes, cancelledCentre   int
	actionDays, actionRecords                                    int
	objections, corrected, rejectedObj, penalties                int
	redeemed, fulfilled, cancelledRed, expiredRed, redeemRefused int
	expiredLots, participants                                    int
	expiredPoints, hours                                         decimal.Decimal
}

func (w *world) at(t time.Time) { w.clk.set(t) }

func (w *world) now() time.Time { return w.clk.Now() }

// newServices builds the four services over the stores, sharing the clock.
// newDispatch builds a dispatch service over the store with the given
// clock. Every order is placed with its ID: the ID source is never used.
func (w *world) newDispatch(now func() time.Time) (*dispatch.Service, error) {
	return dispatch.New(w.st.dispatch, w.org, w.org.Policy(), &dispatch.Options{
		Now: now, NewID: w.dspIDs.next, MaxReturns: 3,
	})
}

func newServices(ctx context.Context, w *world) error {
	var err error
	w.count = &countingLedger{Store: w.st.ledger}
	if w.led, err = ledger.New(w.count, &ledger.Options{Now: w.clk.Now}); err != nil {
		return err
	}
	tag := w.start.Format("20060102")
	orgIDs := &ids{prefix: "G" + tag + "-"}
	key := []byte(fmt.Sprintf("jintan-identity-key-%016x", w.seed))
	if w.org, err = org.New(w.st.org, &org.Options{Now: w.clk.Now, NewID: orgIDs.next, IdentityKey: key}); err != nil {
		return err
	}
	w.ptsIDs = &ids{prefix: "P" + tag + "-"}
	codes := rand.New(rand.NewPCG(uint64(w.seed), 0x0c0de))
	code := func() string { return fmt.Sprintf("%08d", codes.IntN(100000000)) }
	if w.pts, err = points.New(w.st.points, w.led, w.org, &points.Options{
		Scheme: scheme(w.cfg.PointsLifetime), Now: w.clk.Now, NewID: w.ptsIDs.next, NewCode: code,
	}); err != nil {
		return err
	}
	w.dspIDs = &ids{prefix: "X" + tag + "-"}
	if w.dsp, err = w.newDispatch(w.clk.Now); err != nil {
		return err
	}
	return w.newLanes(w.cfg.Workers, w.ptsIDs.prefix)
}
