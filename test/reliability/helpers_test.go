package reliability

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// A short wait is right only where the expected outcome is a wait
// (silence, a discarded datagram): a late machine changes its duration,
// which timing.Within allows for, not its outcome. An attempt that must be
// answered waits timing.ReplyWait at least (answerClient, or
// timing.FirstTimeout when attempts are lost or counted on purpose):
// otherwise a late machine turns the answer into a retry or a timeout.
const (
	fastTimeout = 50 * time.Millisecond
	fastRetries = 2 // chronyc's default: three attempts, 50+100+200 ms
)

func newClient(t testing.TB, cfg cmdmon.Config) *cmdmon.Client {
	t.Helper()
	c, err := cmdmon.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// fastClient is for calls whose expected outcome is a wait.
func fastClient(t testing.TB, addr string) *cmdmon.Client {
	return newClient(t, cmdmon.Config{Address: addr, Timeout: fastTimeout, Retries: fastRetries})
}

// answerClient is for calls that must be answered at the first attempt.
func answerClient(t testing.TB, addr string) *cmdmon.Client {
	return newClient(t, cmdmon.Config{Address: addr, Timeout: timing.LongTimeout, Retries: fastRetries})
}

// concurrently runs f(0) to f(n-1), each on its own goroutine, and waits
// for all of them: cases that wait out a client's bound overlap their
// waits instead of adding them up (t.Parallel runs only GOMAXPROCS
// subtests at once). f records what happened; the test judges afterwards.
func concurrently(n int, f func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { f(i) })
	}
	wg.Wait()
}

// gather is one timed Tracking call.
type gathered struct {
	r    cmdmon.Tracking
	err  error
	took time.Duration
}

func gather(c *cmdmon.Client) gathered {
	start := time.Now()
	r, err := c.Tracking(context.Background())
	return gathered{r: r, err: err, took: time.Since(start)}
}

// requireCode checks that err is a *cmdmon.Error of code want (the only
// error type the client may return) and returns it.
func requireCode(t testing.TB, err error, want cmdmon.Code) *cmdmon.Error {
	t.Helper()
	require.Error(t, err, "want %s", want)
	var te *cmdmon.Error
	require.True(t, errors.As(err, &te), "error %T is not a *cmdmon.Error: %v", err, err)
	require.Equal(t, want, te.Code, "code: %v", err)
	require.True(t, errors.Is(err, &cmdmon.Error{Code: want}), "errors.Is sentinel of %s", want)
	return te
}

// requireWithin checks a failing call against the client's bound.
func requireWithin(t testing.TB, took time.Duration, cfg cmdmon.Config) {
	t.Helper()
	require.True(t, timing.Within(t, took, cfg.Bound(), "bound %s", cfg.Bound()))
}

// requireRoot skips (or fails, when the lab is required) a test that needs
// root for network namespaces or to switch to an unprivileged user.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv(chronylab.EnvRequireLab) == "1" {
		t.Fatalf("this test needs root (network namespace or setpriv), and %s=1", chronylab.EnvRequireLab)
	}
	t.Skip("needs root: network namespaces and switching to an unprivileged user")
}

// waitFor polls cond every 10 ms up to limit: the only kind of loop the
// suite allows, bounded in both count and time.
func waitFor(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for i := 0; i < 10000; i++ {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// timings records measured durations per fault so the test log carries the
// numbers docs/reliability.md quotes.
type timings struct {
	min, max time.Duration
	n        int
}

func (s *timings) add(d time.Duration) {
	if s.n == 0 || d < s.min {
		s.min = d
	}
	if d > s.max {
		s.max = d
	}
	s.n++
}

// closedUDPPort returns a loopback UDP port where nothing listens, chosen
// below the ephemeral range: a port from the ephemeral range (what binding
// port 0 gives, and what a stopped lab chronyd leaves behind) can be taken
// by any other process on a busy host within milliseconds, which then
// answers with its own datagrams. chronyd's real port, 323, is outside the
// range too.
func closedUDPPort(t testing.TB) int {
	t.Helper()
	lo := 20000
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if v, err := strconv.Atoi(f[0]); err == nil && v > 2048 {
				lo = v - 1
			}
		}
	}
	// Probe downwards from just below the range; bounded.
	for port := lo; port > lo-2000 && port > 1024; port -= 7 {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		if err != nil {
			continue
		}
		c.Close()
		return port
	}
	t.Fatal("no free UDP port below the ephemeral range")
	return 0
}
