package pipelines

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/test/testutil/influxlab"
)

// sourceSeries is one field of one source, or of one server's serverstats,
// as the plugin writes it: values oldest first, one every interval, the
// last just before the queries run.
type sourceSeries struct {
	measurement, server, address, field string
	values                              []int64
}

// run repeats v n times: a promtool 'vxn' in Go.
func run(v int64, n int) []int64 { return slices.Repeat([]int64{v}, n) }

// lines is the series as line protocol, with the tags the plugin gives a
// source (peer and address) or a server's serverstats, points interval
// apart ending at end.
func (s sourceSeries) lines(end time.Time, interval time.Duration) []string {
	tags := "server=" + escapeTag(s.server) + ",result=success"
	if s.address != "" {
		tags += ",peer=" + escapeTag(s.address) + ",address=" + escapeTag(s.address)
	}
	out := make([]string, len(s.values))
	for i, v := range s.values {
		at := end.Add(-time.Duration(len(s.values)-1-i) * interval)
		out[i] = fmt.Sprintf("%s,%s %s=%di,result_code=0i %d", s.measurement, tags, s.field, v, at.UnixNano())
	}
	return out
}

func escapeTag(v string) string {
	return strings.NewReplacer(",", `\,`, "=", `\=`, " ", `\ `).Replace(v)
}

// TestSourceAlertsInfluxQL runs the source alerts of alerts.influxql in a
// real InfluxDB over points at Telegraf's default 10 s interval, from
// servers that should and should not set each off: the InfluxQL twins of
// chrony.rules.test.yml's cases. Each alert has a database of its own, so
// that one case's servers do not set off another's alert.
func TestSourceAlertsInfluxQL(t *testing.T) {
	t.Parallel()
	src := func(server, address string, values ...[]int64) sourceSeries {
		return sourceSeries{"chrony_sources", server, address, "", slices.Concat(values...)}
	}
	state := func(s sourceSeries) sourceSeries { s.field = "state_code"; return s }
	reach := func(s sourceSeries) sourceSeries { s.field = "reachability"; return s }
	drops := func(server string, values ...[]int64) sourceSeries {
		return sourceSeries{"chrony_serverstats", server, "", "ntp_drops", slices.Concat(values...)}
	}
	counting := make([]int64, 120)
	for i := range counting {
		counting[i] = int64(i)
	}
	cases := []struct {
		alert  string
		series []sourceSeries
		want   []string // server, or server/address, of each series the query returns
	}{
		{"ChronyNoSelectedSource", []sourceSeries{
			state(src("ntp1", "192.0.2.1", run(0, 60))), state(src("ntp1", "192.0.2.2", run(4, 60))),
			// lost its only source 6 minutes ago
			state(src("ntp2", "192.0.2.9", run(0, 24), run(1, 36))),
			// selected one 2 minutes ago
			state(src("ntp3", "ID#0000000001", run(1, 60))), state(src("ntp3", "192.0.2.7", run(1, 48), run(0, 12))),
		}, []string{"ntp2"}},
		{"ChronyFewReachableSources", []sourceSeries{
			reach(src("ntp1", "192.0.2.1", run(255, 80))), reach(src("ntp1", "192.0.2.2", run(255, 80))),
			reach(src("ntp1", "192.0.2.3", run(1, 80))), reach(src("ntp1", "192.0.2.4", run(0, 80))),
			// its third stopped answering 11 minutes ago
			reach(src("ntp2", "192.0.2.1", run(255, 80))), reach(src("ntp2", "192.0.2.2", run(255, 80))),
			reach(src("ntp2", "192.0.2.3", run(255, 14), run(0, 66))),
			reach(src("ntp3", "192.0.2.9", run(0, 80))),
		}, []string{"ntp2", "ntp3"}},
		{"ChronyFalseticker", []sourceSeries{
			state(src("ntp1", "GPS", run(2, 60))),
			// combined again a minute ago
			state(src("ntp1", "192.0.2.2", run(2, 54), run(4, 6))),
			state(src("ntp1", "192.0.2.1", run(0, 60))),
			state(src("ntp1", "2001:db8::1", run(3, 60))),
		}, []string{"ntp1/GPS"}},
		{"ChronySourceUnreachable", []sourceSeries{
			reach(src("ntp1", "ID#0000000001", run(0, 80))),
			reach(src("ntp1", "192.0.2.2", run(128, 80))),
			// unreachable for 5 minutes only
			reach(src("ntp1", "192.0.2.3", run(255, 50), run(0, 30))),
		}, []string{"ntp1/ID#0000000001"}},
		{"ChronyServerDropsRising", []sourceSeries{
			drops("a", counting),
			// stopped counting 11 minutes ago
			drops("b", counting[:54], run(53, 66)),
			// chronyd restarted 5 minutes ago: back to 0, and no drop since
			drops("c", run(500, 90), run(0, 30)),
		}, []string{"a"}},
	}
	influx := influxlab.Start(t)
	queries := map[string]string{}
	for _, a := range influxAlerts(t, example(t, "influxdb/alerts.influxql")) {
		queries[a.Name] = a.Query
	}
	end := time.Now().Add(-time.Second)
	for _, tc := range cases {
		t.Run(tc.alert, func(t *testing.T) {
			q := queries[tc.alert]
			if q == "" {
				t.Fatalf("alerts.influxql has no alert %s", tc.alert)
			}
			if err := influx.CreateDatabase(tc.alert); err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, s := range tc.series {
				lines = append(lines, s.lines(end, 10*time.Second)...)
			}
			if err := influx.Write(tc.alert, strings.Join(lines, "\n")); err != nil {
				t.Fatal(err)
			}
			series, err := influx.Query(tc.alert, q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range series {
				who := s.Tags["server"]
				if a := s.Tags["address"]; a != "" {
					who += "/" + a
				}
				got = append(got, who)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s returns %q, want %q\n%s", tc.alert, got, tc.want, q)
			}
		})
	}
}
