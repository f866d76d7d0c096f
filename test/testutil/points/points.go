// Package points reads what the command or a Telegraf agent wrote as line
// protocol back into Telegraf metrics, with Telegraf's own parser, so that
// a test reads the output as a Telegraf output plugin's consumer would.
package points

import (
	"testing"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/plugins/parsers/influx"
)

// Parse returns the metrics of lp, failing t when lp is not line protocol.
func Parse(t testing.TB, lp string) []telegraf.Metric {
	t.Helper()
	p := &influx.Parser{}
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	ms, err := p.Parse([]byte(lp))
	if err != nil {
		t.Fatalf("not line protocol: %v\n%s", err, lp)
	}
	return ms
}
