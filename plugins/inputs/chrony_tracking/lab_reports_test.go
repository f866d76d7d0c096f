package chrony_tracking

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// Against a real chronyd with sources of every kind, every report comes,
// point for point as chronyc -c prints it: each gather is bracketed by two
// chronyc readings and taken when chronyd did not change the report in
// between (values chronyd computes at read time must lie between them).
func TestGatherReportsMatchChronyc(t *testing.T) {
	lab := chronylab.Start(t, chronylab.Options{AllSources: true})
	_, err := lab.WaitAllSources(chronylab.SettleTimeout)
	require.NoError(t, err)
	p, _ := newPlugin(t, timing.LongTimeout, 1, func(p *ChronyTracking) { p.Server, p.Metrics = lab.UnixURL(), allMetrics })
	ctx := context.Background()

	var why string
	for range 100 {
		srcBefore, err := lab.Sources(ctx)
		require.NoError(t, err)
		ssBefore, err := lab.SourceStats(ctx)
		require.NoError(t, err)
		actBefore, err := lab.Activity(ctx)
		require.NoError(t, err)
		statsBefore, err := lab.ServerStats(ctx)
		require.NoError(t, err)
		got := pointsOf(gather(t, p))
		srcAfter, err := lab.Sources(ctx)
		require.NoError(t, err)
		ssAfter, err := lab.SourceStats(ctx)
		require.NoError(t, err)
		statsAfter, err := lab.ServerStats(ctx)
		require.NoError(t, err)

		for _, ms := range got {
			for _, m := range ms {
				require.Equal(t, "success", m.Tags["result"], "%s %v", m.Measurement, m.Fields)
			}
		}
		why = sourcesDiffer(got["chrony_sources"], srcBefore, srcAfter)
		if why == "" {
			why = sourceStatsDiffer(got["chrony_sourcestats"], ssBefore, ssAfter)
		}
		if why != "" {
			continue
		}
		act := got["chrony_activity"][0].Fields
		assert.Equal(t, []int64{int64(actBefore.Online), int64(actBefore.Offline), int64(actBefore.BurstOnline), int64(actBefore.BurstOffline), int64(actBefore.Unresolved)},
			[]int64{act["online"].(int64), act["offline"].(int64), act["burst_online"].(int64), act["burst_offline"].(int64), act["unresolved"].(int64)})
		stats := got["chrony_serverstats"][0].Fields
		require.Len(t, stats, statsBefore.Columns+1, "the release's counters and result_code")
		before, after := statsBefore.Values(), statsAfter.Values()
		for i, name := range counterNames(statsBefore.Columns) {
			v := stats[name].(uint64)
			assert.True(t, before[i] <= v && v <= after[i], "%s %d not within chronyc's %d..%d", name, v, before[i], after[i])
		}
		return
	}
	t.Fatalf("no gather matched chronyc in 100 bracketed reads; last: %s", why)
}

// counterNames are the serverstats fields in chronyc's column order.
func counterNames(n int) []string {
	names := []string{"ntp_hits", "ntp_drops", "cmd_hits", "cmd_drops", "log_drops", "nke_hits", "nke_drops", "ntp_auth_hits",
		"ntp_interleaved_hits", "ntp_timestamps", "ntp_span_seconds", "ntp_daemon_rx_timestamps", "ntp_daemon_tx_timestamps",
		"ntp_kernel_rx_timestamps", "ntp_kernel_tx_timestamps", "ntp_hardware_rx_timestamps", "ntp_hardware_tx_timestamps"}
	return names[:n]
}

// printed is how far a value may be from chronyc's rendering of it (%.9f,
// or %.3f for ppm).
func near(v, printed, precision float64) bool { return math.Abs(v-printed) <= precision/2+1e-12 }

func between(v, a, b, precision float64) bool {
	return v >= math.Min(a, b)-precision && v <= math.Max(a, b)+precision
}

var stateSymbols = map[string]byte{"sync": '*', "unreach": '?', "falseticker": 'x', "jittery": '~', "candidate": '+', "outlier": '-'}
var modeSymbols = map[string]byte{"client": '^', "peer": '=', "reference clock": '#'}

