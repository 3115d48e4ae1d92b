package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// dirState maps the name of each file in dir to its contents ("dir" for a
// folder), to prove that a refused Open wrote nothing.
func dirState(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	state := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil { // a folder
			state[e.Name()] = "dir"
			continue
		}
		state[e.Name()] = string(b)
	}
	return state
}

// foreignSQLite creates an SQLite database of "another program".
func foreignSQLite(t *testing.T, path string) {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = raw.Exec("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total TEXT)")
	require.NoError(t, err)
	require.NoError(t, raw.Close())
}

func TestOpenRefusesBadPaths(t *testing.T) {
	tests := []struct {
		name  string
		setUp func(t *testing.T, dir string) string
		want  error
		msg   string
	}{
		{
			name:  "empty path",
			setUp: func(*testing.T, string) string { return "" },
			want:  ErrInvalidPath, msg: "path is empty",
		},
		{
			name:  "a folder",
			setUp: func(t *testing.T, dir string) string { return dir },
			want:  ErrInvalidPath, msg: "is a folder",
		},
		{
			name: "parent is a file",
			setUp: func(t *testing.T, dir string) string {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "plain"), []byte("x"), 0o600))
				return filepath.Join(dir, "plain", "db.sqlite")
			},
			want: ErrInvalidPath, msg: "plain",
		},
		{
			name: "missing folder",
			setUp: func(t *testing.T, dir string) string {
				return filepath.Join(dir, "nope", "db.sqlite")
			},
			want: ErrInvalidPath, msg: "nope",
		},
		{
			name: "a text file",
			setUp: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "notes.txt")
				require.NoError(t, os.WriteFile(p, []byte("shopping list: rice, tea, eggs\n"), 0o600))
				return p
			},
			want: ErrNotCivicloop, msg: "not an SQLite database",
		},
		{
			name: "a damaged SQLite header",
			setUp: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "half.db")
				b := append([]byte(sqliteMagic), make([]byte, 200)...)
				require.NoError(t, os.WriteFile(p, b, 0o600))
				return p
			},
			want: ErrNotCivicloop, msg: "not an SQLite database",
		},
		{
			name: "another program's SQLite database",
			setUp: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "other.db")
				foreignSQLite(t, p)
				return p
			},
			want: ErrNotCivicloop, msg: "another program",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tc.setUp(t, dir)
			before := dirState(t, dir)
			db, err := Open(path, nil)
			require.ErrorIs(t, err, tc.want)
			require.ErrorContains(t, err, tc.msg)
			require.Nil(t, db)
			require.Equal(t, before, dirState(t, dir), "a refused Open writes nothing")
		})
	}
}

func TestOpenRefusesUnwritableFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may write anywhere; permission bits cannot make a folder unwritable")
	}
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	require.NoError(t, os.Mkdir(ro, 0o500))
	t.Cleanup(func() { _ = os.Chmod(ro, 0o700) })
	_, err := Open(filepath.Join(ro, "db.sqlite"), nil)
	require.ErrorIs(t, err, ErrInvalidPath)
	require.ErrorContains(t, err, "not writable")
}

// TestOpenRefusesKernelFiles holds as root too, where permission bits
// cannot make a path unwritable: the kernel's own file systems refuse to
// hold a database, whether the file is new or already there.
func TestOpenRefusesKernelFiles(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc and /sys are Linux file systems")
	}
	tests := []struct {
		name string
		path string
		msg  string
	}{
		{"new file in /proc", fmt.Sprintf("/proc/civicloop-test-%d.db", os.Getpid()), `folder "/proc" is not writable`},
		{"new file in /sys", fmt.Sprintf("/sys/civicloop-test-%d.db", os.Getpid()), `folder "/sys" is not writable`},
		{"existing read-only /proc/version", "/proc/version", "file is not writable"},
		{"existing read-only /proc/cpuinfo", "/proc/cpuinfo", "file is not writable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := kernelPathState(t, tc.path)
			db, err := Open(tc.path, nil)
			if db != nil {
				_ = db.Close()
			}
			require.ErrorIs(t, err, ErrInvalidPath)
			require.ErrorContains(t, err, tc.msg)
			require.Nil(t, db)
			require.Equal(t, before, kernelPathState(t, tc.path), "a refused Open writes nothing")
		})
	}
}

// kernelPathState describes path, the files SQLite would put next to it
// and any probe Open left in its folder: "absent", or the content. A whole
// listing of /proc would change with every process.
func kernelPathState(t *testing.T, path string) map[string]string {
	t.Helper()
	state := map[string]string{}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		b, err := os.ReadFile(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
			state[p] = "absent"
		case err != nil:
			state[p] = err.Error()
		default:
			state[p] = string(b)
		}
	}
	probes, err := filepath.Glob(filepath.Join(filepath.Dir(path), ".civicloop-probe-*"))
	require.NoError(t, err)
	state["probes"] = strings.Join(probes, ",")
	return state
}

