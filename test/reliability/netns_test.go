package reliability

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// inNetns runs f on the test goroutine's OS thread after moving that thread
// into a new network namespace with only the loopback interface up, and
// moves it back afterwards. Sockets opened and processes started (chronyd,
// chronyc, ip) from f live in that namespace, so f can change routes without
// touching the host's network. f must not start goroutines that open
// sockets: they would run on other threads, in the host's namespace.
func inNetns(t *testing.T, f func()) {
	t.Helper()
	requireRoot(t)
	runtime.LockOSThread()
	orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", syscall.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("open own netns: %v", err)
	}
	if err := syscall.Unshare(syscall.CLONE_NEWNET); err != nil {
		orig.Close()
		runtime.UnlockOSThread()
		t.Fatalf("unshare(CLONE_NEWNET): %v", err)
	}
	defer func() {
		// Only a thread back in the host's namespace may serve other
		// goroutines; otherwise it stays locked and dies with this one.
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		orig.Close()
	}()
	netnsRun(t, "ip", "link", "set", "lo", "up")
	f()
}

// netnsRun runs a command from the current (locked) thread, so it inherits
// the thread's network namespace.
func netnsRun(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	require.NoError(t, err, "%s %v: %s", name, args, out)
}
