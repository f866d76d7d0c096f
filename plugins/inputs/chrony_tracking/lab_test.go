package chrony_tracking

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

var leapOfWord = map[string]int64{
	chronylab.LeapNormal: 0, chronylab.LeapInsertSecond: 1,
	chronylab.LeapDeleteSecond: 2, chronylab.LeapNotSynchronised: 3,
}

// gatherBracketed gathers between two chronyc readings that show the same
// clock update, so every field but the running correction must agree with
// chronyc to its printed precision. The lab updates its clock 64 times a
// second, so a few tries are needed.
func gatherBracketed(t *testing.T, lab *chronylab.Lab, p *ChronyTracking) (*testutil.Metric, chronylab.ChronycTracking, chronylab.ChronycTracking) {
	t.Helper()
	for range 100 {
		before, err := lab.Tracking()
		require.NoError(t, err)
		acc := gather(t, p)
		after, err := lab.Tracking()
		require.NoError(t, err)
		require.Len(t, acc.Metrics, 1)
		if before.RefTime == after.RefTime {
			return acc.Metrics[0], before, after
		}
	}
	t.Fatal("chronyd updated its clock during every one of 100 readings")
	return nil, chronylab.ChronycTracking{}, chronylab.ChronycTracking{}
}

// requireMatchesChronyc compares a point with `chronyc -c tracking` read
// before and after it: exactly (to chronyc's decimals) for the fields fixed
// at a clock update, within the two readings for system_time.
func requireMatchesChronyc(t *testing.T, m *testutil.Metric, before, after chronylab.ChronycTracking) {
	t.Helper()
	require.Equal(t, "success", m.Tags["result"])
	require.Equal(t, fmt.Sprintf("%08X", before.RefID), m.Tags["reference_id"])
	require.Equal(t, before.Name, m.Tags["reference_name"])
	require.Equal(t, int64(before.Stratum), m.Fields["stratum"])
	require.Equal(t, leapOfWord[before.Leap], m.Fields["leap_status"])
	exact := []struct {
		field    string
		want     float64
		decimals int
	}{
		{"ref_time", before.RefTime, 6}, // float64 holds ~7 decimals of an epoch time
		{"last_offset", before.LastOffset, 9},
		{"rms_offset", before.RMSOffset, 9},
		{"frequency", before.Frequency, 3},
		{"residual_freq", before.ResidualFreq, 3},
		{"skew", before.Skew, 3},
		{"root_delay", before.RootDelay, 9},
		{"update_interval", before.UpdateInterval, 1},
	}
	for _, e := range exact {
		got, ok := m.Fields[e.field].(float64)
		require.True(t, ok, "%s is a float", e.field)
		require.InDelta(t, e.want, got, 0.5*math.Pow10(-e.decimals)+1e-12, e.field)
	}
	// chronyd computes these when it answers: the running correction, and
	// the dispersion, which grows with the time since the update.
	requireBetween(t, m, "system_time", before.SystemTime, after.SystemTime)
	requireBetween(t, m, "root_dispersion", before.RootDispersion, after.RootDispersion)
	sync := before.RefID != chronylab.RefIDUnsynchronised && before.RefID != chronylab.RefIDLocal && before.Leap != chronylab.LeapNotSynchronised
	require.Equal(t, sync, m.Fields["synchronised"])
	f := func(k string) float64 { return m.Fields[k].(float64) }
	bound := math.Abs(f("system_time")) + f("root_dispersion") + f("root_delay")/2
	require.InDelta(t, bound, m.Fields["clock_error_bound"], 1e-8)
	age := 0.0
	if before.RefTime != 0 {
		age = time.Since(RefTimeOf(before.RefTime)).Seconds()
	}
	require.InDelta(t, age, m.Fields["ref_time_age"], 1.0)
}

func requireBetween(t *testing.T, m *testutil.Metric, field string, a, b float64) {
	t.Helper()
	lo, hi := min(a, b), max(a, b)
	require.InDelta(t, (lo+hi)/2, m.Fields[field], (hi-lo)/2+1e-9, field)
}

func TestGatherMatchesChronyc(t *testing.T) {
	modes := []chronylab.Options{{Mode: chronylab.Synced}, {Mode: chronylab.LocalReference}, {Mode: chronylab.Unsynchronised}}
	for _, opts := range modes {
		t.Run(opts.Mode.String(), func(t *testing.T) {
			lab := chronylab.Start(t, opts)
			if opts.Mode != chronylab.Unsynchronised {
				require.NoError(t, lab.WaitSynced(30*time.Second))
			}
			for _, url := range []string{lab.UnixURL(), lab.UDPURL()} {
				t.Run(url[:3], func(t *testing.T) {
					p, log := newPlugin(t, time.Second, 2, func(p *ChronyTracking) { p.Server = url })
					m, before, after := gatherBracketed(t, lab, p)
					require.Equal(t, url, m.Tags["server"])
					requireMatchesChronyc(t, m, before, after)
					require.Empty(t, log.Messages())
				})
			}
		})
	}
}

// chronyd stopped: failure points (the socket is gone, the port refuses),
// then success again once it is back, with the same plugin and clients.
// Nothing here waits: a running chronyd answers, a stopped one refuses,
// so the timeout is one no loaded machine runs out of.
func TestGatherSurvivesChronydRestart(t *testing.T) {
	lab := chronylab.Start(t, chronylab.Options{})
	require.NoError(t, lab.WaitSynced(30*time.Second))
	p, log := newPlugin(t, timing.LongTimeout, 1, func(p *ChronyTracking) {
		p.Servers = []string{lab.UnixURL(), lab.UDPURL()}
	})
	results := func() map[string]string {
		acc := gather(t, p)
		require.Len(t, acc.Metrics, 2)
		got := map[string]string{}
		for _, m := range acc.Metrics {
			got[m.Tags["server"]] = m.Tags["result"]
		}
		return got
	}
	ok := map[string]string{lab.UnixURL(): "success", lab.UDPURL(): "success"}
	require.Equal(t, ok, results())

	require.NoError(t, lab.Stop())
	down := map[string]string{lab.UnixURL(): "service_unavailable", lab.UDPURL(): "service_unavailable"}
	require.Equal(t, down, results())
	require.Equal(t, down, results())

	require.NoError(t, lab.Restart())
	require.Equal(t, ok, results())
	require.Equal(t, "WWDDII", sortedLevels(log), "one warning per server, repeats at debug, one recovery line each")

	p.Stop()
	leftovers, _ := filepath.Glob(filepath.Join(lab.Dir, "telegraf-chrony.*"))
	require.Empty(t, leftovers, "Stop removes the client socket chain")
}

func sortedLevels(log *testutil.CaptureLogger) string {
	count := map[byte]int{}
	for _, m := range log.Messages() {
		count[m.Level]++
	}
	return fmt.Sprintf("%s%s%s", repeat('W', count['W']), repeat('D', count['D']), repeat('I', count['I']))
}

func repeat(c byte, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return string(b)
}
