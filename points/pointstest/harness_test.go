package pointstest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestPaddedMatchesSprintf: the IDs and pickup codes of the suite's
// services read as fmt.Sprintf made them.
func TestPaddedMatchesSprintf(t *testing.T) {
	for _, n := range []int64{0, 1, 9, 10, 99999, 999999, 1000000, 10000001, 123456789} {
		require.Equal(t, fmt.Sprintf("id%06d", n), padded("id", n, 6))
		require.Equal(t, fmt.Sprintf("%08d", n), padded("", n, 8))
	}
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.Int64Min(0).Draw(t, "n")
		require.Equal(t, fmt.Sprintf("id%06d", n), padded("id", n, 6))
	})
}
