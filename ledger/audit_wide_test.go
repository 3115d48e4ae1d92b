package ledger

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWideSumsPast64Bits(t *testing.T) {
	a := Asset{Code: "P", Scale: 2}
	var w wide
	w.add(math.MaxInt64)
	w.add(math.MaxInt64)
	require.Equal(t, "184467440737095516.14", w.format(a))
	w.add(math.MinInt64)
	w.add(math.MinInt64)
	require.Equal(t, "-0.02", w.format(a))
	w.add(2)
	require.Equal(t, wide{}, w)
	w.add(math.MinInt64)
	w.add(math.MinInt64)
	w.add(math.MinInt64)
	require.Equal(t, "-276701161105643274.24", w.format(a))
}
