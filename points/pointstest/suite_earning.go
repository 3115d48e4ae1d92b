package pointstest

import (
	"testing"
	"time"

	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// lineCodes returns the codes of an award's lines.
func lineCodes(aw points.Award) []string {
	var out []string
	for _, l := range aw.Lines {
		out = append(out, l.Code)
	}
	return out
}

// award returns the award of a confirmed record.
func award(t *testing.T, e *Env, rec points.Record) points.Award {
	t.Helper()
	aw, err := e.Svc.Award(e.Ctx, rec.Award)
	require.NoError(t, err)
	sum := decimal.Zero
	for _, l := range aw.Lines {
		require.NotEmpty(t, l.Text)
		sum = sum.Add(l.Points)
	}
	require.Truef(t, sum.Equal(aw.Points), "lines sum to %s, award is %s", sum, aw.Points)
	return aw
}

func earningCases() []Case {
	return []Case{
		{Name: "RateByCategory", Run: func(t *testing.T, e *Env) {
			in := Input("V1", 0, 120)
			in.Activity.Category = "environment"
			aw := award(t, e, e.Confirmed(in))
			RequireDec(t, "10", aw.Points, "2 h × 5 (default rate)")
			require.Contains(t, aw.Lines[0].Text, "category *")
		}},
		{Name: "FestivalDayMultiplier", Run: func(t *testing.T, e *Env) {
			in := Input("V1", 34, 120) // 2026-04-05 清明
			aw := award(t, e, e.Confirmed(in))
			RequireDec(t, "40", aw.Points, "2 h × 10 × 2")
			require.Equal(t, []string{"base", "day"}, lineCodes(aw))
			require.Contains(t, aw.Lines[1].Text, "清明节")
		}},
		{Name: "HardToStaffMultiplier", Run: func(t *testing.T, e *Env) {
			in := Input("V1", 0, 180)
			in.Activity.HardToStaff = true
			aw := award(t, e, e.Confirmed(in))
			RequireDec(t, "45", aw.Points, "3 h × 10 × 1.5")
			require.Equal(t, []string{"base", "hard_to_staff"}, lineCodes(aw))
		}},
		{Name: "CapPerActivity", Run: func(t *testing.T, e *Env) {
			aw := award(t, e, e.Confirmed(Input("V1", 0, 420)))
			RequireDec(t, "60", aw.Points, "7 h × 10 = 70 capped at 60")
			require.Equal(t, []string{"base", "cap_activity"}, lineCodes(aw))
			e.RequireBalances("V1", "7", "60")
		}},
		{Name: "CapPerDay", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 300)) // 50
			in := Input("V1", 0, 300)
			in.SignIn, in.SignOut = in.SignIn.Add(6*time.Hour), in.SignOut.Add(6*time.Hour)
			in.Activity.Start, in.Activity.End = in.SignIn, in.SignOut
			aw := award(t, e, e.Confirmed(in))
			RequireDec(t, "30", aw.Points, "day cap 80 with 50 used")
			require.Equal(t, []string{"base", "cap_day"}, lineCodes(aw))
			e.RequireBalances("V1", "10", "80")
		}},
		{Name: "CapPerWeek", Run: func(t *testing.T, e *Env) {
			for d := 0; d < 3; d++ {
				e.Confirmed(Input("V1", d, 360)) // 60 each, Mon–Wed
			}
			aw := award(t, e, e.Confirmed(Input("V1", 3, 360)))
			RequireDec(t, "20", aw.Points, "week cap 200 with 180 used")
			require.Contains(t, lineCodes(aw), "cap_week")
			aw = award(t, e, e.Confirmed(Input("V1", 7, 360))) // next Monday
			RequireDec(t, "60", aw.Points, "a new week")
		}},
		{Name: "RuleValidityPeriods", Run: func(t *testing.T, e *Env) {
			in := Input("V1", -70, 120) // 2025-12-22: rule R2025
			aw := award(t, e, e.Confirmed(in))
			require.Equal(t, "R2025", aw.RuleID)
			RequireDec(t, "6", aw.Points, "2 h × 3")
			in = Input("V1", -500, 120) // 2024: no rule
			rec := e.Confirmed(in)
			aw = award(t, e, rec)
			require.Empty(t, aw.RuleID)
			RequireDec(t, "0", aw.Points, "no rule, no points")
			e.RequireBalances("V1", "4", "6")
		}},
		{Name: "StarLevelsRecordedWithTime", Run: func(t *testing.T, e *Env) {
			e.Confirmed(Input("V1", 0, 300)) // 5 h: 1 star (4)
			e.Clock.Advance(time.Hour)
			e.Confirmed(Input("V1", 1, 240)) // 9 h: 2 stars (8)
			lv, err := e.Svc.Levels(e.Ctx, "V1")
			require.NoError(t, err)
			require.Len(t, lv, 2)
			require.Equal(t, 0, lv[0].From)
			require.Equal(t, 1, lv[0].To)
			require.Equal(t, 2, lv[1].To)
			require.True(t, lv[1].At.After(lv[0].At))
			w, _, err := e.Svc.Wallet(e.Ctx, "V1")
			require.NoError(t, err)
			require.Equal(t, 2, w.Level)
			RequireDec(t, "9", w.Hours, "wallet hours")
		}},
		{Name: "BonusIdempotentByKey", Run: func(t *testing.T, e *Env) {
			in := points.BonusInput{Key: "eval:O1:V1", Volunteer: "V1", Kind: "five_star", Node: "S1"}
			a, err := e.Svc.Bonus(e.Ctx, System, in)
			require.NoError(t, err)
			RequireDec(t, "5", a.Points, "bonus")
			b, err := e.Svc.Bonus(e.Ctx, System, in)
			require.NoError(t, err)
			require.Equal(t, a.ID, b.ID)
			e.RequireBalances("V1", "0", "5")
			in.Volunteer = "V2"
			_, err = e.Svc.Bonus(e.Ctx, System, in)
			require.ErrorIs(t, err, points.ErrConflict)
			in.Key, in.Kind = "eval:O2:V2", "gold"
			_, err = e.Svc.Bonus(e.Ctx, System, in)
			require.ErrorIs(t, err, points.ErrInvalid)
			require.ErrorContains(t, err, "kind")
			e.RequireBalances("V2", "0", "0")
		}},
		{Name: "PenaltyTakesOldestLotFirstNotBelowZero", Run: func(t *testing.T, e *Env) {
			old := e.Confirmed(Input("V1", 0, 60)) // 10
			e.Clock.Advance(time.Hour)
			e.Confirmed(Input("V1", 1, 60)) // 10
			aw, err := e.Svc.Penalize(e.Ctx, Admin("S1"), points.PenaltyInput{Key: "ns:O1:V1", Volunteer: "V1", Code: "no_show", Node: "S1", Note: "order O1"})
			require.NoError(t, err)
			RequireDec(t, "-10", aw.Points, "penalty")
			_, lots, err := e.Svc.Wallet(e.Ctx, "V1")
			require.NoError(t, err)
			require.Len(t, lots, 1)
			require.NotEqual(t, old.Award, lots[0].ID, "the oldest lot went first")
			e.RequireBalances("V1", "2", "10")
			_, err = e.Svc.Penalize(e.Ctx, Admin("S1"), points.PenaltyInput{Key: "ns:O2:V1", Volunteer: "V1", Code: "no_show", Node: "S1"})
			require.NoError(t, err)
			aw, err = e.Svc.Penalize(e.Ctx, Admin("S1"), points.PenaltyInput{Key: "ns:O3:V1", Volunteer: "V1", Code: "no_show", Node: "S1"})
			require.NoError(t, err)
			RequireDec(t, "0", aw.Points, "nothing left to take")
			require.Contains(t, lineCodes(aw), "not_recovered")
			e.RequireBalances("V1", "2", "0")
			_, err = e.Svc.Penalize(e.Ctx, Vol("V2"), points.PenaltyInput{Key: "x", Volunteer: "V1", Code: "no_show", Node: "S1"})
			require.ErrorIs(t, err, points.ErrForbidden)
			_, err = e.Svc.Penalize(e.Ctx, Admin("S1"), points.PenaltyInput{Key: "y", Volunteer: "V1", Code: "late", Node: "S1"})
			require.ErrorIs(t, err, points.ErrInvalid)
		}},
		{Name: "PenaltyBelowZeroWhereAllowed", Edit: func(o *points.Options) { o.Scheme.AllowNegative = true }, Run: func(t *testing.T, e *Env) {
			_, err := e.Svc.Penalize(e.Ctx, Admin("S1"), points.PenaltyInput{Key: "ns:O1:V1", Volunteer: "V1", Code: "no_show", Node: "S1"})
			require.NoError(t, err)
			e.RequireBalances("V1", "0", "-10")
			w, _, err := e.Svc.Wallet(e.Ctx, "V1")
			require.NoError(t, err)
			RequireDec(t, "10", w.Debt, "debt")
			e.Confirmed(Input("V1", 0, 150)) // 25: repays 10
			e.RequireBalances("V1", "2.5", "15")
			w, lots, err := e.Svc.Wallet(e.Ctx, "V1")
			require.NoError(t, err)
			RequireDec(t, "0", w.Debt, "debt repaid")
			require.Len(t, lots, 1)
			RequireDec(t, "15", lots[0].Remaining, "lot after repaying")
		}},
		{Name: "RollupsFedOncePerAward", Run: func(t *testing.T, e *Env) {
			rec := e.Confirmed(Input("V1", 0, 120))
			_, err := e.Svc.Confirm(e.Ctx, Admin("S1"), rec.ID)
			require.NoError(t, err)
			c := e.Dir.Counters("S1")
			RequireDec(t, "2", c.Hours, "rolled-up hours")
			RequireDec(t, "20", c.Points, "rolled-up points")
			require.True(t, e.Dir.Counters(org.NodeID("S2")).IsZero())
		}},
	}
}
