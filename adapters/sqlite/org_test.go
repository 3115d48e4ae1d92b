package sqlite

import (
	"testing"

	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/org/orgtest"
)

func TestOrgConformance(t *testing.T) {
	orgtest.Run(t, func(t *testing.T) org.Store { return newTestDB(t).Org() })
}
