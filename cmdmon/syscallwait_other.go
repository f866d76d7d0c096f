//go:build !linux

package cmdmon

import (
	"net"
	"time"
)

// syscallWait says whether Config.WaitInSyscall is honoured here: only on
// Linux; elsewhere every wait goes through Go's network poller.
const syscallWait = false

type syscallReader struct{}

func newSyscallReader(net.Conn) *syscallReader { return nil }

func (*syscallReader) Read([]byte, time.Time, time.Duration) (int, error) {
	panic("unreachable: syscallWait is false")
}

func (*syscallReader) wake() {}

func dialOutside(*net.UnixAddr, net.Addr) (net.Conn, error) {
	panic("unreachable: syscallWait is false")
}
