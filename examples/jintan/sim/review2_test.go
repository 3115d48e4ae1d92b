package sim

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAuditLineCountsTransfers: the report's audit line shows the
// transfers and holds ledger.Audit checked, not zero.
func TestAuditLineCountsTransfers(t *testing.T) {
	rep, err := Run(context.Background(), small(1, StoreMemory), io.Discard)
	require.NoError(t, err)
	require.True(t, rep.Clean(), "audit: %v", rep.Audit.Violations)
	require.Positive(t, rep.Audit.Entries)
	require.Positive(t, rep.Audit.Transfers, "ledger.Audit checked every transfer record")
	require.Positive(t, rep.Audit.Holds, "the run redeems gifts: holds")
}
