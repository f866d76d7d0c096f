package reliability

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
)

// countingLogger is the plugin's telegraf.Logger for the soak: it counts
// lines per level and keeps only the last of each, so the soak measures the
// plugin's logging and not a test logger's memory.
type countingLogger struct {
	testutil.Logger // Level, AddAttribute and the unformatted variants
	mu              sync.Mutex
	n               map[string]int
	last            map[string]string
}

func newCountingLogger() *countingLogger {
	return &countingLogger{n: map[string]int{}, last: map[string]string{}}
}

func (l *countingLogger) log(level, f string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n[level]++
	l.last[level] = fmt.Sprintf(f, a...)
}
func (l *countingLogger) Errorf(f string, a ...any) { l.log("E", f, a...) }
func (l *countingLogger) Warnf(f string, a ...any)  { l.log("W", f, a...) }
func (l *countingLogger) Infof(f string, a ...any)  { l.log("I", f, a...) }
func (l *countingLogger) Debugf(f string, a ...any) { l.log("D", f, a...) }
func (l *countingLogger) Tracef(f string, a ...any) { l.log("T", f, a...) }

// pluginSoak runs n Gathers of the plugin through Telegraf's test
// accumulator, checking every point's result, and the resources as
// soakRun does (first fifth warm-up).
func pluginSoak(t *testing.T, url, sockDir string, n int, limit time.Duration, want cmdmon.Code) *countingLogger {
	t.Helper()
	p := ct.New()
	p.Server = url
	p.Timeout = ct.Duration(time.Second)
	log := newCountingLogger()
	p.Log = log
	require.NoError(t, p.Init())
	acc := &testutil.Accumulator{}
	check := func() {
		for _, m := range acc.GetTelegrafMetrics() {
			if m.Tags()["result"] != want.String() {
				t.Fatalf("point %v, want result %s", m, want)
			}
		}
		acc.ClearMetrics()
	}
	require.NoError(t, p.Gather(acc))
	check()
	initial := snapshot(t, sockDir)
	var start resources
	warmup := max(n/5, 1)
	t0 := time.Now()
	done := 1
	for ; done < n; done++ {
		if done == warmup {
			start = snapshot(t, sockDir)
		}
		if done%1024 == 0 {
			check()
			if time.Since(t0) > limit {
				break
			}
		}
		require.NoError(t, p.Gather(acc), "Gather never returns an error: failures are data")
	}
	check()
	if done <= warmup {
		start = initial
	}
	took := time.Since(t0)
	end := snapshot(t, sockDir)
	assert.Empty(t, acc.Errors, "acc.AddError is not used for chronyd faults")
	t.Logf("plugin: %d gathers (%s) in %v, %.0f/s, race detector %v", done, want, took.Round(time.Millisecond), float64(done)/took.Seconds(), raceEnabled)
	t.Logf("initial:              %v", initial)
	t.Logf("start (after %6d): %v", warmup, start)
	t.Logf("end   (after %6d): %v", done, end)
	t.Logf("log lines by level: %v; last warning: %q", log.n, log.last["W"])
	assert.Equal(t, n, done, "soak cut short by its %v cap (TELEGRAF_CHRONY_SOAK_TIMEOUT)", limit)
	requireNoGrowth(t, start, end)
	p.Stop()
	assert.Zero(t, countChains(sockDir), "client socket files left after Stop")
	return log
}

// TestSoakPlugin: the plugin's Gather against a real chronyd, as Telegraf
// calls it, half the run on each transport (100,000 in all by default):
// every point a success, nothing grows, and nothing is logged.
func TestSoakPlugin(t *testing.T) {
	n, limit := soakSize(t, 100000)
	n = max(n/2, 1)
	lab := startLab(t)
	for _, transport := range transports {
		t.Run(transport, func(t *testing.T) {
			log := pluginSoak(t, labURL(lab, transport), filepath.Dir(lab.SocketPath), n, limit, cmdmon.CodeSuccess)
			assert.Zero(t, log.n["W"]+log.n["E"]+log.n["I"], "a healthy chronyd logs nothing")
		})
	}
}

// TestSoakPluginChronydDown: chronyd down for the whole run. Every point is
// service_unavailable; the failure is logged once as a warning and its
// repeats at debug level only (a chronyd down for weeks must not flood
// the agent's log at its default level), and nothing grows.
func TestSoakPluginChronydDown(t *testing.T) {
	n, limit := soakSize(t, 100000)
	n = max(n/10, 1)
	lab := startLab(t)
	require.NoError(t, lab.Stop())
	for _, transport := range transports {
		t.Run(transport, func(t *testing.T) {
			log := pluginSoak(t, downURL(t, lab, transport), filepath.Dir(lab.SocketPath), n, limit, cmdmon.CodeUnavailable)
			assert.Equal(t, 1, log.n["W"], "one warning when the failure starts")
			assert.Zero(t, log.n["E"]+log.n["I"])
			assert.Equal(t, n-1, log.n["D"], "repeats at debug level")
			assert.Contains(t, log.last["W"], "result=service_unavailable")
		})
	}
}
