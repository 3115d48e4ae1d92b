package memory

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/civicloop/civicloop/org"
)

func TestIDIndexAgreesWithMap(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		x := newIDIndex(rapid.IntRange(0, 40).Draw(rt, "capacity"))
		want := map[org.NodeID]int32{}
		ids := rapid.SliceOf(rapid.StringMatching(`[a-z0-9.-]{1,40}`)).Draw(rt, "ids")
		for k, id := range ids {
			x.put(org.NodeID(id), int32(k))
			want[org.NodeID(id)] = int32(k)
			if k%7 == 0 {
				x.reserve(k)
			}
		}
		require.Equal(rt, len(want), x.len())
		for id, i := range want {
			got, ok := x.get(id)
			require.True(rt, ok, id)
			require.Equal(rt, i, got, id)
		}
		_, ok := x.get("absent/" + org.NodeID(strings.Repeat("x", len(ids))))
		require.False(rt, ok)
	})
}

func TestIDIndexGrows(t *testing.T) {
	x := newIDIndex(0)
	for i := range 10_000 {
		x.put(org.NodeID("s"+strconv.Itoa(i)), int32(i))
	}
	require.Equal(t, 10_000, x.len())
	require.LessOrEqual(t, x.n*10, len(x.slots)*7)
	for i := range 10_000 {
		got, ok := x.get(org.NodeID("s" + strconv.Itoa(i)))
		require.True(t, ok)
		require.Equal(t, int32(i), got)
	}
}
