// Command chronyshim runs Telegraf's built-in inputs.chrony through the execd
// shim, as a user would build it to compare with telegraf-chrony. Built as
// it is, it exists to be measured (stripped binary size, RSS, CPU per
// gather); with -tags chrony_tracking it runs this repository's plugin too,
// for the test that the plugin still works under the shim (test/telegrafshim).
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/influxdata/telegraf/plugins/common/shim"
	_ "github.com/influxdata/telegraf/plugins/inputs/chrony"
)

func main() {
	pollInterval := flag.Duration("poll_interval", time.Second, "how often to gather")
	disabled := flag.Bool("poll_interval_disabled", false, "gather on each newline on stdin instead")
	configFile := flag.String("config", "", "path to the [[inputs.chrony]] config")
	flag.Parse()
	if *disabled {
		*pollInterval = shim.PollIntervalDisabled
	}
	s := shim.New()
	if err := s.LoadConfig(configFile); err != nil {
		fmt.Fprintf(os.Stderr, "E! loading config: %s\n", err)
		os.Exit(1)
	}
	if err := s.Run(*pollInterval); err != nil {
		fmt.Fprintf(os.Stderr, "E! %s\n", err)
		os.Exit(1)
	}
}