// TestOpenRefusesUnwritableFile checks an existing file without write
// permission, as an ordinary user; root is covered by
// TestOpenRefusesKernelFiles.
func TestOpenRefusesUnwritableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may write any file; permission bits cannot refuse it")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "ro.db")
	require.NoError(t, os.WriteFile(p, nil, 0o400))
	before := dirState(t, dir)
	_, err := Open(p, nil)
	require.ErrorIs(t, err, ErrInvalidPath)
	require.ErrorContains(t, err, "file is not writable")
	require.Equal(t, before, dirState(t, dir))
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	db, err := Open(path, nil)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	raw, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = raw.Exec("INSERT INTO schema_version (version, name, applied_at) VALUES (?, 'from the future', 'x')", SchemaVersion()+1)
	require.NoError(t, err)
	require.NoError(t, raw.Close())

	dir := filepath.Dir(path)
	before := dirState(t, dir)
	require.Contains(t, before, "new.db")
	db, err = Open(path, nil)
	require.ErrorIs(t, err, ErrSchemaTooNew)
	require.ErrorContains(t, err, "use a newer civicloop")
	require.Nil(t, db)
	require.Equal(t, before, dirState(t, dir), "a refused Open leaves the folder's files as they were")
}

func TestOpenMigratesOnceAndReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "re.db")
	for range 3 {
		db, err := Open(path, nil)
		require.NoError(t, err)
		var n, max int
		require.NoError(t, db.read.QueryRow("SELECT count(*), max(version) FROM schema_version").Scan(&n, &max))
		require.Equal(t, SchemaVersion(), max)
		require.Equal(t, len(mustMigrations(t)), n, "each migration is recorded once")
		var mode string
		require.NoError(t, db.read.QueryRow("PRAGMA journal_mode").Scan(&mode))
		require.Equal(t, "wal", mode)
		require.NoError(t, db.Close())
	}
}

// In durable mode (the default) the writer syncs the log itself after each
// commit (walSync), so SQLite's own COMMIT does not; in SyncNormal mode
// nothing syncs a commit.
func TestOpenAppliesSynchronousOption(t *testing.T) {
	tests := []struct {
		opt     Synchronous
		syncs   bool
		pragmas int // PRAGMA synchronous: 1 NORMAL
	}{{"", true, 1}, {SyncFull, true, 1}, {SyncNormal, false, 1}}
	for _, tc := range tests {
		t.Run(string(tc.opt), func(t *testing.T) {
			db, err := Open(filepath.Join(t.TempDir(), "s.db"), &Options{Synchronous: tc.opt})
			require.NoError(t, err)
			defer db.Close()
			var got int
			require.NoError(t, db.w.conn.QueryRowContext(t.Context(), "PRAGMA synchronous").Scan(&got))
			require.Equal(t, tc.pragmas, got)
			require.Equal(t, tc.syncs, db.w.ws != nil)
		})
	}
}

func TestOpenRefusesBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		msg  string
	}{
		{"synchronous", Options{Synchronous: "OFF"}, "field Synchronous"},
		{"busy timeout", Options{BusyTimeout: -1}, "field BusyTimeout"},
		{"read conns", Options{ReadConns: -2}, "field ReadConns"},
		{"max batch", Options{MaxBatch: -3}, "field MaxBatch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := Open(filepath.Join(dir, "x.db"), &tc.opts)
			require.ErrorIs(t, err, ErrInvalidOptions)
			require.ErrorContains(t, err, tc.msg)
			require.Empty(t, dirState(t, dir))
		})
	}
}

func TestMigrationsAreNumberedWithoutGaps(t *testing.T) {
	ms := mustMigrations(t)
	require.NotEmpty(t, ms)
	for i, m := range ms {
		require.Equal(t, i+1, m.version, m.name)
		require.NotContains(t, m.sql, "REAL", "no floating-point columns: %s", m.name)
	}
}

func mustMigrations(t *testing.T) []migration {
	t.Helper()
	ms, err := migrations()
	require.NoError(t, err)
	return ms
}

// A file this process already has open is not opened again by Open's
// checks: closing that descriptor would drop every POSIX lock the process
// holds on the file, SQLite's included. Once every DB on it is closed, the
// file is checked again.
func TestOpenDoesNotReopenAFileInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "twice.db")
	db1, err := Open(path, nil)
	require.NoError(t, err)
	var checks atomic.Int64
	openToCheck = func(name string, flag int, perm os.FileMode) (*os.File, error) {
		checks.Add(1)
		return os.OpenFile(name, flag, perm)
	}
	t.Cleanup(func() { openToCheck = os.OpenFile })
	db2, err := Open(path, nil)
	require.NoError(t, err)
	require.Zero(t, checks.Load(), "the file in use was opened by the checks")
	require.NoError(t, db2.Close())
	db3, err := Open(path, nil) // still in use by db1
	require.NoError(t, err)
	require.Zero(t, checks.Load())
	require.NoError(t, db1.Close())
	require.NoError(t, db3.Close())
	db4, err := Open(path, nil)
	require.NoError(t, err)
	require.Equal(t, int64(1), checks.Load(), "a file no DB has open is checked")
	require.NoError(t, db4.Close())
}
