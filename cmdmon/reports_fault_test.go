package cmdmon

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	fake "github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

func countCommands(reqs []fake.Request) map[uint16]int {
	n := map[uint16]int{}
	for _, r := range reqs {
		n[r.Command]++
	}
	return n
}

// waits are the ways a client can wait for replies: in the network
// poller, and where it is honoured in a system call, where a walk spins
// for each reply before it sleeps.
func waits() []bool {
	if syscallWait {
		return []bool{false, true}
	}
	return []bool{false}
}

// newWalkClient is newClient waiting in a system call when inSyscall.
func newWalkClient(t *testing.T, addr string, timeout time.Duration, retries int, inSyscall bool) *Client {
	t.Helper()
	return newClientFrom(t, Config{Address: addr, Timeout: timeout, Retries: retries, WaitInSyscall: inSyscall})
}

func waitName(inSyscall bool) string { return fmt.Sprintf(" WaitInSyscall=%v", inSyscall) }

func TestSourcesWalk(t *testing.T) {
	for _, inSyscall := range waits() {
		for name, srv := range fakeTransports(t, func() fake.Handler { return fake.Reports(fake.Daemon{Sources: fake.Pool()}) }) {
			t.Run(name+waitName(inSyscall), func(t *testing.T) { testSourcesWalk(t, srv, inSyscall) })
		}
	}
}

func testSourcesWalk(t *testing.T, srv *fake.Server, inSyscall bool) {
	c := newWalkClient(t, srv.URL(), timing.LongTimeout, 2, inSyscall)
	src, err := c.Sources(context.Background())
	require.NoError(t, err)
	require.Len(t, src, 6)
	keys := map[string]bool{}
	for i, s := range src {
		assert.Equal(t, i, s.Index)
		assert.False(t, keys[s.Key()], "key %s is unique", s.Key())
		keys[s.Key()] = true
	}
	assert.Equal(t, []string{"192.0.2.1", "192.0.2.2", "2001:db8::1", "192.0.2.9", "PPS0", "ID#0000000001"},
		[]string{src[0].Key(), src[1].Key(), src[2].Key(), src[3].Key(), src[4].Key(), src[5].Key()})
	assert.Equal(t, "pool.example", src[1].Name)
	assert.Equal(t, NameFromChronyd, src[2].NameFrom)
	assert.Equal(t, "PPS0", src[4].Name)
	assert.Equal(t, NameFromRefID, src[4].NameFrom)
	assert.Equal(t, "never.invalid", src[5].Name, "an unresolved source keeps its name, not a made-up address")
	assert.False(t, src[5].Addr.IsValid())
	assert.Equal(t, StateCandidate, src[1].State)
	assert.Equal(t, ModePeer, src[3].Mode)
	assert.InDelta(t, 0.000120, src[0].LatestMeas, 1e-9)
	// 1 + N requests and a name for each of the 5 NTP sources.
	assert.Equal(t, map[uint16]int{14: 1, 15: 6, 65: 5}, countCommands(srv.Requests()))
	for _, r := range srv.Requests() {
		want := map[uint16]int{14: 32, 15: 76, 65: 284}[r.Command]
		assert.Equal(t, want, r.Len, "command %d padded to its reply", r.Command)
	}

	st, err := c.SourceStats(context.Background())
	require.NoError(t, err)
	require.Len(t, st, 6)
	assert.Equal(t, "PPS0", st[4].Key())
	assert.Equal(t, "never.invalid", st[5].Name)
	assert.Equal(t, uint32(450), st[0].SpanSeconds)
	assert.InDelta(t, -0.0000123, st[0].EstOffset, 1e-12)
}

// Before 4.0 chronyd answers NTP_SOURCE_NAME INVALID: the walk names
// sources by their address, says so, and asks no more until it dials again.
func TestSourcesBefore4(t *testing.T) {
	pool := fake.Pool()[:5]
	srv := fake.StartUDP(t, fake.Reports(fake.Daemon{Sources: pool, Before4: true}))
	c := newClient(t, srv.URL(), timing.LongTimeout, 2)
	for range 2 {
		src, err := c.Sources(context.Background())
		require.NoError(t, err)
		require.Len(t, src, 5)
		assert.Equal(t, "192.0.2.2", src[1].Name)
		assert.Equal(t, NameFromAddress, src[1].NameFrom)
		assert.Equal(t, "PPS0", src[4].Name)
	}
	assert.Equal(t, map[uint16]int{14: 2, 15: 10, 65: 1}, countCommands(srv.Requests()))
}

