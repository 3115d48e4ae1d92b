package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// schemaState is what a migration may change: every schema object, the
// recorded versions and the application ID.
func schemaState(t *testing.T, conn *sql.Conn) []string {
	t.Helper()
	ctx := context.Background()
	var state []string
	var appID int
	require.NoError(t, conn.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID))
	state = append(state, fmt.Sprintf("application_id %#x", appID))
	rows, err := conn.QueryContext(ctx, "SELECT type, name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name")
	require.NoError(t, err)
	hasVersions := false
	for rows.Next() {
		var typ, name, text string
		require.NoError(t, rows.Scan(&typ, &name, &text))
		state = append(state, typ+" "+name+": "+text)
		hasVersions = hasVersions || name == "schema_version"
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	if hasVersions {
		rows, err := conn.QueryContext(ctx, "SELECT version, name FROM schema_version ORDER BY version")
		require.NoError(t, err)
		for rows.Next() {
			var v int
			var name string
			require.NoError(t, rows.Scan(&v, &name))
			state = append(state, fmt.Sprintf("version %d %s", v, name))
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
	}
	return state
}

// TestFailedMigrationChangesNothing runs broken migrations through apply,
// on a file at the current schema and on a new, empty file: each fails
// after some of its statements succeeded, and the transaction takes all of
// them back, with the schema_version row and the application ID.
func TestFailedMigrationChangesNothing(t *testing.T) {
	next := SchemaVersion() + 1
	tests := []struct {
		name  string
		fresh bool // an empty file instead of one at the current schema
		m     migration
		msg   string
	}{
		{
			name: "a statement fails midway",
			m: migration{version: next, name: "broken_midway.sql", sql: `
				CREATE TABLE half_done (x INTEGER) STRICT;
				ALTER TABLE ledger_accounts ADD COLUMN extra TEXT;
				CREATE INDEX half_done_x ON half_done (x);
				INSERT INTO no_such_table VALUES (1);`},
			msg: "no_such_table",
		},
		{
			name: "its version is already recorded",
			m: migration{version: 1, name: "0001_again.sql", sql: `
				CREATE TABLE half_done (x INTEGER) STRICT;
				DROP INDEX ledger_transfers_due;`},
			msg: "UNIQUE",
		},
		{
			name:  "the first migration of a new file fails",
			fresh: true,
			m: migration{version: 1, name: "0001_broken.sql", sql: `
				CREATE TABLE half_done (x INTEGER) STRICT;
				SELECT no_such_function();`},
			msg: "no_such_function",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "m.db")
			if !tc.fresh {
				db, err := Open(path, nil)
				require.NoError(t, err)
				require.NoError(t, db.Close())
			}
			conn, o, closeConn := migrationConn(t, path)
			defer closeConn()
			before := schemaState(t, conn)

			err := apply(ctx, conn, tc.m, o)
			require.ErrorContains(t, err, tc.msg)
			require.Equal(t, before, schemaState(t, conn), "a failed migration changes nothing")

			// The connection is back in autocommit mode: no transaction is
			// left open to swallow later statements.
			_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
			require.NoError(t, err, "the failed migration's transaction was rolled back")
			_, err = conn.ExecContext(ctx, "ROLLBACK")
			require.NoError(t, err)
		})
	}
	t.Run("the file still opens", func(t *testing.T) {
		// A new file whose first migration failed is still a new file: the
		// real first migration runs on it, finding none of the broken one's
		// tables in its way.
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "m.db")
		conn, o, closeConn := migrationConn(t, path)
		require.Error(t, apply(ctx, conn, migration{version: 1, name: "0001_broken.sql", sql: "CREATE TABLE ledger_accounts (x); SELECT no_such_function();"}, o))
		closeConn()
		db, err := Open(path, nil)
		require.NoError(t, err)
		require.NoError(t, db.Close())
	})
}

// migrationConn opens a connection of its own to the file at path, to
// apply migrations by hand with the options Open would use; closeConn
// closes it.
func migrationConn(t *testing.T, path string) (conn *sql.Conn, o *Options, closeConn func()) {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	conn, err = raw.Conn(context.Background())
	require.NoError(t, err)
	o = &Options{}
	require.NoError(t, o.validate())
	return conn, o, func() {
		require.NoError(t, conn.Close())
		require.NoError(t, raw.Close())
	}
}
