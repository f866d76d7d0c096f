package cmdmon

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// fakeTransports starts a fake chronyd on each transport, each with its
// own handler from mk (handlers such as DropFirst keep state).
func fakeTransports(t *testing.T, mk func() fakechronyd.Handler) map[string]*fakechronyd.Server {
	return map[string]*fakechronyd.Server{
		"udp":      fakechronyd.StartUDP(t, mk()),
		"unixgram": fakechronyd.StartUnixgram(t, filepath.Join(t.TempDir(), "chronyd.sock"), mk()),
	}
}

func newClient(t *testing.T, addr string, timeout time.Duration, retries int) *Client {
	t.Helper()
	return newClientFrom(t, Config{Address: addr, Timeout: timeout, Retries: retries})
}

// newClientFrom makes a client from cfg, closed when the test ends.
func newClientFrom(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestClientReadsReport(t *testing.T) {
	want := fakechronyd.SyncedIPv6()
	for name, srv := range fakeTransports(t, func() fakechronyd.Handler { return fakechronyd.Chronyd(want) }) {
		t.Run(name, func(t *testing.T) {
			// One request: the first attempt must be answered.
			c := newClient(t, srv.URL(), timing.LongTimeout, 2)
			r, err := c.Tracking(context.Background())
			require.NoError(t, err)
			assert.Equal(t, srv.URL(), r.Address)
			assert.Equal(t, want.RefID, r.ReferenceID)
			assert.Equal(t, want.Addr, r.ReferenceAddr)
			assert.Equal(t, "2001:db8::123", r.ReferenceName)
			assert.Equal(t, want.Stratum, r.Stratum)
			assert.InDelta(t, want.Frequency, r.Frequency, 1e-6)
			assert.InDelta(t, want.UpdateInterval, r.UpdateInterval, 1e-5)
			assert.True(t, r.Synchronised)
			reqs := srv.Requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, trackingLen, reqs[0].Len, "request padded to the reply length")
			assert.EqualValues(t, 6, reqs[0].Version)
			assert.EqualValues(t, 0, reqs[0].Attempt)
		})
	}
}

func TestClientRetriesWithNewSequence(t *testing.T) {
	// Two attempts lost, the third answered: it waits ReplyWait.
	timeout := timing.FirstTimeout(2)
	for name, srv := range fakeTransports(t, func() fakechronyd.Handler {
		return fakechronyd.DropFirst(2, fakechronyd.Chronyd(fakechronyd.SyncedIPv4()))
	}) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, srv.URL(), timeout, 2)
			start := time.Now()
			_, err := c.Tracking(context.Background())
			require.NoError(t, err)
			assert.GreaterOrEqual(t, time.Since(start), 3*timeout, "waited out the first attempt and the second, twice as long, before the third")
			reqs := srv.Requests()
			require.Len(t, reqs, 3)
			seqs := map[uint32]bool{}
			for i, r := range reqs {
				assert.EqualValues(t, i, r.Attempt)
				seqs[r.Sequence] = true
			}
			assert.Len(t, seqs, 3, "each attempt has its own sequence")
		})
	}
}

func TestClientTimeoutWithinBound(t *testing.T) {
	testTimeoutWithinBound(t, "", newClient)
}

// testTimeoutWithinBound: against silence, a client that mk makes with two
// retries sends three attempts and returns a timeout after their waits, not
// before and not much later. Every attempt is counted: the last one's wait
// absorbs a late machine (timing.FirstTimeout).
func testTimeoutWithinBound(t *testing.T, suffix string, mk func(t *testing.T, addr string, timeout time.Duration, retries int) *Client) {
	timeout := timing.FirstTimeout(2)
	bound := 7 * timeout
	for name, srv := range fakeTransports(t, fakechronyd.Silence) {
		t.Run(name+suffix, func(t *testing.T) {
			t.Parallel()
			c := mk(t, srv.URL(), timeout, 2)
			start := time.Now()
			_, err := c.Tracking(context.Background())
			took := time.Since(start)
			require.ErrorIs(t, err, ErrTimeout)
			assert.Contains(t, err.Error(), "no reply after 3 attempt(s)")
			assert.GreaterOrEqual(t, took, bound)
			timing.Within(t, took, bound, "bounded by the three attempts' waits")
			require.NoError(t, srv.Sync())
			assert.Len(t, srv.Requests(), 3)
		})
	}
}

