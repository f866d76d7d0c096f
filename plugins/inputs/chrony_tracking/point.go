package chrony_tracking

import (
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/metric"
)

// schema writes the tags and fields of r's chrony_tracking point to tag and
// field; it is the only place the schema is written down in code (Point,
// Metric and so Gather and the command's --once all go through it). A
// failure keeps server, result and result_code only: a point with stale or
// zero measurements would be indistinguishable from a real reading.
func schema(r Result, tag func(k, v string), field func(k string, v any)) {
	code := r.Code()
	tag("server", r.Server)
	tag("result", code.String())
	field("result_code", int64(code))
	if r.Err != nil {
		return
	}
	rep := &r.Report
	tag("reference_id", rep.RefIDHex())
	if rep.ReferenceName != "" {
		tag("reference_name", rep.ReferenceName)
	}
	field("system_time", rep.SystemTime)
	field("last_offset", rep.LastOffset)
	field("rms_offset", rep.RMSOffset)
	field("frequency", rep.Frequency)
	field("residual_freq", rep.ResidualFreq)
	field("skew", rep.Skew)
	field("root_delay", rep.RootDelay)
	field("root_dispersion", rep.RootDispersion)
	field("update_interval", rep.UpdateInterval)
	field("stratum", int64(rep.Stratum))
	field("leap_status", int64(rep.Leap))
	field("ref_time", epochSeconds(rep.RefTime))
	field("ref_time_age", rep.RefTimeAge.Seconds())
	field("clock_error_bound", rep.ClockErrorBound)
	field("synchronised", rep.Synchronised)
}

// Point returns the tags and fields of r's chrony_tracking point.
func Point(r Result) (map[string]string, map[string]any) {
	tags := make(map[string]string, 4)
	fields := make(map[string]any, 16)
	schema(r, func(k, v string) { tags[k] = v }, func(k string, v any) { fields[k] = v })
	return tags, fields
}

// Metric is the result as a chrony_tracking point stamped with its time.
// It fills the metric directly: going through Point's maps would cost a
// third more allocations per gather.
func (r Result) Metric() telegraf.Metric {
	m := metric.New(Name, nil, nil, r.At)
	schema(r, m.AddTag, m.AddField)
	return m
}

// epochSeconds renders t as chronyc -c does (seconds since the epoch), 0 for
// "never". Adding the parts keeps nanoseconds that converting UnixNano as a
// whole would round away less evenly.
func epochSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}

// RefTimeOf is the inverse of epochSeconds, for readers of the fields.
func RefTimeOf(sec float64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	whole := int64(sec)
	return time.Unix(whole, int64((sec-float64(whole))*1e9)).UTC()
}
