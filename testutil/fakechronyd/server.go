package fakechronyd

import (
	"cmp"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// readBufSize exceeds any UDP payload, so Request.Len is the true length of
// an oversized request instead of a silently truncated one.
const readBufSize = 1 << 16

// Server is a running fake chronyd.
type Server struct {
	t    testing.TB
	conn net.PacketConn
	url  string
	path string // unix socket file to remove on Close; empty for UDP

	done chan struct{} // closed by Close; stops pending delayed sends
	wg   sync.WaitGroup

	mu      sync.Mutex
	handler Handler
	reqs    []Request
	markers map[string]chan struct{} // Sync's datagrams not yet read

	closeOnce sync.Once
	closeErr  error
}

// StartUDP serves on 127.0.0.1 at a port the OS picks, until the test ends.
func StartUDP(t testing.TB, h Handler) *Server {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("fakechronyd: listen udp: %v", err)
	}
	return start(t, conn, "udp://"+conn.LocalAddr().String(), "", h)
}

// StartUnixgram serves on a unix datagram socket bound at path, until the
// test ends. Like chronyd it can only answer clients that bound their own
// socket to a filesystem path.
func StartUnixgram(t testing.TB, path string, h Handler) *Server {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatalf("fakechronyd: socket path: %v", err)
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: abs, Net: "unixgram"})
	if err != nil {
		t.Fatalf("fakechronyd: listen unixgram: %v", err)
	}
	return start(t, conn, "unixgram://"+abs, abs, h)
}

func start(t testing.TB, conn net.PacketConn, url, path string, h Handler) *Server {
	s := &Server{t: t, conn: conn, url: url, path: path, handler: h, done: make(chan struct{}),
		markers: map[string]chan struct{}{}}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("fakechronyd: close: %v", err)
		}
	})
	s.wg.Add(1)
	go s.serve()
	return s
}

// URL is "udp://127.0.0.1:PORT" or "unixgram:///abs/path".
func (s *Server) URL() string { return s.url }

// Addr is the address the fake listens on.
func (s *Server) Addr() net.Addr { return s.conn.LocalAddr() }

// Requests returns a copy of every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.reqs))
	for i, r := range s.reqs {
		r.Data = slices.Clone(r.Data)
		out[i] = r
	}
	return out
}

// Sync returns once the fake has read every datagram sent to it before
// Sync was called. A client's call that has returned has sent all its
// requests, but the fake's reader may not have taken them yet on a loaded
// machine: a test that counts requests after a call syncs first. Sync
// sends a marker datagram of its own, which reaches the socket behind
// theirs (on loopback a datagram is in the socket when its send returns),
// and waits for the reader to take it; the marker is not a request.
func (s *Server) Sync() error {
	marker := make([]byte, len(markerPrefix)+16)
	copy(marker, markerPrefix)
	rand.Read(marker[len(markerPrefix):])
	read := make(chan struct{})
	s.mu.Lock()
	s.markers[string(marker)] = read
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.markers, string(marker))
		s.mu.Unlock()
	}()
	a := s.conn.LocalAddr()
	conn, err := net.Dial(a.Network(), a.String())
	if err != nil {
		return fmt.Errorf("fakechronyd: sync: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write(marker); err != nil {
		return fmt.Errorf("fakechronyd: sync: %w", err)
	}
	select {
	case <-read:
		return nil
	case <-s.done:
		return errors.New("fakechronyd: sync: the fake is closed")
	case <-time.After(timing.LongTimeout):
		return fmt.Errorf("fakechronyd: sync: the reader did not take its marker within %v", timing.LongTimeout)
	}
}

// markerPrefix starts Sync's datagrams; the rest is random, so no test's
// datagram is taken for one.
const markerPrefix = "fakechronyd sync "

