//go:build linux

package tracking

import (
	"net"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// syscallWait says whether Config.WaitInSyscall is honoured here.
const syscallWait = true

// pollFd is struct pollfd of poll(2).
type pollFd struct {
	fd      int32
	events  int16
	revents int16
}

const (
	pollIn  = 0x1
	pollHup = 0x10
)

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

// Read waits until deadline for a datagram and reads it into buf.
func (r *syscallReader) Read(buf []byte, deadline time.Time) (int, error) {
	r.buf, r.deadline = buf, deadline
	if err := r.rc.Control(r.read); err != nil {
		return 0, err
	}
	return r.n, r.err
}

func (r *syscallReader) readFD(fd uintptr) { r.n, r.err = pollRead(int(fd), r.buf, r.deadline) }

// wake ends a Read in progress: shutting a datagram socket down wakes its
// pollers with a hang-up, where closing it would wait for them to return.
func (r *syscallReader) wake() {
	r.rc.Control(func(fd uintptr) { syscall.Shutdown(int(fd), syscall.SHUT_RDWR) })
}

func pollRead(fd int, buf []byte, deadline time.Time) (int, error) {
	for {
		wait := time.Until(deadline)
		if wait <= 0 {
			return 0, os.ErrDeadlineExceeded
		}
		ts := syscall.NsecToTimespec(int64(wait))
		pfd := pollFd{fd: int32(fd), events: pollIn}
		_, _, e := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
		switch {
		case e == syscall.EINTR, e == 0 && pfd.revents == 0:
			// A signal (Go preempts goroutines with them) or the wait's end:
			// the deadline decides.
			continue
		case e != 0:
			return 0, e
		case pfd.revents&pollHup != 0:
			return 0, net.ErrClosed
		}
		n, err := syscall.Read(fd, buf)
		if err == syscall.EAGAIN || err == syscall.EINTR {
			continue
		}
		return n, err
	}
}
