package chrony_tracking

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// TestFleetLab watches three real chronyd daemons, each by its UDP port and
// its unix socket, from one plugin's servers list. One is stopped mid-run:
// from then on its points say service_unavailable while the others keep
// succeeding in the same gathers, and no gather outlasts one server's bound.
// Restarted, it succeeds again. Then one is paused (SIGSTOP, so it answers
// nothing): its points say timeout and the gather still ends within the
// bound, with the others' points in it. The others must be answered in
// the same gathers, so the last attempt waits timing.ReplyWait.
func TestFleetLab(t *testing.T) {
	const (
		nLabs   = 3
		retries = 1
		rounds  = 3 // gathers per phase
	)
	timeout := timing.FirstTimeout(retries)
	// One server's bound: timeout x (2^(retries+1) - 1); in parallel, so
	// also the gather's.
	bound := timeout * time.Duration(1<<(retries+1)-1)

	labs := make([]*chronylab.Lab, nLabs)
	for i := range labs {
		labs[i] = chronylab.Start(t, chronylab.Options{})
	}
	var servers []string
	labOf := map[string]int{}
	for i, l := range labs {
		require.NoError(t, l.WaitSynced(30*time.Second), "lab %d", i)
		for _, u := range []string{l.UDPURL(), l.UnixURL()} {
			servers = append(servers, u)
			labOf[u] = i
		}
	}
	p, log := newPlugin(t, timeout, retries, func(p *ChronyTracking) { p.Servers = servers })

	// round gathers once and checks every point: the servers of the labs in
	// down carry the failure code only, every other one success with the
	// values chronyc shows for its lab (when compare is set).
	round := func(phase string, down map[int]cmdmon.Code, compare bool) time.Duration {
		t.Helper()
		start := time.Now()
		acc := gather(t, p)
		took := time.Since(start)
		require.True(t, timing.Within(t, took, bound, "%s: gather took %s, bound %s", phase, took, bound))
		require.Len(t, acc.Metrics, len(servers), phase)
		byServer := map[string]*testutil.Metric{}
		for _, m := range acc.Metrics {
			u := m.Tags["server"]
			require.NotContains(t, byServer, u, "%s: one point per server", phase)
			byServer[u] = m
		}
		var chronyc [nLabs]*chronylab.ChronycTracking
		for _, u := range servers {
			m, i := byServer[u], labOf[u]
			require.NotNil(t, m, "%s: no point for %s", phase, u)
			if code, isDown := down[i]; isDown {
				require.Equal(t, map[string]string{"server": u, "result": code.String()}, m.Tags, phase)
				require.Equal(t, map[string]any{"result_code": int64(code)}, m.Fields, phase)
				continue
			}
			require.Equal(t, "success", m.Tags["result"], "%s: %s", phase, u)
			require.Equal(t, int64(0), m.Fields["result_code"], phase)
			if !compare {
				continue
			}
			if chronyc[i] == nil {
				tr, err := labs[i].Tracking()
				require.NoError(t, err)
				chronyc[i] = &tr
			}
			requireLikeLab(t, m, *chronyc[i], phase)
		}
		return took
	}

	healthy := map[int]cmdmon.Code{}
	for range rounds {
		round("healthy", healthy, true)
	}

	require.NoError(t, labs[1].Stop())
	stopped := map[int]cmdmon.Code{1: cmdmon.CodeUnavailable}
	for range rounds {
		took := round("lab 1 stopped", stopped, true)
		t.Logf("lab 1 stopped: gather of %d servers in %s", len(servers), took)
	}

	require.NoError(t, labs[1].Restart())
	round("lab 1 restarted", healthy, false) // it answers at once, maybe not yet synchronised
	require.NoError(t, labs[1].WaitSynced(30*time.Second))
	round("lab 1 synchronised again", healthy, true)

	require.NoError(t, labs[2].Pause())
	t.Cleanup(func() { labs[2].Resume() })
	paused := map[int]cmdmon.Code{2: cmdmon.CodeTimeout}
	for range rounds {
		took := round("lab 2 paused", paused, true)
		require.GreaterOrEqual(t, took, timeout, "the paused lab was waited for")
		t.Logf("lab 2 paused: gather of %d servers in %s (bound %s)", len(servers), took, bound)
	}
	require.NoError(t, labs[2].Resume())
	// Paused for three bounds, chronyd may answer before it counts itself
	// synchronised again, as after the restart.
	round("lab 2 resumed", healthy, false)
	require.NoError(t, labs[2].WaitSynced(30*time.Second))
	round("lab 2 synchronised again", healthy, true)

	// Per server and outage: one warning, debug repeats, one info on
	// recovery; 2 servers stopped, then 2 paused.
	require.Equal(t, "WWWWDDDDDDDDIIII", sortedLevels(log), logText(log))
}

// requireLikeLab compares a point with its lab's `chronyc -c tracking`:
// the identity of the reference and the values that change only when the
// lab's synchronisation does.
func requireLikeLab(t *testing.T, m *testutil.Metric, tr chronylab.ChronycTracking, phase string) {
	t.Helper()
	u := m.Tags["server"]
	require.Equal(t, fmt.Sprintf("%08X", tr.RefID), m.Tags["reference_id"], "%s: %s", phase, u)
	require.Equal(t, tr.Name, m.Tags["reference_name"], "%s: %s", phase, u)
	require.Equal(t, int64(tr.Stratum), m.Fields["stratum"], "%s: %s", phase, u)
	require.Equal(t, int64(tr.LeapCode()), m.Fields["leap_status"], "%s: %s", phase, u)
	require.Equal(t, true, m.Fields["synchronised"], "%s: %s", phase, u)
}

func logText(log *testutil.CaptureLogger) string {
	var b strings.Builder
	for _, m := range log.Messages() {
		fmt.Fprintf(&b, "%c %s\n", m.Level, m.Text)
	}
	return b.String()
}
