package reliability

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	fc "github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// TestCallerDeadlineIsTimeout: a call whose context has ended (Telegraf's
// gather deadline, the plugin's Stop) is a timeout whatever step it was at:
// waiting for an earlier call, dialling, or waiting for the reply. It is
// never service_unavailable, which would tell the user that chronyd is not
// running when it answers in microseconds.
//
// With an ended context the client's first select (its semaphore or
// ctx.Done) picks either way at random, so 20 calls on fresh clients reach
// the dial step about 10 times; a UDP dial then fails with "i/o timeout" or
// "operation was canceled", which classify() files under
// service_unavailable unless the client checks the context after taking
// its turn and treats a failed dial under an ended context as a timeout.
// Under load (TestConcurrentSharedClient) a deadline can pass just as a
// call gets its turn, before the context's timer has fired (ctx.Err() still
// nil): the dial's own timeout then says the same.
func TestCallerDeadlineIsTimeout(t *testing.T) {
	for name, srv := range fakes(t, chronyd) {
		t.Run(name, func(t *testing.T) {
			for _, end := range []string{"cancelled", "deadline exceeded"} {
				codes := map[cmdmon.Code]int{}
				var last error
				for i := 0; i < 20; i++ {
					ctx, cancel := context.WithCancel(context.Background())
					if end == "deadline exceeded" {
						ctx, cancel = context.WithDeadline(context.Background(), time.Now().Add(-time.Millisecond))
					}
					cancel()
					c := fastClient(t, srv.URL())
					_, err := c.Tracking(ctx)
					codes[cmdmon.CodeOf(err)]++
					if cmdmon.CodeOf(err) != cmdmon.CodeTimeout {
						last = err
					}
					c.Close()
				}
				assert.Equal(t, map[cmdmon.Code]int{cmdmon.CodeTimeout: 20}, codes, "%s: last other: %v", end, last)
			}
		})
	}
}

// TestEndedContextReturnsAtOnce: against a silent chronyd, a call whose
// context has already ended must return at once, not after the first
// attempt's wait. The client wakes its blocked read on cancellation with
// context.AfterFunc setting a past read deadline, but exchange() sets the
// attempt's deadline (SetReadDeadline(deadline)) before every read, which
// undoes the wake-up when the AfterFunc ran first; the same re-arm follows
// every discarded datagram, so a stale reply arriving after cancellation
// also delays the return by up to one attempt's wait. So the client checks
// the context after every SetReadDeadline (AfterFunc runs only after
// ctx.Err() is set, so a later cancellation still wakes the read).
func TestEndedContextReturnsAtOnce(t *testing.T) {
	timeout := timing.LongTimeout // a wait no loaded machine mistakes for scheduling
	for name, srv := range fakes(t, func() fc.Handler { return fc.Silence() }) {
		t.Run(name, func(t *testing.T) {
			c := newClient(t, cmdmon.Config{Address: srv.URL(), Timeout: timeout, Retries: 2})
			var slow []time.Duration
			for i := 0; i < 10; i++ {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				g := time.Now()
				_, err := c.Tracking(ctx)
				took := time.Since(g)
				requireCode(t, err, cmdmon.CodeTimeout)
				if took >= timeout/2 {
					slow = append(slow, took)
				}
			}
			assert.Empty(t, slow, "calls with an ended context that waited for chronyd")
		})
	}
}