// A reply that arrives after its attempt timed out answers an old sequence:
// it must be discarded, and the answer to the retry taken. The fake sends
// the late reply (another reference) just ahead of the retry's answer, so
// the order, not a race of delays, decides what arrives first.
func TestClientIgnoresLateReply(t *testing.T) {
	late := func() fakechronyd.Handler {
		var first fakechronyd.Request
		return fakechronyd.Steps(
			func(req fakechronyd.Request) []fakechronyd.Packet { first = req; return nil },
			func(req fakechronyd.Request) []fakechronyd.Packet {
				return []fakechronyd.Packet{
					{Data: fakechronyd.TrackingReply(first, fakechronyd.LocalReference(5))},
					{Data: fakechronyd.TrackingReply(req, fakechronyd.SyncedIPv4())},
				}
			})
	}
	for name, srv := range fakeTransports(t, late) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// The first attempt is lost, the second answered.
			c := newClient(t, srv.URL(), timing.FirstTimeout(1), 1)
			r, err := c.Tracking(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "192.0.2.17", r.ReferenceName, "the retry's answer, not the late reply")
			assert.Len(t, srv.Requests(), 2, "the first attempt timed out")
		})
	}
}

// TestClientFaults: each fault gives its code, and the next gather on the
// same client, against a healthy chronyd, is clean. A fault that is
// discarded while waiting (waits) costs the client's whole bound, which
// any timeout gives; the client then has the timeouts of FirstTimeout, so
// the clean gather still has an attempt of ReplyWait. The others are
// answers, and get LongTimeout.
func TestClientFaults(t *testing.T) {
	ok := fakechronyd.Chronyd(fakechronyd.SyncedIPv4())
	tests := []struct {
		name  string
		h     fakechronyd.Handler
		code  Code // CodeSuccess: the report is read
		msg   string
		waits bool
	}{
		{"stale first", fakechronyd.Stale(ok), CodeSuccess, "", false},
		{"duplicate", fakechronyd.Duplicate(ok), CodeSuccess, "", false},
		{"unauth", fakechronyd.Status(fakechronyd.StatusUnauth), CodePermissionDenied, "cmdallow", false},
		{"badpktversion", fakechronyd.Status(fakechronyd.StatusBadPktVersion), CodeVersionMismatch, "protocol version 6", false},
		{"failed", fakechronyd.Status(fakechronyd.StatusFailed), CodeServerError, "FAILED (1)", false},
		{"invalidname", fakechronyd.Status(fakechronyd.StatusInvalidName), CodeServerError, "INVALIDNAME (21)", false},
		{"truncated 60", fakechronyd.Mutate(ok, fakechronyd.Truncate(60)), CodeIncompleteReply, "missing part of ref_time", false},
		{"truncated 10", fakechronyd.Mutate(ok, fakechronyd.Truncate(10)), CodeIncompleteReply, "10-byte datagram", true},
		{"oversized", fakechronyd.Mutate(ok, fakechronyd.Append(0)), CodeInvalidData, "105 bytes", false},
		{"wrong sequence", fakechronyd.Mutate(ok, fakechronyd.Put32(fakechronyd.OffSequence, 7)), CodeTimeout, "discarded", true},
		{"wrong command", fakechronyd.Mutate(ok, fakechronyd.Put16(fakechronyd.OffCommand, 34)), CodeInvalidData, "bad header", true},
		{"version 5", fakechronyd.Mutate(ok, fakechronyd.Put8(fakechronyd.OffVersion, 5)), CodeVersionMismatch, "version 5", true},
		{"stratum 99", fakechronyd.Mutate(ok, fakechronyd.Put16(fakechronyd.OffStratum, 99)), CodeInvalidData, "field stratum is 99", false},
	}
	const retries = 1
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			timeout := timing.LongTimeout
			if tt.waits {
				timeout = timing.FirstTimeout(retries)
			}
			srv := fakechronyd.StartUDP(t, tt.h)
			c := newClient(t, srv.URL(), timeout, retries)
			_, err := c.Tracking(context.Background())
			assert.Equal(t, tt.code, CodeOf(err), "%v", err)
			if err != nil {
				assert.Contains(t, err.Error(), tt.msg)
				assert.Contains(t, err.Error(), srv.URL())
			}
			// The next gather against a healthy chronyd is clean.
			srv.SetHandler(ok)
			_, err = c.Tracking(context.Background())
			assert.NoError(t, err)
		})
	}
}

