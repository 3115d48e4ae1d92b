package points_test

import (
	"context"
	"fmt"
	"time"

	"github.com/civicloop/civicloop/adapters/memory"
	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
	"github.com/shopspring/decimal"
)

// *org.Service is the directory points uses in production.
var _ points.Directory = (*org.Service)(nil)

// exampleWorld builds a district with one station and one volunteer, and a
// points service with 10 points per hour of elderly care.
func exampleWorld() (*points.Service, *ledger.Service) {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2026, 3, 2, 20, 0, 0, 0, time.UTC) }
	orgs, err := org.New(memory.NewOrgStore(), &org.Options{Now: now})
	if err != nil {
		panic(err)
	}
	sys := org.Actor{ID: "setup", Role: org.RoleSystem}
	for _, n := range []org.NewNode{
		{ID: "JT", Kind: org.Centre, Name: "金坛区新时代文明实践中心"},
		{ID: "JT-DC", Kind: org.Institute, Name: "东城街道新时代文明实践所", Parent: "JT"},
		{ID: "JT-DC-01", Kind: org.Station, Name: "某社区新时代文明实践站", Parent: "JT-DC"},
	} {
		if _, err := orgs.CreateNode(ctx, sys, n); err != nil {
			panic(err)
		}
	}
	if _, err := orgs.RegisterVolunteer(ctx, sys, org.NewVolunteer{ID: "V001", Name: "张三", Home: "JT-DC-01"}); err != nil {
		panic(err)
	}
	led, err := ledger.New(memory.NewLedgerStore(), &ledger.Options{Now: now})
	if err != nil {
		panic(err)
	}
	n := 0
	svc, err := points.New(memory.NewPointsStore(), led, orgs, &points.Options{
		Now:     now,
		NewID:   func() string { n++; return fmt.Sprintf("R%d", n) },
		NewCode: func() string { return "123456" },
		Scheme: points.Scheme{Rules: []points.Rule{{
			ID: "2026", ValidFrom: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			Rates: map[string]decimal.Decimal{"elderly": decimal.NewFromInt(10), "*": decimal.NewFromInt(5)},
		}}},
	})
	if err != nil {
		panic(err)
	}
	return svc, led
}

// The organising station records two and a half hours of service (three
// hours less half an hour's travel) and confirms them: hours and points go
// to the volunteer's ledger accounts, explained line by line.
func Example_recordAndConfirm() {
	ctx := context.Background()
	svc, led := exampleWorld()
	station := org.Actor{ID: "li", Role: org.RoleAdmin, Scope: "JT-DC-01"}
	start := time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)
	rec, err := svc.RecordService(ctx, station, points.RecordInput{
		Volunteer: "V001", Organiser: "JT-DC-01",
		Activity: points.Activity{Name: "学雷锋 敬老助老", Category: "elderly", Place: "社区养老服务站",
			Content: "陪伴老人", Start: start, End: start.Add(3 * time.Hour)},
		SignIn: start, SignOut: start.Add(3 * time.Hour), Travel: 30 * time.Minute,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(rec.Status, rec.Hours, "h")
	rec, err = svc.Confirm(ctx, station, rec.ID)
	if err != nil {
		panic(err)
	}
	aw, _ := svc.Award(ctx, rec.Award)
	for _, l := range aw.Lines {
		fmt.Println(l.Code, l.Points, l.Text)
	}
	hours, _ := led.Account(ctx, points.VolunteerAccount("V001", points.HoursAsset))
	pts, _ := led.Account(ctx, points.VolunteerAccount("V001", points.PointsAsset))
	fmt.Println(rec.Status, "hours", hours.Balance, "points", pts.Balance)
	// Output:
	// draft 2.5 h
	// base 25 2.5 h × 10 points/h (category elderly, rule 2026)
	// confirmed hours 2.5 points 25
}

// A volunteer redeems a gift: the points are held and one unit of stock
// reserved; the station hands it over against the pickup code, which spends
// the points.
func Example_redeemGift() {
	ctx := context.Background()
	svc, led := exampleWorld()
	station := org.Actor{ID: "li", Role: org.RoleAdmin, Scope: "JT-DC-01"}
	start := time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)
	rec, err := svc.RecordService(ctx, station, points.RecordInput{
		Volunteer: "V001", Organiser: "JT-DC-01",
		Activity: points.Activity{Name: "文明交通劝导", Category: "traffic", Start: start, End: start.Add(4 * time.Hour)},
		SignIn:   start, SignOut: start.Add(4 * time.Hour),
	})
	if err != nil {
		panic(err)
	}
	if _, err := svc.Confirm(ctx, station, rec.ID); err != nil {
		panic(err)
	}
	gift, err := svc.PutItem(ctx, station, points.Item{Owner: "JT-DC-01", Name: "环保购物袋", Price: decimal.NewFromInt(15), Stock: 10})
	if err != nil {
		panic(err)
	}
	volunteer := org.Actor{ID: "V001", Role: org.RoleVolunteer}
	red, err := svc.Redeem(ctx, volunteer, gift.ID, "V001")
	if err != nil {
		panic(err)
	}
	acct, _ := led.Account(ctx, points.VolunteerAccount("V001", points.PointsAsset))
	fmt.Println(red.Status, "balance", acct.Balance, "available", acct.Available)
	red, err = svc.Fulfil(ctx, station, red.ID, red.PickupCode)
	if err != nil {
		panic(err)
	}
	acct, _ = led.Account(ctx, points.VolunteerAccount("V001", points.PointsAsset))
	gift, _ = svc.Item(ctx, gift.ID)
	fmt.Println(red.Status, "balance", acct.Balance, "stock", gift.Stock)
	// Output:
	// held balance 20 available 5
	// fulfilled balance 5 stock 9
}
