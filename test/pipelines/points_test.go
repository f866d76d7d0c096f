package pipelines

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/influxdata/telegraf/plugins/parsers/influx"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/cmdbin"
)

// measurement is tracking's, which most checks are about; measurements
// are every report's, which the pipeline's agent reads (metrics).
const measurement = "chrony_tracking"

var measurements = []string{measurement, "chrony_sources", "chrony_sourcestats", "chrony_serverstats", "chrony_activity"}

// point is one point of the plugin, from line protocol or Telegraf's
// JSON. Line protocol keeps int64, float64 and bool fields; JSON numbers
// are float64.
type point struct {
	Name   string
	Tags   map[string]string
	Fields map[string]any
	Time   time.Time
}

func parseLP(t testing.TB, data []byte) []point {
	t.Helper()
	p := &influx.Parser{}
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	ms, err := p.Parse(data)
	if err != nil {
		t.Fatalf("not line protocol: %v\n%s", err, data)
	}
	out := make([]point, 0, len(ms))
	for _, m := range ms {
		if !slices.Contains(measurements, m.Name()) {
			t.Fatalf("measurement %q, want one of %s: %s", m.Name(), measurements, data)
		}
		out = append(out, point{Name: m.Name(), Tags: m.Tags(), Fields: m.Fields(), Time: m.Time()})
	}
	return out
}

// parseJSON reads one message of Telegraf's JSON serializer
// (json_timestamp_units left at its default, 1s).
func parseJSON(t testing.TB, data []byte) point {
	t.Helper()
	var m struct {
		Name      string            `json:"name"`
		Tags      map[string]string `json:"tags"`
		Fields    map[string]any    `json:"fields"`
		Timestamp int64             `json:"timestamp"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil || !slices.Contains(measurements, m.Name) {
		t.Fatalf("not a JSON point of %s (%v): %s", measurements, err, data)
	}
	return point{Name: m.Name, Tags: m.Tags, Fields: m.Fields, Time: time.Unix(m.Timestamp, 0)}
}

// once runs `telegraf-chrony --once --server url` and returns its point;
// the exit status is 1 when the gather failed, which is data here.
func once(t testing.TB, url string) point {
	t.Helper()
	out, err := exec.Command(cmdbin.Path(t), "--once", "--server", url).Output()
	if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == 1) {
		t.Fatalf("--once --server %s: %v", url, err)
	}
	ps := parseLP(t, out)
	if len(ps) != 1 {
		t.Fatalf("--once printed %d points:\n%s", len(ps), out)
	}
	return ps[0]
}

// drift is how far a field may move between two readings of the same
// chronyd a second or two apart; fields not listed must be equal. The
// bounds are far below what a wrong field or unit would show (a factor of
// 1e3 to 1e9), and a fake chronyd's fields, which never move, are
// compared exactly but for ref_time_age.
var drift = map[string]float64{
	"system_time":       1e-3,
	"last_offset":       1e-3,
	"rms_offset":        1e-3,
	"root_delay":        1e-3,
	"root_dispersion":   1e-3,
	"clock_error_bound": 2e-3,
	// ppm: a lab chronyd that has just synchronised (polling 64 times a
	// second) moves its estimates by several ppm a second (measured:
	// frequency -9.1 then -0.6, residual_freq 10.3 then 0.004).
	"frequency":       50,
	"residual_freq":   50,
	"skew":            100,
	"update_interval": 5,
	"ref_time":        5,
	"ref_time_age":    10,
}

// tolerance is how far a field may differ between two readings.
type tolerance func(field string) float64

func withDrift(field string) float64 { return drift[field] }

func exactlyButAge(field string) float64 {
	if field == "ref_time_age" {
		return drift[field]
	}
	return 0
}

// sameReading reports how got differs from want: the same tags, the same
// field names, booleans and integers equal, floats within tol. typed says
// got kept the field types (line protocol); JSON has float64 numbers.
func sameReading(got, want point, tol tolerance, typed bool) []string {
	var diffs []string
	if fmt.Sprint(got.Tags) != fmt.Sprint(want.Tags) {
		diffs = append(diffs, fmt.Sprintf("tags %v, want %v", got.Tags, want.Tags))
	}
	if g, w := keys(got.Fields), keys(want.Fields); fmt.Sprint(g) != fmt.Sprint(w) {
		diffs = append(diffs, fmt.Sprintf("fields %v, want %v", g, w))
	}
	for name, w := range want.Fields {
		g, ok := got.Fields[name]
		if !ok {
			continue
		}
		if typed && fmt.Sprintf("%T", g) != fmt.Sprintf("%T", w) {
			diffs = append(diffs, fmt.Sprintf("%s: %v is a %T, want a %T", name, g, g, w))
		} else if d := fieldDiff(g, w, tol(name)); d != "" {
			diffs = append(diffs, name+": "+d)
		}
	}
	sort.Strings(diffs)
	return diffs
}

func fieldDiff(got, want any, tol float64) string {
	if wb, ok := want.(bool); ok {
		if gb, ok := got.(bool); !ok || gb != wb {
			return fmt.Sprintf("%v (%T), want %v", got, got, want)
		}
		return ""
	}
	g, gok := number(got)
	w, wok := number(want)
	if !gok || !wok {
		return fmt.Sprintf("%v (%T), want %v (%T)", got, got, want, want)
	}
	if _, isInt := want.(int64); isInt {
		tol = 0
	}
	if math.Abs(g-w) > tol {
		return fmt.Sprintf("%v, want %v within %v", g, w, tol)
	}
	return ""
}

func number(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
