package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// The schema is built by the numbered files in migrations/, applied in
// order, each in its own transaction together with its row in the
// schema_version table. A file is never edited once released; a change is
// a new file.

//go:embed migrations/*.sql
var migrationFiles embed.FS

// applicationID marks a file as a civicloop database (PRAGMA
// application_id; the bytes spell "CVLP").
const applicationID = 0x43564C50

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations sorted by version. A file
// name is NNNN_description.sql.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlite: migration %q: name must start with a positive number and '_'", e.Name())
		}
		body, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(body)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("sqlite: migrations %q and %q share version %d", ms[i-1].name, ms[i].name, ms[i].version)
		}
	}
	return ms, nil
}

// SchemaVersion is the schema version this package writes: the number of
// its newest migration.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// inspect reads, without writing, what kind of file conn is on: it returns
// the file's schema version (0 for a new, empty file), ErrNotCivicloop for
// another program's database and ErrSchemaTooNew for a file written by a
// newer version of this package.
func inspect(ctx context.Context, conn *sql.Conn) (int, error) {
	var appID, tables int
	if err := conn.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return 0, openError(err)
	}
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return 0, openError(err)
	}
	switch {
	case appID == 0 && tables == 0:
		return 0, nil
	case appID != applicationID:
		return 0, fmt.Errorf("file is an SQLite database of another program (application_id %#x, %d schema objects): %w", appID, tables, ErrNotCivicloop)
	}
	var version int
	if err := conn.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&version); err != nil {
		return 0, fmt.Errorf("reading schema version: %w: %w", ErrNotCivicloop, translate(err))
	}
	if latest := SchemaVersion(); version > latest {
		return 0, fmt.Errorf("file has schema version %d, this program knows up to %d; use a newer civicloop: %w", version, latest, ErrSchemaTooNew)
	}
	return version, nil
}

// migrate applies the migrations newer than current, each in one
// transaction.
func migrate(ctx context.Context, conn *sql.Conn, current int, o *Options) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		if err := apply(ctx, conn, m, o); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		o.Logger.Info("sqlite: migrated", "version", m.version, "name", m.name)
	}
	return nil
}

func apply(ctx context.Context, conn *sql.Conn, m migration, o *Options) (err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return translate(err)
	}
	defer func() {
		if err != nil {
			_, _ = conn.ExecContext(ctx, "ROLLBACK")
		}
	}()
	stmts := []struct {
		query string
		args  []any
	}{
		{"PRAGMA application_id=" + strconv.Itoa(applicationID), nil},
		{`CREATE TABLE IF NOT EXISTS schema_version (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at TEXT NOT NULL
		) STRICT`, nil},
		{m.sql, nil},
		{"INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
			[]any{m.version, m.name, o.Now().UTC().Format("2006-01-02T15:04:05.000000000Z")}},
	}
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s.query, s.args...); err != nil {
			return translate(err)
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return translate(err)
	}
	return nil
}
