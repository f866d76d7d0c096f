package promlab

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const waitTimeout = 60 * time.Second

func TestScrapeQueryAndAlert(t *testing.T) {
	t.Parallel()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, `lab_metric{colour="blue"} 42`)
	}))
	defer target.Close()
	s := Start(t, Config{
		YAML: `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ["lab.rules.yml"]
scrape_configs:
  - job_name: lab
    static_configs:
      - targets: ["` + strings.TrimPrefix(target.URL, "http://") + `"]
`,
		Files: map[string]string{"lab.rules.yml": `groups:
  - name: lab
    rules:
      - alert: LabMetricHigh
        expr: lab_metric > 40
`},
	})
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %s, want loopback", s.URL)
	}
	require.Eventually(t, func() bool {
		got, err := s.Query(`lab_metric{job="lab"}`)
		return err == nil && len(got) == 1 && got[0].Value == 42 && got[0].Metric["colour"] == "blue"
	}, waitTimeout, 200*time.Millisecond, "lab_metric scraped")
	targets, err := s.Targets()
	if err != nil || len(targets) != 1 || targets[0].Health != "up" {
		t.Errorf("targets = %+v, %v; want the lab target up", targets, err)
	}
	require.Eventually(t, func() bool {
		alerts, err := s.Alerts()
		return err == nil && len(alerts) == 1 && alerts[0].State == "firing" &&
			alerts[0].Labels["alertname"] == "LabMetricHigh" && alerts[0].Labels["colour"] == "blue"
	}, waitTimeout, 200*time.Millisecond, "LabMetricHigh firing")
	if values, err := s.LabelValues("colour", "lab_metric"); err != nil || len(values) != 1 || values[0] != "blue" {
		t.Errorf("LabelValues = %q, %v; want [blue]", values, err)
	}
	end := time.Now()
	series, err := s.QueryRange(`lab_metric`, end.Add(-time.Minute), end, time.Second)
	if err != nil || len(series) != 1 || len(series[0].Points) == 0 || series[0].Points[0].Value != 42 {
		t.Errorf("QueryRange = %+v, %v", series, err)
	}
	if _, err := s.Query(`lab_metric{`); err == nil || !strings.Contains(err.Error(), "bad_data") {
		t.Errorf("a bad query: err = %v, want Prometheus' bad_data", err)
	}
}

func TestPromtool(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, err := Promtool(t, dir, "--version")
	if err != nil || !strings.Contains(out, "promtool, version 2.") {
		t.Errorf("promtool --version: %v: %s", err, out)
	}
	if out, err := Promtool(t, dir, "check", "rules", "missing.yml"); err == nil {
		t.Errorf("promtool check rules on a missing file succeeded: %s", out)
	}
}
