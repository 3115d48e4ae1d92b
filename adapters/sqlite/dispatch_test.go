package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/dispatch/dispatchtest"
)

func TestDispatchConformance(t *testing.T) {
	dispatchtest.Run(t, func(t *testing.T) dispatch.Store { return newTestDB(t).Dispatch() })
}

// TestDispatchHammerTwoHandles: two DBs opened on one file (as two
// processes would) move the same orders at once; SQLite's file locks and
// each handle's writer must keep every acknowledged transition once (see
// dispatchtest.Hammer).
func TestDispatchHammerTwoHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hammer.db")
	var stores []dispatch.Store
	for range 2 {
		db, err := Open(path, nil)
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, db.Close()) })
		stores = append(stores, db.Dispatch())
	}
	dispatchtest.Hammer(t, stores, dispatchtest.HammerOptions{})
}