// A chronyd that closes the name request to this client (opencommands
// without sourcename, 4.7 and later) still gives its sources, named by
// their address.
func TestSourcesNameRefused(t *testing.T) {
	h := fake.Reports(fake.Daemon{Sources: fake.Pool()})
	srv := fake.StartUDP(t, func(req fake.Request) []fake.Packet {
		if req.Command == fake.ReqSourceName {
			return []fake.Packet{{Data: fake.StatusReply(req, fake.StatusUnauth)}}
		}
		return h(req)
	})
	src, err := newClient(t, srv.URL(), timing.LongTimeout, 2).Sources(context.Background())
	require.NoError(t, err)
	require.Len(t, src, 6)
	assert.Equal(t, "2001:db8::1", src[2].Name)
	assert.Equal(t, NameFromAddress, src[2].NameFrom)
	assert.Equal(t, "ID#0000000001", src[5].Name, "no name to give: chronyd's ID, as chronyc -n prints it")
}

func TestSourcesNoSuchSourceMidWalk(t *testing.T) {
	three := uint32(3)
	for name, srv := range fakeTransports(t, func() fake.Handler {
		return fake.Reports(fake.Daemon{Sources: fake.Pool()[:2], NSources: &three})
	}) {
		t.Run(name, func(t *testing.T) {
			c := newClient(t, srv.URL(), timing.LongTimeout, 2)
			src, err := c.Sources(context.Background())
			require.NoError(t, err, "a source gone mid-walk is left out, not a failure")
			assert.Len(t, src, 2)
			st, err := c.SourceStats(context.Background())
			require.NoError(t, err)
			assert.Len(t, st, 2)
		})
	}
	// A source removed between its data and its name is left out too.
	d := fake.Daemon{Sources: fake.Pool()[:3]}
	h := fake.Reports(d)
	srv := fake.StartUDP(t, func(req fake.Request) []fake.Packet {
		if req.Command == fake.ReqSourceName && req.Data[fake.OffSourceIndex+3] == 2 {
			return []fake.Packet{{Data: fake.StatusReply(req, fake.StatusNoSuchSource)}}
		}
		return h(req)
	})
	src, err := newClient(t, srv.URL(), timing.LongTimeout, 2).Sources(context.Background())
	require.NoError(t, err)
	assert.Len(t, src, 2)
	assert.Equal(t, "192.0.2.1", src[0].Key())
	assert.Equal(t, "2001:db8::1", src[1].Key())
}

// An N_SOURCES no chronyd can have fails at once; a count chronyd can
// have, answered ever so fast, is still bounded by Config.Bound.
func TestSourcesCountBound(t *testing.T) {
	huge := uint32(100000)
	srv := fake.StartUDP(t, fake.Reports(fake.Daemon{Sources: fake.Pool(), NSources: &huge}))
	c := newClient(t, srv.URL(), timing.LongTimeout, 2)
	start := time.Now()
	_, err := c.Sources(context.Background())
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, CodeInvalidData, e.Code)
	assert.Contains(t, e.Msg, "n_sources is 100000")
	timing.Before(t, time.Since(start), timing.LongTimeout)
	assert.Len(t, srv.Requests(), 1, "nothing asked after the count")

	most := uint32(chronydMaxSources + MaxRefclocks)
	srv = fake.StartUDP(t, fake.Reports(fake.Daemon{Sources: fake.Pool(), NSources: &most}))
	const bound = 500 * time.Millisecond
	c = newClient(t, srv.URL(), bound, 0)
	start = time.Now()
	src, err := c.Sources(context.Background())
	took := time.Since(start)
	timing.Within(t, took, bound, "a walk of %d sources is bounded as one request is", most)
	if err != nil {
		assert.ErrorIs(t, err, ErrTimeout)
		assert.Contains(t, err.Error(), "the report's bound of 500ms ran out", "the message says what ended the wait")
	} else {
		assert.Len(t, src, 6)
	}
	t.Logf("walk of %d: %v in %v, %d requests", most, err, took, len(srv.Requests()))
	_, err = c.Activity(context.Background())
	require.NoError(t, err, "the next call works")
}

