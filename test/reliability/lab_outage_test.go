package reliability

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// startLab starts a LocalReference lab, the quickest to report a valid,
// synchronised tracking report: the faults here are about transport, not
// about what chronyd tracks.
func startLab(t *testing.T, extra ...string) *chronylab.Lab {
	t.Helper()
	lab := chronylab.Start(t, chronylab.Options{Mode: chronylab.LocalReference, ExtraConfig: extra})
	require.NoError(t, lab.WaitSynced(15*time.Second))
	return lab
}

func labURL(lab *chronylab.Lab, transport string) string {
	if transport == "unixgram" {
		return lab.UnixURL()
	}
	return lab.UDPURL()
}

var transports = []string{"unixgram", "udp"}

// stamped is one gather of the background gatherer, with when it started.
type stamped struct {
	gathered
	at time.Time
}

// gatherer gathers on one client every interval until stopped, as
// Telegraf does, so faults hit a client that is in use rather than a
// fresh one.
type gatherer struct {
	mu   sync.Mutex
	out  []stamped // the finished gathers, in order
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

// startGatherer starts gathering on c; it stops at the end of the test if
// the test has not stopped it.
func startGatherer(t *testing.T, c *cmdmon.Client, interval time.Duration) *gatherer {
	g := &gatherer{done: make(chan struct{})}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for i := 0; i < 100000; i++ { // bounded; stop ends it long before
			at := time.Now()
			r := gather(c)
			g.mu.Lock()
			g.out = append(g.out, stamped{r, at})
			g.mu.Unlock()
			select {
			case <-g.done:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() { g.stop() })
	return g
}

// waitFinished waits until n gathers that started after since have
// finished: a phase of a test lasts until the gatherer has seen it, however
// late the machine runs the gatherer, instead of a fixed sleep.
func (g *gatherer) waitFinished(t *testing.T, since time.Time, n int, phase string) {
	t.Helper()
	finished := func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		k := 0
		for _, s := range g.out {
			if s.at.After(since) {
				k++
			}
		}
		return k >= n
	}
	require.True(t, waitFor(timing.LongTimeout+timing.Slack, finished), "%d gathers did not finish %s", n, phase)
}

func (g *gatherer) stop() []stamped {
	g.once.Do(func() { close(g.done) })
	g.wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.out
}

// TestLabOutageThenRestart: chronyd crashes (SIGKILL, socket file left
// behind) or is stopped (SIGTERM, chronyd removes its socket) and is started
// again, which recreates the unix socket, while a client keeps gathering
// every 25 ms. During the outage every gather is service_unavailable within
// the bound; the first gather started after chronyd answers again succeeds.
// The client's first wait is short, so that a gather whose request chronyd
// took down with it costs little, and it has retries up to a last wait of
// timing.ReplyWait, so that a chronyd that answers is never missed.
func TestLabOutageThenRestart(t *testing.T) {
	const retries = 6
	for _, transport := range transports {
		for _, how := range []string{"kill", "stop"} {
			t.Run(transport+"/"+how, func(t *testing.T) {
				lab := startLab(t)
				cfg := cmdmon.Config{Address: labURL(lab, transport), Timeout: timing.FirstTimeout(retries), Retries: retries}
				c := newClient(t, cfg)
				require.NoError(t, gather(c).err)

				gr := startGatherer(t, c, 25*time.Millisecond)
				gr.waitFinished(t, time.Now(), 4, "before the outage")
				downAt := time.Now()
				if how == "kill" {
					require.NoError(t, lab.Kill())
				} else {
					require.NoError(t, lab.Stop())
				}
				downDone := time.Now()
				gr.waitFinished(t, downDone, 10, "during the outage")
				upAt := time.Now()
				require.NoError(t, lab.Restart())
				upDone := time.Now()
				gr.waitFinished(t, upDone, 4, "after the restart")
				results := gr.stop()

				var outage timings
				firstAfter := -1
				for i, g := range results {
					switch {
					case g.at.Add(g.took).Before(downAt):
						assert.NoError(t, g.err, "before the outage")
					case g.at.After(downDone) && g.at.Add(g.took).Before(upAt):
						e := requireCode(t, g.err, cmdmon.CodeUnavailable)
						assert.Equal(t, cfg.Address, e.Address)
						assert.Contains(t, g.err.Error(), cfg.Address, "the message names the address")
						requireWithin(t, g.took, cfg)
						outage.add(g.took)
					case g.at.After(upDone) && firstAfter < 0:
						firstAfter = i
						assert.NoError(t, g.err, "first gather after chronyd is back")
					case g.err != nil:
						// Straddling the kill or the restart: any typed
						// result, within the bound.
						requireCode(t, g.err, cmdmon.CodeOf(g.err))
						requireWithin(t, g.took, cfg)
					}
				}
				require.Positive(t, outage.n, "no gather fell in the outage")
				require.GreaterOrEqual(t, firstAfter, 0, "no gather after the restart")
				t.Logf("outage: %d gathers, service_unavailable in %v..%v (bound %v); first after restart: %v; e.g. %v",
					outage.n, outage.min, outage.max, cfg.Bound(), results[firstAfter].err, firstErr(results))
			})
		}
	}
}

func firstErr(rs []stamped) error {
	for _, r := range rs {
		if r.err != nil {
			return r.err
		}
	}
	return nil
}

// TestLabFrozen: chronyd stopped with SIGSTOP keeps its sockets but answers
// nothing. Each gather must wait out every attempt and report timeout
// within Config.Bound plus the slack of a loaded machine, never longer.
// After SIGCONT chronyd answers the requests it had queued, with their old
// sequences: the next gather succeeds and a gather in progress at SIGCONT
// takes only its own attempt's reply. The attempts are counted and the
// gathers after SIGCONT answered, so the client has the timeouts of
// timing.FirstTimeout (its last attempt waits timing.ReplyWait).
func TestLabFrozen(t *testing.T) {
	for _, transport := range transports {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			lab := startLab(t)
			cfg := cmdmon.Config{Address: labURL(lab, transport), Timeout: timing.FirstTimeout(fastRetries), Retries: fastRetries}
			c := newClient(t, cfg)
			require.NoError(t, gather(c).err)

			require.NoError(t, lab.Pause())
			resumed := false
			defer func() {
				if !resumed {
					lab.Resume()
				}
			}()
			var (
				frozen timings
				last   error
			)
			for i := 0; i < 3; i++ {
				g := gather(c)
				e := requireCode(t, g.err, cmdmon.CodeTimeout)
				assert.Equal(t, cfg.Address, e.Address)
				assert.Contains(t, e.Msg, "3 attempt(s)")
				assert.GreaterOrEqual(t, g.took, cfg.Bound(), "every attempt waited out")
				requireWithin(t, g.took, cfg)
				frozen.add(g.took)
				last = g.err
			}
			t.Logf("frozen: timeout in %v..%v (bound %v): %v", frozen.min, frozen.max, cfg.Bound(), last)

			// Resume during a gather's last attempt: chronyd then answers
			// all three queued attempts at once, and the client must pick
			// its current one out of them (a stale one would do as well
			// here, so the fake's Stale and Delayed tests prove the choice;
			// this proves the real daemon's burst does no harm). Should a
			// late machine resume it in the second attempt instead, the
			// burst holds two and the same is true.
			c2 := newClient(t, cfg)
			done := make(chan gathered, 1)
			go func() { done <- gather(c2) }()
			time.Sleep(7 * cfg.Timeout / 2) // attempts at 0, T and 3T; the last waits until 7T
			require.NoError(t, lab.Resume())
			resumed = true
			g := <-done
			require.NoError(t, g.err, "gather in progress at SIGCONT")
			timing.Within(t, g.took, cfg.Bound())

			inProgress := g.took
			g = gather(c)
			require.NoError(t, g.err, "first gather after SIGCONT")
			t.Logf("after SIGCONT: in-progress gather ok after %v, next ok after %v", inProgress, g.took)
		})
	}
}
