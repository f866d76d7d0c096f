package grafana

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// examplesDir holds the committed dashboards, which users import.
var examplesDir = filepath.Join("..", "..", "examples", "grafana")

// The committed files are what the generator writes today.
func TestCommittedDashboardsAreGenerated(t *testing.T) {
	for name, build := range Files {
		d, err := build()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, err := Render(d)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(examplesDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the generator writes: run `make examples` and commit it", name)
		}
	}
}

// Each committed file reads back strictly into Grafana's dashboard model,
// validates, and has what the README promises: a server variable, a row
// repeated per server, and each panel with its fields, for the data
// source of the file.
func TestDashboardsFitGrafanasModel(t *testing.T) {
	for name, dsType := range map[string]string{"chrony-influxdb.json": "influxdb", "chrony-prometheus.json": "prometheus"} {
		t.Run(name, func(t *testing.T) {
			d, err := Load(filepath.Join(examplesDir, name))
			if err != nil {
				t.Fatal(err)
			}
			requireServerVariable(t, d, dsType)
			if row := d.Panels[0].RowPanel; row == nil || row.Repeat == nil || *row.Repeat != "server" {
				t.Errorf("the first panel is not a row repeated for each server: %+v", d.Panels[0])
			}
			queries, err := Queries(d)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, q := range queries {
				got[q.Panel] = append(got[q.Panel], queriedFields(q.Text)...)
				if !strings.Contains(q.Text, "$server") {
					t.Errorf("panel %q: query %q ignores the server variable", q.Panel, q.Text)
				}
			}
			for title, fields := range Fields() {
				if !slices.Equal(got[title], fields) {
					t.Errorf("panel %q queries %q, want %q", title, got[title], fields)
				}
			}
			if len(got) != len(panels) {
				t.Errorf("%d panels with queries, want %d", len(got), len(panels))
			}
		})
	}
}

func requireServerVariable(t *testing.T, d dashboard.Dashboard, dsType string) {
	t.Helper()
	for _, v := range d.Templating.List {
		if v.Name != "server" {
			continue
		}
		if v.Datasource == nil || v.Datasource.Type == nil || *v.Datasource.Type != dsType {
			t.Errorf("server variable's data source: %+v, want type %s", v.Datasource, dsType)
		}
		if v.Multi == nil || !*v.Multi || v.IncludeAll == nil || !*v.IncludeAll {
			t.Errorf("server variable is not multi-value with All")
		}
		return
	}
	t.Error("no server variable")
}

// queriedFields lists the fields a query reads: InfluxQL's
// aggregate("field"), PromQL's chrony_tracking_field or chrony_sources_field.
var fieldRef = regexp.MustCompile(`\("([a-z_]+)"\)|(?:` + Measurement + `|` + Sources + `)_([a-z_]+)\{`)

func queriedFields(q string) []string {
	var out []string
	for _, m := range fieldRef.FindAllStringSubmatch(q, -1) {
		out = append(out, m[1]+m[2])
	}
	return out
}

// The checks can fail: a key Grafana's model does not have, and an
// InfluxQL target Grafana would not run as written, are refused.
func TestLoadRefusesWhatGrafanaWouldNot(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join(examplesDir, "chrony-influxdb.json"))
	if err != nil {
		t.Fatal(err)
	}
	for what, edit := range map[string][2]string{
		"unknown panel key":  {`"transparent": false,`, `"transparent": false, "transparant": true,`},
		"unknown target key": {`"rawQuery": true,`, `"rawQuery": true, "raw": true,`},
		"editor-mode query":  {`"rawQuery": true,`, `"rawQuery": false,`},
		"mistyped gridPos":   {`"h": 6,`, `"h": "6",`},
	} {
		t.Run(what, func(t *testing.T) {
			bad := strings.Replace(string(orig), edit[0], edit[1], 1)
			if bad == string(orig) {
				t.Fatalf("%q not found in the dashboard", edit[0])
			}
			path := filepath.Join(t.TempDir(), "bad.json")
			if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(path); err == nil {
				t.Error("Load accepted it")
			} else {
				t.Logf("refused: %.300v", err)
			}
		})
	}
}