func TestClientUnavailable(t *testing.T) {
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "udp://" + l.LocalAddr().String()
	l.Close()
	for _, addr := range []string{closed, "unixgram://" + filepath.Join(t.TempDir(), "missing.sock")} {
		t.Run(addr, func(t *testing.T) {
			c := newClient(t, addr, timing.LongTimeout, 2)
			start := time.Now()
			_, err := c.Tracking(context.Background())
			require.ErrorIs(t, err, ErrUnavailable)
			timing.Before(t, time.Since(start), timing.LongTimeout, "refused at once, no waiting out timeouts")
			assert.Contains(t, err.Error(), addr)
			assert.Contains(t, err.Error(), "chronyd")
		})
	}
}

// After chronyd restarts (a new socket at the same path), the next call
// dials again and succeeds.
func TestClientRedialsAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chronyd.sock")
	h := fakechronyd.Chronyd(fakechronyd.SyncedIPv4())
	srv := fakechronyd.StartUnixgram(t, path, h)
	// Nothing here waits out a timeout, but a 50 ms bound on the call,
	// dial included, was once too short on a loaded machine.
	c := newClient(t, srv.URL(), timing.LongTimeout, 0)
	_, err := c.Tracking(context.Background())
	require.NoError(t, err)

	require.NoError(t, srv.Close())
	_, err = c.Tracking(context.Background())
	require.ErrorIs(t, err, ErrUnavailable)

	fakechronyd.StartUnixgram(t, path, h)
	_, err = c.Tracking(context.Background())
	require.NoError(t, err)
}

