package org_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/civicloop/civicloop/adapters/memory"
	"github.com/civicloop/civicloop/org"
)

var setup = org.Actor{ID: "setup", Role: org.RoleSystem}

// jintan returns a service holding Jintan district's network.
func jintan() *org.Service {
	svc, err := org.New(memory.NewOrgStore(), &org.Options{
		Now:         func() time.Time { return time.Date(2023, 4, 17, 9, 0, 0, 0, time.UTC) },
		IdentityKey: []byte("example-key-0123456789"),
	})
	if err != nil {
		panic(err)
	}
	if _, err := svc.Import(context.Background(), setup, org.JintanNetwork()); err != nil {
		panic(err)
	}
	return svc
}

func ExampleService_Import() {
	ctx := context.Background()
	svc := jintan()
	r, _ := svc.Rollup(ctx, "jt")
	fmt.Printf("%d+%d+%d network, %d practice points\n", r.Centres, r.Institutes, r.Stations, r.Points)
	fmt.Printf("teams \"%d%d%d\"\n", r.Corps, r.Detachments, r.Specialty)
	fmt.Println("pairings:", r.Pairings)
	// Output:
	// 1+9+123 network, 3 practice points
	// teams "1822"
	// pairings: 57
}

func ExampleService_Within() {
	ctx := context.Background()
	svc := jintan()
	in, _ := svc.Within(ctx, "jt-xc", "jt-xc-hs-p1") // 华胜社区便民服务大厅 in 西城街道
	out, _ := svc.Within(ctx, "jt-dc", "jt-xc-hs")
	fmt.Println(in, out)
	// Output: true false
}

func ExampleService_TeamsServing() {
	ctx := context.Background()
	svc := jintan()
	teams, _ := svc.TeamsServing(ctx, "jt-xc-hj", "civility")
	for _, t := range teams {
		fmt.Printf("%s (%s, area %s, capacity %d)\n", t.Name, t.Tier, t.Area, t.Capacity)
	}
	// Output:
	// 金坛区志愿服务总队 (corps, area jt, capacity 50)
	// 陆旭东志愿服务队 (specialty, area jt, capacity 5)
	// 街巷管家志愿服务队 (specialty, area jt, capacity 5)
}

func ExampleService_CreateNode() {
	ctx := context.Background()
	svc := jintan()
	admin := org.Actor{ID: "wang", Role: org.RoleAdmin, Scope: "jt-xc"}
	n, err := svc.CreateNode(ctx, admin, org.NewNode{ID: "jt-xc-hs-p4", Kind: org.Point, Name: "华胜社区德法文化街区", Parent: "jt-xc-hs"})
	fmt.Println(n.Path, err)
	_, err = svc.CreateNode(ctx, admin, org.NewNode{ID: "jt-dc-x", Kind: org.Station, Name: "东城新站", Parent: "jt-dc"})
	fmt.Println(errors.Is(err, org.ErrForbidden))
	_, err = svc.CreateNode(ctx, admin, org.NewNode{ID: "jt-xc-y", Kind: org.Point, Name: "广场", Parent: "jt-xc"})
	fmt.Println(errors.Is(err, org.ErrTier))
	refusals, _ := svc.Refusals(ctx, 0, 10)
	fmt.Println(len(refusals), refusals[0].Actor.ID)
	// Output:
	// /jt/jt-xc/jt-xc-hs/jt-xc-hs-p4/ <nil>
	// true
	// true
	// 1 wang
}

func ExampleService_AddCounters() {
	ctx := context.Background()
	svc := jintan()
	hours := org.Counters{Hours: decimal.RequireFromString("2.5"), Activities: 1}
	_ = svc.AddCounters(ctx, "record:R1", "jt-xc-hs", hours)
	_ = svc.AddCounters(ctx, "record:R1", "jt-xc-hs", hours) // a replay: ignored
	_ = svc.AddCounters(ctx, "record:R2", "jt-dc-01", hours)
	xc, _ := svc.Rollup(ctx, "jt-xc")
	all, _ := svc.Rollup(ctx, "jt")
	fmt.Println(xc.Counters.Hours, all.Counters.Hours, all.Counters.Activities)
	// Output: 2.5 5 2
}

func ExampleService_RegisterVolunteer() {
	ctx := context.Background()
	svc := jintan()
	v, _ := svc.RegisterVolunteer(ctx, setup, org.NewVolunteer{ID: "V320482000100", Name: "小姚", Home: "jt-xc-hj", Document: "320482199901011234"})
	fmt.Println(len(v.DocumentHash), v.Status)
	_, err := svc.RegisterVolunteer(ctx, setup, org.NewVolunteer{ID: "V320482000101", Name: "姚", Home: "jt-xc-hj", Document: "320482 199901011234"})
	fmt.Println(errors.Is(err, org.ErrDuplicate))
	// Output:
	// 64 active
	// true
}
