package compat

import (
	"slices"
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
)

// newPlugin is the plugin reading metrics (nil: tracking) from url, with a
// logger to inspect, stopped when the test ends.
func newPlugin(t *testing.T, url string, metrics ...string) (*ct.ChronyTracking, *testutil.CaptureLogger) {
	log := &testutil.CaptureLogger{Name: "inputs." + ct.Name}
	p := ct.New()
	p.Server = url
	p.Timeout = ct.Duration(time.Second)
	p.Metrics = metrics
	p.Log = log
	require.NoError(t, p.Init())
	t.Cleanup(p.Stop)
	return p, log
}

// gatherPoints gathers once and returns the points, which must all be of
// measurement and successful, for url.
func gatherPoints(t *testing.T, p *ct.ChronyTracking, url, measurement string) []*testutil.Metric {
	var acc testutil.Accumulator
	require.NoError(t, p.Gather(&acc))
	require.Empty(t, acc.Errors, "failures must be data, not accumulator errors")
	for _, m := range acc.Metrics {
		require.Equal(t, measurement, m.Measurement)
		require.Equal(t, "success", m.Tags["result"], "%v", m)
		assert.Equal(t, url, m.Tags["server"])
		assert.Equal(t, int64(0), m.Fields["result_code"])
	}
	return acc.Metrics
}

// field returns a point's field k, which must be of type T.
func field[T any](t *testing.T, m *testutil.Metric, k string) T {
	t.Helper()
	v, ok := m.Fields[k].(T)
	require.True(t, ok, "%s: field %s is %T, want %T", m.Measurement, k, m.Fields[k], v)
	return v
}

// originOf is the NameOrigin whose word is w.
func originOf(w string) cmdmon.NameOrigin {
	for o := cmdmon.NameFromChronyd; o <= cmdmon.NameFromAddress; o++ {
		if o.String() == w {
			return o
		}
	}
	return 0
}

// identOfPoint is who the source of a sources or sourcestats point is:
// the address tag is the key, the peer tag the name.
func identOfPoint(t *testing.T, m *testutil.Metric) ident {
	from := originOf(field[string](t, m, "peer_from"))
	return ident{index: int(field[int64](t, m, "index")), ip: field[string](t, m, "ip"), key: m.Tags["address"],
		name: m.Tags["peer"], from: from, refclock: from == cmdmon.NameFromRefID}
}

// byIndex orders rows as chronyd lists the sources.
func byIndex[R any](rows []R, index func(R) int) []R {
	slices.SortFunc(rows, func(a, b R) int { return index(a) - index(b) })
	return rows
}

// symbolOf is chronyc's symbol of the word the plugin writes, among the
// values of n words.
func symbolOf[W interface {
	~uint16
	String() string
}](word string, n int, symbol func(W) byte) byte {
	for v := W(0); int(v) < n; v++ {
		if v.String() == word {
			return symbol(v)
		}
	}
	return 0
}

// pluginSources compares the plugin's chrony_sources points with chronyc.
func pluginSources(t *testing.T, d daemonUnderTest, url string) {
	p, log := newPlugin(t, url, "sources")
	compareSources(t, d, func() []sourceRow {
		var rows []sourceRow
		for _, m := range gatherPoints(t, p, url, "chrony_sources") {
			rows = append(rows, sourceRow{
				ident:       identOfPoint(t, m),
				mode:        symbolOf(field[string](t, m, "mode"), 3, func(v cmdmon.SourceMode) byte { return modeSymbols[v] }),
				state:       symbolOf(field[string](t, m, "state"), 6, cmdmon.SourceState.Symbol),
				stratum:     int(field[uint64](t, m, "stratum")),
				poll:        int(field[int64](t, m, "poll")),
				reach:       int(field[uint64](t, m, "reachability")),
				flags:       uint16(field[uint64](t, m, "flags")),
				sinceSample: uint32(field[uint64](t, m, "sample")),
				latest:      field[float64](t, m, "latest_measurement"),
				original:    field[float64](t, m, "original_measurement"),
				latestErr:   field[float64](t, m, "latest_measurement_error"),
			})
		}
		return byIndex(rows, func(r sourceRow) int { return r.index })
	})
	assert.Empty(t, log.Messages())
}

