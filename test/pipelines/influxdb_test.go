package pipelines

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

// database is outputs.influxdb's in examples/telegraf/influxdb.conf.
const database = "telegraf"

// tagKeys are the plugin's tags; InfluxDB returns them as columns beside
// the fields.
var tagKeys = []string{"server", "reference_id", "reference_name", "result"}

// rowPoint reads a SELECT * row back as a point: JSON numbers as float64.
func rowPoint(t testing.TB, row map[string]any) point {
	t.Helper()
	pt := point{Tags: map[string]string{}, Fields: map[string]any{}}
	for col, v := range row {
		switch {
		case v == nil || col == "time":
		case slices.Contains(tagKeys, col):
			pt.Tags[col] = v.(string)
		default:
			if n, ok := v.(json.Number); ok {
				f, err := n.Float64()
				if err != nil {
					t.Fatalf("%s = %v: %v", col, n, err)
				}
				v = f
			}
			pt.Fields[col] = v
		}
	}
	return pt
}

// newest is the last point of server with result in InfluxDB, and how many
// there are.
func (p *pipeline) newest(t testing.TB, url, result string) (point, int, error) {
	where := fmt.Sprintf(`WHERE "server" = '%s' AND "result" = '%s'`, url, result)
	count, err := p.influx.Query(database, `SELECT count("result_code") FROM "`+measurement+`" `+where)
	if err != nil || len(count) == 0 {
		return point{}, 0, err
	}
	n, _ := count[0].Rows()[0]["count"].(json.Number).Int64()
	series, err := p.influx.Query(database, `SELECT * FROM "`+measurement+`" `+where+` ORDER BY time DESC LIMIT 1`)
	if err != nil || len(series) != 1 {
		return point{}, 0, fmt.Errorf("newest point: %v, %v", series, err)
	}
	return rowPoint(t, series[0].Rows()[0]), int(n), nil
}

func (p *pipeline) waitNewest(t *testing.T, url, result string, min int) point {
	t.Helper()
	var pt point
	waitFor(t, flowWait, fmt.Sprintf("%d %s point(s) of %s in InfluxDB", min, result, url), func() (bool, string) {
		var n int
		var err error
		pt, n, err = p.newest(t, url, result)
		return err == nil && n >= min, fmt.Sprintf("%d points, %v", n, err)
	})
	return pt
}

// InfluxDB holds every tag and field as --once reads them.
func (p *pipeline) checkInfluxDB(t *testing.T) {
	for _, s := range p.servers() {
		p.waitNewest(t, s.url, "success", 2)
		want := once(t, s.url)
		got, _, err := p.newest(t, s.url, "success")
		if err != nil {
			t.Fatal(err)
		}
		if diffs := sameReading(got, want, s.tol, false); len(diffs) > 0 {
			t.Errorf("%s (%s): InfluxDB differs from --once:\n  %s", s.role, s.url, strings.Join(diffs, "\n  "))
		}
	}
}

func (p *pipeline) checkInfluxDBOutage(t *testing.T) {
	got := p.waitNewest(t, p.healthy.url, "service_unavailable", 2)
	if diffs := sameReading(got, once(t, p.healthy.url), exactlyButAge, false); len(diffs) > 0 {
		t.Errorf("the failure point differs from --once:\n  %s", strings.Join(diffs, "\n  "))
	}
}

// Only the stopped chronyd ever failed, and only with service_unavailable:
// a failed gather of another would be a fault of the pipeline (or the
// plugin) that the alerts above could hide.
func (p *pipeline) checkOnlyOutageFailed(t *testing.T) {
	series, err := p.influx.Query(database, `SELECT count("result_code") FROM "`+measurement+`" WHERE "result" != 'success' GROUP BY "server", "result"`)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range series {
		if s.Tags["server"] != p.healthy.url || s.Tags["result"] != "service_unavailable" {
			rows, _ := p.influx.Query(database, fmt.Sprintf(`SELECT * FROM "%s" WHERE "server" = '%s' AND "result" != 'success'`, measurement, s.Tags["server"]))
			t.Errorf("failed gathers %v: %v", s.Tags, rows)
		}
	}
}

// influxAlertsFiring runs each query of alerts.influxql and lists the
// servers it returns, by alert.
func (p *pipeline) influxAlertsFiring(alerts []influxAlert) (alertSet, error) {
	out := alertSet{}
	for _, a := range alerts {
		series, err := p.influx.Query(database, a.Query)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.Name, err)
		}
		for _, s := range series {
			out[a.Name] = append(out[a.Name], s.Tags["server"])
		}
	}
	return out.sorted(), nil
}

// docs/pipelines.md's influx command, run as written but for the server's port:
// the CLI lists every server.
func (p *pipeline) checkInfluxCommand(t *testing.T) {
	var line string
	for _, l := range strings.Split(docs(t), "\n") {
		if strings.HasPrefix(l, "influx -database "+database+" -execute ") {
			line = l
		}
	}
	if line == "" {
		t.Fatal("the docs have no `influx -database telegraf -execute` line")
	}
	host, port, _ := strings.Cut(strings.TrimPrefix(p.influx.URL, "http://"), ":")
	cmd := exec.Command("sh", "-c", strings.Replace(line, "influx ", "influx -host "+host+" -port "+port+" ", 1))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	for _, s := range p.servers() {
		if !strings.Contains(string(out), "server="+s.url) {
			t.Errorf("the influx command's output lacks %s:\n%s", s.url, out)
		}
	}
}

// alertSet is the servers in each alert's state, sorted.
type alertSet map[string][]string

func (a alertSet) sorted() alertSet {
	for k, v := range a {
		sort.Strings(v)
		if len(v) == 0 {
			delete(a, k)
		}
	}
	return a
}

func (a alertSet) String() string {
	var out []string
	for _, k := range keys(a) {
		out = append(out, k+"="+strings.Join(a[k], ","))
	}
	return "{" + strings.Join(out, " ") + "}"
}
