package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/shopspring/decimal"

	"github.com/civicloop/civicloop/adapters/sqlite"
	"github.com/civicloop/civicloop/ledger"
)

// The data outlives the DB: a second Open of the same file sees the
// transfer made through the first.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "civicloop-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "civicloop.db")
	ctx := context.Background()
	points := ledger.Asset{Code: "POINTS", Scale: 2}

	db, err := sqlite.Open(path, nil)
	if err != nil {
		panic(err)
	}
	led, err := ledger.New(db.Ledger(), nil)
	if err != nil {
		panic(err)
	}
	for _, spec := range []ledger.AccountSpec{
		{ID: "issuer", Asset: points, NoFloor: true},
		{ID: "vol-1", Asset: points},
	} {
		if _, err := led.OpenAccount(ctx, spec); err != nil {
			panic(err)
		}
	}
	_, err = led.Transfer(ctx, ledger.TransferRequest{
		ID:       "award-1",
		Postings: ledger.Move(points, "issuer", "vol-1", decimal.RequireFromString("12.50")),
		Reason:   "service",
	})
	if err != nil {
		panic(err)
	}
	if err := db.Close(); err != nil {
		panic(err)
	}

	db, err = sqlite.Open(path, nil)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	led, err = ledger.New(db.Ledger(), nil)
	if err != nil {
		panic(err)
	}
	acct, err := led.Account(ctx, "vol-1")
	if err != nil {
		panic(err)
	}
	fmt.Println(acct.ID, acct.Balance.StringFixed(2), led.Verify(ctx, ""))
	// Output: vol-1 12.50 <nil>
}