// replyFault breaks the first reply to command cmd with f; the rest pass.
func replyFault(h fake.Handler, cmd uint16, f func([]byte) []byte) fake.Handler {
	var once sync.Once
	return func(req fake.Request) []fake.Packet {
		ps := h(req)
		if req.Command == cmd {
			once.Do(func() { ps = fake.Mutate(func(fake.Request) []fake.Packet { return ps }, f)(req) })
		}
		return ps
	}
}

func TestReportReplyFaults(t *testing.T) {
	reports := []struct {
		name string
		cmd  uint16
		len  int
		call func(*Client) error
	}{
		{"sources/n_sources", fake.ReqNSources, fake.NSourcesLen, func(c *Client) error { _, err := c.Sources(context.Background()); return err }},
		{"sources/source_data", fake.ReqSourceData, fake.SourceDataLen, func(c *Client) error { _, err := c.Sources(context.Background()); return err }},
		{"sources/source_name", fake.ReqSourceName, fake.SourceNameLen, func(c *Client) error { _, err := c.Sources(context.Background()); return err }},
		{"sourcestats/n_sources", fake.ReqNSources, fake.NSourcesLen, func(c *Client) error { _, err := c.SourceStats(context.Background()); return err }},
		{"sourcestats/sourcestats", fake.ReqSourceStats, fake.SourceStatsLen, func(c *Client) error { _, err := c.SourceStats(context.Background()); return err }},
		{"sourcestats/source_name", fake.ReqSourceName, fake.SourceNameLen, func(c *Client) error { _, err := c.SourceStats(context.Background()); return err }},
		{"activity", fake.ReqActivity, fake.ActivityLen, func(c *Client) error { _, err := c.Activity(context.Background()); return err }},
		{"serverstats", fake.ReqServerStats, 196, func(c *Client) error { _, err := c.ServerStats(context.Background()); return err }},
	}
	faults := []struct {
		name string
		f    func(n int) func([]byte) []byte
		code Code
	}{
		{"wrong type", func(int) func([]byte) []byte { return fake.Put16(fake.OffReply, 99) }, CodeInvalidData},
		{"tracking type", func(int) func([]byte) []byte { return fake.Put16(fake.OffReply, fake.RpyTracking) }, CodeInvalidData},
		{"one byte short", func(n int) func([]byte) []byte { return fake.Truncate(n - 1) }, CodeIncompleteReply},
		{"header only", func(int) func([]byte) []byte { return fake.Truncate(fake.ReplyHeaderLen) }, CodeIncompleteReply},
		{"four bytes long", func(int) func([]byte) []byte { return fake.Append(0, 0, 0, 0) }, CodeInvalidData},
	}
	for _, r := range reports {
		for _, f := range faults {
			t.Run(r.name+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				srv := fake.StartUDP(t, replyFault(fake.Reports(fake.Daemon{Sources: fake.Pool()}), r.cmd, f.f(r.len)))
				c := newClient(t, srv.URL(), timing.LongTimeout, 2)
				err := r.call(c)
				var e *Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, f.code, e.Code, e.Error())
				assert.Equal(t, srv.URL(), e.Address)
				require.NoError(t, r.call(c), "the next call works")
			})
		}
	}
}

func TestServerStatsVersions(t *testing.T) {
	counters := []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 1 << 40}
	for v := 1; v <= 4; v++ {
		srv := fake.StartUnixgram(t, filepath.Join(t.TempDir(), "chronyd.sock"),
			fake.Reports(fake.Daemon{ServerStats: v, ServerStatsCounter: counters}))
		s, err := newClient(t, srv.URL(), timing.LongTimeout, 2).ServerStats(context.Background())
		require.NoError(t, err)
		assert.Equal(t, v, s.Version)
		n := 0
		for range s.All() {
			n++
		}
		assert.Equal(t, fake.ServerStatsReplies[v].Counters, n, "version %d", v)
		hits, _ := s.Get(NTPHits)
		drops, _ := s.Get(NTPDrops)
		cmd, _ := s.Get(CmdHits)
		assert.Equal(t, uint64(1), hits)
		if v == 1 {
			assert.Equal(t, []uint64{2, 3}, []uint64{cmd, drops}, "3.x: ntp_hits, cmd_hits, ntp_drops...")
		} else {
			assert.Equal(t, []uint64{3, 4}, []uint64{cmd, drops}, "4.x: ntp_hits, nke_hits, cmd_hits, ntp_drops...")
		}
		_, has := s.Get(NTPHwTxTimestamps)
		assert.Equal(t, v == 4, has)
		if v == 4 {
			assert.Equal(t, uint64(1<<40), s.Values[NTPHwTxTimestamps], "64-bit counters")
		}
	}
}

