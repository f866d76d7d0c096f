package pipelines

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/test/testutil/influxlab"
	"github.com/telegraf-chrony/telegraf-chrony/test/testutil/kafkalab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
)

// The reports beyond tracking, end to end, from the chronyd with sources
// of every kind: each output carries every report, and a source is one
// series, told apart by its address tag (pool members and an unresolved
// name share their peer).

// wantStates are the states of two of the lab's sources, which settle:
// the server it follows is selected, its reference clock a falseticker.
var wantStates = map[string]int64{"127.0.0.1": 0, chronylab.RefclockRefID: 2}

// lastGather is the newest gather's points of measurement from server.
func lastGather(ps []point, name, url string) []point {
	var newest time.Time
	for _, pt := range ps {
		if pt.Name == name && pt.Tags["server"] == url && pt.Time.After(newest) {
			newest = pt.Time
		}
	}
	var out []point
	for _, pt := range ps {
		if pt.Name == name && pt.Tags["server"] == url && pt.Time.Equal(newest) {
			out = append(out, pt)
		}
	}
	return out
}

// sourcesOf checks one gather of chrony_sources: a success point for each
// of the lab's sources, one each, with the settled states; it says what
// differs.
func (p *pipeline) sourcesOf(gather []point) string {
	var addrs []string
	for _, pt := range gather {
		addrs = append(addrs, pt.Tags["address"])
		if pt.Tags["result"] != "success" {
			return fmt.Sprintf("a failed point %v", pt.Tags)
		}
		if want, ok := wantStates[pt.Tags["address"]]; ok && fmt.Sprint(pt.Fields["state_code"]) != fmt.Sprint(want) {
			return fmt.Sprintf("source %s: state_code %v, want %d", pt.Tags["address"], pt.Fields["state_code"], want)
		}
	}
	slices.Sort(addrs)
	want := slices.Sorted(slices.Values(p.sourceAddrs))
	if !slices.Equal(addrs, want) {
		return fmt.Sprintf("sources %q, want %q (chronyc)", addrs, want)
	}
	return ""
}

// Both Kafka topics carry every report of each gather; the newest gather
// of sources has each of the lab's sources once.
func (p *pipeline) checkKafkaReports(t *testing.T) {
	for _, tp := range p.topics() {
		t.Run(tp.name, func(t *testing.T) {
			var state string
			tp.consumer.Wait(t, flowWait, "every report of "+p.sources.url, func(recs []kafkalab.Record) bool {
				ps := tp.decode(t, recs)
				state = p.sourcesOf(lastGather(ps, "chrony_sources", p.sources.url))
				for _, name := range measurements {
					if g := lastGather(ps, name, p.sources.url); len(g) == 0 || g[0].Tags["result"] != "success" {
						state += fmt.Sprintf("; no successful %s point", name)
					}
				}
				return state == ""
			})
			if state != "" {
				t.Error(state)
			}
		})
	}
}

// InfluxDB holds one series per source (SHOW SERIES), and the newest
// points of every report.
func (p *pipeline) checkInfluxDBReports(t *testing.T) {
	where := fmt.Sprintf(`WHERE "server" = '%s'`, p.sources.url)
	waitFor(t, flowWait, "every report of "+p.sources.url+" in InfluxDB", func() (bool, string) {
		var missing []string
		for _, name := range measurements {
			n, err := p.influx.Query(database, `SELECT count("result_code") FROM `+influxlab.QuoteIdent(name)+` `+where+` AND "result" = 'success'`)
			if err != nil || len(n) == 0 {
				missing = append(missing, fmt.Sprintf("%s (%v)", name, err))
			}
		}
		return len(missing) == 0, fmt.Sprintf("no successful points of %v", missing)
	})
	series, err := p.influx.Query(database, `SHOW SERIES FROM "chrony_sources" `+where)
	if err != nil || len(series) != 1 {
		t.Fatalf("SHOW SERIES: %v, %v", series, err)
	}
	var keys []string
	for _, row := range series[0].Rows() {
		keys = append(keys, fmt.Sprint(row["key"]))
	}
	if len(keys) != len(p.sourceAddrs) {
		t.Errorf("%d series of chrony_sources, want one per source (%d):\n%s", len(keys), len(p.sourceAddrs), strings.Join(keys, "\n"))
	}
	last, err := p.influx.Query(database, `SELECT last("state_code") FROM "chrony_sources" `+where+` GROUP BY "address"`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range last {
		got[s.Tags["address"]] = fmt.Sprint(s.Rows()[0]["last"])
	}
	for addr, want := range wantStates {
		if got[addr] != fmt.Sprint(want) {
			t.Errorf("source %s: last state_code %q, want %d (all: %v)", addr, got[addr], want, got)
		}
	}
	t.Logf("chrony_sources series of %s:\n%s", p.sources.url, strings.Join(keys, "\n"))
}

// Prometheus has one series per source and field: chrony_sources_state_code
// once for each address, with the settled states.
func (p *pipeline) checkPrometheusReports(t *testing.T) {
	q := fmt.Sprintf(`chrony_sources_state_code{server=%q}`, p.sources.url)
	var state string
	waitFor(t, flowWait, q, func() (bool, string) {
		samples, err := p.prom.Query(q)
		if err != nil {
			return false, err.Error()
		}
		var gather []point
		for _, s := range samples {
			gather = append(gather, point{Tags: labels(s.Metric), Fields: map[string]any{"state_code": int64(s.Value)}})
		}
		state = p.sourcesOf(gather)
		return state == "", state
	})
	for _, name := range measurements[1:] {
		samples, err := p.prom.Query(fmt.Sprintf(`%s_result_code{server=%q}`, name, p.sources.url))
		if err != nil || len(samples) == 0 {
			t.Errorf("no %s_result_code series of %s: %v", name, p.sources.url, err)
		}
	}
}
