package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/influxdata/telegraf"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
)

// textReport renders a point in the layout of `chronyc tracking`, then the
// values chronyc does not print. It reads the point, not the report, so the
// text can never disagree with the line protocol.
func textReport(m telegraf.Metric) string {
	var b strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "%-16s: "+format+"\n", append([]any{label}, args...)...)
	}
	server, _ := m.GetTag("server")
	result, _ := m.GetTag("result")
	if m.Name() != ct.Name {
		otherLines(m, line)
	} else if _, ok := m.GetField("stratum"); ok {
		trackingLines(m, line)
		line("Ref time age", "%.3f seconds", num(m, "ref_time_age"))
		line("Error bound", "%.9f seconds", num(m, "clock_error_bound"))
		sync, _ := m.GetField("synchronised")
		line("Synchronised", "%s", yesNo(sync == true))
	}
	line("Server", "%s", server)
	line("Result", "%s (%d)", result, int64(num(m, "result_code")))
	return b.String()
}

// otherLines renders a point of another report: its measurement, then its
// tags and fields as they are, in the point's order.
func otherLines(m telegraf.Metric, line func(string, string, ...any)) {
	line("Measurement", "%s", m.Name())
	for _, t := range m.TagList() {
		if t.Key != "server" && t.Key != "result" {
			line(t.Key, "%s", t.Value)
		}
	}
	for _, f := range m.FieldList() {
		if f.Key != "result_code" {
			line(f.Key, "%v", f.Value)
		}
	}
}

func trackingLines(m telegraf.Metric, line func(string, string, ...any)) {
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
