package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// migrationFiles holds the schema: per store a numbered sequence of steps,
// migrations/<store>_NNNN.sql (store: ledger, org, points, dispatch). Table
// names are written "{s}.name".
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store names, as used in Options.Stores and migration file names.
const (
	StoreLedger   = "ledger"
	StoreOrg      = "org"
	StorePoints   = "points"
	StoreDispatch = "dispatch"
)

var allStores = []string{StoreLedger, StoreOrg, StorePoints, StoreDispatch}

// migration is one numbered schema step of one store.
type migration struct {
	store   string
	version int
	name    string
	sql     string
}

// loadMigrations reads migrations/*.sql from fsys and returns each store's
// steps sorted by version. Versions must start at 1 and have no gaps or
// duplicates.
func loadMigrations(fsys fs.FS) (map[string][]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	byStore := map[string][]migration{}
	for _, name := range names {
		base := path.Base(name)
		store, num, ok := strings.Cut(strings.TrimSuffix(base, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || store == "" {
			return nil, fmt.Errorf("postgres: migration %s: name must be <store>_NNNN.sql: %w", base, ErrMigration)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		byStore[store] = append(byStore[store], migration{store: store, version: v, name: base, sql: string(body)})
	}
	for _, ms := range byStore {
		slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
		for i, m := range ms {
			if m.version != i+1 {
				return nil, fmt.Errorf("postgres: migration %s: version %d expected: %w", m.name, i+1, ErrMigration)
			}
		}
	}
	return byStore, nil
}

// migrate brings the tables of the given stores up to the newest migrations
// in fsys. Each step runs in its own transaction holding a transaction-level
// advisory lock keyed by the schema, so servers starting together apply
// each step once; the version table's primary key guards the same where
// advisory locks are unavailable. A store whose tables are newer than fsys
// knows is refused with ErrSchemaTooNew.
func (db *DB) migrate(ctx context.Context, fsys fs.FS, stores []string) error {
	byStore, err := loadMigrations(fsys)
	if err != nil {
		return err
	}
	for _, store := range stores {
		ms, ok := byStore[store]
		if !ok {
			return fmt.Errorf("postgres: options: field Stores: unknown store %q: %w", store, ErrInvalidOptions)
		}
		for {
			current, err := db.migrateStep(ctx, store, ms)
			if err != nil {
				return err
			}
			if current {
				break
			}
		}
	}
	return nil
}

// migrateStep applies the store's next pending migration, if any, and
// reports whether it was already current.
func (db *DB) migrateStep(ctx context.Context, store string, ms []migration) (current bool, err error) {
	err = db.retry(ctx, "migrate", func(ctx context.Context) error {
		err := db.migrateTx(ctx, store, ms, &current)
		if pe := pgError(err); pe != nil {
			switch pe.Code {
			case codeUniqueViolation, codeDuplicateTable, codeDuplicateSchema, codeDuplicateObject:
				// Another server created the same object at the same moment
				// (possible only without the advisory lock): look again.
				return errRetry{err}
			}
		}
		return err
	})
	if errors.Is(err, ErrSchemaTooNew) || errors.Is(err, ErrMigration) {
		return false, err
	}
	if err != nil {
		return false, fmt.Errorf("postgres: migrate schema %s: %w", db.opts.Schema, translate(err))
	}
	return current, nil
}

// migrateTx is one attempt of migrateStep.
func (db *DB) migrateTx(ctx context.Context, store string, ms []migration, current *bool) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if !db.opts.NoAdvisoryLock {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", advisoryKey(db.opts.Schema)); err != nil {
			return err
		}
	}
	for _, stmt := range []string{
		"CREATE SCHEMA IF NOT EXISTS {s}",
		`CREATE TABLE IF NOT EXISTS {s}.schema_migrations (
			store      TEXT NOT NULL,
			version    INT NOT NULL,
			name       TEXT NOT NULL,
			applied_at TIMESTAMPTZ NOT NULL,
			PRIMARY KEY (store, version)
		)`,
	} {
		if _, err := tx.Exec(ctx, db.q(stmt)); err != nil {
			return err
		}
	}
	var have int
	if err := tx.QueryRow(ctx, db.q("SELECT COALESCE(MAX(version), 0) FROM {s}.schema_migrations WHERE store = $1"), store).Scan(&have); err != nil {
		return err
	}
	if have > len(ms) {
		return fmt.Errorf("postgres: schema %s: %s tables are at version %d, this code knows %d: %w", db.opts.Schema, store, have, len(ms), ErrSchemaTooNew)
	}
	if have == len(ms) {
		*current = true
		return nil
	}
	m := ms[have]
	if _, err := tx.Exec(ctx, db.q(m.sql), pgx.QueryExecModeSimpleProtocol); err != nil {
		return fmt.Errorf("postgres: migration %s: %w", m.name, err)
	}
	if _, err := tx.Exec(ctx, db.q("INSERT INTO {s}.schema_migrations (store, version, name, applied_at) VALUES ($1, $2, $3, $4)"),
		store, m.version, m.name, db.opts.Now().UTC()); err != nil {
		return err
	}
	db.log.Info("postgres: migrated", "schema", db.opts.Schema, "migration", m.name)
	return tx.Commit(ctx)
}

// advisoryKey derives the advisory lock key of a schema (FNV-1a, 64 bit).
func advisoryKey(schema string) int64 {
	h := uint64(14695981039346656037)
	for _, c := range []byte("civicloop/migrate/" + schema) {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return int64(h)
}
