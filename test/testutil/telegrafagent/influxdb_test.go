package telegrafagent

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/test/testutil/influxlab"
)

// The binary includes outputs.influxdb for the full pipeline; this checks
// that the tag took and that the agent and the lab server talk.
func TestAgentWritesToInfluxDB(t *testing.T) {
	t.Parallel()
	srv := influxlab.Start(t)
	Start(t, `
[agent]
  interval = "1s"
  flush_interval = "1s"
  omit_hostname = true

[[inputs.execd]]
  command = `+stdinChild+`
  signal = "STDIN"
  data_format = "influx"

[[outputs.influxdb]]
  urls = ["`+srv.URL+`"]
  database = "e2e"
`)
	deadline := time.Now().Add(outputTimeout)
	for {
		series, err := srv.Query("e2e", `SELECT value FROM probe WHERE host = 'x'`)
		if err == nil && len(series) == 1 && len(series[0].Values) > 0 {
			if got := series[0].Rows()[0]["value"]; got != json.Number("1") {
				t.Errorf("value = %#v, want 1", got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no probe point in InfluxDB after %v: series %+v, err %v", outputTimeout, series, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
