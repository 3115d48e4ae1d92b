package memory

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/civicloop/civicloop/org"
)

func TestIDIndexAgreesWithMap(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		x := newIDIndex(rapid.IntRange(0, 40).Draw(rt, "capacity"))
		x.beginWrite()
		want := map[org.NodeID]int32{}
		depths := map[org.NodeID]int{}
		ids := rapid.SliceOf(rapid.StringMatching(`[a-z0-9.\x00-]{1,40}`)).Draw(rt, "ids")
		for k, id := range ids {
			d := k % (maxDepth + 1)
			var path [maxDepth + 1]int32
			path[d] = int32(k)
			x.put(org.NodeID(id), path, d)
			want[org.NodeID(id)] = int32(k)
			depths[org.NodeID(id)] = d
			if k%7 == 0 {
				x.reserve(k)
			}
		}
		require.Equal(rt, len(want), x.len())
		for id, i := range want {
			got, ok := x.get(id)
			require.True(rt, ok, id)
			require.Equal(rt, i, got, id)
			require.Equal(rt, depths[id], x.ref(id).depth(), id)
		}
		_, ok := x.get("absent/" + org.NodeID(strings.Repeat("x", len(ids))))
		require.False(rt, ok)
	})
}

func TestIDIndexGrows(t *testing.T) {
	x := newIDIndex(0)
	x.beginWrite()
	for i := range 10_000 {
		x.put(org.NodeID("s"+strconv.Itoa(i)), [maxDepth + 1]int32{7, int32(i)}, 1)
	}
	require.Equal(t, 10_000, x.len())
	require.LessOrEqual(t, x.n*10, len(x.tab.Load().slots)*7)
	for i := range 10_000 {
		got, ok := x.get(org.NodeID("s" + strconv.Itoa(i)))
		require.True(t, ok)
		require.Equal(t, int32(i), got)
		require.Equal(t, int32(7), x.ref(org.NodeID("s"+strconv.Itoa(i))).at(0))
	}
}

// keyWords must give every inline ID its own pair of words: IDs that differ
// in any byte or in length (trailing NULs included) never collide.
func TestKeyWordsDistinct(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		a := rapid.StringMatching(`[a-c\x00]{1,15}`).Draw(rt, "a")
		b := rapid.StringMatching(`[a-c\x00]{1,15}`).Draw(rt, "b")
		a0, a1 := keyWords(org.NodeID(a))
		b0, b1 := keyWords(org.NodeID(b))
		require.Equal(rt, a == b, a0 == b0 && a1 == b1, "%q %q", a, b)
		require.Equal(rt, uint64(len(a)), a1>>56)
		// The words hold the bytes in order, zero padded.
		var buf [16]byte
		copy(buf[:], a)
		require.Equal(rt, a0, binary.LittleEndian.Uint64(buf[:8]))
		require.Equal(rt, a1&(1<<56-1), binary.LittleEndian.Uint64(buf[8:])&(1<<56-1))
	})
}

func TestSlotWithin(t *testing.T) {
	x := newIDIndex(0)
	x.beginWrite()
	x.put("c", [maxDepth + 1]int32{0}, 0)
	x.put("i", [maxDepth + 1]int32{0, 1}, 1)
	x.put("s", [maxDepth + 1]int32{0, 1, 2}, 2)
	x.put("p", [maxDepth + 1]int32{0, 1, 2, 3}, 3)
	x.put("i2", [maxDepth + 1]int32{0, 4}, 1)
	x.put(org.NodeID(strings.Repeat("long", 5)), [maxDepth + 1]int32{0, 4, 5}, 2)
	in := func(scope, node org.NodeID) bool { return x.ref(node).within(x.ref(scope)) }
	require.True(t, in("c", "p"))
	require.True(t, in("i", "s"))
	require.True(t, in("p", "p"))
	require.True(t, in("i2", org.NodeID(strings.Repeat("long", 5))))
	require.False(t, in("p", "s"))
	require.False(t, in("i2", "s"))
	require.False(t, in("i", org.NodeID(strings.Repeat("long", 5))))
	require.False(t, in(org.NodeID(strings.Repeat("long", 5)), "i2"))
	require.Equal(t, int32(5), x.ref(org.NodeID(strings.Repeat("long", 5))).index())
}

// Within reads the index without the store's lock. Readers racing with
// moves, failed loads (which reset the index) and loads large enough to
// grow the table into a mapping of its own must see only whole states:
// never a node of a failed load, and a moved station always within its
// centre.
func TestWithinLockFreeRacesWrites(t *testing.T) {
	ctx := context.Background()
	s := NewOrgStore()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	node := func(id, kind, parent string) org.Node {
		return org.Node{ID: org.NodeID(id), Kind: org.Kind(kind), Name: id, Parent: org.NodeID(parent), Status: org.Active, Created: at, Updated: at}
	}
	ch := org.Change{Action: org.ActCreateNode, Actor: org.Actor{ID: "t", Role: org.RoleSystem}, At: at}
	require.NoError(t, s.Load(ctx, &org.Bulk{Nodes: []org.Node{
		node("c", "centre", ""), node("a", "institute", "c"), node("b", "institute", "c"), node("s", "station", "a"),
	}}, ch))

	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				in, err := s.Within(ctx, "c", "s")
				if err != nil || !in {
					errs <- fmt.Errorf("within(c, s) = %v, %v", in, err)
					return
				}
				_, errA := s.Within(ctx, "a", "s")
				_, errB := s.Within(ctx, "b", "s")
				if errA != nil || errB != nil {
					errs <- fmt.Errorf("within(a|b, s): %v %v", errA, errB)
					return
				}
				if _, err := s.Within(ctx, "c", "x7"); !errors.Is(err, org.ErrNotFound) {
					errs <- fmt.Errorf("within(c, x7) of a failed load: %v", err)
					return
				}
			}
		}()
	}
	move := org.Change{Action: org.ActMoveNode, Node: "s", Actor: ch.Actor, At: at}
	for k := range 20 {
		_, err := s.MoveNode(ctx, "s", []org.NodeID{"b", "a"}[k%2], move)
		require.NoError(t, err)
		// A load that fails on its last node, after inserting the others.
		bad := &org.Bulk{}
		for i := range 20 {
			bad.Nodes = append(bad.Nodes, node("x"+strconv.Itoa(i), "station", "a"))
		}
		bad.Nodes = append(bad.Nodes, node("s", "station", "a"))
		require.ErrorIs(t, s.Load(ctx, bad, ch), org.ErrDuplicate)
		if k%10 == 0 {
			// Big enough for the table to outgrow the Go heap (hugeMin).
			good := &org.Bulk{}
			for i := range 40_000 {
				good.Nodes = append(good.Nodes, node("g"+strconv.Itoa(k)+"-"+strconv.Itoa(i), "station", "b"))
			}
			require.NoError(t, s.Load(ctx, good, ch))
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	in, err := s.Within(ctx, "b", "g10-39999")
	require.NoError(t, err)
	require.True(t, in)
	in, err = s.Within(ctx, "a", "s")
	require.NoError(t, err)
	require.True(t, in)
	if runtime.GOOS == "linux" {
		require.Positive(t, s.idx.mappedBytes(), "a table of %d slots is mapped", len(s.idx.tab.Load().slots))
	}
}
