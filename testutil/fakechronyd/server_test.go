package fakechronyd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// silenceWait is how long a test listens to conclude nothing is coming; the
// fake answers loopback requests in well under a millisecond.
const silenceWait = 150 * time.Millisecond

// replyWait bounds a wait for a reply that should come, generous for a
// loaded CI machine running -race.
const replyWait = 5 * time.Second

func trackingRequest(seq uint32, attempt uint16) []byte {
	b := make([]byte, TrackingLen)
	b[0], b[1] = ProtoVersion, PktTypeRequest
	binary.BigEndian.PutUint16(b[4:], ReqTracking)
	binary.BigEndian.PutUint16(b[6:], attempt)
	binary.BigEndian.PutUint32(b[8:], seq)
	return b
}

type transport struct {
	name  string
	start func(t *testing.T, h Handler) *Server
}

var transports = []transport{
	{"udp", func(t *testing.T, h Handler) *Server { return StartUDP(t, h) }},
	{"unixgram", func(t *testing.T, h Handler) *Server {
		return StartUnixgram(t, filepath.Join(t.TempDir(), "chronyd.sock"), h)
	}},
}

// client is what a chrony client does on each transport: UDP from an
// ephemeral port, or a unix datagram socket bound at its own path.
type client struct {
	t    *testing.T
	conn net.PacketConn
	to   net.Addr
}

