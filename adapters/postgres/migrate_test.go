package postgres

import (
	"context"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

func TestLoadMigrations(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  []int
		ok    bool
	}{
		{"embedded", nil, nil, true},
		{"sorted", fstest.MapFS{"migrations/a_0002.sql": {}, "migrations/a_0001.sql": {}}, []int{1, 2}, true},
		{"gap", fstest.MapFS{"migrations/a_0001.sql": {}, "migrations/a_0003.sql": {}}, nil, false},
		{"duplicate", fstest.MapFS{"migrations/a_0001.sql": {}, "migrations/a_01.sql": {}}, nil, false},
		{"no number", fstest.MapFS{"migrations/init.sql": {}}, nil, false},
		{"no store", fstest.MapFS{"migrations/0001.sql": {}}, nil, false},
		{"zero", fstest.MapFS{"migrations/a_0000.sql": {}}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.files == nil {
				ms, err := loadMigrations(migrationFiles)
				require.NoError(t, err)
				for _, st := range allStores {
					require.NotEmpty(t, ms[st], "migrations of store %s", st)
				}
				return
			}
			ms, err := loadMigrations(tc.files)
			if !tc.ok {
				require.ErrorIs(t, err, ErrMigration)
				return
			}
			require.NoError(t, err)
			var got []int
			for _, m := range ms["a"] {
				got = append(got, m.version)
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts *Options
		ok   bool
	}{
		{"nil", nil, true},
		{"schema", &Options{Schema: "city_7"}, true},
		{"schema upper", &Options{Schema: "City"}, false},
		{"schema quote", &Options{Schema: `a"b`}, false},
		{"schema digit first", &Options{Schema: "7a"}, false},
		{"negative conns", &Options{MaxConns: -1}, false},
		{"negative batch", &Options{MaxBatch: -1}, false},
		{"unknown store", &Options{Stores: []string{"ledger", "wallet"}}, false},
		{"some stores", &Options{Stores: []string{StoreOrg}}, true},
		{"max below base delay", &Options{RetryBaseDelay: 10, RetryMaxDelay: 5}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := tc.opts.validate()
			if !tc.ok {
				require.ErrorIs(t, err, ErrInvalidOptions)
				return
			}
			require.NoError(t, err)
			require.NotEmpty(t, v.Schema)
			require.NotNil(t, v.Now)
			require.Positive(t, v.MaxBatch)
		})
	}
}

// countVersions returns the rows of the schema's version table.
func countVersions(t *testing.T, db *DB) int {
	var n int
	require.NoError(t, db.pool.QueryRow(context.Background(), db.q("SELECT count(*) FROM {s}.schema_migrations")).Scan(&n))
	return n
}

func TestMigrateConcurrentStarters(t *testing.T) {
	for _, noLock := range []bool{false, true} {
		t.Run(map[bool]string{false: "advisory lock", true: "no advisory lock"}[noLock], func(t *testing.T) {
			pool := sharedPool(t)
			schema := newSchema()
			ms, err := loadMigrations(migrationFiles)
			require.NoError(t, err)
			const starters = 6
			dbs := make([]*DB, starters)
			errs := make([]error, starters)
			var wg sync.WaitGroup
			for i := range starters {
				wg.Add(1)
				go func() {
					defer wg.Done()
					dbs[i], errs[i] = New(context.Background(), pool, &Options{Schema: schema, NoAdvisoryLock: noLock})
				}()
			}
			wg.Wait()
			for i := range starters {
				require.NoError(t, errs[i])
				defer dbs[i].Close()
			}
			defer func() { require.NoError(t, dbs[0].DropSchema(context.Background())) }()
			n := 0
			for _, st := range allStores {
				n += len(ms[st])
			}
			require.Equal(t, n, countVersions(t, dbs[0]))
		})
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	db := newTestDB(t, &Options{Schema: newSchema()})
	ctx := context.Background()
	_, err := db.pool.Exec(ctx, db.q("INSERT INTO {s}.schema_migrations (store, version, name, applied_at) VALUES ('ledger', 9999, 'ledger_9999.sql', now())"))
	require.NoError(t, err)
	_, err = New(ctx, db.pool, &Options{Schema: db.Schema()})
	require.ErrorIs(t, err, ErrSchemaTooNew)
}

func TestMigrateIsIdempotent(t *testing.T) {
	db := newTestDB(t, nil)
	before := countVersions(t, db)
	again, err := New(context.Background(), db.pool, &Options{Schema: db.Schema()})
	require.NoError(t, err)
	defer again.Close()
	require.Equal(t, before, countVersions(t, again))
}

func TestNewRejectsNilPool(t *testing.T) {
	_, err := New(context.Background(), nil, nil)
	require.ErrorIs(t, err, ErrInvalidOptions)
}
