package chrony_tracking

import (
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/metric"
)

// Point turns a result into the tags and fields of its chrony_tracking
// point; it is the only place the schema is written down in code (Gather
// and the command's --once both go through it). A failure keeps server,
// result and result_code only: a point with stale or zero measurements would
// be indistinguishable from a real reading.
func Point(r Result) (map[string]string, map[string]any) {
	code := r.Code()
	tags := map[string]string{"server": r.Server, "result": code.String()}
	fields := map[string]any{"result_code": int64(code)}
	if r.Err != nil {
		return tags, fields
	}
	rep := &r.Report
	tags["reference_id"] = rep.RefIDHex()
	if rep.ReferenceName != "" {
		tags["reference_name"] = rep.ReferenceName
	}
	fields["system_time"] = rep.SystemTime
	fields["last_offset"] = rep.LastOffset
	fields["rms_offset"] = rep.RMSOffset
	fields["frequency"] = rep.Frequency
	fields["residual_freq"] = rep.ResidualFreq
	fields["skew"] = rep.Skew
	fields["root_delay"] = rep.RootDelay
	fields["root_dispersion"] = rep.RootDispersion
	fields["update_interval"] = rep.UpdateInterval
	fields["stratum"] = int64(rep.Stratum)
	fields["leap_status"] = int64(rep.Leap)
	fields["ref_time"] = epochSeconds(rep.RefTime)
	fields["ref_time_age"] = rep.RefTimeAge.Seconds()
	fields["clock_error_bound"] = rep.ClockErrorBound
	fields["synchronised"] = rep.Synchronised
	return tags, fields
}

// Metric is the result as a chrony_tracking point stamped with its time.
func (r Result) Metric() telegraf.Metric {
	tags, fields := Point(r)
	return metric.New(Name, tags, fields, r.At)
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
