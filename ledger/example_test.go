package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/civicloop/civicloop/adapters/memory"
	"github.com/civicloop/civicloop/ledger"
)

var points = ledger.Asset{Code: "POINTS", Scale: 2}

// newLedger returns a ledger in memory with a fixed clock, an issuing
// account and two volunteers.
func newLedger() (*ledger.Service, context.Context) {
	ctx := context.Background()
	now := time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)
	svc, err := ledger.New(memory.NewLedgerStore(), &ledger.Options{Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	for _, spec := range []ledger.AccountSpec{
		{ID: "issuer", Asset: points, NoFloor: true},
		{ID: "vol-1", Asset: points, Owner: "V3204820001"},
		{ID: "gifts", Asset: points},
	} {
		if _, err := svc.OpenAccount(ctx, spec); err != nil {
			panic(err)
		}
	}
	return svc, ctx
}

func balance(svc *ledger.Service, ctx context.Context, id ledger.AccountID) string {
	a, err := svc.Account(ctx, id)
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%s: balance %s, available %s", id, a.Balance.StringFixed(2), a.Available.StringFixed(2))
}

func ExampleService_OpenAccount() {
	ctx := context.Background()
	svc, _ := ledger.New(memory.NewLedgerStore(), nil)
	acct, err := svc.OpenAccount(ctx, ledger.AccountSpec{
		ID:       "vol-1",
		Asset:    ledger.Asset{Code: "POINTS", Scale: 2},
		Owner:    "V3204820001",
		Metadata: map[string]string{"station": "jintan-xicheng-07"},
	})
	fmt.Println(acct.ID, acct.Asset, acct.Balance, acct.Version, err)

	_, err = svc.OpenAccount(ctx, ledger.AccountSpec{ID: "vol-1", Asset: acct.Asset})
	fmt.Println(err)
	// Output:
	// vol-1 POINTS/2 0 1 <nil>
	// memory: open account "vol-1": ledger: account already exists
}

func ExampleService_Transfer() {
	svc, ctx := newLedger()
	r, err := svc.Transfer(ctx, ledger.TransferRequest{
		ID:        "award-2026-03-05-vol-1",
		Postings:  ledger.Move(points, "issuer", "vol-1", decimal.RequireFromString("12.5")),
		Reason:    "service",
		Principal: "station-admin",
	})
	fmt.Println(r.Status, err)

	// The same request again is a retry: it returns the first outcome.
	r, err = svc.Transfer(ctx, ledger.TransferRequest{
		ID:        "award-2026-03-05-vol-1",
		Postings:  ledger.Move(points, "issuer", "vol-1", decimal.RequireFromString("12.50")),
		Reason:    "service",
		Principal: "station-admin",
	})
	fmt.Println(r.Status, r.Replayed, err)

	// Spending more than the balance is refused.
	_, err = svc.Transfer(ctx, ledger.TransferRequest{ID: "too-much", Postings: ledger.Move(points, "vol-1", "gifts", decimal.RequireFromString("20"))})
	fmt.Println(errors.Is(err, ledger.ErrInsufficientFunds))
	fmt.Println(balance(svc, ctx, "vol-1"))
	fmt.Println(balance(svc, ctx, "issuer"))
	// Output:
	// posted <nil>
	// posted true <nil>
	// true
	// vol-1: balance 12.50, available 12.50
	// issuer: balance -12.50, available -12.50
}

func ExampleService_Post() {
	svc, ctx := newLedger()
	_, _ = svc.Transfer(ctx, ledger.TransferRequest{ID: "award", Postings: ledger.Move(points, "issuer", "vol-1", decimal.NewFromInt(50))})

	// Redeeming a gift: hold the points until pickup, for at most a week.
	hold, err := svc.Transfer(ctx, ledger.TransferRequest{
		ID:        "redeem-42",
		Postings:  ledger.Move(points, "vol-1", "gifts", decimal.NewFromInt(30)),
		Reason:    "redeem",
		HoldUntil: time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC),
	})
	fmt.Println(hold.Status, err)
	fmt.Println(balance(svc, ctx, "vol-1"))

	// At pickup the gift turned out cheaper: post 25 and release the rest.
	_, err = svc.Post(ctx, ledger.PostRequest{ID: "pickup-42", Hold: "redeem-42", Amount: decimal.NewFromInt(25)})
	fmt.Println(err)
	fmt.Println(balance(svc, ctx, "vol-1"))
	fmt.Println(balance(svc, ctx, "gifts"))
	// Output:
	// pending <nil>
	// vol-1: balance 50.00, available 20.00
	// <nil>
	// vol-1: balance 25.00, available 25.00
	// gifts: balance 25.00, available 25.00
}

func ExampleService_Reverse() {
	svc, ctx := newLedger()
	_, _ = svc.Transfer(ctx, ledger.TransferRequest{ID: "award-7", Postings: ledger.Move(points, "issuer", "vol-1", decimal.NewFromInt(8))})

	// The award was recorded for the wrong volunteer: reverse it.
	_, err := svc.Reverse(ctx, ledger.ReverseRequest{ID: "fix-7", Original: "award-7", Reason: "correction", Principal: "centre-admin"})
	fmt.Println(err)
	_, err = svc.Reverse(ctx, ledger.ReverseRequest{ID: "fix-7b", Original: "award-7"})
	fmt.Println(errors.Is(err, ledger.ErrAlreadyReversed))

	orig, _ := svc.TransferByID(ctx, "award-7")
	fmt.Println("award-7 reversed by", orig.ReversedBy)
	st, _ := svc.Statement(ctx, "vol-1", 0, 10)
	for _, e := range st.Entries {
		fmt.Println(e.Seq, e.Transfer, e.Amount, e.Balance)
	}
	rep, err := svc.Audit(ctx)
	fmt.Println(rep.Accounts, "accounts,", rep.Entries, "entries, audit:", err)
	// Output:
	// <nil>
	// true
	// award-7 reversed by fix-7
	// 1 award-7 8 8
	// 2 fix-7 -8 0
	// 3 accounts, 4 entries, audit: <nil>
}
