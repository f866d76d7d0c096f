//go:build linux

package cmdmon

import (
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// syscallWait says whether Config.WaitInSyscall is honoured here.
const syscallWait = true

// syscallReader reads replies on one connection in ppoll(2), a system
// call that blocks the calling thread: unlike a read through Go's network
// poller it parks no goroutine and wakes no other thread, so the exchange
// is chronyd's turnaround and little more. It is made once per connection
// so that a read allocates nothing. Close wakes a read by shutting the
// socket down (wake), which ppoll reports as a hang-up.
type syscallReader struct {
	rc   syscall.RawConn
	read func(fd uintptr) // r.readFD, bound once

	// The read's arguments and results, passed through the struct so that
	// the function given to Control needs no new closure.
	buf      []byte
	deadline time.Time
	spin     time.Duration
	n        int
	err      error
}

func newSyscallReader(conn net.Conn) *syscallReader {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	r := &syscallReader{rc: rc}
	r.read = r.readFD
	return r
}

// Read waits until deadline for a datagram and reads it into buf. For
// the first spin of the wait it keeps trying instead of sleeping (see
// spinRead).
func (r *syscallReader) Read(buf []byte, deadline time.Time, spin time.Duration) (int, error) {
	r.buf, r.deadline, r.spin = buf, deadline, spin
	if err := r.rc.Control(r.read); err != nil {
		return 0, err
	}
	return r.n, r.err
}

func (r *syscallReader) readFD(fd uintptr) {
	if r.spin > 0 {
		end := time.Now().Add(r.spin)
		if r.deadline.Before(end) {
			end = r.deadline
		}
		var waited bool
		if r.n, r.err, waited = spinRead(int(fd), r.buf, end); !waited {
			return
		}
	}
	r.n, r.err = pollRead(int(fd), r.buf, r.deadline)
}

// spinRead tries to read a datagram until end, giving the CPU away between
// tries (sched_yield), and reports waited when none came by then. A reply
// due in a few microseconds is taken without our thread going to sleep:
// a sleeping thread is woken by the reply, which on a machine whose CPU
// went idle meanwhile (a vCPU halted) costs more than chronyd's whole
// turnaround. Yielding lets chronyd run first when the kernel put it on
// our CPU. Whatever the read returns other than "nothing yet" (a
// datagram, an error such as a refusal) is the caller's, as a read after
// ppoll would be. A socket shut down by wake still reads as empty: the
// spin runs to its end, and the ppoll after it sees the hang-up.
func spinRead(fd int, buf []byte, end time.Time) (n int, err error, waited bool) {
	for {
		n, err = syscall.Read(fd, buf)
		switch {
		case err == syscall.EINTR:
			continue
		case err != syscall.EAGAIN:
			return n, err, false
		case !time.Now().Before(end):
			return 0, nil, true
		}
		syscall.Syscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
	}
}

// wake ends a Read in progress: shutting a datagram socket down wakes its
// pollers with a hang-up, where closing it would wait for them to return.
func (r *syscallReader) wake() {
	r.rc.Control(func(fd uintptr) { syscall.Shutdown(int(fd), syscall.SHUT_RDWR) })
}

// maxPollWait bounds one ppoll's wait; the loop waits again until the
// deadline. A timespec's seconds are 32 bits on 32-bit ARM, where a wait
// of 68 years or more (a timeout of decades) wrapped negative and failed
// every exchange with EINVAL.
const maxPollWait = 24 * time.Hour

func pollRead(fd int, buf []byte, deadline time.Time) (int, error) {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		wait := time.Until(deadline)
		if wait <= 0 {
			return 0, os.ErrDeadlineExceeded
		}
		ts := unix.NsecToTimespec(int64(min(wait, maxPollWait)))
		n, err := unix.Ppoll(pfd, &ts, nil)
		switch {
		case err == unix.EINTR, err == nil && n == 0:
			// A signal (Go preempts goroutines with them) or the wait's end:
			// the deadline decides.
			continue
		case err != nil:
			return 0, err
		case pfd[0].Revents&unix.POLLHUP != 0:
			return 0, net.ErrClosed
		}
		n, err = syscall.Read(fd, buf)
		if err == syscall.EAGAIN || err == syscall.EINTR {
			continue
		}
		return n, err
	}
}

// outsideConn is a connected datagram socket that Go's network poller never
// sees: it is read in ppoll(2) only (syscallReader). A socket in the poller's
// epoll set wakes the thread waiting in epoll_wait at every reply, and at
// every datagram chronyd takes from it (the socket turns writable), only for
// that thread to find nobody waiting: on two busy cores that wake-up
// competes with chronyd's turnaround and with our own thread's.
type outsideConn struct {
	*os.File     // its fd is non-blocking, so a full send queue fails at once
	laddr, raddr net.Addr
}

// LocalAddr is the address the socket was bound to; nil (not known) for an
// unbound UDP socket, whose port nobody asks for.
func (c *outsideConn) LocalAddr() net.Addr  { return c.laddr }
func (c *outsideConn) RemoteAddr() net.Addr { return c.raddr }

// dialOutside connects a datagram socket to raddr (bound to laddr when not
// nil) outside the network poller. raddr is a *net.UnixAddr, or a
// *net.UDPAddr without a zone.
func dialOutside(laddr *net.UnixAddr, raddr net.Addr) (net.Conn, error) {
	family, to, err := sockaddrOf(raddr)
	if err != nil {
		return nil, err
	}
	fd, err := syscall.Socket(family, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err := connectOutside(fd, laddr, to); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	// os.NewFile keeps a blocking descriptor out of the poller; it is made
	// non-blocking only after.
	f := os.NewFile(uintptr(fd), "cmdmon "+raddr.String())
	if err := syscall.SetNonblock(fd, true); err != nil {
		f.Close()
		return nil, os.NewSyscallError("fcntl", err)
	}
	c := &outsideConn{File: f, raddr: raddr}
	if laddr != nil {
		c.laddr = laddr
	}
	return c, nil
}

func connectOutside(fd int, laddr *net.UnixAddr, to syscall.Sockaddr) error {
	if laddr != nil {
		if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: laddr.Name}); err != nil {
			return os.NewSyscallError("bind", err)
		}
	}
	return os.NewSyscallError("connect", syscall.Connect(fd, to))
}

func sockaddrOf(a net.Addr) (int, syscall.Sockaddr, error) {
	switch a := a.(type) {
	case *net.UnixAddr:
		return syscall.AF_UNIX, &syscall.SockaddrUnix{Name: a.Name}, nil
	case *net.UDPAddr:
		ap := a.AddrPort()
		if ip := ap.Addr().Unmap(); ip.Is4() {
			return syscall.AF_INET, &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ip.As4()}, nil
		}
		if a.Zone == "" {
			return syscall.AF_INET6, &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}, nil
		}
	}
	return 0, nil, &net.AddrError{Err: "not a unix address or a UDP address without a zone", Addr: a.String()}
}