func TestClientConcurrent(t *testing.T) {
	for name, srv := range fakeTransports(t, func() fakechronyd.Handler { return fakechronyd.Chronyd(fakechronyd.SyncedIPv4()) }) {
		t.Run(name, func(t *testing.T) {
			// 400 requests for 400 calls: every first attempt answered.
			c := newClient(t, srv.URL(), timing.LongTimeout, 2)
			var wg sync.WaitGroup
			errs := make(chan error, 8*50)
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 50 {
						r, err := c.Tracking(context.Background())
						if err == nil && r.ReferenceName != "192.0.2.17" {
							err = errors.New("crossed reply: " + r.ReferenceName)
						}
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			assert.Len(t, srv.Requests(), 400)
		})
	}
}

func TestClientCancel(t *testing.T) {
	srv := fakechronyd.StartUDP(t, fakechronyd.Silence())
	c := newClient(t, srv.URL(), 10*time.Second, 2)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Tracking(ctx)
	require.ErrorIs(t, err, ErrTimeout)
	require.ErrorIs(t, err, context.Canceled)
	timing.Within(t, time.Since(start), 50*time.Millisecond, "returned at the cancellation")
}

// The client socket lives in a private chain chronyd can traverse, and
// nothing of it is left after Close.
func TestClientSocketChain(t *testing.T) {
	dir := t.TempDir()
	var (
		mu    sync.Mutex
		seen  os.FileMode
		chain []string
	)
	h := func(req fakechronyd.Request) []fakechronyd.Packet {
		mu.Lock()
		defer mu.Unlock()
		if fi, err := os.Stat(req.From); err == nil {
			seen = fi.Mode()
		}
		for p := filepath.Dir(req.From); p != dir; p = filepath.Dir(p) {
			fi, _ := os.Stat(p)
			chain = append(chain, strconv.FormatUint(uint64(fi.Mode().Perm()), 8))
		}
		return fakechronyd.Chronyd(fakechronyd.SyncedIPv4())(req)
	}
	srv := fakechronyd.StartUnixgram(t, filepath.Join(dir, "chronyd.sock"), h)
	c := newClient(t, srv.URL(), timing.LongTimeout, 0)
	_, err := c.Tracking(context.Background())
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, os.ModeSocket|0o666, seen)
	assert.Equal(t, []string{"711", "711"}, chain, "random dir and pid dir")
	from := srv.Requests()[0].From
	assert.Equal(t, filepath.Join(dir, chainPrefix+strconv.Itoa(os.Getpid())), filepath.Dir(filepath.Dir(from)))

	require.NoError(t, c.Close())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only chronyd's socket is left")
	assert.Equal(t, "chronyd.sock", entries[0].Name())
}

func TestSweepLeftovers(t *testing.T) {
	dir := t.TempDir()
	dead := deadPID(t)
	mk := func(name string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Join(p, "x"), 0o711))
		require.NoError(t, os.WriteFile(filepath.Join(p, "x", "sock"), nil, 0o666))
		return p
	}
	deadOurs := mk(chainPrefix + strconv.Itoa(dead))
	alive := mk(chainPrefix + strconv.Itoa(os.Getppid()))
	foreign := mk("chronyc." + strconv.Itoa(dead))
	notPID := mk(chainPrefix + "abc")
	deadOther := mk(chainPrefix + strconv.Itoa(dead+1))
	if os.Geteuid() == 0 {
		require.NoError(t, os.Lchown(deadOther, 65534, 65534))
	}
	sweepLeftovers(dir)
	assert.NoDirExists(t, deadOurs)
	assert.DirExists(t, alive)
	assert.DirExists(t, foreign)
	assert.DirExists(t, notPID)
	if os.Geteuid() == 0 {
		assert.DirExists(t, deadOther, "another user's leftovers are not ours to remove")
	}
}

// deadPID returns the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	require.NoError(t, err)
	_, err = p.Wait()
	require.NoError(t, err)
	require.ErrorIs(t, syscall.Kill(p.Pid, 0), syscall.ESRCH)
	return p.Pid
}

// A host name that does not resolve is its own code, within the bound.
func TestClientDNSError(t *testing.T) {
	c := newClient(t, "udp://chronyd.invalid:323", 200*time.Millisecond, 1)
	start := time.Now()
	_, err := c.Tracking(context.Background())
	require.ErrorIs(t, err, ErrDNS)
	assert.Contains(t, err.Error(), "dns_error (udp://chronyd.invalid:323): lookup chronyd.invalid")
	assert.Equal(t, 1, strings.Count(err.Error(), "lookup chronyd.invalid"), "said once: %v", err)
	timing.Within(t, time.Since(start), 600*time.Millisecond, "the lookup counts against the bound")
}

// Clients of one process share <dir>/telegraf-chrony.<pid>: one removing it
// as its last socket goes must not pull it from under another that is
// creating its own (found by the compatibility matrix, where --diagnose
// probes of two labs reached each other's sockets at once).
func TestSocketChainConcurrentClients(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				s, err := makeChain(dir)
				if err != nil {
					errs <- err
					return
				}
				s.remove()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "the last client out removes the pid directory")
}
