package pointstest

import (
	"testing"

	"github.com/civicloop/civicloop/points"
	"github.com/stretchr/testify/require"
)

func objectionCases() []Case {
	return []Case{
		{Name: "ObjectionCorrectedByCompensatingRecord", Run: func(t *testing.T, e *Env) {
			rec := e.Confirmed(Input("V1", 0, 300)) // 5 h, 50 points, 1 star
			obj, err := e.Svc.Object(e.Ctx, Vol("V1"), rec.ID, "I served only 3 hours")
			require.NoError(t, err)
			require.Equal(t, points.ObjectionOpen, obj.Status)
			fix := Input("V1", 0, 180)
			obj, fresh, err := e.Svc.Resolve(e.Ctx, Admin("S1"), obj.ID, points.Resolution{Correct: &fix, Note: "sign-out corrected"})
			require.NoError(t, err)
			require.Equal(t, points.ObjectionCorrected, obj.Status)
			require.Len(t, obj.Trail, 2)
			require.Equal(t, rec.ID, fresh.Corrects)
			require.Equal(t, points.RecordConfirmed, fresh.Status)
			orig, err := e.Svc.Record(e.Ctx, rec.ID)
			require.NoError(t, err)
			require.Equal(t, points.RecordReversed, orig.Status)
			require.Equal(t, fresh.ID, orig.CorrectedBy)
			RequireDec(t, "5", orig.Hours, "the original is kept as it was")
			e.RequireBalances("V1", "3", "30")
			rev, err := e.Svc.Award(e.Ctx, "rev:"+rec.ID)
			require.NoError(t, err)
			RequireDec(t, "-50", rev.Points, "reversal")
			RequireDec(t, "-5", rev.Hours, "reversal hours")
			objs, err := e.Svc.Objections(e.Ctx, rec.ID)
			require.NoError(t, err)
			require.Len(t, objs, 1)
		}},
		{Name: "CorrectionCanLowerStarLevel", Run: func(t *testing.T, e *Env) {
			rec := e.Confirmed(Input("V1", 0, 300)) // 5 h: 1 star
			obj, err := e.Svc.Object(e.Ctx, Vol("V1"), rec.ID, "too many hours")
			require.NoError(t, err)
			fix := Input("V1", 0, 120)
			_, _, err = e.Svc.Resolve(e.Ctx, Admin("S1"), obj.ID, points.Resolution{Correct: &fix, Note: "2 hours"})
			require.NoError(t, err)
			lv, err := e.Svc.Levels(e.Ctx, "V1")
			require.NoError(t, err)
			require.Len(t, lv, 2)
			require.Equal(t, 1, lv[1].From)
			require.Equal(t, 0, lv[1].To)
			require.Equal(t, "rev:"+rec.ID, lv[1].Cause)
		}},
		{Name: "ObjectionOnlyByTheVolunteer", Run: func(t *testing.T, e *Env) {
			rec := e.Confirmed(Input("V1", 0, 120))
			_, err := e.Svc.Object(e.Ctx, Vol("V2"), rec.ID, "not mine")
			require.ErrorIs(t, err, points.ErrForbidden)
			_, err = e.Svc.Object(e.Ctx, Admin("S1"), rec.ID, "admin")
			require.ErrorIs(t, err, points.ErrForbidden)
			_, err = e.Svc.Object(e.Ctx, Vol("V1"), rec.ID, "")
			require.ErrorIs(t, err, points.ErrInvalid)
			objs, err := e.Svc.Objections(e.Ctx, rec.ID)
			require.NoError(t, err)
			require.Empty(t, objs)
		}},
		{Name: "ObjectionStateRules", Run: func(t *testing.T, e *Env) {
			draft, err := e.Svc.RecordService(e.Ctx, Admin("S1"), Input("V1", 1, 60))
			require.NoError(t, err)
			_, err = e.Svc.Object(e.Ctx, Vol("V1"), draft.ID, "draft")
			require.ErrorIs(t, err, points.ErrState)
			rec := e.Confirmed(Input("V1", 0, 120))
			obj, err := e.Svc.Object(e.Ctx, Vol("V1"), rec.ID, "first")
			require.NoError(t, err)
			_, err = e.Svc.Object(e.Ctx, Vol("V1"), rec.ID, "second")
			require.ErrorIs(t, err, points.ErrState)
			_, _, err = e.Svc.Resolve(e.Ctx, Admin("S2"), obj.ID, points.Resolution{Note: "not ours"})
			require.ErrorIs(t, err, points.ErrForbidden)
			obj, _, err = e.Svc.Resolve(e.Ctx, Admin("S1"), obj.ID, points.Resolution{Note: "the record is right"})
			require.NoError(t, err)
			require.Equal(t, points.ObjectionRejected, obj.Status)
			_, _, err = e.Svc.Resolve(e.Ctx, Admin("S1"), obj.ID, points.Resolution{Note: "again"})
			require.ErrorIs(t, err, points.ErrState)
			e.RequireBalances("V1", "2", "20")
		}},
		{Name: "CorrectionMustKeepVolunteer", Run: func(t *testing.T, e *Env) {
			rec := e.Confirmed(Input("V1", 0, 120))
			obj, err := e.Svc.Object(e.Ctx, Vol("V1"), rec.ID, "wrong")
			require.NoError(t, err)
			fix := Input("V2", 0, 60)
			_, _, err = e.Svc.Resolve(e.Ctx, Admin("S1"), obj.ID, points.Resolution{Correct: &fix, Note: "x"})
			require.ErrorIs(t, err, points.ErrInvalid)
			got, err := e.Svc.Objections(e.Ctx, rec.ID)
			require.NoError(t, err)
			require.Equal(t, points.ObjectionOpen, got[0].Status)
			e.RequireBalances("V1", "2", "20")
		}},
		{Name: "ReversalOfSpentPointsIsNotRecoveredBelowZero", Run: func(t *testing.T, e *Env) {
			rec := e.Confirmed(Input("V1", 0, 300)) // 50
			it := e.Item("45", 5, nil)
			red, err := e.Svc.Redeem(e.Ctx, Vol("V1"), it.ID, "V1")
			require.NoError(t, err)
			_, err = e.Svc.Fulfil(e.Ctx, Admin("S1"), red.ID, red.PickupCode)
			require.NoError(t, err)
			obj, err := e.Svc.Object(e.Ctx, Vol("V1"), rec.ID, "wrong")
			require.NoError(t, err)
			fix := Input("V1", 0, 60) // 10
			_, _, err = e.Svc.Resolve(e.Ctx, Admin("S1"), obj.ID, points.Resolution{Correct: &fix, Note: "1 h"})
			require.NoError(t, err)
			rev, err := e.Svc.Award(e.Ctx, "rev:"+rec.ID)
			require.NoError(t, err)
			RequireDec(t, "-15", rev.Points, "5 left + 10 of the correction")
			require.Contains(t, lineCodes(rev), "not_recovered")
			e.RequireBalances("V1", "1", "0")
		}},
	}
}