// sourcesDiffer says how the points differ from chronyc's two readings, or
// "" when they agree.
func sourcesDiffer(ms []*testutil.Metric, before, after []chronylab.ChronycSource) string {
	if len(ms) != len(before) || len(before) != len(after) {
		return fmt.Sprintf("%d points, chronyc %d then %d sources", len(ms), len(before), len(after))
	}
	for i, m := range ms {
		b, a := before[i], after[i]
		f := m.Fields
		switch {
		case m.Tags["address"] != b.Address || f["ip"] != b.Address:
			return fmt.Sprintf("source %d: address %q, chronyc %q", i, m.Tags["address"], b.Address)
		case b.Name != "" && m.Tags["peer"] != b.Name:
			return fmt.Sprintf("source %d: peer %q, chronyc -N %q", i, m.Tags["peer"], b.Name)
		case b.Name == "" && m.Tags["peer"] != b.Address:
			return fmt.Sprintf("source %d: peer %q before 4.0, want the address %q", i, m.Tags["peer"], b.Address)
		case b.State != a.State || b.Reach != a.Reach || b.Poll != a.Poll || b.Offset != a.Offset || b.Error != a.Error:
			return fmt.Sprintf("source %d changed between the chronyc reads", i)
		case stateSymbols[f["state"].(string)] != b.State || modeSymbols[f["mode"].(string)] != b.Mode ||
			cmdmon.SourceState(f["state_code"].(int64)).Symbol() != b.State:
			return fmt.Sprintf("source %d: state %v (%v) mode %v, chronyc %c%c", i, f["state"], f["state_code"], f["mode"], b.Mode, b.State)
		case f["stratum"] != uint64(b.Stratum) || f["poll"] != int64(b.Poll) || f["reachability"] != uint64(b.Reach):
			return fmt.Sprintf("source %d: stratum/poll/reach %v/%v/%v, chronyc %d/%d/%o", i, f["stratum"], f["poll"], f["reachability"], b.Stratum, b.Poll, b.Reach)
		case f["sample"].(uint64) < uint64(b.LastRx) && b.LastRx != math.MaxUint32 || f["sample"].(uint64) > uint64(a.LastRx):
			return fmt.Sprintf("source %d: sample %v, chronyc %d..%d", i, f["sample"], b.LastRx, a.LastRx)
		case !near(f["latest_measurement"].(float64), b.Offset, 1e-9) || !near(f["original_measurement"].(float64), b.MeasuredOffset, 1e-9) ||
			!near(f["latest_measurement_error"].(float64), b.Error, 1e-9):
			return fmt.Sprintf("source %d: measurement %v [%v] ± %v, chronyc %.9f [%.9f] ± %.9f", i,
				f["latest_measurement"], f["original_measurement"], f["latest_measurement_error"], b.Offset, b.MeasuredOffset, b.Error)
		}
	}
	return ""
}

func sourceStatsDiffer(ms []*testutil.Metric, before, after []chronylab.ChronycSourceStats) string {
	if len(ms) != len(before) || len(before) != len(after) {
		return fmt.Sprintf("%d points, chronyc %d then %d sourcestats", len(ms), len(before), len(after))
	}
	for i, m := range ms {
		b, a := before[i], after[i]
		f := m.Fields
		switch {
		case m.Tags["address"] != b.Address:
			return fmt.Sprintf("sourcestats %d: address %q, chronyc %q", i, m.Tags["address"], b.Address)
		case b.Samples != a.Samples || b.Runs != a.Runs || b.Span != a.Span || b.ResidualFreq != a.ResidualFreq || b.StdDev != a.StdDev:
			return fmt.Sprintf("sourcestats %d changed between the chronyc reads", i)
		case f["samples"] != uint64(b.Samples) || f["runs"] != uint64(b.Runs) || f["span_seconds"] != uint64(b.Span):
			return fmt.Sprintf("sourcestats %d: %v/%v/%v, chronyc %d/%d/%d", i, f["samples"], f["runs"], f["span_seconds"], b.Samples, b.Runs, b.Span)
		case !near(f["residual_frequency"].(float64), b.ResidualFreq, 1e-3) || !near(f["skew"].(float64), b.Skew, 1e-3) ||
			!near(f["stddev"].(float64), b.StdDev, 1e-9):
			return fmt.Sprintf("sourcestats %d: freq %v skew %v sd %v, chronyc %.3f %.3f %.9f", i, f["residual_frequency"], f["skew"], f["stddev"], b.ResidualFreq, b.Skew, b.StdDev)
		case !between(f["offset"].(float64), b.Offset, a.Offset, 1e-9):
			return fmt.Sprintf("sourcestats %d: offset %v, chronyc %.9f..%.9f", i, f["offset"], b.Offset, a.Offset)
		}
	}
	return ""
}

// Over UDP, serverstats is permission_denied (chronyd answers it only on
// its unix socket) and the other reports of the gather still come.
func TestGatherServerStatsOverUDP(t *testing.T) {
	lab := chronylab.Start(t, chronylab.Options{AllSources: true})
	_, err := lab.WaitAllSources(chronylab.SettleTimeout)
	require.NoError(t, err)
	p, log := newPlugin(t, timing.LongTimeout, 1, func(p *ChronyTracking) { p.Server, p.Metrics = lab.UDPURL(), allMetrics })
	got := pointsOf(gather(t, p))
	require.Len(t, got["chrony_serverstats"], 1)
	assert.Equal(t, "permission_denied", got["chrony_serverstats"][0].Tags["result"])
	for _, m := range []string{"chrony_tracking", "chrony_sources", "chrony_sourcestats", "chrony_activity"} {
		require.NotEmpty(t, got[m], m)
		assert.Equal(t, "success", got[m][0].Tags["result"], m)
	}
	require.Len(t, log.Messages(), 1)
	assert.Contains(t, log.Messages()[0].Text, "unix socket")
}
