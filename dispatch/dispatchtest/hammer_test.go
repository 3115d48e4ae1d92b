package dispatchtest_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/adapters/memory"
	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/dispatch/dispatchtest"
)

// losingStore acknowledges every seventh commit of an existing order
// without storing it: a lost write.
type losingStore struct {
	dispatch.Store
	n atomic.Int64
}

func (s *losingStore) Commit(ctx context.Context, c dispatch.Commit) (uint64, error) {
	if c.Order.Version > 1 && s.n.Add(1)%7 == 0 {
		return 0, nil
	}
	return s.Store.Commit(ctx, c)
}

// failTB records a failure instead of failing the real test.
type failTB struct {
	testing.TB
	failed atomic.Bool
	msg    atomic.Value
}

var errFailNow = errors.New("FailNow")

func (f *failTB) Helper()                   {}
func (f *failTB) Logf(string, ...any)       {}
func (f *failTB) Errorf(s string, a ...any) { f.failed.Store(true); f.msg.Store(fmt.Sprintf(s, a...)) }
func (f *failTB) FailNow()                  { f.failed.Store(true); panic(errFailNow) }

// TestHammerCatchesLostWrites: the hammer must fail on a store that loses
// acknowledged transitions, or its passing on real stores means nothing.
func TestHammerCatchesLostWrites(t *testing.T) {
	inner := memory.NewDispatchStore()
	s := &losingStore{Store: inner}
	ft := &failTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil && r != errFailNow {
				panic(r)
			}
		}()
		dispatchtest.Hammer(ft, []dispatch.Store{s, s}, dispatchtest.HammerOptions{})
	}()
	require.True(t, ft.failed.Load(), "the hammer passed a store that loses writes")
	t.Logf("the hammer said: %v", ft.msg.Load())
}
