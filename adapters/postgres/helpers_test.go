package postgres

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

const dsnEnv = "CIVICLOOP_TEST_POSTGRES"

// testDSN returns the DSN of the test server or skips the test.
func testDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		t.Skipf("PostgreSQL tests skipped: set %s, e.g. %s=postgres://postgres@127.0.0.1:5432/test?sslmode=disable go test ./adapters/postgres/ (.ci/run sets it)", dsnEnv, dsnEnv)
	}
	return dsn
}

var (
	sharedOnce sync.Once
	shared     *connPool
	sharedErr  error
	schemaSeq  atomic.Int64
)

// sharedPool is one pool for the tests of this process; each test gets its
// own schema on it.
func sharedPool(t testing.TB) *connPool {
	t.Helper()
	dsn := testDSN(t)
	sharedOnce.Do(func() {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			sharedErr = err
			return
		}
		shared = newConnPool(cfg, 24)
	})
	require.NoError(t, sharedErr)
	return shared
}

// newSchema returns a fresh schema name, unique across concurrent test
// processes.
func newSchema() string {
	return fmt.Sprintf("civicloop_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6, schemaSeq.Add(1))
}

// Schemas of finished tests are emptied and handed to later tests instead
// of being dropped and created again: creating the schema's tables costs the
// server a few hundred milliseconds, and the conformance suites' property
// tests open hundreds of stores. Each test still has a schema to itself, and
// TestMain drops them all at the end.
var recycled struct {
	mu   sync.Mutex
	free map[string][]string // by the stores the schema has tables for
	all  []string
}

// rapidChecks is how many cases each property test of the conformance
// suites runs here, unless -rapid.checks is given: every case opens a store
// of its own, and on PostgreSQL that is a schema (pgregory.net/rapid's
// default is 100).
const rapidChecks = "25"

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "rapid.checks" })
	if !explicit {
		_ = flag.Set("rapid.checks", rapidChecks)
	}
	code := m.Run()
	if shared != nil {
		for _, schema := range recycled.all {
			_, _ = shared.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		}
		shared.Close()
	}
	os.Exit(code)
}

// newTestDB returns a migrated, empty DB in a schema of its own on the
// shared pool; when the test ends the schema is emptied for reuse.
func newTestDB(t testing.TB, opts *Options) *DB {
	t.Helper()
	pool := sharedPool(t)
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.Schema != "" {
		// A schema of the caller's: dropped, not recycled.
		db, err := New(context.Background(), pool, &o)
		require.NoError(t, err)
		t.Cleanup(func() {
			require.NoError(t, db.Close())
			require.NoError(t, db.DropSchema(context.Background()))
		})
		return db
	}
	kind := strings.Join(o.Stores, ",")
	recycled.mu.Lock()
	if free := recycled.free[kind]; len(free) > 0 {
		o.Schema, recycled.free[kind] = free[len(free)-1], free[:len(free)-1]
	}
	recycled.mu.Unlock()
	if o.Schema == "" {
		o.Schema = newSchema()
		recycled.mu.Lock()
		recycled.all = append(recycled.all, o.Schema)
		recycled.mu.Unlock()
	}
	ctx := context.Background()
	db, err := New(ctx, pool, &o)
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, db.Close())
		require.NoError(t, emptySchema(ctx, db))
		recycled.mu.Lock()
		if recycled.free == nil {
			recycled.free = map[string][]string{}
		}
		recycled.free[kind] = append(recycled.free[kind], o.Schema)
		recycled.mu.Unlock()
	})
	return db
}

// emptySchema deletes every row of the schema's tables but the version
// table, and puts back the rows the migrations seed.
func emptySchema(ctx context.Context, db *DB) error {
	rows, err := db.pool.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = $1 AND table_name <> 'schema_migrations' ORDER BY table_name`, db.Schema())
	if err != nil {
		return err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	seeds := map[string]string{
		"org_lock":      "INSERT INTO {s}.org_lock (id, seq) VALUES (1, 0);",
		"dispatch_feed": "INSERT INTO {s}.dispatch_feed (id, seq) VALUES (1, 0);",
		"points_lock":   "INSERT INTO {s}.points_lock (id, seq, refusals) VALUES (1, 0, 0);",
	}
	var b strings.Builder
	for _, tb := range tables {
		fmt.Fprintf(&b, "DELETE FROM %s.%s;", db.schema, pgx.Identifier{tb}.Sanitize())
		b.WriteString(db.q(seeds[tb]))
	}
	_, err = db.pool.Exec(ctx, b.String())
	return err
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

// openTestDB opens a DB with a pool of its own on opts.Schema (which the
// caller drops).
func openTestDB(t testing.TB, opts *Options) *DB {
	t.Helper()
	db, err := Open(context.Background(), testDSN(t), opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}
