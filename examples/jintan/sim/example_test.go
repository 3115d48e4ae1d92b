package sim_test

import (
	"context"
	"fmt"
	"io"

	"github.com/civicloop/civicloop/examples/jintan/sim"
)

func ExampleRun() {
	cfg := sim.DefaultConfig()
	cfg.Stations, cfg.Volunteers, cfg.Orders, cfg.Days = 18, 200, 40, 5
	cfg.Store = sim.StoreMemory // the default, sim.StoreSQLite, writes a file
	rep, err := sim.Run(context.Background(), cfg, io.Discard)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("orders:", rep.District.Orders)
	fmt.Println("audit clean:", rep.Clean())
	// Output:
	// orders: 40
	// audit clean: true
}
