package reliability

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	fc "github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// echoSeq is a fake chronyd whose every reply carries the sequence of the
// request it answers in its ref_id, so a caller can tell which request its
// report answers. To make crossing likely if the client allowed it, it
// delays a quarter of its replies past the client's timeout (the reply
// then lands during a retry or a later call), duplicates some and sends a
// stale copy ahead of others. The seed is fixed.
func echoSeq(timeout time.Duration) fc.Handler {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(7, 11))
	return fc.Stale(func(req fc.Request) []fc.Packet {
		t := fc.LocalReference(4)
		t.RefID = req.Sequence
		if t.RefID == 0 { // 1 in 2^32: ref_id 0 must be unsynchronised to be valid
			t = fc.Unsynchronised()
		}
		p := fc.Packet{Data: fc.TrackingReply(req, t)}
		mu.Lock()
		r := rng.IntN(8)
		mu.Unlock()
		switch r {
		case 0, 1:
			p.Delay = timeout + time.Duration(r)*timeout/2
		case 2:
			return []fc.Packet{p, {Data: append([]byte(nil), p.Data...)}}
		}
		return []fc.Packet{p}
	})
}

// outcome is one call's result as the concurrency tests judge it.
type outcome struct {
	refID uint32
	err   error
}

// checkNoCrossing: every error is typed, and every report answers a request
// the fake received, no two calls getting the answer to the same request.
func checkNoCrossing(t *testing.T, srv *fc.Server, outs []outcome) map[cmdmon.Code]int {
	t.Helper()
	sent := map[uint32]bool{}
	for _, r := range srv.Requests() {
		sent[r.Sequence] = true
	}
	taken := map[uint32]int{}
	codes := map[cmdmon.Code]int{}
	for i, o := range outs {
		codes[cmdmon.CodeOf(o.err)]++
		if o.err != nil {
			requireCode(t, o.err, cmdmon.CodeOf(o.err))
			assert.Equal(t, cmdmon.CodeTimeout, cmdmon.CodeOf(o.err), "only waits can fail here: %v", o.err)
			continue
		}
		assert.True(t, sent[o.refID], "call %d got a report for sequence %08x that was never sent", i, o.refID)
		if prev, dup := taken[o.refID]; dup {
			t.Errorf("calls %d and %d both took the reply to sequence %08x: crossed replies", prev, i, o.refID)
		}
		taken[o.refID] = i
	}
	require.Positive(t, codes[cmdmon.CodeSuccess], "no call succeeded: %v", codes)
	return codes
}

// TestConcurrentSharedClient: 16 goroutines share one client, 25 calls
// each, a third of them with a deadline shorter than the client's bound.
// Exchanges are serialised inside the client; none may panic, race, or
// take another call's reply.
func TestConcurrentSharedClient(t *testing.T) {
	const (
		workers = 16
		calls   = 25
		timeout = 20 * time.Millisecond
	)
	for name, srv := range fakes(t, func() fc.Handler { return echoSeq(timeout) }) {
		t.Run(name, func(t *testing.T) {
			c := newClient(t, cmdmon.Config{Address: srv.URL(), Timeout: timeout, Retries: 2})
			outs := make([]outcome, workers*calls)
			var wg sync.WaitGroup
			start := time.Now()
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < calls; i++ {
						ctx, cancel := context.Background(), context.CancelFunc(func() {})
						if (w+i)%3 == 0 {
							ctx, cancel = context.WithTimeout(ctx, timeout)
						}
						r, err := c.Tracking(ctx)
						cancel()
						outs[w*calls+i] = outcome{r.ReferenceID, err}
					}
				}()
			}
			wg.Wait()
			codes := checkNoCrossing(t, srv, outs)
			t.Logf("%d calls in %v, %d requests sent, outcomes %v", len(outs), time.Since(start), len(srv.Requests()), codes)
		})
	}
}

// TestOverlappingGathers: gathers started every 5 ms on one client whose
// bound is 140 ms, as an agent with an interval shorter than the timeout
// would. Each gather carries a 100 ms deadline, as Telegraf bounds a
// gather by its interval; waiting for the earlier ones counts against it.
// Every gather ends by its deadline (plus margin), typed, uncrossed.
func TestOverlappingGathers(t *testing.T) {
	const (
		ticks    = 150
		interval = 5 * time.Millisecond
		deadline = 100 * time.Millisecond
		timeout  = 20 * time.Millisecond
	)
	for name, srv := range fakes(t, func() fc.Handler { return echoSeq(timeout) }) {
		t.Run(name, func(t *testing.T) {
			c := newClient(t, cmdmon.Config{Address: srv.URL(), Timeout: timeout, Retries: 2})
			outs := make([]outcome, ticks)
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				longest time.Duration
			)
			tick := time.NewTicker(interval)
			for i := 0; i < ticks; i++ {
				<-tick.C
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(context.Background(), deadline)
					defer cancel()
					start := time.Now()
					r, err := c.Tracking(ctx)
					took := time.Since(start)
					outs[i] = outcome{r.ReferenceID, err}
					mu.Lock()
					longest = max(longest, took)
					mu.Unlock()
				}()
			}
			tick.Stop()
			wg.Wait()
			codes := checkNoCrossing(t, srv, outs)
			timing.Within(t, longest, deadline, "a gather outlived its deadline")
			t.Logf("%d overlapping gathers, longest %v, outcomes %v", ticks, longest, fmt.Sprint(codes))
		})
	}
}
