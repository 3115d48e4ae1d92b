// Command jintan plays a month in the life of a district practice network
// shaped like Jintan's (1 centre, 9 institutes, 123 stations; the "1822"
// teams; 57 pairings; a few thousand volunteers) through civicloop's
// public APIs, audits the result and prints a report.
//
//	go run ./examples/jintan                  # one month on SQLite, in a new temporary file
//	go run ./examples/jintan -db j.db         # run twice: two months in j.db
//	go run ./examples/jintan -store memory    # one month in memory
//	go run ./examples/jintan -stations 1200 -volunteers 30000 -orders 9000
//
// It exits with status 1 when the audit finds a violation.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"

	"github.com/civicloop/civicloop/examples/jintan/sim"
)

func main() { os.Exit(run()) }

func run() int {
	cfg := sim.DefaultConfig()
	flag.Int64Var(&cfg.Seed, "seed", cfg.Seed, "seed of every decision: the same seed gives the same report")
	flag.IntVar(&cfg.Stations, "stations", cfg.Stations, "stations taking orders (more than 123 adds generated ones)")
	flag.IntVar(&cfg.Volunteers, "volunteers", cfg.Volunteers, "volunteers registered when the network is built")
	flag.IntVar(&cfg.Orders, "orders", cfg.Orders, "orders residents place in the period")
	flag.IntVar(&cfg.Days, "days", cfg.Days, "days simulated")
	flag.StringVar(&cfg.Store, "store", cfg.Store, "store: memory or sqlite")
	flag.StringVar(&cfg.DB, "db", "", "SQLite file (default: a new file in a temporary folder); run twice to simulate the next month")
	flag.StringVar(&cfg.Sync, "sync", cfg.Sync, "SQLite commits: full (durable: a write survives a power loss) or normal (survives a crash of the process only; faster)")
	flag.IntVar(&cfg.Workers, "workers", cfg.Workers, "goroutines running the independent work of a phase; the report does not depend on it")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "jintan: cpu profile:", err)
			return 2
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := sim.Run(ctx, cfg, os.Stdout)
	if rep.Days > 0 {
		fmt.Println()
		if werr := rep.Write(os.Stdout); werr != nil && err == nil {
			err = werr
		}
	}
	if rep.DB != "" {
		fmt.Printf("\ndatabase: %s (run again with -db %s to play the next period)\n", rep.DB, rep.DB)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "jintan:", err)
		return 1
	}
	return 0
}
