package grafana

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
)

var register sync.Once

// Load reads a dashboard file into Grafana's dashboard model and validates
// it. An unknown or mistyped key is an error: the SDK's strict decoding
// finds those. Its result is not used, because in v0.0.22 each nested
// strict decoder returns an empty cog.BuildErrors as a non-nil error and
// its caller then drops the decoded panel; the plain decoding keeps it.
func Load(path string) (dashboard.Dashboard, error) {
	register.Do(func() {
		plugins.RegisterDefaultPlugins()
		cog.NewRuntime().RegisterDataqueryVariant(InfluxQLVariant())
	})
	var d dashboard.Dashboard
	raw, err := os.ReadFile(path)
	if err != nil {
		return d, err
	}
	var strict dashboard.Dashboard
	if err := orNil(strict.UnmarshalJSONStrict(raw)); err != nil {
		return d, fmt.Errorf("%s: %w", path, err)
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return d, fmt.Errorf("%s: %w", path, err)
	}
	if err := orNil(d.Validate()); err != nil {
		return d, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// orNil turns the SDK's empty cog.BuildErrors, which its strict
// unmarshalling returns as a non-nil error on success, into nil.
func orNil(err error) error {
	var errs cog.BuildErrors
	if errors.As(err, &errs) && len(errs) == 0 {
		return nil
	}
	return err
}

// Query is one query of a panel, as Grafana sends it before replacing the
// variables ($server, $timeFilter, $__interval).
type Query struct {
	Panel  string // the panel's title
	RefID  string
	Text   string // InfluxQL or PromQL
	Legend string // Prometheus' legend format; empty for InfluxQL
}

// Queries lists every panel query of d, in panel order. A target of any
// other type than the two the dashboards use is an error.
func Queries(d dashboard.Dashboard) ([]Query, error) {
	var out []Query
	for _, pr := range d.Panels {
		p := pr.Panel
		if p == nil {
			continue // a row: it has no queries of its own
		}
		for _, t := range p.Targets {
			q := Query{Panel: deref(p.Title)}
			switch t := t.(type) {
			case InfluxQLQuery:
				q.RefID, q.Text = t.RefId, t.Query
			case *prometheus.Dataquery:
				q.RefID, q.Text, q.Legend = deref(t.RefId), t.Expr, deref(t.LegendFormat)
			default:
				return nil, fmt.Errorf("panel %q: a %T target", q.Panel, t)
			}
			out = append(out, q)
		}
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
