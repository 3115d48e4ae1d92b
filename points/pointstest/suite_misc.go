package pointstest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/points"
	"github.com/stretchr/testify/require"
)

const year = 365 * 24 * time.Hour

func miscCases() []Case {
	return []Case{
		{Name: "ExpireLotsIdempotent", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 60)) // 10, earned at Start
			e.Clock.Advance(24 * time.Hour)
			e.Confirmed(Input("V1", 1, 120)) // 20, a day later
			rep, err := e.Svc.ExpireLots(e.Ctx, Start.Add(year-time.Second))
			require.NoError(t, err)
			require.Zero(t, rep.Lots)
			rep, err = e.Svc.ExpireLots(e.Ctx, Start.Add(year))
			require.NoError(t, err)
			require.Equal(t, 1, rep.Lots)
			RequireDec(t, "10", rep.Points, "the older lot")
			e.RequireBalances("V1", "3", "20")
			rep, err = e.Svc.ExpireLots(e.Ctx, Start.Add(year))
			require.NoError(t, err)
			require.Zero(t, rep.Lots, "a second sweep expires nothing")
			e.RequireBalances("V1", "3", "20")
			sink, err := e.Ledger.Account(e.Ctx, points.SchemeAccount(points.Expired, points.PointsAsset))
			require.NoError(t, err)
			RequireDec(t, "10", sink.Balance, "expired account")
			rep, err = e.Svc.ExpireLots(e.Ctx, Start.Add(2*year))
			require.NoError(t, err)
			require.Equal(t, 1, rep.Lots)
			e.RequireBalances("V1", "3", "0")
		}},
		{Name: "ExpiryOfPartlySpentLot", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 300)) // 50
			it := e.Item("20", 5, nil)
			red, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.NoError(t, err)
			_, err = e.Svc.Fulfil(e.Ctx, Admin("S1"), red.ID, red.PickupCode)
			require.NoError(t, err)
			rep, err := e.Svc.ExpireLots(e.Ctx, Start.Add(year))
			require.NoError(t, err)
			RequireDec(t, "30", rep.Points, "what was left")
			e.RequireBalances("V1", "5", "0")
		}},
		{Name: "CancelAfterExpiryReturnsToLotThatExpiresAgain", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 300)) // 50
			it := e.Item("50", 5, func(it *points.Item) { it.PickupWindow = 2 * year })
			red, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.NoError(t, err)
			rep, err := e.Svc.ExpireLots(e.Ctx, Start.Add(year))
			require.NoError(t, err)
			require.Zero(t, rep.Lots, "all of it is held")
			e.Clock.Set(Start.Add(year + time.Hour))
			_, err = e.Svc.Cancel(e.Ctx, Vol("V1"), red.ID, "too late")
			require.NoError(t, err)
			rep, err = e.Svc.ExpireLots(e.Ctx, e.Clock.Now())
			require.NoError(t, err)
			require.Equal(t, 1, rep.Lots)
			RequireDec(t, "50", rep.Points, "released points expire")
			e.RequireBalances("V1", "5", "0")
		}},
		{Name: "NeverExpiringPoints", Edit: func(o *points.Options) { o.Scheme.PointsLifetime = 0 }, Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 60))
			rep, err := e.Svc.ExpireLots(e.Ctx, Start.Add(50*year))
			require.NoError(t, err)
			require.Zero(t, rep.Lots)
			e.RequireBalances("V1", "1", "10")
		}},
		{Name: "CertificateNumberedAndRegistered", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 120))
			e.Confirmed(Input("V1", 1, 90))
			_, err := e.Svc.RecordService(e.Ctx, Admin("S1"), Input("V1", 2, 60)) // draft: not certified
			require.NoError(t, err)
			req := points.CertificateRequest{Volunteer: "V1", From: Day(-1), To: Day(30), Issuer: "I1", IssuerName: "金坛区某镇新时代文明实践所"}
			c1, err := e.Svc.IssueCertificate(e.Ctx, Admin("I1"), req)
			require.NoError(t, err)
			require.Equal(t, "ZYFW-2026-000001", c1.Number)
			RequireDec(t, "3.5", c1.Hours, "certified hours")
			require.Len(t, c1.Services, 2)
			require.Equal(t, "志愿者1", c1.Name)
			c2, err := e.Svc.IssueCertificate(e.Ctx, Admin("I1"), req)
			require.NoError(t, err)
			require.Equal(t, "ZYFW-2026-000002", c2.Number)
			reg, err := e.Svc.Certificates(e.Ctx, "V1")
			require.NoError(t, err)
			require.Len(t, reg, 2)
			got, err := e.Svc.Certificate(e.Ctx, c1.Number)
			require.NoError(t, err)
			require.Equal(t, c1.Text(), got.Text(), "the register reproduces the certificate")
			require.True(t, strings.Contains(c1.Text(), "No. ZYFW-2026-000001"))
			js, err := got.JSON()
			require.NoError(t, err)
			var back map[string]any
			require.NoError(t, json.Unmarshal(js, &back))
			require.Equal(t, "V1", back["volunteer"])
			_, err = e.Svc.IssueCertificate(e.Ctx, Admin("S2"), req)
			require.ErrorIs(t, err, points.ErrForbidden)
			req.To = req.From
			_, err = e.Svc.IssueCertificate(e.Ctx, Admin("I1"), req)
			require.ErrorIs(t, err, points.ErrInvalidTime)
		}},
		{Name: "CertificateDatesInSchemeZone", Edit: func(o *points.Options) { o.Scheme.Location = time.FixedZone("CST", 8*3600) }, Run: func(t *testing.T, e *Env) {
			cst := time.FixedZone("CST", 8*3600)
			in := Input("V1", 0, 120)
			in.Activity.Start = time.Date(2026, 3, 31, 23, 0, 0, 0, cst) // 15:00 UTC
			in.Activity.End = in.Activity.Start.Add(2 * time.Hour)
			in.SignIn, in.SignOut = in.Activity.Start, in.Activity.End
			e.Confirmed(in)
			e.Clock.Set(time.Date(2026, 4, 1, 20, 0, 0, 0, time.UTC)) // 04:00 on 2 April in CST
			c, err := e.Svc.IssueCertificate(e.Ctx, Admin("I1"), points.CertificateRequest{Volunteer: "V1",
				From: time.Date(2026, 3, 1, 0, 0, 0, 0, cst), To: time.Date(2026, 4, 1, 0, 0, 0, 0, cst), Issuer: "I1", IssuerName: "所"})
			require.NoError(t, err)
			require.Len(t, c.Services, 1)
			require.Equal(t, "2026-03-31", c.Services[0].Date)
			text := c.Text()
			require.Contains(t, text, "Period (期间): 2026-03-01 to 2026-03-31\n")
			require.Contains(t, text, "Date of issue (出具日期): 2026-04-02\n")
			got, err := e.Svc.Certificate(e.Ctx, c.Number)
			require.NoError(t, err)
			require.Equal(t, text, got.Text(), "the register reproduces the dates")
		}},
		{Name: "CertificateLeavesOutReversedRecords", Run: func(t *testing.T, e *Env) {
			rec := e.Confirmed(Input("V1", 0, 300))
			obj, err := e.Svc.Object(e.Ctx, Vol("V1"), rec.ID, "wrong")
			require.NoError(t, err)
			fix := Input("V1", 0, 120)
			_, _, err = e.Svc.Resolve(e.Ctx, Admin("S1"), obj.ID, points.Resolution{Correct: &fix, Note: "2 h"})
			require.NoError(t, err)
			c, err := e.Svc.IssueCertificate(e.Ctx, Admin("S1"), points.CertificateRequest{Volunteer: "V1", From: Day(-1), To: Day(1), Issuer: "S1", IssuerName: "站"})
			require.NoError(t, err)
			require.Len(t, c.Services, 1)
			RequireDec(t, "2", c.Hours, "only the corrected record")
		}},
		{Name: "StatementExplainsEveryPoint", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 420))
			in := Input("V1", 34, 240)
			in.Activity.HardToStaff = true
			e.Confirmed(in)
			_, err := e.Svc.Bonus(e.Ctx, System, points.BonusInput{Key: "b1", Volunteer: "V1", Kind: "five_star", Node: "S1"})
			require.NoError(t, err)
			aws, err := e.Svc.Statement(e.Ctx, "V1", Day(-1), Day(400))
			require.NoError(t, err)
			require.Len(t, aws, 3)
			total := Dec("0")
			for _, aw := range aws {
				sum := Dec("0")
				for _, l := range aw.Lines {
					sum = sum.Add(l.Points)
				}
				require.True(t, sum.Equal(aw.Points), aw.ID)
				total = total.Add(aw.Points)
			}
			bal, _ := e.Balance("V1", points.PointsAsset)
			require.True(t, total.Equal(bal), "statement %s, ledger %s", total, bal)
		}},
		{Name: "LedgerBalancesPerAsset", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 300))
			it := e.Item("20", 5, nil)
			red, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.NoError(t, err)
			_, err = e.Svc.Fulfil(e.Ctx, Admin("S1"), red.ID, red.PickupCode)
			require.NoError(t, err)
			_, err = e.Ledger.Audit(e.Ctx)
			require.NoError(t, err, "the ledger's own invariants hold")
			for _, asset := range []ledger.Asset{points.HoursAsset, points.PointsAsset} {
				issued, err := e.Ledger.Account(e.Ctx, points.SchemeAccount(points.Issued, asset))
				require.NoError(t, err)
				require.True(t, issued.Balance.IsNegative(), "issued account of %s is negative", asset)
			}
			redeemed, err := e.Ledger.Account(e.Ctx, points.SchemeAccount(points.Redeemed, points.PointsAsset))
			require.NoError(t, err)
			RequireDec(t, "20", redeemed.Balance, "redeemed account")
		}},
	}
}
