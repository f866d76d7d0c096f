package cmdmon

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

func newSyscallClient(t *testing.T, addr string, timeout time.Duration, retries int) *Client {
	t.Helper()
	if !syscallWait {
		t.Skip("WaitInSyscall is honoured on Linux only")
	}
	return newClientFrom(t, Config{Address: addr, Timeout: timeout, Retries: retries, WaitInSyscall: true})
}

// Waiting in a system call keeps every rule of the exchange: the report is
// read, a lost reply is retried with a new sequence within the bound, a late
// reply to an earlier attempt is discarded, and a refusal is seen at once.
// The late reply is held back and sent right behind the retry's answer, so
// packet order decides what is read, not a race of a delay with the
// deadline; the attempts that must be answered wait timing.ReplyWait, and
// the silent call's last attempt, counted, too (timing.FirstTimeout).
func TestSyscallWaitExchange(t *testing.T) {
	late := func() fakechronyd.Handler {
		var first fakechronyd.Request
		return fakechronyd.Steps(
			func(req fakechronyd.Request) []fakechronyd.Packet { first = req; return nil },
			func(req fakechronyd.Request) []fakechronyd.Packet {
				return []fakechronyd.Packet{
					{Data: fakechronyd.TrackingReply(req, fakechronyd.SyncedIPv4())},
					{Data: fakechronyd.TrackingReply(first, fakechronyd.LocalReference(5))},
				}
			},
			fakechronyd.Chronyd(fakechronyd.SyncedIPv4()))
	}
	for name, srv := range fakeTransports(t, late) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newSyscallClient(t, srv.URL(), timing.FirstTimeout(0), 1)
			r, err := c.Tracking(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "192.0.2.17", r.ReferenceName)
			reqs := srv.Requests()
			require.Len(t, reqs, 2, "the first attempt timed out")
			assert.NotEqual(t, reqs[0].Sequence, reqs[1].Sequence)
			// The late reply to the first attempt waits in the socket; the
			// next call discards it and takes its own.
			r, err = c.Tracking(context.Background())
			require.NoError(t, err)
			assert.Equal(t, srv.URL(), r.Address)
			assert.Equal(t, "192.0.2.17", r.ReferenceName, "not the late reply")
		})
	}
	testTimeoutWithinBound(t, " silent", newSyscallClient)
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "udp://" + l.LocalAddr().String()
	l.Close()
	t.Run("refused", func(t *testing.T) {
		c := newSyscallClient(t, closed, timing.LongTimeout, 2)
		start := time.Now()
		_, err := c.Tracking(context.Background())
		require.ErrorIs(t, err, ErrUnavailable)
		timing.Before(t, time.Since(start), timing.LongTimeout, "refused at once")
	})
}

// A timeout of a century is a long wait, not a failure: on 32-bit ARM its
// seconds do not fit a timespec, which failed ppoll with EINVAL.
func TestSyscallWaitCentury(t *testing.T) {
	for name, srv := range fakeTransports(t, func() fakechronyd.Handler { return fakechronyd.Chronyd(fakechronyd.SyncedIPv4()) }) {
		t.Run(name, func(t *testing.T) {
			c := newSyscallClient(t, srv.URL(), 100*365*24*time.Hour, 0)
			r, err := c.Tracking(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "192.0.2.17", r.ReferenceName)
		})
	}
}

// Close ends a call waiting in a system call at once (it shuts the socket
// down), and so does the end of the call's context, after which the next
// call dials again and is answered. Each server leaves the subtests'
// first requests, in order, unanswered.
func TestSyscallWaitEnds(t *testing.T) {
	silentTwice := func() fakechronyd.Handler {
		return fakechronyd.Steps(fakechronyd.Silence(), fakechronyd.Silence(), fakechronyd.Chronyd(fakechronyd.SyncedIPv4()))
	}
	for name, srv := range fakeTransports(t, silentTwice) {
		t.Run(name+" Close", func(t *testing.T) {
			c := newSyscallClient(t, srv.URL(), 10*time.Second, 0)
			time.AfterFunc(100*time.Millisecond, func() { c.Close() })
			start := time.Now()
			_, err := c.Tracking(context.Background())
			require.Error(t, err)
			timing.Before(t, time.Since(start), timing.LongTimeout, "Close ended the wait, not the 10 s timeout")
		})
		t.Run(name+" context", func(t *testing.T) {
			c := newSyscallClient(t, srv.URL(), 10*time.Second, 0)
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			start := time.Now()
			_, err := c.Tracking(ctx)
			require.ErrorIs(t, err, context.Canceled)
			require.ErrorIs(t, err, ErrTimeout)
			timing.Before(t, time.Since(start), timing.LongTimeout, "the context ended the wait")
			r, err := c.Tracking(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "192.0.2.17", r.ReferenceName)
			assert.Len(t, srv.Requests(), 3)
		})
	}
}

// A reply is spun for on the first request of a connection to this host,
// and in a walk once chronyd has answered fast on the connection; never on
// a retry, a connection's later single requests (execd's gathers) or a
// chronyd elsewhere.
func TestSpinPolicy(t *testing.T) {
	for _, tc := range []struct {
		name                string
		fresh, inWalk, near bool
		attempt             int
		want                time.Duration
	}{
		{name: "first request, local", fresh: true, want: spinWait},
		{name: "its retry", fresh: true, attempt: 1},
		{name: "a later single request", near: true},
		{name: "walk, chronyd answered fast", inWalk: true, near: true, want: spinWait},
		{name: "walk, chronyd slow or far", inWalk: true},
		{name: "walk retry", inWalk: true, near: true, attempt: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Client{fresh: tc.fresh, inWalk: tc.inWalk, near: tc.near}
			assert.Equal(t, tc.want, c.spin(tc.attempt))
		})
	}
	// A dial makes a connection fresh where chronyd is on this host, and
	// its first answer ends that.
	srv := fakechronyd.StartUDP(t, fakechronyd.Chronyd(fakechronyd.SyncedIPv4()))
	for addr, local := range map[string]bool{srv.URL(): true, "udp://192.0.2.1:323": false} {
		c := newClient(t, addr, timing.LongTimeout, 0)
		_, err := c.dial(context.Background(), 0, time.Now().Add(timing.LongTimeout))
		require.Nil(t, err)
		assert.Equal(t, local, c.fresh, addr)
	}
	c := newClient(t, srv.URL(), timing.LongTimeout, 0)
	_, err := c.Tracking(context.Background())
	require.NoError(t, err)
	assert.False(t, c.fresh, "answered")
}
