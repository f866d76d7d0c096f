package chrony_tracking

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	fake "github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

var allMetrics = []string{"tracking", "sources", "sourcestats", "serverstats", "activity"}

func TestMetricsOption(t *testing.T) {
	for _, tt := range []struct {
		words []string
		want  []Kind
		key   string
		value string
	}{
		{nil, []Kind{KindTracking}, "", ""},
		{[]string{"activity", "tracking"}, []Kind{KindActivity, KindTracking}, "", ""},
		{allMetrics, []Kind{KindTracking, KindSources, KindSourceStats, KindServerStats, KindActivity}, "", ""},
		{[]string{"tracking", "source"}, nil, "metrics[1]", `"source"`},
		{[]string{"sources", "tracking", "sources"}, nil, "metrics[2]", `"sources"`},
		{[]string{""}, nil, "metrics[0]", `""`},
		{[]string{"Tracking"}, nil, "metrics[0]", `"Tracking"`},
	} {
		p := New()
		p.Metrics = tt.words
		err := p.Init()
		if tt.key == "" {
			require.NoError(t, err)
			assert.Equal(t, tt.want, p.Settings().Metrics)
			continue
		}
		var e *cmdmon.Error
		require.True(t, errors.As(err, &e), "%v: %v", tt.words, err)
		assert.Equal(t, cmdmon.CodeConfigError, e.Code)
		assert.Equal(t, tt.key, e.Key)
		assert.Equal(t, tt.value, e.Value)
	}
}

// pointsOf groups a gather's points by measurement.
func pointsOf(acc *testutil.Accumulator) map[string][]*testutil.Metric {
	out := map[string][]*testutil.Metric{}
	for _, m := range acc.Metrics {
		out[m.Measurement] = append(out[m.Measurement], m)
	}
	return out
}

func TestGatherEveryReport(t *testing.T) {
	srv := fake.StartUnixgram(t, filepath.Join(t.TempDir(), "chronyd.sock"), fake.Reports(fake.Daemon{
		Tracking: fake.SyncedIPv4(), Sources: fake.Pool(), Activity: [5]int32{4, 1, 0, 0, 1},
		ServerStats: 3, ServerStatsCounter: []uint64{10, 1, 20, 2, 3, 4, 5, 6, 7, 8, 9}}))
	p, log := newPlugin(t, timing.LongTimeout, 1, func(p *ChronyTracking) { p.Server, p.Metrics = srv.URL(), allMetrics })
	got := pointsOf(gather(t, p))
	assert.Len(t, got["chrony_tracking"], 1)
	assert.Len(t, got["chrony_sources"], 6)
	assert.Len(t, got["chrony_sourcestats"], 6)
	assert.Len(t, got["chrony_activity"], 1)
	assert.Len(t, got["chrony_serverstats"], 1)
	for _, ms := range got {
		for _, m := range ms {
			assert.Equal(t, srv.URL(), m.Tags["server"])
			assert.Equal(t, "success", m.Tags["result"])
			assert.Equal(t, int64(0), m.Fields["result_code"])
		}
	}
	series := map[string]bool{}
	for _, m := range got["chrony_sources"] {
		assert.False(t, series[m.Tags["address"]], "one series per source: %v", m.Tags)
		series[m.Tags["address"]] = true
	}
	src := got["chrony_sources"]
	assert.Equal(t, map[string]string{"server": srv.URL(), "result": "success", "peer": "pool.example", "address": "192.0.2.1"}, src[0].Tags)
	assert.Equal(t, map[string]any{"result_code": int64(0), "index": int64(0), "ip": "192.0.2.1", "peer_from": "sourcename",
		"poll": int64(6), "stratum": uint64(2), "state": "sync", "state_code": int64(0), "mode": "client", "flags": uint64(0), "reachability": uint64(255),
		"sample": uint64(12), "latest_measurement": src[0].Fields["latest_measurement"], "latest_measurement_error": src[0].Fields["latest_measurement_error"],
		"original_measurement": src[0].Fields["original_measurement"]}, src[0].Fields)
	assert.InDelta(t, 0.000120, src[0].Fields["latest_measurement"], 1e-9)
	assert.Equal(t, "PPS0", src[4].Tags["peer"])
	assert.Equal(t, "reference clock", src[4].Fields["mode"])
	assert.Equal(t, "falseticker", src[4].Fields["state"])
	assert.Equal(t, int64(cmdmon.StateFalseticker), src[4].Fields["state_code"])
	assert.Equal(t, "never.invalid", src[5].Tags["peer"], "an unresolved source keeps its name")
	assert.Equal(t, "ID#0000000001", src[5].Tags["address"])
	st := got["chrony_sourcestats"][0]
	assert.Equal(t, "C0000201", st.Tags["reference_id"])
	assert.Equal(t, uint64(8), st.Fields["samples"])
	assert.Equal(t, uint64(450), st.Fields["span_seconds"])
	assert.Equal(t, map[string]any{"result_code": int64(0), "online": int64(4), "offline": int64(1), "burst_online": int64(0),
		"burst_offline": int64(0), "unresolved": int64(1)}, got["chrony_activity"][0].Fields)
	ss := got["chrony_serverstats"][0].Fields
	assert.Len(t, ss, 12, "chrony 4.2's eleven counters and result_code: %v", ss)
	assert.Equal(t, uint64(20), ss["cmd_hits"])
	assert.NotContains(t, ss, "ntp_hardware_tx_timestamps", "a counter the release lacks is absent, not zero")
	assert.Empty(t, log.Messages())
}

// A failing report is one point of its measurement with its code; the
// other reports of the gather still come; the failure is logged once.
func TestGatherOneReportFails(t *testing.T) {
	h := fake.Reports(fake.Daemon{Tracking: fake.SyncedIPv4(), Sources: fake.Pool()})
	srv := fake.StartUDP(t, func(req fake.Request) []fake.Packet {
		if req.Command == fake.ReqServerStats {
			return []fake.Packet{{Data: fake.StatusReply(req, fake.StatusUnauth)}}
		}
		return h(req)
	})
	p, log := newPlugin(t, timing.LongTimeout, 1, func(p *ChronyTracking) { p.Server, p.Metrics = srv.URL(), allMetrics })
	for range 3 {
		got := pointsOf(gather(t, p))
		require.Len(t, got["chrony_serverstats"], 1)
		fail := got["chrony_serverstats"][0]
		assert.Equal(t, "permission_denied", fail.Tags["result"])
		assert.Equal(t, int64(cmdmon.CodePermissionDenied), fail.Fields["result_code"])
		assert.Len(t, fail.Fields, 1)
		assert.Len(t, got["chrony_sources"], 6, "the other reports still come")
		assert.Len(t, got["chrony_tracking"], 1)
		assert.Len(t, got["chrony_activity"], 1)
	}
	require.Equal(t, "WDD", levels(log), "one warning for the outage, then debug")
	assert.Contains(t, log.Messages()[0].Text, "chrony_serverstats")
	assert.Contains(t, log.Messages()[0].Text, "unix socket", "the advice says what serverstats needs")
}
