package chrony_tracking

import (
	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
)

// The schemas of the reports beyond tracking. Field names, types and units
// are inputs.chrony's where it has the field, so that its dashboards port
// by renaming the measurement; what it lacks is added (README, Metrics).

// ident writes who a source is. The tags tell one source from another:
// peer, the name chronyd was given (a reference clock's reference ID; the
// address before chrony 4.0), as inputs.chrony's peer; and address, unique
// and stable per source of one chronyd (cmdmon.Ident.Key), without which
// the members of one pool, which share their name, or one name on IPv4 and
// IPv6, would write one series and overwrite each other. The fields are
// inputs.chrony's index and ip (the same rendering as address), and where
// the peer tag came from.
func ident(id *cmdmon.Ident, w pointWriter) {
	key := id.Key()
	w.AddTag("peer", id.Name)
	w.AddTag("address", key)
	w.addField("index", int64(id.Index))
	w.addField("ip", key)
	w.addField("peer_from", id.NameFrom.String())
}

// sourceSchema writes the chrony_sources point of source s.
func sourceSchema(r *Result, s *cmdmon.Source, w pointWriter) {
	header(r, w)
	ident(&s.Ident, w)
	w.addField("poll", int64(s.Poll))
	w.addField("stratum", uint64(s.Stratum))
	w.addField("state", s.State.String())
	// The state as chronyd's number as well: Prometheus drops string
	// fields, and InfluxQL cannot take min or max of one, so alerts on the
	// selected source or a falseticker need it.
	w.addField("state_code", int64(s.State))
	w.addField("mode", s.Mode.String())
	w.addField("flags", uint64(s.Flags))
	w.addField("reachability", uint64(s.Reachability))
	w.addField("sample", uint64(s.SinceSample))
	w.addField("latest_measurement", s.LatestMeas)
	w.addField("latest_measurement_error", s.LatestMeasErr)
	w.addField("original_measurement", s.OrigLatestMeas)
}

// sourceStatsSchema writes the chrony_sourcestats point of source s, with
// inputs.chrony's reference_id tag.
func sourceStatsSchema(r *Result, s *cmdmon.SourceStats, w pointWriter) {
	header(r, w)
	ident(&s.Ident, w)
	w.AddTag("reference_id", cmdmon.RefIDHex(s.RefID))
	w.addField("samples", uint64(s.Samples))
	w.addField("runs", uint64(s.Runs))
	w.addField("span_seconds", uint64(s.SpanSeconds))
	w.addField("stddev", s.StdDev)
	w.addField("residual_frequency", s.ResidFreqPPM)
	w.addField("skew", s.SkewPPM)
	w.addField("offset", s.EstOffset)
	w.addField("offset_error", s.EstOffsetErr)
}

// activitySchema writes the chrony_activity point.
func activitySchema(r *Result, w pointWriter) {
	header(r, w)
	a := &r.Activity
	w.addField("online", int64(a.Online))
	w.addField("offline", int64(a.Offline))
	w.addField("burst_online", int64(a.BurstOnline))
	w.addField("burst_offline", int64(a.BurstOffline))
	w.addField("unresolved", int64(a.Unresolved))
}

// serverStatsSchema writes the chrony_serverstats point: the counters this
// chronyd's release reports, and no others (a counter it lacks is absent,
// not a zero that reads as "nothing happened").
func serverStatsSchema(r *Result, w pointWriter) {
	header(r, w)
	for c, v := range r.ServerStats.All() {
		w.addField(c.String(), v)
	}
}
