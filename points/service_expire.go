package points

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/civicloop/civicloop/org"
	"github.com/shopspring/decimal"
)

// expiryPage is how many lots one sweep step handles in one store write.
// The ledger gets one transfer per volunteer and step, so large steps keep
// the ledger's work small.
const expiryPage = 50000

// ExpiryReport says what an expiry sweep did.
type ExpiryReport struct {
	// Lots is the number of lots expired.
	Lots int
	// Points is the total expired.
	Points decimal.Decimal
}

// ExpireLots expires the remaining points of every lot whose ExpiresAt is at
// or before now. Each step takes up to expiryPage due lots and moves each
// volunteer's expired points to the Expired account in one ledger transfer
// keyed by the volunteer's first lot of the step and that lot's expiry count
// ("exp:<lot>:<n>"), so running the sweep again, or concurrently, expires
// nothing twice. It runs no timers: call it from a job.
func (s *Service) ExpireLots(ctx context.Context, now time.Time) (ExpiryReport, error) {
	rep := ExpiryReport{Points: zero}
	var sum int64
	for {
		var lots int
		var units int64
		err := s.commit(ctx, func() (*Change, error) {
			var c *Change
			var err error
			c, lots, units, err = s.expiryStep(ctx, now)
			return c, err
		})
		if err != nil {
			rep.Points = PointsAsset.FromUnits(sum)
			return rep, err
		}
		if lots == 0 {
			rep.Points = PointsAsset.FromUnits(sum)
			return rep, nil
		}
		rep.Lots += lots
		sum += units
	}
}

// expiryStep builds the change of one sweep step: the due lots emptied, the
// wallets of their volunteers bumped, one op per volunteer.
//
// The wallets are read no later than the lots they guard: a redemption or
// a cancellation stored after a wallet read bumps its version, so the
// change then conflicts and runs again, and one stored before it is seen
// in the lots read after it. A DueWalletsStore reads both in one snapshot;
// with another Store the due lots are read twice: once to learn whose
// wallets to read, and again, after those reads, for the lots to expire; a
// lot of another volunteer in the second read waits for the next step.
func (s *Service) expiryStep(ctx context.Context, now time.Time) (*Change, int, int64, error) {
	type expiry struct {
		volunteer org.VolunteerID
		id        string
		units     int64
		wallet    Wallet
		used      bool
	}
	var (
		page  []Lot
		acc   []expiry
		index map[org.VolunteerID]int
	)
	if ds, ok := s.store.(DueWalletsStore); ok {
		// One snapshot: a change stored after it bumps a wallet read in
		// it, and the change conflicts.
		lots, ws, err := ds.DueLotsWallets(ctx, now, expiryPage)
		if err != nil || len(lots) == 0 {
			return &Change{}, 0, 0, err
		}
		page = lots
		index = make(map[org.VolunteerID]int, len(ws))
		for _, w := range ws {
			w.Version++
			index[w.Volunteer] = len(acc)
			acc = append(acc, expiry{volunteer: w.Volunteer, wallet: w})
		}
		for i := range page {
			if _, ok := index[page[i].Volunteer]; !ok {
				return nil, 0, 0, fmt.Errorf("points: expire: the store returned lot %s without the wallet of %q", page[i].ID, page[i].Volunteer)
			}
		}
	}
	for page == nil {
		first, err := s.store.DueLots(ctx, now, expiryPage)
		if err != nil || len(first) == 0 {
			return &Change{}, 0, 0, err
		}
		acc = acc[:0]
		index = make(map[org.VolunteerID]int, 64)
		for i := range first {
			v := first[i].Volunteer
			if _, ok := index[v]; ok {
				continue
			}
			w, _, err := s.wallet(ctx, v, false)
			if err != nil {
				return nil, 0, 0, err
			}
			index[v] = len(acc)
			acc = append(acc, expiry{volunteer: v, wallet: w})
		}
		again, err := s.store.DueLots(ctx, now, expiryPage)
		if err != nil || len(again) == 0 {
			return &Change{}, 0, 0, err
		}
		page = again[:0]
		for _, l := range again {
			if _, ok := index[l.Volunteer]; ok {
				page = append(page, l)
			}
		}
		if len(page) == 0 {
			// Every lot read first has changed since: read again.
			page = nil
		}
	}
	c := &Change{Lots: page}
	var total int64
	for i := range page {
		l := &page[i]
		u, err := PointsAsset.ToUnits(l.Remaining)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("points: expire lot %s: field remaining: %w", l.ID, err)
		}
		l.Expiries++
		if l.Expired.IsZero() {
			l.Expired = l.Remaining
		} else {
			l.Expired = l.Expired.Add(l.Remaining)
		}
		l.Remaining = zero
		a := &acc[index[l.Volunteer]]
		if !a.used {
			a.used = true
			a.id = "exp:" + l.ID + ":" + strconv.Itoa(l.Expiries)
		}
		a.units += u
		total += u
	}
	// Only the volunteers whose lots expire take part, in the order of
	// their first lot.
	kept := acc[:0]
	for _, a := range acc {
		if a.used {
			kept = append(kept, a)
		}
	}
	acc = kept
	c.Wallets = make([]Wallet, len(acc))
	for j := range acc {
		c.Wallets[j] = acc[j].wallet
	}
	c.Ops = make([]Op, len(acc))
	for j, a := range acc {
		c.Ops[j] = Op{ID: a.id, Kind: OpTransfer, Volunteer: a.volunteer, Hours: zero, Points: PointsAsset.FromUnits(-a.units),
			Counterparty: Expired, Reason: "points.expire", At: now, Principal: "system"}
	}
	return c, len(page), total, nil
}
