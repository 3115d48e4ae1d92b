package main

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/civicloop/civicloop/adapters/memory"
	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
)

// volunteerJourney follows one volunteer from registration to a redeemed
// gift: the station records and confirms his service (谁组织谁记录), the
// hours and points land on the ledger, and he spends points on a gift (礼遇)
// that the station hands over against a pickup code.
func volunteerJourney(ctx context.Context, now func() time.Time) error {
	fmt.Println("\n== a volunteer from registration to a redeemed gift")
	orgs, err := org.New(memory.NewOrgStore(), &org.Options{Now: now})
	if err != nil {
		return err
	}
	setup := org.Actor{ID: "setup", Role: org.RoleSystem}
	for _, n := range []org.NewNode{
		{ID: "JT", Kind: org.Centre, Name: "金坛区新时代文明实践中心"},
		{ID: "JT-DC", Kind: org.Institute, Name: "东城街道新时代文明实践所", Parent: "JT"},
		{ID: "JT-DC-01", Kind: org.Station, Name: "东城社区新时代文明实践站", Parent: "JT-DC"},
	} {
		if _, err := orgs.CreateNode(ctx, setup, n); err != nil {
			return err
		}
	}
	v, err := orgs.RegisterVolunteer(ctx, setup, org.NewVolunteer{ID: "320482-0001", Name: "张三", Home: "JT-DC-01"})
	if err != nil {
		return err
	}
	fmt.Printf("registered volunteer %s (%s) at %s\n", v.ID, v.Name, v.Home)

	led, err := ledger.New(memory.NewLedgerStore(), &ledger.Options{Now: now})
	if err != nil {
		return err
	}
	seq := 0
	pts, err := points.New(memory.NewPointsStore(), led, orgs, &points.Options{
		Now:     now,
		NewID:   func() string { seq++; return fmt.Sprintf("R%d", seq) },
		NewCode: func() string { return "482913" },
		Scheme: points.Scheme{Rules: []points.Rule{{
			ID:        "jintan-2026",
			ValidFrom: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			Rates:     map[string]decimal.Decimal{"elderly": decimal.NewFromInt(10), "*": decimal.NewFromInt(5)},
		}}},
	})
	if err != nil {
		return err
	}

	station := org.Actor{ID: "station-admin", Role: org.RoleAdmin, Scope: "JT-DC-01"}
	start := now().Truncate(time.Hour).Add(time.Hour)
	rec, err := pts.RecordService(ctx, station, points.RecordInput{
		Volunteer: v.ID, Organiser: "JT-DC-01",
		Activity: points.Activity{Name: "敬老助老", Category: "elderly", Place: "社区养老服务站",
			Content: "陪伴老人、打扫卫生", Start: start, End: start.Add(3 * time.Hour)},
		SignIn: start, SignOut: start.Add(3 * time.Hour), Travel: 30 * time.Minute,
	})
	if err != nil {
		return err
	}
	fmt.Printf("station recorded %s: %s h (3 h signed in, 30 min travel excluded), %s\n", rec.ID, rec.Hours, rec.Status)

	// The volunteer may not confirm his own record.
	self := org.Actor{ID: string(v.ID), Role: org.RoleVolunteer}
	if _, err := pts.Confirm(ctx, self, rec.ID); err != nil {
		fmt.Printf("volunteer confirms his own record: refused: %v\n", err)
	}
	rec, err = pts.Confirm(ctx, station, rec.ID)
	if err != nil {
		return err
	}
	aw, err := pts.Award(ctx, rec.Award)
	if err != nil {
		return err
	}
	for _, l := range aw.Lines {
		fmt.Printf("  award line %-5s %6s points  %s\n", l.Code, l.Points, l.Text)
	}

	gift, err := pts.PutItem(ctx, station, points.Item{Owner: "JT-DC-01", Name: "环保购物袋", Price: decimal.NewFromInt(15), Stock: 10})
	if err != nil {
		return err
	}
	red, err := pts.Redeem(ctx, self, gift.ID, v.ID)
	if err != nil {
		return err
	}
	acct, err := led.Account(ctx, points.VolunteerAccount(v.ID, points.PointsAsset))
	if err != nil {
		return err
	}
	fmt.Printf("redeemed %s for %s points: %s, balance %s, available %s\n", gift.Name, gift.Price, red.Status, acct.Balance, acct.Available)
	red, err = pts.Fulfil(ctx, station, red.ID, red.PickupCode)
	if err != nil {
		return err
	}
	acct, err = led.Account(ctx, points.VolunteerAccount(v.ID, points.PointsAsset))
	if err != nil {
		return err
	}
	hours, err := led.Account(ctx, points.VolunteerAccount(v.ID, points.HoursAsset))
	if err != nil {
		return err
	}
	gift, err = pts.Item(ctx, gift.ID)
	if err != nil {
		return err
	}
	fmt.Printf("picked up with code %s: %s; hours %s, points %s, stock left %d\n", red.PickupCode, red.Status, hours.Balance, acct.Balance, gift.Stock)
	if _, err := led.Audit(ctx); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}
