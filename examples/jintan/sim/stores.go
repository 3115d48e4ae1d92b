package sim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
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
		// The workers, the ledger's audit beside them and the main goroutine.
		return openSQLite(path, cfg.Sync, cfg.Workers+2)
	}
	return nil, fmt.Errorf("sim: field store: %q: %w", cfg.Store, ErrConfig)
}

// countingLedger counts the ledger transfers that took effect (holds, posts,
// voids and expiries included; replays and refusals not), for the
// throughput line. It also remembers the accounts it saw open: accounts are
// never deleted, so it answers a second opening with ErrAccountExists
// itself, as the store would. (Each lane's points service opens the
// accounts of the volunteers it meets for the first time.)
type countingLedger struct {
	ledger.Store
	n      atomic.Int64
	opened sync.Map // ledger.AccountID → struct{}
}

func (c *countingLedger) OpenAccount(ctx context.Context, rec ledger.AccountRecord) error {
	if _, ok := c.opened.Load(rec.ID); ok {
		return fmt.Errorf("sim: account %s: %w", rec.ID, ledger.ErrAccountExists)
	}
	err := c.Store.OpenAccount(ctx, rec)
	if err == nil || errors.Is(err, ledger.ErrAccountExists) {
		c.opened.Store(rec.ID, struct{}{})
	}
	return err
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
