package pipelines

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/telegraf-chrony/telegraf-chrony/test/grafana"
)

// loadDashboard loads one of examples/grafana's files, checked against
// Grafana's model, with its panel queries and server variable query.
func loadDashboard(t *testing.T, name string) ([]grafana.Query, string) {
	t.Helper()
	d, err := grafana.Load(repoRoot + "/examples/grafana/" + name)
	if err != nil {
		t.Fatal(err)
	}
	queries, err := grafana.Queries(d)
	if err != nil {
		t.Fatal(err)
	}
	return queries, serverVariable(t, d)
}

func serverVariable(t *testing.T, d dashboard.Dashboard) string {
	t.Helper()
	for _, v := range d.Templating.List {
		if v.Name == "server" && v.Query != nil && v.Query.String != nil {
			return *v.Query.String
		}
	}
	t.Fatal("the dashboard has no server variable query")
	return ""
}

// dashboardRange is the time range the panels are queried over: the whole
// test so far.
func (p *pipeline) dashboardRange() time.Duration {
	return time.Since(p.start).Round(time.Second) + time.Minute
}

// wantValues says which values a panel's field must show for a server
// beyond "some": the healthy server's result shows the outage and the
// recovery; the sources of the chronyd with sources of every kind show
// a selected one (0) and a falseticker (2).
func (p *pipeline) wantValues(s server, panel string) []float64 {
	switch {
	case s.role == p.healthy.role && panel == "Result":
		return []float64{0, 1}
	case s.role == p.sources.role && panel == "Source state":
		return []float64{0, 2}
	}
	return nil
}

// noValues says that a panel shows nothing for a server: the
// unsynchronised chronyd never selected a source.
func (p *pipeline) noValues(s server, panel string) bool {
	return s.role == p.unsynchronised.role && panel == "Selected source"
}

// Every panel query of the InfluxDB dashboard, with Grafana's variables
// replaced as Grafana does for one server, returns each of the panel's
// fields for each server; the server variable lists every server.
func (p *pipeline) checkInfluxDBDashboard(t *testing.T) {
	queries, serverQuery := loadDashboard(t, "chrony-influxdb.json")
	series, err := p.influx.Query(database, serverQuery)
	if err != nil || len(series) != 1 {
		t.Fatalf("%s: %v, %v", serverQuery, series, err)
	}
	var listed []string
	for _, row := range series[0].Rows() {
		listed = append(listed, fmt.Sprint(row["value"]))
	}
	p.requireAllServers(t, serverQuery, listed)

	fields := grafana.Fields()
	for _, s := range p.servers() {
		for _, q := range queries {
			text := strings.NewReplacer(
				"$server", influxRegexEscape(s.url),
				"$timeFilter", "time > now() - "+durationString(p.dashboardRange()),
				"$__interval", "1s",
			).Replace(q.Text)
			series, err := p.influx.Query(database, text)
			if err != nil || len(series) == 0 && !p.noValues(s, q.Panel) {
				t.Errorf("%s, panel %q: %s: %d series, %v", s.role, q.Panel, text, len(series), err)
				continue
			}
			for _, f := range fields[q.Panel] {
				var values []float64
				for _, ser := range series { // one per source for the source panels
					for _, row := range ser.Rows() {
						if v, ok := numeric(row[f]); ok {
							values = append(values, v)
						}
					}
				}
				p.checkValues(t, s, q.Panel, f, values)
			}
		}
	}
}

// Every panel query of the Prometheus dashboard, as a range query over
// the test so far, returns points for each server; label_values lists
// every server.
func (p *pipeline) checkPrometheusDashboard(t *testing.T) {
	queries, serverQuery := loadDashboard(t, "chrony-prometheus.json")
	m := regexp.MustCompile(`^label_values\(([a-z_]+), *([a-z_]+)\)$`).FindStringSubmatch(serverQuery)
	if m == nil {
		t.Fatalf("server variable query %q is not label_values(metric, label)", serverQuery)
	}
	listed, err := p.prom.LabelValues(m[2], m[1])
	if err != nil {
		t.Fatal(err)
	}
	p.requireAllServers(t, serverQuery, listed)

	end := time.Now()
	start := end.Add(-p.dashboardRange())
	for _, s := range p.servers() {
		for _, q := range queries {
			text := strings.ReplaceAll(q.Text, "$server", promRegexEscape(s.url))
			series, err := p.prom.QueryRange(text, start, end, time.Second)
			if err != nil || len(series) == 0 && !p.noValues(s, q.Panel) {
				t.Errorf("%s, panel %q: %s: %d series, %v", s.role, q.Panel, text, len(series), err)
				continue
			}
			var values []float64
			for _, ser := range series {
				for _, pt := range ser.Points {
					values = append(values, pt.Value)
				}
			}
			p.checkValues(t, s, q.Panel, q.Legend, values)
		}
	}
}

func (p *pipeline) requireAllServers(t *testing.T, query string, listed []string) {
	t.Helper()
	for _, s := range p.servers() {
		if !slices.Contains(listed, s.url) {
			t.Errorf("%s lists %q, without %s", query, listed, s.url)
		}
	}
}

// checkValues wants at least one value of a server's panel, and each of
// wantValues among them; none where noValues says so.
func (p *pipeline) checkValues(t *testing.T, s server, panel, field string, values []float64) {
	t.Helper()
	what := fmt.Sprintf("%s, panel %q, %s", s.role, panel, field)
	switch {
	case p.noValues(s, panel):
		if len(values) != 0 {
			t.Errorf("%s: values %v, want none", what, values)
		}
		return
	case len(values) == 0:
		t.Errorf("%s: no values", what)
	}
	for _, w := range p.wantValues(s, panel) {
		if !slices.Contains(values, w) {
			t.Errorf("%s: no %v among %v", what, w, values)
		}
	}
}

// numeric reads an InfluxDB JSON value; booleans count as 0 and 1.
func numeric(v any) (float64, bool) {
	switch v := v.(type) {
	case bool:
		return map[bool]float64{false: 0, true: 1}[v], true
	case interface{ Float64() (float64, error) }:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}

// influxRegexEscape is what Grafana does to a multi-value variable's value
// inside an InfluxQL /regex/: escape the regex metacharacters and the slash.
func influxRegexEscape(s string) string {
	return strings.ReplaceAll(regexp.QuoteMeta(s), "/", `\/`)
}

// promRegexEscape is what Grafana does to a multi-value variable's value
// inside a PromQL =~"regex": escape the metacharacters, then the
// backslashes for the string literal.
func promRegexEscape(s string) string {
	return strings.ReplaceAll(regexp.QuoteMeta(s), `\`, `\\`)
}