func newClient(t *testing.T, s *Server) *client {
	t.Helper()
	var conn net.PacketConn
	var err error
	switch s.Addr().Network() {
	case "udp":
		conn, err = net.ListenPacket("udp", "127.0.0.1:0")
	case "unixgram":
		path := filepath.Join(t.TempDir(), "client.sock")
		conn, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	default:
		t.Fatalf("unknown network %q", s.Addr().Network())
	}
	if err != nil {
		t.Fatalf("client socket: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, to: s.Addr()}
}

func (c *client) send(b []byte) {
	c.t.Helper()
	if _, err := c.conn.WriteTo(b, c.to); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// recv returns the next datagram, or nil when none arrives within d.
func (c *client) recv(d time.Duration) []byte {
	c.t.Helper()
	if err := c.conn.SetReadDeadline(time.Now().Add(d)); err != nil {
		c.t.Fatalf("deadline: %v", err)
	}
	buf := make([]byte, 4096)
	n, _, err := c.conn.ReadFrom(buf)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil
	}
	if err != nil {
		c.t.Fatalf("recv: %v", err)
	}
	return buf[:n]
}

func (c *client) mustRecv() []byte {
	c.t.Helper()
	b := c.recv(replyWait)
	if b == nil {
		c.t.Fatalf("no reply within %v", replyWait)
	}
	return b
}

func (c *client) expectSilence() {
	c.t.Helper()
	if b := c.recv(silenceWait); b != nil {
		c.t.Fatalf("unexpected reply % x", b)
	}
}

func seqOf(reply []byte) uint32 { return binary.BigEndian.Uint32(reply[OffSequence:]) }

// waitRequests waits for requests that produce no reply to be read.
func waitRequests(t *testing.T, s *Server, n int) []Request {
	t.Helper()
	deadline := time.Now().Add(replyWait)
	for {
		reqs := s.Requests()
		if len(reqs) >= n {
			return reqs
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d requests, want %d", len(reqs), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// forEachTransport runs f against a fresh fake on each transport.
func forEachTransport(t *testing.T, h func() Handler, f func(t *testing.T, s *Server, c *client)) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			s := tr.start(t, h())
			f(t, s, newClient(t, s))
		})
	}
}

func TestAnswersOnBothTransports(t *testing.T) {
	report := SyncedIPv4()
	forEachTransport(t, func() Handler { return Reply(report) }, func(t *testing.T, s *Server, c *client) {
		c.send(trackingRequest(0xCAFEF00D, 1))
		got := c.mustRecv()
		want := TrackingReply(Request{Version: 6, Command: 33, Sequence: 0xCAFEF00D}, report)
		if !bytes.Equal(got, want) {
			t.Errorf("reply =\n% x\nwant\n% x", got, want)
		}

		reqs := s.Requests()
		if len(reqs) != 1 {
			t.Fatalf("Requests() has %d entries, want 1", len(reqs))
		}
		r := reqs[0]
		if r.Version != 6 || r.PktType != 1 || r.Command != 33 || r.Attempt != 1 ||
			r.Sequence != 0xCAFEF00D || r.Len != 104 || r.N != 0 || len(r.Data) != 104 {
			t.Errorf("request = %+v", r)
		}
		if r.From != c.conn.LocalAddr().String() {
			t.Errorf("From = %q, want %q", r.From, c.conn.LocalAddr())
		}
	})
}

func TestURL(t *testing.T) {
	udp := StartUDP(t, Silence())
	if want := "udp://127.0.0.1:"; !strings.HasPrefix(udp.URL(), want) || udp.URL() != "udp://"+udp.Addr().String() {
		t.Errorf("udp URL = %q", udp.URL())
	}
	if port := udp.Addr().(*net.UDPAddr).Port; port == 0 {
		t.Errorf("udp port is 0")
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "chronyd.sock")
	ux := StartUnixgram(t, path, Silence())
	if want := "unixgram://" + path; ux.URL() != want {
		t.Errorf("unixgram URL = %q, want %q", ux.URL(), want)
	}

	// A relative path still yields an absolute URL.
	t.Chdir(dir)
	rel := StartUnixgram(t, "rel.sock", Silence())
	if want := "unixgram://" + filepath.Join(dir, "rel.sock"); rel.URL() != want {
		t.Errorf("relative unixgram URL = %q, want %q", rel.URL(), want)
	}
}

// chronyd can only answer a unix client through a path in the filesystem;
// the fake must drop the reply, not fail, for the others.
func TestUnixSenderWithoutPathGetsNoReply(t *testing.T) {
	tests := []struct {
		name  string
		local func() *net.UnixAddr
	}{
		{"unbound", func() *net.UnixAddr { return nil }},
		{"abstract", func() *net.UnixAddr {
			return &net.UnixAddr{Name: fmt.Sprintf("@fakechronyd-test-%d-%d", os.Getpid(), time.Now().UnixNano()), Net: "unixgram"}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := StartUnixgram(t, filepath.Join(t.TempDir(), "chronyd.sock"), Reply(SyncedIPv4()))
			conn, err := net.DialUnix("unixgram", tc.local(), s.Addr().(*net.UnixAddr))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write(trackingRequest(1, 0)); err != nil {
				t.Fatal(err)
			}
			reqs := waitRequests(t, s, 1)
			if reqs[0].From != "" {
				t.Errorf("From = %q, want empty for a sender without a path", reqs[0].From)
			}
			conn.SetReadDeadline(time.Now().Add(silenceWait))
			if n, err := conn.Read(make([]byte, 200)); err == nil {
				t.Errorf("sender got %d bytes", n)
			}
		})
	}
}

func TestSilence(t *testing.T) {
	forEachTransport(t, Silence, func(t *testing.T, s *Server, c *client) {
		c.send(trackingRequest(1, 0))
		c.expectSilence()
		if err := s.Sync(); err != nil {
			t.Fatal(err)
		}
		if n := len(s.Requests()); n != 1 {
			t.Errorf("recorded %d requests, want 1", n)
		}
	})
}

func TestDelayed(t *testing.T) {
	const d = 200 * time.Millisecond
	forEachTransport(t, func() Handler { return Delayed(d, Reply(Refclock())) }, func(t *testing.T, s *Server, c *client) {
		start := time.Now()
		c.send(trackingRequest(7, 0))
		got := c.mustRecv()
		if el := time.Since(start); el < d {
			t.Errorf("reply after %v, want at least %v", el, d)
		}
		if len(got) != TrackingLen || seqOf(got) != 7 {
			t.Errorf("reply = % x", got)
		}
	})
}

func TestDelayedRequestsDoNotBlockEachOther(t *testing.T) {
	h := func(req Request) []Packet {
		d := time.Duration(0)
		if req.N == 0 {
			d = time.Hour // cancelled by Close at the end of the test
		}
		return []Packet{{Delay: d, Data: StatusReply(req, StatusSuccess)}}
	}
	forEachTransport(t, func() Handler { return h }, func(t *testing.T, s *Server, c *client) {
		c.send(trackingRequest(1, 0))
		c.send(trackingRequest(2, 0))
		if got := c.mustRecv(); seqOf(got) != 2 {
			t.Errorf("first reply has sequence %d, want 2", seqOf(got))
		}
	})
}

func TestPacketOrder(t *testing.T) {
	h := func(req Request) []Packet {
		mk := func(tag byte) []byte { return Chain(Put8(OffRes1, tag))(StatusReply(req, 0)) }
		return []Packet{
			{Delay: 120 * time.Millisecond, Data: mk(4)},
			{Delay: 60 * time.Millisecond, Data: mk(2)},
			{Delay: 60 * time.Millisecond, Data: mk(3)},
			{Data: mk(1)},
		}
	}
	forEachTransport(t, func() Handler { return h }, func(t *testing.T, s *Server, c *client) {
		c.send(trackingRequest(1, 0))
		for want := byte(1); want <= 4; want++ {
			if got := c.mustRecv()[OffRes1]; got != want {
				t.Fatalf("packet %d arrived, want %d", got, want)
			}
		}
	})
}

func TestStale(t *testing.T) {
	forEachTransport(t, func() Handler { return Stale(Reply(SyncedIPv6())) }, func(t *testing.T, s *Server, c *client) {
		c.send(trackingRequest(100, 0))
		stale, good := c.mustRecv(), c.mustRecv()
		if seqOf(stale) == 100 || seqOf(good) != 100 {
			t.Errorf("sequences %d then %d, want another one then 100", seqOf(stale), seqOf(good))
		}
		if !bytes.Equal(stale[OffSequence+4:], good[OffSequence+4:]) || !bytes.Equal(stale[:OffSequence], good[:OffSequence]) {
			t.Errorf("stale reply differs from the good one beyond the sequence")
		}

		// The second time round the stale reply is a late answer to the first request.
		c.send(trackingRequest(200, 1))
		stale, good = c.mustRecv(), c.mustRecv()
		if seqOf(stale) != 100 || seqOf(good) != 200 {
			t.Errorf("sequences %d then %d, want 100 then 200", seqOf(stale), seqOf(good))
		}
	})
}

func TestDropFirst(t *testing.T) {
	forEachTransport(t, func() Handler { return DropFirst(2, Reply(SyncedIPv4())) }, func(t *testing.T, s *Server, c *client) {
		for seq := uint32(1); seq <= 2; seq++ {
			c.send(trackingRequest(seq, uint16(seq-1)))
			c.expectSilence()
		}
		for seq := uint32(3); seq <= 4; seq++ {
			c.send(trackingRequest(seq, 2))
			if got := c.mustRecv(); seqOf(got) != seq {
				t.Errorf("reply sequence %d, want %d", seqOf(got), seq)
			}
		}
		reqs := s.Requests()
		for i, r := range reqs {
			if r.N != i || r.Sequence != uint32(i+1) {
				t.Errorf("request %d = N %d sequence %d", i, r.N, r.Sequence)
			}
		}
	})
}

func TestDuplicate(t *testing.T) {
	forEachTransport(t, func() Handler { return Duplicate(Reply(SyncedIPv4())) }, func(t *testing.T, s *Server, c *client) {
		c.send(trackingRequest(5, 0))
		a, b := c.mustRecv(), c.mustRecv()
		if !bytes.Equal(a, b) || seqOf(a) != 5 {
			t.Errorf("duplicates differ:\n% x\n% x", a, b)
		}
		c.expectSilence()
	})
}

func TestSteps(t *testing.T) {
	script := func() Handler { return Steps(Silence(), Status(StatusFailed), Reply(SyncedIPv4())) }
	forEachTransport(t, script, func(t *testing.T, s *Server, c *client) {
		c.send(trackingRequest(1, 0))
		c.expectSilence()
		c.send(trackingRequest(2, 1))
		if got := c.mustRecv(); len(got) != ReplyHeaderLen || binary.BigEndian.Uint16(got[OffStatus:]) != StatusFailed {
			t.Errorf("second reply = % x, want FAILED", got)
		}
		for seq := uint32(3); seq <= 4; seq++ {
			c.send(trackingRequest(seq, 2))
			if got := c.mustRecv(); len(got) != TrackingLen {
				t.Errorf("reply %d has %d bytes, want a tracking reply", seq, len(got))
			}
		}
	})
}

func TestMutate(t *testing.T) {
	report := SyncedIPv4()
	good := TrackingReply(Request{Version: 6, Command: 33, Sequence: 9}, report)
	patched := func(off int, v ...byte) []byte {
		b := bytes.Clone(good)
		copy(b[off:], v)
		return b
	}
	tests := []struct {
		name string
		f    func([]byte) []byte
		want []byte
	}{
		{"wrong sequence", Put32(OffSequence, 10), patched(16, 0, 0, 0, 10)},
		{"wrong command", Put16(OffCommand, 34), patched(4, 0, 34)},
		{"wrong version", Put8(OffVersion, 5), patched(0, 5)},
		{"request packet type", Put8(OffPktType, PktTypeRequest), patched(1, 1)},
		{"res1 set", Put8(OffRes1, 1), patched(2, 1)},
		{"res2 set", Put8(OffRes2, 1), patched(3, 1)},
		{"failed status", Put16(OffStatus, StatusFailed), patched(8, 0, 1)},
		{"empty datagram", Truncate(0), []byte{}},
		{"header only", Truncate(ReplyHeaderLen), good[:28]},
		{"one short", Truncate(103), good[:103]},
		{"oversized", Append(0, 0, 0, 0), append(bytes.Clone(good), 0, 0, 0, 0)},
		{"no-high-seconds marker", Put32(OffRefTime, NoHighSec), patched(56, 0x7f, 0xff, 0xff, 0xff)},
		{"garbage", func([]byte) []byte { return []byte("not chrony") }, []byte("not chrony")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := StartUDP(t, Mutate(Reply(report), tc.f))
			c := newClient(t, s)
			c.send(trackingRequest(9, 0))
			if got := c.mustRecv(); !bytes.Equal(got, tc.want) {
				t.Errorf("got\n% x\nwant\n% x", got, tc.want)
			}
		})
	}
}

