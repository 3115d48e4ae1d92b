package pointstest

import (
	"testing"

	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/points"
)

// Case is one conformance subtest.
type Case struct {
	Name string
	// Edit adjusts the options before the service is built; may be nil.
	Edit func(*points.Options)
	Run  func(t *testing.T, e *Env)
}

// Cases returns every conformance subtest.
func Cases() []Case {
	var cs []Case
	cs = append(cs, recordCases()...)
	cs = append(cs, earningCases()...)
	cs = append(cs, objectionCases()...)
	cs = append(cs, redeemCases()...)
	cs = append(cs, settleCases()...)
	cs = append(cs, settleReviewCases()...)
	cs = append(cs, settleLateCases()...)
	cs = append(cs, limitCases()...)
	cs = append(cs, miscCases()...)
	cs = append(cs, raceCases()...)
	return cs
}

// Run runs the conformance suite: newStore returns a fresh, empty points
// store and newLedger a fresh, empty ledger store, for every subtest.
func Run(t *testing.T, newStore func(t *testing.T) points.Store, newLedger func(t *testing.T) ledger.Store) {
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			e := NewEnv(t, newStore(t), newLedger(t), c.Edit)
			c.Run(t, e)
		})
	}
	t.Run("Property", func(t *testing.T) { Property(t, newStore, newLedger) })
}
