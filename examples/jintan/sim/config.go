package sim

import (
	"errors"
	"fmt"
	"time"
)

// Store names accepted by Config.Store.
const (
	StoreMemory = "memory"
	StoreSQLite = "sqlite"
)

// ErrConfig reports a bad Config field.
var ErrConfig = errors.New("sim: invalid config")

// ErrAudit reports a violation found by the final audit; the message names
// it.
var ErrAudit = errors.New("sim: audit violation")

// Config sizes and seeds a simulation. DefaultConfig gives the size of the
// source's first month: about 800 activities and over 10,000 service hours.
type Config struct {
	// Seed drives every decision; the same Seed and sizes give the same
	// Report.
	Seed int64
	// Stations is how many stations take orders and are home to
	// volunteers. Below Jintan's 123, stations spread evenly over the list
	// by ID are used; above, generated stations are added round-robin
	// under the nine institutes when the network is first built.
	Stations int
	// Volunteers is how many volunteers are registered when the network is
	// first built, besides the eight named in the source.
	Volunteers int
	// Orders is how many orders residents place in the simulated period.
	Orders int
	// Days is the length of the simulated period.
	Days int
	// Store is StoreMemory or StoreSQLite (the default).
	Store string
	// DB is the SQLite file; empty means a new file in a temporary folder.
	DB string
	// Sync is the SQLite commit durability: SyncFull (the default: an
	// acknowledged write survives a power loss) or SyncNormal (it survives
	// a crash of the process only; faster).
	Sync string
	// Workers is how many goroutines run the independent work of a phase
	// (default 32; 1 runs everything in one goroutine). More workers let
	// the SQLite writer commit more writes per disk sync; the report does
	// not depend on it.
	Workers int
	// Start is the first day of the period on an empty store; default
	// 2023-03-01 in China Standard Time. A store that holds a period
	// already continues on the day after its last activity.
	Start time.Time
	// PointsLifetime is how long points live before they expire; default
	// 45 days, so that a second month sees the first expiries.
	PointsLifetime time.Duration
}

// SQLite commit durabilities accepted by Config.Sync.
const (
	SyncFull   = "full"
	SyncNormal = "normal"
)

// DefaultConfig returns the default configuration: Jintan's 123 stations,
// 3,000 volunteers, 880 orders over 30 days, seed 1, on SQLite with durable
// commits in a new temporary file, 32 workers.
func DefaultConfig() Config {
	return Config{Seed: 1, Stations: 123, Volunteers: 3000, Orders: 880, Days: 30, Store: StoreSQLite,
		Sync: SyncFull, Workers: 32}
}

// cst is China Standard Time, the district's clock.
var cst = time.FixedZone("CST", 8*3600)

func (c *Config) validate() error {
	switch {
	case c.Stations < 1:
		return fmt.Errorf("sim: field stations: %d is not positive: %w", c.Stations, ErrConfig)
	case c.Volunteers < 50:
		return fmt.Errorf("sim: field volunteers: %d is below 50, too few to staff 31 teams: %w", c.Volunteers, ErrConfig)
	case c.Orders < 1:
		// A period leaves at least one order: the next run finds where
		// this one ended by its orders.
		return fmt.Errorf("sim: field orders: %d is below 1: %w", c.Orders, ErrConfig)
	case c.Days < 1 || c.Days > 366:
		return fmt.Errorf("sim: field days: %d is outside 1..366: %w", c.Days, ErrConfig)
	case c.Store != StoreMemory && c.Store != StoreSQLite:
		return fmt.Errorf("sim: field store: %q is neither %q nor %q: %w", c.Store, StoreMemory, StoreSQLite, ErrConfig)
	case c.Store == StoreSQLite && c.Sync != "" && c.Sync != SyncFull && c.Sync != SyncNormal:
		return fmt.Errorf("sim: field sync: %q is neither %q nor %q: %w", c.Sync, SyncFull, SyncNormal, ErrConfig)
	case c.Workers < 0 || c.Workers > 256:
		return fmt.Errorf("sim: field workers: %d is outside 0..256: %w", c.Workers, ErrConfig)
	case c.PointsLifetime < 0:
		return fmt.Errorf("sim: field points lifetime: %s is negative: %w", c.PointsLifetime, ErrConfig)
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2023, 3, 1, 0, 0, 0, 0, cst)
	}
	c.Start = day(c.Start)
	if c.Sync == "" {
		c.Sync = SyncFull
	}
	if c.Workers == 0 {
		c.Workers = 32
	}
	if c.PointsLifetime == 0 {
		c.PointsLifetime = 45 * 24 * time.Hour
	}
	return nil
}

// day returns midnight (CST) of the day containing t.
func day(t time.Time) time.Time {
	t = t.In(cst)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, cst)
}
