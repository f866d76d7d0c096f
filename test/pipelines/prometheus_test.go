package pipelines

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/test/testutil/promlab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// promSeries is every chrony_tracking series of one server, by metric name.
func (p *pipeline) promSeries(url string) (map[string][]promlab.Sample, error) {
	samples, err := p.prom.Query(fmt.Sprintf(`{__name__=~"%s_.+", server=%q}`, measurement, url))
	if err != nil {
		return nil, err
	}
	out := map[string][]promlab.Sample{}
	for _, s := range samples {
		out[s.Metric["__name__"]] = append(out[s.Metric["__name__"]], s)
	}
	return out, nil
}

// labels is a series' labels less those Prometheus adds: what should
// equal the point's tags.
func labels(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		switch k {
		case "__name__", "job", "instance":
		default:
			out[k] = v
		}
	}
	return out
}

// Every field is there under chrony_tracking_<field>, one series per
// server labelled with the point's tags, and its value is what --once
// reads (synchronised as 1 or 0).
func (p *pipeline) checkPrometheus(t *testing.T) {
	for _, s := range p.servers() {
		var series map[string][]promlab.Sample
		waitFor(t, flowWait, "Prometheus has "+s.url, func() (bool, string) {
			var err error
			series, err = p.promSeries(s.url)
			return err == nil && len(series) == 16, fmt.Sprintf("%d metrics, %v", len(series), err)
		})
		want := once(t, s.url)
		series, err := p.promSeries(s.url)
		if err != nil {
			t.Fatal(err)
		}
		got := point{Tags: nil, Fields: map[string]any{}}
		text := docs(t)
		for _, name := range keys(series) {
			ss := series[name]
			if !strings.Contains(text, "`"+name+"`") {
				t.Errorf("the docs do not list %s", name)
			}
			if s.role == p.healthy.role {
				t.Logf("%s%v %v", name, labels(ss[0].Metric), ss[0].Value)
			}
			if len(ss) != 1 {
				t.Errorf("%s: %d series of %s, want one: %v", s.role, len(ss), name, ss)
				continue
			}
			got.Tags = labels(ss[0].Metric)
			field := strings.TrimPrefix(name, measurement+"_")
			got.Fields[field] = ss[0].Value
			if b, ok := want.Fields[field].(bool); ok {
				want.Fields[field] = map[bool]float64{false: 0, true: 1}[b]
			}
		}
		if diffs := sameReading(got, want, s.tol, false); len(diffs) > 0 {
			t.Errorf("%s (%s): Prometheus differs from --once:\n  %s", s.role, s.url, strings.Join(diffs, "\n  "))
		}
	}
}

// outputs.prometheus_client's default metric_version 1 drops boolean
// fields: docs/pipelines.md's reason for metric_version = 2.
func (p *pipeline) checkPrometheusV1(t *testing.T) {
	var body string
	waitFor(t, flowWait, "the metric_version 1 endpoint has points", func() (bool, string) {
		resp, err := http.Get(p.promV1URL)
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		body = string(b)
		return err == nil && strings.Contains(body, measurement+"_system_time{"), body
	})
	if strings.Contains(body, measurement+"_synchronised") {
		t.Errorf("metric_version 1 exports synchronised after all:\n%s", body)
	}
}

// expirationInterval is outputs.prometheus_client's expiration_interval in
// the example, scaled.
func expirationInterval(t *testing.T) time.Duration {
	m := regexp.MustCompile(`(?m)^\s*expiration_interval = "(\S+)"`).FindStringSubmatch(scaled(example(t, "telegraf/prometheus.conf")))
	if m == nil {
		t.Fatal("examples/telegraf/prometheus.conf sets no expiration_interval")
	}
	d, err := time.ParseDuration(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// A failed gather is one series, chrony_tracking_result_code labelled with
// server and result only; the server's other series leave the endpoint
// expiration_interval after its last success (give or take a flush and a
// scrape, an interval each, and one more for a loaded machine).
func (p *pipeline) checkPrometheusOutage(t *testing.T) {
	waitFor(t, flowWait, "only the failure's series is left", func() (bool, string) {
		series, err := p.promSeries(p.healthy.url)
		if err != nil {
			return false, err.Error()
		}
		var names []string
		for name := range series {
			names = append(names, name)
		}
		sort.Strings(names)
		rc := series[measurement+"_result_code"]
		ok := len(series) == 1 && len(rc) == 1 && rc[0].Value == 1 &&
			fmt.Sprint(labels(rc[0].Metric)) == fmt.Sprint(map[string]string{"result": "service_unavailable", "server": p.healthy.url})
		return ok, fmt.Sprintf("metrics %v, result_code %v", names, rc)
	})
	took, expire := time.Since(p.outageAt), expirationInterval(t)
	t.Logf("only the failure's series left %v after chronyd stopped (expiration_interval %v)", took.Round(100*time.Millisecond), expire)
	timing.Within(t, took, expire+3*time.Second, "the success series outlived expiration_interval")
}
