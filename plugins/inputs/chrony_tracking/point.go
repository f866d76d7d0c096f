package chrony_tracking

import (
	"time"

	"github.com/influxdata/telegraf"
)

// pointWriter receives the tags and fields of a point.
type pointWriter interface {
	AddTag(key, value string)
	addField(key string, value any)
}

// header writes what every point of every report has: the server and
// result tags and the result_code field.
func header(r *Result, w pointWriter) {
	code := r.Code()
	w.AddTag("server", r.Server)
	w.AddTag("result", code.String())
	w.addField("result_code", int64(code))
}

// schema writes the tags and fields of r's chrony_tracking point to w; it
// and the schemas of the other reports (reports.go) are the only place the
// schema is written down in code (Point, Metric and so Gather and the
// command's --once all go through them). A failure keeps server, result
// and result_code only: a point with stale or zero measurements would be
// indistinguishable from a real reading.
func schema(r *Result, w pointWriter) {
	header(r, w)
	if r.Err != nil {
		return
	}
	rep := &r.Report
	w.AddTag("reference_id", rep.RefIDHex())
	if rep.ReferenceName != "" {
		w.AddTag("reference_name", rep.ReferenceName)
	}
	w.addField("system_time", rep.SystemTime)
	w.addField("last_offset", rep.LastOffset)
	w.addField("rms_offset", rep.RMSOffset)
	w.addField("frequency", rep.Frequency)
	w.addField("residual_freq", rep.ResidualFreq)
	w.addField("skew", rep.Skew)
	w.addField("root_delay", rep.RootDelay)
	w.addField("root_dispersion", rep.RootDispersion)
	w.addField("update_interval", rep.UpdateInterval)
	w.addField("stratum", int64(rep.Stratum))
	w.addField("leap_status", int64(rep.Leap))
	w.addField("ref_time", epochSeconds(rep.RefTime))
	w.addField("ref_time_age", rep.RefTimeAge.Seconds())
	w.addField("clock_error_bound", rep.ClockErrorBound)
	w.addField("synchronised", rep.Synchronised)
}

// maps is a pointWriter filling two maps.
type maps struct {
	tags   map[string]string
	fields map[string]any
}

func (m maps) AddTag(k, v string)       { m.tags[k] = v }
func (m maps) addField(k string, v any) { m.fields[k] = v }

// Point returns the tags and fields of r's chrony_tracking point.
func Point(r Result) (map[string]string, map[string]any) {
	m := maps{make(map[string]string, 4), make(map[string]any, 16)}
	schema(&r, m)
	return m.tags, m.fields
}

// Metric is the point of a tracking, activity or serverstats result, or of
// any failed one, stamped with its time, in the report's measurement.
func (r Result) Metric() telegraf.Metric {
	p := newPoint(r.Kind.Measurement(), r.At)
	switch {
	case r.Err != nil:
		header(&r, p)
	case r.Kind == KindActivity:
		activitySchema(&r, p)
	case r.Kind == KindServerStats:
		serverStatsSchema(&r, p)
	default:
		schema(&r, p)
	}
	return p
}

// Metrics are the points of the result: one per source of a sources or
// sourcestats report read, else the one of Metric.
func (r Result) Metrics() []telegraf.Metric {
	switch {
	case r.Err != nil:
	case r.Kind == KindSources:
		return perSource(&r, r.Sources, sourceSchema)
	case r.Kind == KindSourceStats:
		return perSource(&r, r.SourceStats, sourceStatsSchema)
	}
	return []telegraf.Metric{r.Metric()}
}

// perSource makes one point of r's measurement per source.
func perSource[T any](r *Result, list []T, schema func(*Result, *T, pointWriter)) []telegraf.Metric {
	ms := make([]telegraf.Metric, len(list))
	for i := range list {
		p := newPoint(r.Kind.Measurement(), r.At)
		schema(r, &list[i], p)
		ms[i] = p
	}
	return ms
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
