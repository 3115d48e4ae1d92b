package sqlite

import (
	"testing"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/dispatch/dispatchtest"
)

func TestDispatchConformance(t *testing.T) {
	dispatchtest.Run(t, func(t *testing.T) dispatch.Store { return newTestDB(t).Dispatch() })
}