// marker reports whether b is a datagram of a pending Sync, and wakes it.
func (s *Server) marker(b []byte) bool {
	if len(b) != len(markerPrefix)+16 || string(b[:len(markerPrefix)]) != markerPrefix {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	read, ok := s.markers[string(b)]
	if ok {
		close(read)
		delete(s.markers, string(b))
	}
	return ok
}

// Send writes data from the fake's socket to the sender of req, outside
// any handler: a reply that comes only after the client has given up. Its
// error is the socket's; a unix client that removed its socket refuses it.
func (s *Server) Send(req Request, data []byte) error {
	if req.replyTo == nil {
		return errors.New("fakechronyd: send: the request has no address to answer")
	}
	_, err := s.conn.WriteTo(data, req.replyTo)
	return err
}

// SetHandler changes how later requests are answered; replies already
// scheduled still go out.
func (s *Server) SetHandler(h Handler) {
	s.mu.Lock()
	s.handler = h
	s.mu.Unlock()
}

// Close stops the fake, cancels delayed sends not yet made, waits for its
// goroutines and removes the unix socket file. Later calls return nil.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		s.closeErr = s.conn.Close()
		s.wg.Wait()
		if s.path != "" {
			if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
				s.closeErr = errors.Join(s.closeErr, err)
			}
		}
	})
	return s.closeErr
}

func (s *Server) closing() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (s *Server) serve() {
	defer s.wg.Done()
	buf := make([]byte, readBufSize)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if err != nil {
			if !s.closing() {
				s.t.Errorf("fakechronyd: read: %v", err)
			}
			return
		}
		if s.marker(buf[:n]) {
			continue
		}
		req := parseRequest(buf[:n])
		replyTo := replyAddr(from)
		if replyTo != nil {
			req.From, req.replyTo = replyTo.String(), replyTo
		}

		s.mu.Lock()
		req.N = len(s.reqs)
		s.reqs = append(s.reqs, req)
		h := s.handler
		s.mu.Unlock()

		// The handler gets its own copy so it cannot alter the record.
		hreq := req
		hreq.Data = slices.Clone(req.Data)
		packets := s.call(h, hreq)
		if replyTo == nil || len(packets) == 0 {
			continue
		}
		s.send(replyTo, packets)
	}
}

// replyAddr is where chronyd could answer: nowhere for an unbound,
// autobound or abstract unix socket, which have no path to write to.
func replyAddr(from net.Addr) net.Addr {
	switch a := from.(type) {
	case *net.UDPAddr:
		if a != nil {
			return a
		}
	case *net.UnixAddr:
		if a != nil && a.Name != "" && a.Name[0] != '@' {
			return a
		}
	}
	return nil
}

// call keeps a panicking handler (say, a mutation past the end of a short
// packet) from killing the whole test binary from a background goroutine.
func (s *Server) call(h Handler, req Request) (packets []Packet) {
	if h == nil {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			s.t.Errorf("fakechronyd: handler panicked on request %d: %v", req.N, r)
			packets = nil
		}
	}()
	return h(req)
}

func (s *Server) send(to net.Addr, packets []Packet) {
	packets = slices.Clone(packets)
	slices.SortStableFunc(packets, func(a, b Packet) int {
		return cmp.Compare(a.Delay, b.Delay)
	})
	if packets[len(packets)-1].Delay <= 0 {
		for _, p := range packets {
			s.write(to, p.Data)
		}
		return
	}
	// One goroutine per request keeps its packets in order; the reader
	// moves on to the next request meanwhile.
	start := time.Now()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for _, p := range packets {
			if wait := time.Until(start.Add(p.Delay)); wait > 0 {
				timer := time.NewTimer(wait)
				select {
				case <-timer.C:
				case <-s.done:
					timer.Stop()
					return
				}
			}
			s.write(to, p.Data)
		}
	}()
}

// write ignores errors on purpose: a client that gave up and removed its
// socket, or a fake closing under a delayed send, is an expected outcome for
// a test double, not a failure of the test.
func (s *Server) write(to net.Addr, data []byte) {
	if s.closing() {
		return
	}
	_, _ = s.conn.WriteTo(data, to)
}
