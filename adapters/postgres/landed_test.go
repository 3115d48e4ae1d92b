package postgres

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/org"
)

// lossyPool commits for real but reports the next `fail` commits as a lost
// connection: the outcome a client sees when the server dies after writing
// the commit record.
type lossyPool struct {
	Pool
	fail atomic.Int32
}

func (p *lossyPool) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := p.Pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &lossyTx{Tx: tx, p: p}, nil
}

type lossyTx struct {
	pgx.Tx
	p *lossyPool
}

func (t *lossyTx) Commit(ctx context.Context) error {
	if err := t.Tx.Commit(ctx); err != nil {
		return err
	}
	if t.p.fail.Add(-1) >= 0 {
		return fmt.Errorf("commit: %w", io.ErrUnexpectedEOF)
	}
	return nil
}

// TestCreateLandedAtLostCommit: a create whose COMMIT landed but whose
// connection was lost is retried, finds its own write and succeeds, once;
// the same create later, or another create of a taken ID, is still
// ErrDuplicate.
func TestCreateLandedAtLostCommit(t *testing.T) {
	ctx := context.Background()
	pool := &lossyPool{Pool: sharedPool(t)}
	db, err := New(ctx, pool, &Options{Schema: newSchema(), Stores: []string{StoreOrg, StoreDispatch}, RetryBaseDelay: time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, db.Close())
		require.NoError(t, db.DropSchema(context.Background()))
	})
	now := time.Date(2026, 11, 28, 9, 30, 0, 123456789, time.UTC) // nanoseconds the database drops
	actor := org.Actor{ID: "admin", Role: org.RoleAdmin}
	st := db.Org()

	n := org.Node{ID: "c1", Kind: org.Centre, Name: "Centre", Path: org.PathOf("", "c1"), Status: org.Active, Created: now, Updated: now}
	pool.fail.Store(1)
	require.NoError(t, st.CreateNode(ctx, n, org.Change{Action: org.ActCreateNode, Actor: actor, At: now}))
	require.Equal(t, int32(0), pool.fail.Load(), "the commit was reported lost")
	got, err := st.Node(ctx, "c1")
	require.NoError(t, err)
	require.Equal(t, n.Name, got.Name)
	changes, err := st.Changes(ctx, org.ChangeQuery{Node: "c1"})
	require.NoError(t, err)
	require.Len(t, changes, 1, "the create is recorded once")
	// Without a lost commit, the same create is a duplicate.
	require.ErrorIs(t, st.CreateNode(ctx, n, org.Change{Action: org.ActCreateNode, Actor: actor, At: now}), org.ErrDuplicate)

	v := org.Volunteer{ID: "v1", Name: "Vee", Contact: "555", Home: "c1", Status: org.VolunteerActive, Version: 1, Created: now, Updated: now}
	pool.fail.Store(1)
	require.NoError(t, st.CreateVolunteer(ctx, v, org.Change{Action: org.ActRegisterVolunteer, Actor: actor, At: now}))
	require.ErrorIs(t, st.CreateVolunteer(ctx, v, org.Change{Action: org.ActRegisterVolunteer, Actor: actor, At: now}), org.ErrDuplicate)

	ds := db.Dispatch()
	item := dispatch.MenuItem{Code: "meal", Name: "Meal", Category: "care", Offeror: "c1", Version: 1}
	pool.fail.Store(1)
	require.NoError(t, ds.SaveMenuItem(ctx, item, 0))
	require.ErrorIs(t, ds.SaveMenuItem(ctx, item, 0), dispatch.ErrDuplicate)
}

// TestLandedCreate: only an uncertain commit and identical content make a
// taken ID the caller's own write.
func TestLandedCreate(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 30, 0, 123456789, time.FixedZone("x", 3600))
	stored := org.Team{ID: "t1", Name: "T", Skills: nil, Version: 1, Created: now.Truncate(time.Microsecond).UTC()}
	asked := org.Team{ID: "t1", Name: "T", Skills: []string{}, Version: 1, Created: now}
	uncertain := context.WithValue(context.Background(), commitUncertainKey{}, true)
	require.True(t, landedCreate(uncertain, stored, asked))
	require.False(t, landedCreate(context.Background(), stored, asked), "no lost commit: a duplicate")
	other := asked
	other.Name = "U"
	require.False(t, landedCreate(uncertain, stored, other), "different content: a duplicate")
	later := asked
	later.Created = now.Add(time.Microsecond)
	require.False(t, landedCreate(uncertain, stored, later))
	p := org.Pairing{ID: "p1", Unit: "u", Node: "c1", Start: now}
	q := p
	q.End = now.Add(time.Hour)
	require.True(t, landedCreate(uncertain, p, p))
	require.False(t, landedCreate(uncertain, p, q))
}
