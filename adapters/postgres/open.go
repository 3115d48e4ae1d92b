package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options configure a DB. The zero value (or nil) means defaults.
type Options struct {
	// Schema is the PostgreSQL schema that holds every table, so several
	// deployments (and tests) can share one database. It must match
	// [a-z_][a-z0-9_]{0,62}. Default "civicloop".
	Schema string
	// Now is the clock used for recorded times. Default time.Now.
	Now func() time.Time
	// Logger receives retries and background errors. Default: discard.
	Logger *slog.Logger
	// MaxConns bounds the connections of the pool built by Open (ignored by
	// New). Default 8.
	MaxConns int
	// ApplicationName is sent as application_name by connections Open makes
	// (visible in pg_stat_activity). Default "civicloop".
	ApplicationName string
	// MaxBatch bounds how many transfers one group-commit transaction holds.
	// Default 2000.
	MaxBatch int
	// Writers is how many group-commit transactions may run at once.
	// Default 1: concurrent batches over the same accounts only queue on
	// each other's row locks (measured: 1 beats 2 with 16 callers over 50
	// accounts); raise it when writes spread over many accounts.
	Writers int
	// MaxAttempts bounds how often one transaction is tried when it fails
	// with a serialization failure, a deadlock or a lost connection.
	// Default 12.
	MaxAttempts int
	// RetryBaseDelay and RetryMaxDelay bound the jittered exponential
	// back-off between attempts. Defaults 2ms and 250ms.
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration
	// Stores lists the stores whose tables Open and New create and migrate
	// (StoreLedger, StoreOrg, StorePoints, StoreDispatch). Default: all.
	// Using a store whose tables were not created fails with a database
	// error.
	Stores []string
	// NoAdvisoryLock skips pg_advisory_xact_lock around migrations, for
	// databases that lack it (CockroachDB). Correctness of concurrent
	// migration then rests on the version table's primary key.
	NoAdvisoryLock bool
	// NoCopy sends large ledger batches as pipelined INSERT ... unnest
	// statements instead of COPY ... FROM STDIN BINARY, for databases
	// whose COPY is missing or differs inside transactions. Slower for
	// batches of 64 rows or more; results are the same.
	NoCopy bool
}

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func (o *Options) validate() (Options, error) {
	var v Options
	if o != nil {
		v = *o
	}
	if v.Schema == "" {
		v.Schema = "civicloop"
	}
	if !schemaName.MatchString(v.Schema) {
		return v, fmt.Errorf("postgres: options: field Schema: %q must match %s: %w", v.Schema, schemaName, ErrInvalidOptions)
	}
	if v.Now == nil {
		v.Now = time.Now
	}
	if v.Logger == nil {
		v.Logger = slog.New(slog.DiscardHandler)
	}
	for _, f := range []struct {
		name string
		p    *int
		def  int
	}{{"MaxConns", &v.MaxConns, 8}, {"MaxBatch", &v.MaxBatch, 2000}, {"Writers", &v.Writers, 1}, {"MaxAttempts", &v.MaxAttempts, 12}} {
		if *f.p < 0 {
			return v, fmt.Errorf("postgres: options: field %s: %d is negative: %w", f.name, *f.p, ErrInvalidOptions)
		}
		if *f.p == 0 {
			*f.p = f.def
		}
	}
	if len(v.Stores) == 0 {
		v.Stores = allStores
	}
	for _, st := range v.Stores {
		if !slices.Contains(allStores, st) {
			return v, fmt.Errorf("postgres: options: field Stores: unknown store %q: %w", st, ErrInvalidOptions)
		}
	}
	if v.ApplicationName == "" {
		v.ApplicationName = "civicloop"
	}
	if v.RetryBaseDelay <= 0 {
		v.RetryBaseDelay = 2 * time.Millisecond
	}
	if v.RetryMaxDelay <= 0 {
		v.RetryMaxDelay = 250 * time.Millisecond
	}
	if v.RetryMaxDelay < v.RetryBaseDelay {
		return v, fmt.Errorf("postgres: options: field RetryMaxDelay: %s is below RetryBaseDelay %s: %w", v.RetryMaxDelay, v.RetryBaseDelay, ErrInvalidOptions)
	}
	return v, nil
}

// DB is a civicloop database in one PostgreSQL schema. It hands out the
// domain stores (Ledger, ...), all sharing its pool and group-commit writer.
// A DB is safe for concurrent use, also by several processes sharing the
// database: correctness comes from row locks and transactions, not from
// anything held in this process.
type DB struct {
	pool   Pool
	owned  *connPool // closed by Close when Open built it
	opts   Options
	schema string // quoted identifier
	log    *slog.Logger

	ledger *LedgerStore
}

// Open connects to dsn with a pool of its own, migrates the schema and
// returns the DB. Close releases the pool.
func Open(ctx context.Context, dsn string, opts *Options) (*DB, error) {
	o, err := opts.validate()
	if err != nil {
		return nil, err
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: field dsn: %w", err)
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = o.ApplicationName
	p := newConnPool(cfg, o.MaxConns)
	db, err := newDB(ctx, p, o)
	if err != nil {
		p.Close()
		return nil, err
	}
	db.owned = p
	return db, nil
}

// New uses pool (for example a *pgxpool.Pool), migrates the schema and
// returns the DB. Close does not close pool.
func New(ctx context.Context, pool Pool, opts *Options) (*DB, error) {
	if pool == nil {
		return nil, fmt.Errorf("postgres: new: field pool: nil: %w", ErrInvalidOptions)
	}
	o, err := opts.validate()
	if err != nil {
		return nil, err
	}
	return newDB(ctx, pool, o)
}

func newDB(ctx context.Context, pool Pool, o Options) (*DB, error) {
	db := &DB{
		pool:   pool,
		opts:   o,
		schema: pgx.Identifier{o.Schema}.Sanitize(),
		log:    o.Logger,
	}
	if err := db.migrate(ctx, migrationFiles, o.Stores); err != nil {
		return nil, err
	}
	db.ledger = newLedgerStore(db)
	return db, nil
}

// Close stops the group-commit writers (pending calls fail) and closes the
// pool if Open built it.
func (db *DB) Close() error {
	db.ledger.close()
	if db.owned != nil {
		db.owned.Close()
	}
	return nil
}

// Schema returns the schema name the DB lives in.
func (db *DB) Schema() string { return db.opts.Schema }

// q puts the schema into sql, where each table is written "{s}.name".
func (db *DB) q(sql string) string { return strings.ReplaceAll(sql, "{s}", db.schema) }

// DropSchema removes the schema and everything in it. Meant for tests and
// tear-down; the DB must not be used afterwards.
func (db *DB) DropSchema(ctx context.Context) error {
	_, err := db.pool.Exec(ctx, db.q("DROP SCHEMA IF EXISTS {s} CASCADE"))
	return errors.Join(err)
}
