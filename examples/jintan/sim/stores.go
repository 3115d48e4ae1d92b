package sim

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/civicloop/civicloop/adapters/memory"
	"github.com/civicloop/civicloop/dispatch"
	"github.com/civicloop/civicloop/ledger"
	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
)

// stores are the four domain stores of one backend.
type stores struct {
	ledger   ledger.Store
	org      org.Store
	points   points.Store
	dispatch dispatch.Store
	// path is the SQLite file, empty in memory.
	path  string
	close func() error
}

func openStores(cfg Config) (*stores, error) {
	switch cfg.Store {
	case StoreMemory:
		return &stores{
			ledger: memory.NewLedgerStore(), org: memory.NewOrgStore(),
			points: memory.NewPointsStore(), dispatch: memory.NewDispatchStore(),
			close: func() error { return nil },
		}, nil
	case StoreSQLite:
		path := cfg.DB
		if path == "" {
			dir, err := os.MkdirTemp("", "jintan-")
			if err != nil {
				return nil, fmt.Errorf("sim: temporary folder for the database: %w", err)
			}
			path = filepath.Join(dir, "jintan.db")
		}
		return openSQLite(path)
	}
	return nil, fmt.Errorf("sim: field store: %q: %w", cfg.Store, ErrConfig)
}

// countingLedger counts the ledger transfers that took effect (holds, posts,
// voids and expiries included; replays and refusals not), for the
// throughput line.
type countingLedger struct {
	ledger.Store
	n atomic.Int64
}

func (c *countingLedger) Apply(ctx context.Context, cmds []ledger.Command) ([]ledger.Result, error) {
	res, err := c.Store.Apply(ctx, cmds)
	for _, r := range res {
		if r.Err == nil && !r.Replayed {
			c.n.Add(1)
		}
	}
	return res, err
}
