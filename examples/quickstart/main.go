// Command quickstart is a short tour of civicloop. First the ledger: it opens
// accounts, awards points for service, holds points for a gift (礼遇) and
// posts the hold when the gift is picked up, reverses a mistaken award, and
// prints balances, a statement and the result of an audit. Then one
// volunteer's journey through org and points: registration, a service record
// confirmed by the organising station, points earned and a gift redeemed.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/shopspring/decimal"

	"github.com/civicloop/civicloop/adapters/memory"
	"github.com/civicloop/civicloop/ledger"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// clock is a deterministic clock that advances one minute per reading, so
// the tour prints the same statement on every run.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { c.t = c.t.Add(time.Minute); return c.t }

func run(ctx context.Context) error {
	clk := &clock{t: time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)}
	l, err := ledger.New(memory.NewLedgerStore(), &ledger.Options{Now: clk.now})
	if err != nil {
		return err
	}
	pts := ledger.Asset{Code: "POINTS", Scale: 2}
	amt := decimal.RequireFromString

	// The district centre issues points; its account has no floor.
	// Volunteers' accounts have the default floor of zero.
	for _, spec := range []ledger.AccountSpec{
		{ID: "centre:points", Asset: pts, NoFloor: true, Owner: "centre"},
		{ID: "vol:320482-0001:points", Asset: pts, Owner: "320482-0001"},
		{ID: "vol:320482-0002:points", Asset: pts, Owner: "320482-0002"},
		{ID: "gifts:points", Asset: pts, Owner: "centre gift counter"},
	} {
		if _, err := l.OpenAccount(ctx, spec); err != nil {
			return err
		}
	}
	step := func(what string, res ledger.Result, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		fmt.Printf("%-44s %s\n", what, res.Status)
		return nil
	}

	// Two awards for confirmed service, one with a wrong amount.
	res, err := l.Transfer(ctx, ledger.TransferRequest{
		ID: "award:rec-1", Reason: "service", Principal: "station-7",
		Postings: ledger.Move(pts, "centre:points", "vol:320482-0001:points", amt("30")),
	})
	if err := step("award 30 points to 320482-0001", res, err); err != nil {
		return err
	}
	res, err = l.Transfer(ctx, ledger.TransferRequest{
		ID: "award:rec-2", Reason: "service", Principal: "station-7",
		Postings: ledger.Move(pts, "centre:points", "vol:320482-0002:points", amt("45")),
	})
	if err := step("award 45 points to 320482-0002", res, err); err != nil {
		return err
	}
	// Retrying an award with the same ID changes nothing.
	res, err = l.Transfer(ctx, ledger.TransferRequest{
		ID: "award:rec-1", Reason: "service", Principal: "station-7",
		Postings: ledger.Move(pts, "centre:points", "vol:320482-0001:points", amt("30")),
	})
	if err := step(fmt.Sprintf("retry award:rec-1 (replayed=%t)", res.Replayed), res, err); err != nil {
		return err
	}

	// The second award was wrong: it is reversed, never edited, and the
	// right amount is awarded under a new ID.
	res, err = l.Reverse(ctx, ledger.ReverseRequest{ID: "reverse:rec-2", Original: "award:rec-2", Reason: "correction", Principal: "station-7"})
	if err := step("reverse award:rec-2", res, err); err != nil {
		return err
	}
	res, err = l.Transfer(ctx, ledger.TransferRequest{
		ID: "award:rec-2b", Reason: "service", Principal: "station-7",
		Postings: ledger.Move(pts, "centre:points", "vol:320482-0002:points", amt("40.5")),
	})
	if err := step("award 40.50 points to 320482-0002", res, err); err != nil {
		return err
	}

	// Redeeming a gift: hold 25 points until pickup, then post the hold.
	res, err = l.Transfer(ctx, ledger.TransferRequest{
		ID: "redeem:1", Reason: "redeem", Principal: "320482-0001",
		Postings:  ledger.Move(pts, "vol:320482-0001:points", "gifts:points", amt("25")),
		HoldUntil: clk.t.Add(72 * time.Hour),
	})
	if err := step("hold 25 points for a gift", res, err); err != nil {
		return err
	}
	a, err := l.Account(ctx, "vol:320482-0001:points")
	if err != nil {
		return err
	}
	fmt.Printf("  320482-0001 while held: balance %s, available %s\n", a.Balance.StringFixed(2), a.Available.StringFixed(2))

	// A second gift worth more than what is available is refused.
	_, err = l.Transfer(ctx, ledger.TransferRequest{
		ID: "redeem:2", Reason: "redeem", Principal: "320482-0001",
		Postings:  ledger.Move(pts, "vol:320482-0001:points", "gifts:points", amt("10")),
		HoldUntil: clk.t.Add(72 * time.Hour),
	})
	fmt.Printf("%-44s refused: %v\n", "hold 10 more points", err)

	res, err = l.Post(ctx, ledger.PostRequest{ID: "pickup:1", Hold: "redeem:1", Reason: "pickup", Principal: "gift-counter"})
	if err := step("gift picked up: post the hold", res, err); err != nil {
		return err
	}

	fmt.Println("\nbalances")
	for _, id := range []ledger.AccountID{"centre:points", "vol:320482-0001:points", "vol:320482-0002:points", "gifts:points"} {
		a, err := l.Account(ctx, id)
		if err != nil {
			return err
		}
		fmt.Printf("  %-24s %10s  (available %s)\n", id, a.Balance.StringFixed(2), a.Available.StringFixed(2))
	}

	fmt.Println("\nstatement of vol:320482-0002:points")
	st, err := l.Statement(ctx, "vol:320482-0002:points", 0, 50)
	if err != nil {
		return err
	}
	for _, e := range st.Entries {
		fmt.Printf("  #%d %s %-14s %8s  balance %8s  hash %x…\n", e.Seq, e.RecordedAt.Format("2006-01-02 15:04"), e.Transfer, e.Amount.StringFixed(2), e.Balance.StringFixed(2), e.Hash[:4])
	}

	rep, err := l.Audit(ctx)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	fmt.Printf("\naudit: %d accounts, %d entries, hash chains intact, every asset sums to zero\n", rep.Accounts, rep.Entries)
	return volunteerJourney(ctx, clk.now)
}