// pluginSourceStats compares the plugin's chrony_sourcestats points with
// chronyc.
func pluginSourceStats(t *testing.T, d daemonUnderTest, url string) {
	p, log := newPlugin(t, url, "sourcestats")
	compareSourceStats(t, d, func() []statsRow {
		var rows []statsRow
		for _, m := range gatherPoints(t, p, url, "chrony_sourcestats") {
			assert.Len(t, m.Tags["reference_id"], 8, "reference_id tag of %v", m.Tags)
			rows = append(rows, statsRow{
				ident:     identOfPoint(t, m),
				samples:   uint32(field[uint64](t, m, "samples")),
				runs:      uint32(field[uint64](t, m, "runs")),
				span:      uint32(field[uint64](t, m, "span_seconds")),
				resid:     field[float64](t, m, "residual_frequency"),
				skew:      field[float64](t, m, "skew"),
				offset:    field[float64](t, m, "offset"),
				offsetErr: field[float64](t, m, "offset_error"),
				stdev:     field[float64](t, m, "stddev"),
			})
		}
		return byIndex(rows, func(r statsRow) int { return r.index })
	})
	assert.Empty(t, log.Messages())
}

// onePoint gathers the single point of a report.
func onePoint(t *testing.T, p *ct.ChronyTracking, url, measurement string) *testutil.Metric {
	ms := gatherPoints(t, p, url, measurement)
	require.Len(t, ms, 1)
	return ms[0]
}

// pluginActivity compares the plugin's chrony_activity point with chronyc.
func pluginActivity(t *testing.T, d daemonUnderTest, url string) {
	p, log := newPlugin(t, url, "activity")
	compareActivity(t, d, func() chronylab.ChronycActivity {
		m := onePoint(t, p, url, "chrony_activity")
		n := func(k string) uint32 { return uint32(field[int64](t, m, k)) }
		return chronylab.ChronycActivity{Online: n("online"), Offline: n("offline"), BurstOnline: n("burst_online"),
			BurstOffline: n("burst_offline"), Unresolved: n("unresolved")}
	})
	assert.Empty(t, log.Messages())
}

// pluginServerStats compares the plugin's chrony_serverstats point with
// chronyc over the unix socket: a field for each counter the release
// reports and no other. Over UDP the point is permission_denied, and the
// log says that serverstats needs the unix socket.
func pluginServerStats(t *testing.T, d daemonUnderTest, url string) {
	p, log := newPlugin(t, url, "serverstats")
	if !isUnix(url) {
		var acc testutil.Accumulator
		require.NoError(t, p.Gather(&acc))
		require.Empty(t, acc.Errors, "failures must be data, not accumulator errors")
		require.Len(t, acc.Metrics, 1)
		m := acc.Metrics[0]
		assert.Equal(t, "chrony_serverstats", m.Measurement)
		assert.Equal(t, cmdmon.CodePermissionDenied.String(), m.Tags["result"])
		assert.Equal(t, int64(cmdmon.CodePermissionDenied), m.Fields["result_code"])
		assert.Contains(t, log.Messages()[0].Text, "unix socket", "%+v", log.Messages())
		return
	}
	compareServerStats(t, d, func() map[cmdmon.Counter]uint64 {
		m := onePoint(t, p, url, "chrony_serverstats")
		got := map[cmdmon.Counter]uint64{}
		for c := range cmdmon.NumCounters {
			if v, ok := m.Fields[cmdmon.Counter(c).String()]; ok {
				got[cmdmon.Counter(c)] = v.(uint64)
			}
		}
		assert.Len(t, m.Fields, len(got)+1, "counters and result_code: %v", m.Fields)
		return got
	})
	assert.Empty(t, log.Messages())
}