func TestServerStatsOverUDPNeedsSocket(t *testing.T) {
	srv := fake.StartUDP(t, func(req fake.Request) []fake.Packet {
		return []fake.Packet{{Data: fake.StatusReply(req, fake.StatusUnauth)}}
	})
	_, err := newClient(t, srv.URL(), timing.LongTimeout, 2).ServerStats(context.Background())
	require.ErrorIs(t, err, ErrPermissionDenied)
	assert.Contains(t, err.Error(), "unix socket")
}

// Silence in the middle of a walk fails that report within its bound; the
// next one works.
func TestWalkSilenceMidWalk(t *testing.T) {
	timeout := timing.FirstTimeout(1)
	h := fake.Reports(fake.Daemon{Sources: fake.Pool()})
	var mu sync.Mutex
	silent := true
	for name, srv := range fakeTransports(t, func() fake.Handler {
		return func(req fake.Request) []fake.Packet {
			mu.Lock()
			defer mu.Unlock()
			if silent && req.Command == fake.ReqSourceData && binary.BigEndian.Uint32(req.Data[fake.OffSourceIndex:]) == 2 {
				return nil
			}
			return h(req)
		}
	}) {
		for _, inSyscall := range waits() {
			t.Run(name+waitName(inSyscall), func(t *testing.T) {
				c := newWalkClient(t, srv.URL(), timeout, 1, inSyscall)
				start := time.Now()
				_, err := c.Sources(context.Background())
				timing.Within(t, time.Since(start), c.s.Bound())
				var e *Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, CodeTimeout, e.Code)
				assert.Contains(t, e.Msg, "source 2 of 6")
				mu.Lock()
				silent = false
				mu.Unlock()
				src, err := c.Sources(context.Background())
				require.NoError(t, err)
				assert.Len(t, src, 6)
				mu.Lock()
				silent = true
				mu.Unlock()
			})
		}
	}
}

// A chronyd restarted between two requests of a walk (its socket made
// anew) fails that report; the next dials the new one and works.
func TestWalkChronydRestart(t *testing.T) {
	for _, inSyscall := range waits() {
		t.Run(waitName(inSyscall), func(t *testing.T) { testWalkChronydRestart(t, inSyscall) })
	}
}

func testWalkChronydRestart(t *testing.T, inSyscall bool) {
	path := filepath.Join(t.TempDir(), "chronyd.sock")
	restart := make(chan struct{})
	var once sync.Once
	h := fake.Reports(fake.Daemon{Sources: fake.Pool()})
	old := fake.StartUnixgram(t, path, func(req fake.Request) []fake.Packet {
		if req.Command == fake.ReqSourceData && binary.BigEndian.Uint32(req.Data[fake.OffSourceIndex:]) == 3 {
			once.Do(func() { close(restart) })
			return nil
		}
		return h(req)
	})
	c := newWalkClient(t, old.URL(), timing.FirstTimeout(2), 2, inSyscall)
	done := make(chan error)
	go func() { _, err := c.Sources(context.Background()); done <- err }()
	<-restart
	require.NoError(t, old.Close())
	fake.StartUnixgram(t, path, fake.Reports(fake.Daemon{Sources: fake.Pool()[:2]}))
	err := <-done
	require.Error(t, err, "the walk that met the restart fails")
	t.Logf("walk across a restart: %v", err)
	src, err := c.Sources(context.Background())
	require.NoError(t, err)
	assert.Len(t, src, 2, "the new chronyd's table")
}
