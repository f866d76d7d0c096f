package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/influxdata/telegraf"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
)

// labelWriter writes one "Label : value" line as chronyc tracking does.
type labelWriter func(label, format string, args ...any)

func linesTo(b *strings.Builder) labelWriter {
	return func(label, format string, args ...any) {
		fmt.Fprintf(b, "%-16s: "+format+"\n", append([]any{label}, args...)...)
	}
}

// textResult renders one report of one server: tracking in the layout of
// `chronyc tracking` with the values chronyc does not print, the others in
// chronyc's layouts (chronyc_layout.go), a failure as its result. It reads
// the points, not the report, so the text can never disagree with the
// line protocol. Each ends with the report (but tracking), the server and
// the result.
func textResult(r ct.Result) string {
	var b strings.Builder
	line := linesTo(&b)
	ms := r.Metrics()
	switch {
	case r.Err != nil:
	case r.Kind == ct.KindSources:
		sourcesTable(&b, ms)
	case r.Kind == ct.KindSourceStats:
		sourceStatsTable(&b, ms)
	case r.Kind == ct.KindActivity:
		activityLines(&b, ms[0])
	case r.Kind == ct.KindServerStats:
		serverStatsLines(&b, ms[0])
	default:
		m := ms[0]
		trackingLines(m, line)
		line("Ref time age", "%.3f seconds", num(m, "ref_time_age"))
		line("Error bound", "%.9f seconds", num(m, "clock_error_bound"))
		sync, _ := m.GetField("synchronised")
		line("Synchronised", "%s", yesNo(sync == true))
	}
	if r.Kind != ct.KindTracking {
		line("Report", "%s", r.Kind)
	}
	line("Server", "%s", r.Server)
	line("Result", "%s (%d)", r.Code(), int64(r.Code()))
	return b.String()
}

func trackingLines(m telegraf.Metric, line labelWriter) {
	refID, _ := m.GetTag("reference_id")
	name, _ := m.GetTag("reference_name")
	sys, freq := num(m, "system_time"), num(m, "frequency")
	line("Reference ID", "%s (%s)", refID, name)
	line("Stratum", "%d", int64(num(m, "stratum")))
	line("Ref time (UTC)", "%s", ct.RefTimeOf(num(m, "ref_time")).UTC().Format("Mon Jan 02 15:04:05 2006"))
	line("System time", "%.9f seconds %s of NTP time", math.Abs(sys), pick(sys > 0, "slow", "fast"))
	line("Last offset", "%+.9f seconds", num(m, "last_offset"))
	line("RMS offset", "%.9f seconds", num(m, "rms_offset"))
	line("Frequency", "%.3f ppm %s", math.Abs(freq), pick(freq < 0, "slow", "fast"))
	line("Residual freq", "%+.3f ppm", num(m, "residual_freq"))
	line("Skew", "%.3f ppm", num(m, "skew"))
	line("Root delay", "%.9f seconds", num(m, "root_delay"))
	line("Root dispersion", "%.9f seconds", num(m, "root_dispersion"))
	line("Update interval", "%.1f seconds", num(m, "update_interval"))
	if leap := cmdmon.LeapStatus(num(m, "leap_status")); leap <= cmdmon.LeapUnsynchronised {
		w := leap.String() // chronyc capitalises the first letter
		line("Leap status", "%s", strings.ToUpper(w[:1])+w[1:])
	}
}

// num reads a numeric field as float64; absent fields read as 0.
func num(m telegraf.Metric, key string) float64 {
	v, _ := m.GetField(key)
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	}
	return 0
}

func pick(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}

func yesNo(b bool) string { return pick(b, "yes", "no") }