func TestChronydValidation(t *testing.T) {
	report := SyncedIPv4()
	req := func(f func([]byte) []byte) []byte { return f(trackingRequest(42, 0)) }
	tests := []struct {
		name    string
		req     []byte
		wantLen int // 0: no reply
		status  uint16
		version uint8
	}{
		{"good", req(Chain()), TrackingLen, StatusSuccess, 6},
		{"oversized but accepted", req(Append(make([]byte, 756)...)), TrackingLen, StatusSuccess, 6},
		{"too long", req(Append(make([]byte, 757)...)), 0, 0, 0},
		{"too short to answer", req(Truncate(27)), 0, 0, 0},
		{"short", req(Truncate(50)), ReplyHeaderLen, StatusBadPktLength, 6},
		{"one byte short", req(Truncate(103)), ReplyHeaderLen, StatusBadPktLength, 6},
		{"version 5", req(Put8(OffVersion, 5)), ReplyHeaderLen, StatusBadPktVersion, 6},
		{"version 7", req(Put8(OffVersion, 7)), ReplyHeaderLen, StatusBadPktVersion, 6},
		{"version 4", req(Put8(OffVersion, 4)), 0, 0, 0},
		{"reply packet type", req(Put8(OffPktType, PktTypeReply)), 0, 0, 0},
		{"res1 set", req(Put8(OffRes1, 1)), 0, 0, 0},
		{"res2 set", req(Put8(OffRes2, 1)), 0, 0, 0},
		{"other command", req(Put16(OffCommand, 34)), ReplyHeaderLen, StatusInvalid, 6},
	}
	s := StartUDP(t, Chronyd(report))
	c := newClient(t, s)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			c.send(tc.req)
			if tc.wantLen == 0 {
				c.expectSilence()
				return
			}
			got := c.mustRecv()
			if len(got) != tc.wantLen || got[OffVersion] != tc.version || got[OffPktType] != PktTypeReply ||
				binary.BigEndian.Uint16(got[OffStatus:]) != tc.status || seqOf(got) != 42 {
				t.Errorf("reply = % x, want %d bytes, version %d, status %d, sequence 42", got, tc.wantLen, tc.version, tc.status)
			}
		})
	}
}

