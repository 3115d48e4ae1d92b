package sim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// small is a district month at test scale: every path of the loop is taken,
// in well under a second in memory.
func small(seed int64, store string) Config {
	cfg := DefaultConfig()
	cfg.Seed, cfg.Store = seed, store
	cfg.Stations, cfg.Volunteers, cfg.Orders, cfg.Days = 30, 300, 150, 12
	return cfg
}

// render returns the report text without the wall-clock lines.
func render(t *testing.T, rep Report) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, rep.Write(&b))
	var keep []string
	for _, line := range strings.Split(b.String(), "\n") {
		if !strings.HasPrefix(line, ThroughputPrefix) {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

func count(rep Report, name string) int {
	for _, c := range append(rep.Counts, rep.PointsCounts...) {
		if c.Name == name {
			return c.N
		}
	}
	return -1
}

// requireSound checks a run: a clean audit that checked what the run did.
func requireSound(t *testing.T, cfg Config, rep Report) {
	t.Helper()
	require.True(t, rep.Clean(), "audit: %v", rep.Audit.Violations)
	require.Equal(t, cfg.Orders, count(rep, "ordered (点单)"))
	require.Positive(t, count(rep, "completed"))
	require.Positive(t, count(rep, "evaluated (评单)"))
	require.Positive(t, rep.Hours.IntPart())
	require.Positive(t, rep.Audit.Records)
	require.Positive(t, rep.Audit.Transitions)
	require.Equal(t, 20, rep.Audit.Rollups) // centre + 9 institutes, roll-up and stats each
	require.Positive(t, rep.Transfers)
	require.Len(t, rep.Institutes, 9)
	require.Equal(t, cfg.Orders, rep.District.Orders)
}

func TestRunMemory(t *testing.T) {
	for _, seed := range []int64{1, 2} {
		cfg := small(seed, StoreMemory)
		var progress bytes.Buffer
		rep, err := Run(context.Background(), cfg, &progress)
		require.NoError(t, err)
		requireSound(t, cfg, rep)
		require.Equal(t, cfg.Days, strings.Count(progress.String(), "\n"), "a progress line per day")
	}
}

func TestRunSQLiteTwoMonths(t *testing.T) {
	if testing.Short() {
		t.Skip("SQLite runs take seconds")
	}
	for _, seed := range []int64{1, 2} {
		cfg := small(seed, StoreSQLite)
		cfg.Orders, cfg.Days = 60, 6
		cfg.DB = filepath.Join(t.TempDir(), "jintan.db")
		first, err := Run(context.Background(), cfg, io.Discard)
		require.NoError(t, err)
		requireSound(t, cfg, first)
		require.False(t, first.Resumed)

		second, err := Run(context.Background(), cfg, io.Discard)
		require.NoError(t, err)
		requireSound(t, cfg, second)
		require.True(t, second.Resumed)
		require.True(t, second.From.After(first.To), "the second period follows the first")
		require.Equal(t, 2*cfg.Orders, second.Audit.Orders, "the audit covers both periods")
		require.Equal(t, first.Network.Volunteers, second.Network.Volunteers, "the network is not built twice")
	}
}

func TestSameSeedSameReport(t *testing.T) {
	ctx := context.Background()
	a, err := Run(ctx, small(3, StoreMemory), io.Discard)
	require.NoError(t, err)
	b, err := Run(ctx, small(3, StoreMemory), io.Discard)
	require.NoError(t, err)
	require.Equal(t, render(t, a), render(t, b))

	c, err := Run(ctx, small(4, StoreMemory), io.Discard)
	require.NoError(t, err)
	require.NotEqual(t, render(t, a), render(t, c), "another seed plays another month")
}

// TestWorkersDoNotChangeTheReport plays one month with one worker and with
// several: which worker gets to a job first must not change a figure.
func TestWorkersDoNotChangeTheReport(t *testing.T) {
	ctx := context.Background()
	var want string
	for _, workers := range []int{1, 3, 32} {
		cfg := small(8, StoreMemory)
		cfg.Workers = workers
		rep, err := Run(ctx, cfg, io.Discard)
		require.NoError(t, err)
		requireSound(t, cfg, rep)
		if want == "" {
			want = render(t, rep)
			continue
		}
		require.Equal(t, want, render(t, rep), "workers %d", workers)
	}
}

// TestStoresAgree plays the same month on both stores: the adapters must
// not change a single figure.
func TestStoresAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("SQLite runs take seconds")
	}
	ctx := context.Background()
	cfg := small(5, StoreMemory)
	cfg.Orders, cfg.Days = 60, 6
	mem, err := Run(ctx, cfg, io.Discard)
	require.NoError(t, err)
	want := strings.Replace(render(t, mem), "memory store", "sqlite store", 1)
	for _, sync := range []string{SyncFull, SyncNormal} {
		cfg.Store, cfg.Sync, cfg.DB = StoreSQLite, sync, filepath.Join(t.TempDir(), "j.db")
		sql, err := Run(ctx, cfg, io.Discard)
		require.NoError(t, err)
		require.Equal(t, want, render(t, sql), "sync %s", sync)
	}
}

func TestConfigRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"no stations", func(c *Config) { c.Stations = 0 }, "stations"},
		{"too few volunteers", func(c *Config) { c.Volunteers = 10 }, "volunteers"},
		{"no orders", func(c *Config) { c.Orders = 0 }, "orders"},
		{"no days", func(c *Config) { c.Days = 0 }, "days"},
		{"over a year", func(c *Config) { c.Days = 400 }, "days"},
		{"unknown store", func(c *Config) { c.Store = "postgres" }, "store"},
		{"unknown sync", func(c *Config) { c.Sync = "off" }, "sync"},
		{"negative workers", func(c *Config) { c.Workers = -1 }, "workers"},
		{"too many workers", func(c *Config) { c.Workers = 257 }, "workers"},
		{"negative lifetime", func(c *Config) { c.PointsLifetime = -time.Hour }, "points lifetime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.edit(&cfg)
			_, err := Run(context.Background(), cfg, io.Discard)
			require.ErrorIs(t, err, ErrConfig)
			require.Contains(t, err.Error(), "field "+tc.field)
		})
	}
}

func TestAuditErrNamesViolations(t *testing.T) {
	var rep Report
	require.NoError(t, rep.auditErr())
	rep.Audit.fail("order %s: broken", "O1")
	err := rep.auditErr()
	require.True(t, errors.Is(err, ErrAudit))
	require.Contains(t, err.Error(), "order O1: broken")
}

func TestChanceIsStableAndSpread(t *testing.T) {
	require.Equal(t, chance(1, "a", 2), chance(1, "a", 2))
	require.NotEqual(t, chance(1, "a", 2), chance(2, "a", 2))
	below := 0
	for i := range 10000 {
		u := chance(7, "spread", i)
		require.True(t, u >= 0 && u < 1)
		if u < 0.25 {
			below++
		}
	}
	require.InDelta(t, 2500, below, 200, "decisions drawn with chance follow their probabilities")
}

// BenchmarkRunDefaultMonth plays the default month (SQLite, durable
// commits) on a new file per iteration; BenchmarkRunDefaultMonthMemory the
// same month in memory.
func BenchmarkRunDefaultMonth(b *testing.B) { benchmarkMonth(b, StoreSQLite) }

func BenchmarkRunDefaultMonthMemory(b *testing.B) { benchmarkMonth(b, StoreMemory) }

func benchmarkMonth(b *testing.B, store string) {
	b.ReportAllocs()
	var rep Report
	for b.Loop() {
		cfg := DefaultConfig()
		cfg.Store, cfg.DB = store, filepath.Join(b.TempDir(), "jintan.db")
		var err error
		rep, err = Run(context.Background(), cfg, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rep.Counts[0].N)/rep.SimWall.Seconds(), "orders/s")
	b.ReportMetric(float64(rep.Transfers)/rep.SimWall.Seconds(), "transfers/s")
}
