package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRun runs the whole tour; it fails if any step is refused or the final
// ledger audits find a broken invariant or hash chain.
func TestRun(t *testing.T) {
	require.NoError(t, run(context.Background()))
}
