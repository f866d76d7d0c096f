package reliability

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking/tracking"
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

// gatherer gathers every interval on one client until stopped, as Telegraf
// does, so faults hit a client that is in use rather than a fresh one.
func gatherer(c *tracking.Client, interval time.Duration) (stop func() []stamped) {
	var (
		mu   sync.Mutex
		out  []stamped
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for i := 0; i < 100000; i++ { // bounded; stop ends it long before
			at := time.Now()
			g := gather(c)
			mu.Lock()
			out = append(out, stamped{g, at})
			mu.Unlock()
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() []stamped {
		close(done)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return out
	}
}

// TestLabOutageThenRestart: chronyd crashes (SIGKILL, socket file left
// behind) or is stopped (SIGTERM, chronyd removes its socket) and is started
// again, which recreates the unix socket, while a client keeps gathering
// every 25 ms. During the outage every gather is service_unavailable within
// the bound; the first gather started after chronyd answers again succeeds.
func TestLabOutageThenRestart(t *testing.T) {
	for _, transport := range transports {
		for _, how := range []string{"kill", "stop"} {
			t.Run(transport+"/"+how, func(t *testing.T) {
				lab := startLab(t)
				cfg := tracking.Config{Address: labURL(lab, transport), Timeout: fastTimeout, Retries: fastRetries}
				c := newClient(t, cfg)
				require.NoError(t, gather(c).err)

				stop := gatherer(c, 25*time.Millisecond)
				time.Sleep(100 * time.Millisecond)
				downAt := time.Now()
				if how == "kill" {
					require.NoError(t, lab.Kill())
				} else {
					require.NoError(t, lab.Stop())
				}
				downDone := time.Now()
				time.Sleep(300 * time.Millisecond)
				upAt := time.Now()
				require.NoError(t, lab.Restart())
				upDone := time.Now()
				time.Sleep(200 * time.Millisecond)
				results := stop()

				var outage timings
				firstAfter := -1
				for i, g := range results {
					switch {
					case g.at.Add(g.took).Before(downAt):
						assert.NoError(t, g.err, "before the outage")
					case g.at.After(downDone) && g.at.Add(g.took).Before(upAt):
						e := requireCode(t, g.err, tracking.CodeUnavailable)
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
						requireCode(t, g.err, tracking.CodeOf(g.err))
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
// within Config.Bound (50+100+200 ms here) plus a small margin, never
// longer. After SIGCONT chronyd answers the requests it had queued, with
// their old sequences: the next gather succeeds and a gather in progress
// at SIGCONT takes only its own attempt's reply.
func TestLabFrozen(t *testing.T) {
	for _, transport := range transports {
		t.Run(transport, func(t *testing.T) {
			lab := startLab(t)
			cfg := tracking.Config{Address: labURL(lab, transport), Timeout: fastTimeout, Retries: fastRetries}
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
				e := requireCode(t, g.err, tracking.CodeTimeout)
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
			// this proves the real daemon's burst does no harm).
			slow := tracking.Config{Address: cfg.Address, Timeout: 100 * time.Millisecond, Retries: 2}
			c2 := newClient(t, slow)
			done := make(chan gathered, 1)
			go func() { done <- gather(c2) }()
			time.Sleep(350 * time.Millisecond) // attempts at 0, 100, 300 ms
			require.NoError(t, lab.Resume())
			resumed = true
			g := <-done
			require.NoError(t, g.err, "gather in progress at SIGCONT")
			timing.Within(t, g.took, slow.Bound())

			inProgress := g.took
			g = gather(c)
			require.NoError(t, g.err, "first gather after SIGCONT")
			t.Logf("after SIGCONT: in-progress gather ok after %v, next ok after %v", inProgress, g.took)
		})
	}
}
