// Package grafana builds the example Grafana dashboards for chrony_tracking
// data, one for InfluxDB 1.x (InfluxQL) and one for Prometheus (fed by
// Telegraf's outputs.prometheus_client), with Grafana's foundation SDK: the
// SDK's types are Grafana's dashboard model, so what it builds is a
// dashboard Grafana loads. `go run ./examples/grafana/gen` writes them as
// JSON next to this file; a test checks the committed files are its output.
package grafana

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Measurement is the plugin's measurement; Prometheus names are
// Measurement_field.
const Measurement = "chrony_tracking"

// Files maps each dashboard's file name (in this directory) to its builder.
var Files = map[string]func() (dashboard.Dashboard, error){
	"chrony-influxdb.json":   InfluxDB,
	"chrony-prometheus.json": Prometheus,
}

// aggregate says how one panel's fields are reduced to one value per
// interval: InfluxQL's aggregate, and PromQL's (over the series of one
// server, which differ by reference and result labels; empty: none).
type aggregate struct{ influxql, promql string }

var (
	mean  = aggregate{influxql: "mean"}
	worst = aggregate{influxql: "max", promql: "max"} // a bad value in the interval shows
	least = aggregate{influxql: "min", promql: "min"} // a false in the interval shows
)

// Sources is the measurement of the sources report, one point per
// source, told apart by the address tag.
const Sources = "chrony_sources"

// panel is one chart of a server's row.
type panel struct {
	title, description, unit string
	fields                   []string
	agg                      aggregate
	state                    bool // a state timeline (mapped values) rather than a graph
	mappings                 map[string][]dashboard.ValueMapping
	// sources: one series per source of the server (by address), from
	// chrony_sources rather than chrony_tracking.
	sources bool
	// selected keeps only the points of the selected source (state_code 0).
	selected bool
}

// measurement is the panel's measurement.
func (p panel) measurement() string {
	if p.sources {
		return Sources
	}
	return Measurement
}

// panels is every chart of a server's row, in order.
var panels = []panel{
	{title: "Offset", unit: "s", fields: []string{"system_time", "last_offset", "rms_offset"}, agg: mean,
		description: "system_time: chronyd's correction of the system clock, positive when the clock is slow of NTP time. last_offset: the offset at the last clock update; rms_offset: its long-term average."},
	{title: "Frequency and skew", unit: "ppm", fields: []string{"frequency", "residual_freq", "skew"}, agg: mean,
		description: "frequency: the clock's rate error that chronyd corrects, positive when it runs fast. residual_freq and skew: the remaining error and its bound."},
	{title: "Clock error bound", unit: "s", fields: []string{"clock_error_bound"}, agg: worst,
		description: "The largest error the clock can have: |system_time| + root_dispersion + root_delay / 2. Alert on this."},
	{title: "Stratum and leap status", fields: []string{"stratum", "leap_status"}, agg: worst, state: true,
		mappings:    map[string][]dashboard.ValueMapping{"leap_status": leapMappings()},
		description: "Stratum 16 means the source is itself unsynchronised. A leap second pending shows as insert or delete."},
	{title: "Synchronised", fields: []string{"synchronised"}, agg: least, state: true,
		mappings:    map[string][]dashboard.ValueMapping{"synchronised": syncMappings()},
		description: "Whether the clock follows a real time source (chronyc waitsync's rule)."},
	{title: "Root delay and dispersion", unit: "s", fields: []string{"root_delay", "root_dispersion"}, agg: mean,
		description: "Round-trip delay and accumulated dispersion to the stratum-1 source: the parts of the error bound that the source chain adds."},
	{title: "Result", fields: []string{"result_code"}, agg: worst, state: true,
		mappings:    map[string][]dashboard.ValueMapping{"result_code": resultMappings()},
		description: "What each gather got: success, or the failure's result (see the README's Result codes)."},
	{title: "Source offsets", unit: "s", fields: []string{"latest_measurement", "latest_measurement_error"}, agg: mean, sources: true,
		description: "Each source's last offset (positive: the local clock is ahead of it) and the error bound of that measurement, by address. A source far from the others with a small error is a falseticker. Needs metrics with sources."},
	{title: "Source reachability", fields: []string{"reachability"}, agg: least, sources: true,
		description: "Each source's reach register: 255 (377 octal) when its last 8 polls were answered, 0 when none was. 0 for long: UDP 123 blocked, the server down, or a name that never resolved (address ID#...)."},
	{title: "Source state", fields: []string{"state_code"}, agg: worst, state: true, sources: true,
		mappings:    map[string][]dashboard.ValueMapping{"state_code": stateMappings()},
		description: "What chronyd's source selection made of each source: selected, combined, not combined, not selectable, falseticker, jittery (chronyc's * + - ? x ~)."},
	{title: "Selected source", fields: []string{"state_code"}, agg: least, state: true, sources: true, selected: true,
		mappings:    map[string][]dashboard.ValueMapping{"state_code": selectedMappings()},
		description: "The source the clock follows, over time: one band per source while it was selected. None at all: chronyd follows no source (see the alerts)."},
}

// Fields lists the fields each panel shows, by panel title, for tests that
// run the panels' queries.
func Fields() map[string][]string {
	out := make(map[string][]string, len(panels))
	for _, p := range panels {
		out[p.title] = p.fields
	}
	return out
}

// datasource is the dashboard's data source variable, so one dashboard
// serves whichever data source of its type the user picks. Panels and
// their targets both name it, as Grafana writes them; a target's own
// reference is what tells a reader of the JSON its query type.
func datasource(typ string) common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr(typ), Uid: cog.ToPtr("${datasource}")}
}

