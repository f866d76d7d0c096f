package cmdmon

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

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
