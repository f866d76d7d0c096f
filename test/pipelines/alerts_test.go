package pipelines

import (
	"bufio"
	"fmt"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/telegraf-chrony/telegraf-chrony/test/testutil/promlab"
)

// rule is one alerting rule of examples/prometheus/chrony.rules.yml.
type rule struct {
	Alert string `yaml:"alert"`
	Expr  string `yaml:"expr"`
	For   string `yaml:"for"`
}

func promRules(t testing.TB, text string) []rule {
	t.Helper()
	var f struct {
		Groups []struct {
			Rules []rule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal([]byte(text), &f); err != nil {
		t.Fatal(err)
	}
	var out []rule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// influxAlert is one query of examples/influxdb/alerts.influxql: a
// "-- alert: Name" line, comment lines, then the query up to a blank line.
type influxAlert struct{ Name, Query string }

func influxAlerts(t testing.TB, text string) []influxAlert {
	t.Helper()
	var out []influxAlert
	var cur *influxAlert
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "-- alert: "):
			out = append(out, influxAlert{Name: strings.TrimPrefix(line, "-- alert: ")})
			cur = &out[len(out)-1]
		case line == "":
			cur = nil
		case strings.HasPrefix(line, "--"):
		case cur != nil:
			cur.Query = strings.TrimSpace(cur.Query + " " + line)
		default:
			t.Fatalf("alerts.influxql: query outside an alert block: %s", line)
		}
	}
	for _, a := range out {
		if a.Query == "" {
			t.Fatalf("alerts.influxql: alert %s has no query", a.Name)
		}
	}
	return out
}

// Both files name the same alerts, in the same order.
func TestAlertFilesAgree(t *testing.T) {
	var prom, influx []string
	for _, r := range promRules(t, example(t, "prometheus/chrony.rules.yml")) {
		prom = append(prom, r.Alert)
	}
	for _, a := range influxAlerts(t, example(t, "influxdb/alerts.influxql")) {
		influx = append(influx, a.Name)
	}
	want := []string{"ChronyNotSynchronised", "ChronyClockErrorBoundHigh", "ChronyGatherFailing", "ChronyStratum16", "ChronyLeapSecondPending",
		"ChronyNoSelectedSource", "ChronyFewReachableSources", "ChronyFalseticker", "ChronySourceUnreachable", "ChronyServerDropsRising"}
	if !slices.Equal(prom, want) || !slices.Equal(influx, want) {
		t.Errorf("alerts: prometheus %q, influxdb %q; want %q", prom, influx, want)
	}
}

// promtool checks the rules and the Prometheus config, and runs the rules'
// unit tests (input series for servers that should and should not set
// each alert off).
func TestPromtool(t *testing.T) {
	t.Parallel()
	dir := repoRoot + "/examples/prometheus"
	for _, args := range [][]string{
		{"check", "rules", "chrony.rules.yml"},
		{"check", "config", "prometheus.yml"},
		{"test", "rules", "chrony.rules.test.yml"},
	} {
		out, err := promlab.Promtool(t, dir, args...)
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		} else {
			t.Logf("promtool %s: %s", strings.Join(args, " "), strings.Join(strings.Fields(out), " "))
		}
	}
}

// expectedAlerts is which server each alert is about (a server once for
// each source an alert is about): the unsynchronised chronyd is not
// synchronised and its error bound is 1.5 s (root delay and dispersion of
// 1 s), its one source never answered and is not selected; the one
// following a stratum-15 server is at stratum 16 and so not synchronised
// either; the fake announces a leap second, and in its table of sources of
// every kind a reference clock is a falseticker and a peer and an
// unresolved name are unreachable; the chronyd with sources of every kind
// has a falseticker, a silent source and an unresolved name, and drops
// the NTP requests of a client beyond its rate limit. The healthy
// one, the unsynchronised one and the one at stratum 16 reach fewer than 3
// sources, the healthy one but during the outage, when it fails every
// gather instead.
func (p *pipeline) expectedAlerts(outage bool) alertSet {
	a := alertSet{
		"ChronyNotSynchronised":     {p.unsynchronised.url, p.stratum16.url},
		"ChronyClockErrorBoundHigh": {p.unsynchronised.url},
		"ChronyStratum16":           {p.stratum16.url},
		"ChronyLeapSecondPending":   {p.leap.url},
		"ChronyNoSelectedSource":    {p.unsynchronised.url},
		"ChronyFewReachableSources": {p.unsynchronised.url, p.stratum16.url},
		"ChronyFalseticker":         {p.sources.url, p.leap.url},
		"ChronySourceUnreachable":   {p.sources.url, p.sources.url, p.unsynchronised.url, p.leap.url, p.leap.url},
		"ChronyServerDropsRising":   {p.sources.url},
	}
	if outage {
		a["ChronyGatherFailing"] = []string{p.healthy.url}
	} else {
		a["ChronyFewReachableSources"] = append(a["ChronyFewReachableSources"], p.healthy.url)
	}
	return a.sorted()
}

// promAlertsFiring lists the servers of each firing alert of the rules
// Prometheus loaded.
func (p *pipeline) promAlertsFiring() (alertSet, error) {
	alerts, err := p.prom.Alerts()
	if err != nil {
		return nil, err
	}
	out := alertSet{}
	for _, a := range alerts {
		if a.State == "firing" {
			out[a.Labels["alertname"]] = append(out[a.Labels["alertname"]], a.Labels["server"])
		}
	}
	return out.sorted(), nil
}

// checkAlerts waits until the Prometheus rules (loaded by the server, their
// `for` scaled) and the InfluxQL queries (their windows scaled) both
// report exactly want, at the same time.
func (p *pipeline) checkAlerts(t *testing.T, want alertSet) {
	queries := influxAlerts(t, scaled(example(t, "influxdb/alerts.influxql")))
	waitFor(t, alertWait, "alerts "+want.String(), func() (bool, string) {
		prom, perr := p.promAlertsFiring()
		influx, ierr := p.influxAlertsFiring(queries)
		return perr == nil && ierr == nil && prom.String() == want.String() && influx.String() == want.String(),
			fmt.Sprintf("prometheus %v (%v), influxql %v (%v)", prom, perr, influx, ierr)
	})
	t.Logf("firing in Prometheus and InfluxQL: %v", want)
}
