package chrony_tracking

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

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
	// Only this process's chain: a --diagnose run in another test process
	// probes every chronyd on the host, this lab's too, and may have its
	// own chain here for a moment.
	require.NoDirExists(t, filepath.Join(lab.Dir, "telegraf-chrony."+strconv.Itoa(os.Getpid())), "Stop removes the client socket chain")
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
