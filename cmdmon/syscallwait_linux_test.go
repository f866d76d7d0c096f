package cmdmon

import (
	"cmp"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// A client waiting in a system call keeps its socket out of the network
// poller's epoll set, where every reply would also wake the poller's
// thread; a client of the poller has it there (which shows the check can
// fail).
func TestSyscallWaitSocketOutsidePoller(t *testing.T) {
	for name, srv := range fakeTransports(t, func() fakechronyd.Handler { return fakechronyd.Chronyd(fakechronyd.SyncedIPv4()) }) {
		for _, inSyscall := range []bool{true, false} {
			t.Run(name+" WaitInSyscall="+strconv.FormatBool(inSyscall), func(t *testing.T) {
				c := newClientFrom(t, Config{Address: srv.URL(), Timeout: timing.ReplyWait, WaitInSyscall: inSyscall})
				_, err := c.Tracking(context.Background())
				require.NoError(t, err)
				fd := clientFD(t, c)
				assert.Equal(t, !inSyscall, polled(t, fd), "fd %d in an epoll set", fd)
			})
		}
	}
}

func clientFD(t *testing.T, c *Client) int {
	t.Helper()
	conn, _ := c.current()
	require.NotNil(t, conn)
	rc, err := conn.(syscall.Conn).SyscallConn()
	require.NoError(t, err)
	fd := -1
	require.NoError(t, rc.Control(func(f uintptr) { fd = int(f) }))
	return fd
}

// polled reports whether fd is in one of this process's epoll sets, from
// the "tfd:" lines of each epoll descriptor's /proc/self/fdinfo entry.
func polled(t *testing.T, fd int) bool {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	epolls := 0
	for _, e := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err != nil || target != "anon_inode:[eventpoll]" {
			continue
		}
		info, err := os.ReadFile(filepath.Join("/proc/self/fdinfo", e.Name()))
		if err != nil {
			continue // closed since the listing
		}
		epolls++
		for _, line := range strings.Split(string(info), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "tfd:" && f[1] == strconv.Itoa(fd) {
				return true
			}
		}
	}
	require.NotZero(t, epolls, "no epoll descriptor: the fake servers use the poller")
	return false
}

// A read that spins first takes a datagram already there, one that comes
// while it spins, or one that comes after, in ppoll; it ends at its
// deadline when none comes, and at once when the socket is shut down
// (wake) before or during the spin or the send was refused.
func TestSyscallReadSpins(t *testing.T) {
	long := timing.LongTimeout
	later := func(d time.Duration, f func()) func() { return func() { time.Sleep(d); f() } }
	cases := []struct {
		name     string
		network  string
		spin     time.Duration
		deadline time.Duration
		prepare  func(t *testing.T, ours, peer int)
		during   func(ours, peer int) func() // run on a goroutine once the read began
		wantN    int
		wantErr  error
	}{
		{name: "datagram there", prepare: func(t *testing.T, _, peer int) { send(t, peer, 48) }, wantN: 48},
		{name: "datagram while spinning", during: func(_, peer int) func() {
			return later(time.Millisecond, func() { syscall.Write(peer, make([]byte, 32)) })
		}, wantN: 32},
		{name: "datagram after the spin", spin: time.Millisecond, during: func(_, peer int) func() {
			return later(50*time.Millisecond, func() { syscall.Write(peer, make([]byte, 16)) })
		}, wantN: 16},
		{name: "nothing comes", spin: 20 * time.Millisecond, deadline: 100 * time.Millisecond, wantErr: os.ErrDeadlineExceeded},
		{name: "shut down", spin: spinWait, prepare: func(t *testing.T, ours, _ int) {
			require.NoError(t, syscall.Shutdown(ours, syscall.SHUT_RDWR))
		}, wantErr: net.ErrClosed},
		{name: "shut down while spinning", spin: spinWait, during: func(ours, _ int) func() {
			return func() { syscall.Shutdown(ours, syscall.SHUT_RDWR) }
		}, wantErr: net.ErrClosed},
		{name: "refused", network: "udp", prepare: func(t *testing.T, ours, _ int) { send(t, ours, 8) }, wantErr: syscall.ECONNREFUSED},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, ours, peer := spinPair(t, tc.network)
			if tc.prepare != nil {
				tc.prepare(t, ours, peer)
			}
			spin, deadline := cmp.Or(tc.spin, long), cmp.Or(tc.deadline, long)
			start := time.Now()
			if tc.during != nil {
				go tc.during(ours, peer)()
			}
			n, err := r.Read(make([]byte, 128), start.Add(deadline), spin)
			took := time.Since(start)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.wantN, n)
			}
			if tc.deadline != 0 {
				assert.GreaterOrEqual(t, took, tc.deadline, "waited until the deadline")
				timing.Within(t, took, tc.deadline)
			} else {
				timing.Before(t, took, long)
			}
		})
	}
}

// spinPair is a syscallReader on one of a connected pair of datagram
// sockets (unixgram), made as dialOutside makes a client's, and the two
// descriptors; for udp, on a socket connected to a loopback port nobody
// holds (peer is -1).
func spinPair(t *testing.T, network string) (r *syscallReader, ours, peer int) {
	t.Helper()
	peer = -1
	if network == "udp" {
		l, err := net.ListenPacket("udp", "127.0.0.1:0")
		require.NoError(t, err)
		port := l.LocalAddr().(*net.UDPAddr).Port
		l.Close()
		ours, err = syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
		require.NoError(t, err)
		require.NoError(t, syscall.Connect(ours, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}))
	} else {
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
		require.NoError(t, err)
		ours, peer = fds[0], fds[1]
		t.Cleanup(func() { syscall.Close(peer) })
	}
	f := os.NewFile(uintptr(ours), "spin test")
	t.Cleanup(func() { f.Close() })
	require.NoError(t, syscall.SetNonblock(ours, true))
	r = newSyscallReader(&outsideConn{File: f})
	require.NotNil(t, r)
	return r, ours, peer
}

func send(t *testing.T, fd, n int) {
	t.Helper()
	_, err := syscall.Write(fd, make([]byte, n))
	require.NoError(t, err)
}