func TestSetHandler(t *testing.T) {
	forEachTransport(t, Silence, func(t *testing.T, s *Server, c *client) {
		c.send(trackingRequest(1, 0))
		c.expectSilence()
		if err := s.Sync(); err != nil { // request 1 met the old handler
			t.Fatal(err)
		}
		s.SetHandler(Status(StatusUnauth))
		c.send(trackingRequest(2, 0))
		if got := c.mustRecv(); binary.BigEndian.Uint16(got[OffStatus:]) != StatusUnauth || seqOf(got) != 2 {
			t.Errorf("reply = % x, want UNAUTH to request 2", got)
		}
	})
}

func TestRequestsIsACopy(t *testing.T) {
	forEachTransport(t, func() Handler { return Reply(SyncedIPv4()) }, func(t *testing.T, s *Server, c *client) {
		c.send(trackingRequest(1, 0))
		c.mustRecv()
		first := s.Requests()
		first[0].Data[0] = 99
		first[0].Sequence = 99
		if again := s.Requests(); again[0].Data[0] != 6 || again[0].Sequence != 1 {
			t.Errorf("Requests() shares memory with the server: %+v", again[0])
		}
	})
}

func TestClose(t *testing.T) {
	forEachTransport(t, func() Handler { return Delayed(time.Hour, Reply(SyncedIPv4())) }, func(t *testing.T, s *Server, c *client) {
		c.send(trackingRequest(1, 0))
		waitRequests(t, s, 1)

		done := make(chan error, 1)
		go func() { done <- s.Close() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Close() = %v", err)
			}
		case <-time.After(replyWait):
			t.Fatal("Close() hangs on a pending delayed send")
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close() = %v", err)
		}
		c.expectSilence()

		if a, ok := s.Addr().(*net.UnixAddr); ok {
			if _, err := os.Stat(a.Name); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("socket file still there after Close: %v", err)
			}
		}
	})
}

