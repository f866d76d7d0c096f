package reliability

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
)

// soakRun gathers n times (or until limit passes, which fails the test: the
// run must reach its count to count) on c, expecting want every time, and
// checks that nothing grew. The first fifth of the run is a warm-up,
// measured but not judged: the allocator, and under -race the detector's
// shadow memory, settle there (without -race RSS moves by under 5 MiB in
// it; with -race by up to 80 MiB, then stays flat). Growth is judged from
// the end of the warm-up to the end of the run.
func soakRun(t *testing.T, c *cmdmon.Client, sockDir string, n int, limit time.Duration, want cmdmon.Code) {
	t.Helper()
	first := gather(c)
	require.Equal(t, want, cmdmon.CodeOf(first.err), "%v", first.err)
	initial := snapshot(t, sockDir)
	t0 := time.Now()
	done, wrong := 1, 0
	var (
		lastWrong error
		start     resources
	)
	warmup := max(n/5, 1)
	for ; done < n; done++ {
		if done == warmup {
			start = snapshot(t, sockDir)
		}
		if done%1024 == 0 && time.Since(t0) > limit {
			break
		}
		_, err := c.Tracking(t.Context())
		if cmdmon.CodeOf(err) != want {
			wrong++
			lastWrong = err
		}
	}
	if done <= warmup {
		start = initial
	}
	took := time.Since(t0)
	end := snapshot(t, sockDir)
	t.Logf("%d gathers (%s) in %v, %.0f/s, race detector %v", done, want, took.Round(time.Millisecond), float64(done)/took.Seconds(), raceEnabled)
	t.Logf("initial:              %v", initial)
	t.Logf("start (after %6d): %v", warmup, start)
	t.Logf("end   (after %6d): %v", done, end)
	assert.Zero(t, wrong, "gathers with another result; last: %v", lastWrong)
	assert.Equal(t, n, done, "soak cut short by its %v cap (TELEGRAF_CHRONY_SOAK_TIMEOUT)", limit)
	requireNoGrowth(t, start, end)
	require.NoError(t, c.Close())
	assert.Zero(t, countChains(sockDir), "client socket files left after Close")
}

// TestSoakClient: 100,000 gathers per transport against a real chronyd
// through one client (TELEGRAF_CHRONY_SOAK_GATHERS for a longer run).
func TestSoakClient(t *testing.T) {
	n, limit := soakSize(t, 100000)
	lab := startLab(t)
	for _, transport := range transports {
		t.Run(transport, func(t *testing.T) {
			c := newClient(t, cmdmon.Config{Address: labURL(lab, transport), Timeout: time.Second, Retries: 2})
			soakRun(t, c, filepath.Dir(lab.SocketPath), n, limit, cmdmon.CodeSuccess)
		})
	}
}

// TestSoakClientChronydDown: the failure path, chronyd stopped for the whole
// run: every gather is service_unavailable and dials afresh (a unixgram
// client creates and removes its socket chain each time), and nothing may
// accumulate. A tenth of the success run's count: each failed unixgram
// gather costs a directory chain, so it is ten times slower.
func TestSoakClientChronydDown(t *testing.T) {
	n, limit := soakSize(t, 100000)
	n = max(n/10, 1)
	lab := startLab(t)
	require.NoError(t, lab.Stop())
	for _, transport := range transports {
		t.Run(transport, func(t *testing.T) {
			c := newClient(t, cmdmon.Config{Address: downURL(t, lab, transport), Timeout: time.Second, Retries: 2})
			soakRun(t, c, filepath.Dir(lab.SocketPath), n, limit, cmdmon.CodeUnavailable)
		})
	}
}

// downURL is the address of a stopped chronyd: its unix socket path, or for
// UDP a closed port outside the ephemeral range (see closedUDPPort: the
// stopped lab's own port may be taken by another process on a busy host,
// which a real chronyd's port 323 would not be).
func downURL(t testing.TB, lab *chronylab.Lab, transport string) string {
	if transport == "unixgram" {
		return lab.UnixURL()
	}
	return "udp://127.0.0.1:" + strconv.Itoa(closedUDPPort(t))
}