// build is the dashboard both data sources share: a data source variable,
// a server variable, and a row repeated for each selected server.
func build(title, uid, dsType, serverQuery string, targets func(panel) []cog.Builder[variants.Dataquery]) (dashboard.Dashboard, error) {
	ds := datasource(dsType)
	b := dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description("chronyd's tracking report and its sources from telegraf-chrony: one row per server. Generated by test/grafana/gen.").
		Tags([]string{"chrony", "ntp", "telegraf"}).
		Time("now-1h", "now").
		Refresh("30s").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").Label("Data source").Type(dsType)).
		WithVariable(dashboard.NewQueryVariableBuilder("server").
			Label("Server").
			Datasource(ds).
			Query(dashboard.StringOrMap{String: cog.ToPtr(serverQuery)}).
			Definition(serverQuery).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc).
			Multi(true).
			IncludeAll(true)).
		WithRow(dashboard.NewRowBuilder("$server").Id(1).Repeat("server"))
	for i, p := range panels {
		b = b.WithPanel(chart(uint32(i+2), p, ds, targets(p)))
	}
	return b.Build()
}

// chart is one panel, half a row wide, with a legend naming each field
// and a tooltip showing them all.
func chart(id uint32, p panel, ds common.DataSourceRef, targets []cog.Builder[variants.Dataquery]) cog.Builder[dashboard.Panel] {
	legend := common.NewVizLegendOptionsBuilder().
		ShowLegend(true).
		DisplayMode(common.LegendDisplayModeList).
		Placement(common.LegendPlacementBottom)
	tooltip := common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderNone)
	if p.state {
		b := statetimeline.NewPanelBuilder().Id(id).Title(p.title).Description(p.description).Datasource(ds).
			Span(12).Height(6).Targets(targets).ShowValue(common.VisibilityModeAuto).
			Legend(legend).Tooltip(tooltip)
		for _, field := range p.fields {
			if m, ok := p.mappings[field]; ok {
				b = b.OverrideByName(field, []dashboard.DynamicConfigValue{{Id: "mappings", Value: m}})
			}
		}
		return b
	}
	return timeseries.NewPanelBuilder().Id(id).Title(p.title).Description(p.description).Datasource(ds).
		Span(12).Height(6).Targets(targets).Unit(p.unit).
		Legend(legend).Tooltip(tooltip)
}

// InfluxDB is the dashboard for data that outputs.influxdb writes to
// InfluxDB 1.x: one InfluxQL query per panel.
func InfluxDB() (dashboard.Dashboard, error) {
	return build("chrony tracking (InfluxDB)", "chrony-tracking-influxdb", "influxdb",
		`SHOW TAG VALUES FROM "`+Measurement+`" WITH KEY = "server"`,
		func(p panel) []cog.Builder[variants.Dataquery] {
			return []cog.Builder[variants.Dataquery]{&influxQL{InfluxQLQuery{
				RefId:        "A",
				Datasource:   cog.ToPtr(datasource("influxdb")),
				Query:        influxQuery(p),
				RawQuery:     true,
				ResultFormat: "time_series",
				Alias:        influxAlias(p),
			}}}
		})
}

// influxQuery selects a panel's fields of the servers the variable selects
// in the dashboard's time range, one value per interval (and source).
func influxQuery(p panel) string {
	cols := make([]string, len(p.fields))
	for i, f := range p.fields {
		cols[i] = fmt.Sprintf(`%s("%s") AS "%s"`, p.agg.influxql, f, f)
	}
	where, by := "", ""
	if p.sources {
		by = `, "address"`
	}
	if p.selected {
		where = ` AND "state_code" = 0`
	}
	return fmt.Sprintf(`SELECT %s FROM "%s" WHERE "server" =~ /^$server$/%s AND $timeFilter GROUP BY time($__interval)%s fill(none)`,
		strings.Join(cols, ", "), p.measurement(), where, by)
}

// influxAlias names a panel's series: by field, and by source.
func influxAlias(p panel) string {
	if p.sources {
		return "$tag_address $col"
	}
	return "$col"
}

// Prometheus is the dashboard for data that Prometheus scrapes from
// outputs.prometheus_client (metric_version = 2): one query per field.
func Prometheus() (dashboard.Dashboard, error) {
	return build("chrony tracking (Prometheus)", "chrony-tracking-prometheus", "prometheus",
		`label_values(`+Measurement+`_result_code, server)`,
		func(p panel) []cog.Builder[variants.Dataquery] {
			var out []cog.Builder[variants.Dataquery]
			for i, f := range p.fields {
				out = append(out, prometheus.NewDataqueryBuilder().
					RefId(string(rune('A'+i))).
					Datasource(datasource("prometheus")).
					Expr(promQuery(p, f)).
					LegendFormat(promLegend(p, f)).
					Range())
			}
			return out
		})
}

// promQuery selects one field of the servers the variable selects (by
// source).
func promQuery(p panel, field string) string {
	q := fmt.Sprintf(`%s_%s{server=~"$server"}`, p.measurement(), field)
	by := "server"
	if p.sources {
		by = "server, address"
	}
	if p.agg.promql != "" {
		q = fmt.Sprintf(`%s by (%s) (%s)`, p.agg.promql, by, q)
	}
	if p.selected {
		q += " == 0"
	}
	return q
}

// promLegend names a series: by field, and by source.
func promLegend(p panel, field string) string {
	if p.sources {
		return "{{address}} " + field
	}
	return field
}

// Render is a dashboard as the JSON file Grafana imports.
func Render(d dashboard.Dashboard) ([]byte, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