// errRecorder catches what the server reports instead of failing the test.
type errRecorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *errRecorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *errRecorder) errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

func TestHandlerPanicIsReportedAndServingGoesOn(t *testing.T) {
	rec := &errRecorder{TB: t}
	// A mutation past the end of a 28-byte status reply.
	s := StartUDP(rec, Mutate(Status(StatusFailed), Put16(OffStratum, 1)))
	c := newClient(t, s)
	c.send(trackingRequest(1, 0))
	if err := s.Sync(); err != nil { // the handler has run
		t.Fatal(err)
	}
	c.expectSilence()
	if errs := rec.errors(); len(errs) != 1 || !strings.Contains(errs[0], "panicked") {
		t.Errorf("reported %q, want one panic report", errs)
	}

	s.SetHandler(Reply(SyncedIPv4()))
	c.send(trackingRequest(2, 0))
	if got := c.mustRecv(); seqOf(got) != 2 {
		t.Errorf("reply sequence %d, want 2", seqOf(got))
	}
}

// Sync waits for the reader: while a handler holds it, requests already
// sent stay unread and Sync does not return; once it is free, Sync returns
// with every one of them recorded, and its own marker is not a request.
func TestSync(t *testing.T) {
	var release chan struct{} // the current transport's
	held := func() Handler {
		release = make(chan struct{})
		r := release
		return func(req Request) []Packet {
			if req.N == 0 {
				<-r
			}
			return nil
		}
	}
	forEachTransport(t, held, func(t *testing.T, s *Server, c *client) {
		var once sync.Once
		free := func() { once.Do(func() { close(release) }) }
		t.Cleanup(free)
		for seq := uint32(1); seq <= 3; seq++ {
			c.send(trackingRequest(seq, 0))
		}
		synced := make(chan error, 1)
		go func() { synced <- s.Sync() }()
		select {
		case err := <-synced:
			t.Fatalf("Sync returned while the reader was held: %v", err)
		case <-time.After(silenceWait):
		}
		free()
		if err := <-synced; err != nil {
			t.Fatal(err)
		}
		reqs := s.Requests()
		if len(reqs) != 3 {
			t.Fatalf("after Sync: %d requests, want 3", len(reqs))
		}
		for i, r := range reqs {
			if r.Sequence != uint32(i+1) {
				t.Errorf("request %d has sequence %d", i, r.Sequence)
			}
		}
	})
}

// Send answers a recorded request from outside the handler; to a unix
// client that has removed its socket it fails, naming why.
func TestSend(t *testing.T) {
	forEachTransport(t, Silence, func(t *testing.T, s *Server, c *client) {
		c.send(trackingRequest(7, 0))
		req := waitRequests(t, s, 1)[0]
		c.expectSilence()
		if err := s.Send(req, StatusReply(req, StatusFailed)); err != nil {
			t.Fatal(err)
		}
		if got := c.mustRecv(); seqOf(got) != 7 || binary.BigEndian.Uint16(got[OffStatus:]) != StatusFailed {
			t.Errorf("reply = % x, want FAILED to sequence 7", got)
		}
		if a, ok := c.conn.LocalAddr().(*net.UnixAddr); ok {
			c.conn.Close()
			os.Remove(a.Name)
			if err := s.Send(req, StatusReply(req, StatusFailed)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("Send to a removed unix socket: %v, want no such file", err)
			}
		}
	})
}
