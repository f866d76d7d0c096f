package reliability

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// resources is what a leak would grow: the process's open descriptors and
// goroutines, the client socket files and directories under the socket
// directory, and the resident set.
type resources struct {
	fds, goroutines, sockFiles int
	rssKiB                     int64
}

func (r resources) String() string {
	return fmt.Sprintf("fds=%d goroutines=%d client_socket_files=%d rss=%.1fMiB", r.fds, r.goroutines, r.sockFiles, float64(r.rssKiB)/1024)
}

// snapshot measures after a GC, so that garbage awaiting collection (and
// the descriptors of finalised sockets) does not count as growth.
func snapshot(t testing.TB, sockDir string) resources {
	t.Helper()
	runtime.GC()
	var r resources
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		r.fds = len(ents)
	}
	r.goroutines = runtime.NumGoroutine()
	r.sockFiles = countChains(sockDir)
	r.rssKiB = rssKiB()
	return r
}

// countChains counts the entries of this process's socket chain under dir
// (telegraf-chrony.<pid>: the pid directory, the random directories, the
// sockets). Only our own: other test processes on the host may probe every
// chronyd they find, ours included, and create their chains next to ours.
func countChains(dir string) int {
	if dir == "" {
		return 0
	}
	n := 0
	filepath.WalkDir(filepath.Join(dir, "telegraf-chrony."+strconv.Itoa(os.Getpid())), func(_ string, _ fs.DirEntry, err error) error {
		if err == nil {
			n++
		}
		return nil
	})
	return n
}

func rssKiB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			v, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return v
		}
	}
	return 0
}

// rssTolerance is the resident-set growth a soak may show without being a
// leak: the race detector's shadow memory and the allocator's free lists
// settle within the first few thousand calls, after which a real leak of
// even one socket or buffer per gather (100 bytes x 100,000) would exceed it.
const rssTolerance = 24 << 10 // KiB

// requireNoGrowth compares a soak's end with its start. Goroutines may
// differ by the runtime's own background workers coming and going.
func requireNoGrowth(t testing.TB, start, end resources) {
	t.Helper()
	assert.LessOrEqual(t, end.fds, start.fds, "open file descriptors grew")
	assert.LessOrEqual(t, end.goroutines, start.goroutines+2, "goroutines grew")
	assert.LessOrEqual(t, end.sockFiles, start.sockFiles, "client socket files grew")
	assert.LessOrEqual(t, end.rssKiB, start.rssKiB+rssTolerance, "RSS grew by more than %d KiB", rssTolerance)
}

// soakSize returns the number of gathers per soak run and its wall-clock
// cap, from TELEGRAF_CHRONY_SOAK_GATHERS and TELEGRAF_CHRONY_SOAK_TIMEOUT.
func soakSize(t testing.TB, defGathers int) (int, time.Duration) {
	t.Helper()
	n, limit := defGathers, 75*time.Second
	if v := os.Getenv("TELEGRAF_CHRONY_SOAK_GATHERS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("TELEGRAF_CHRONY_SOAK_GATHERS=%q: want a positive number", v)
		}
	}
	if v := os.Getenv("TELEGRAF_CHRONY_SOAK_TIMEOUT"); v != "" {
		var err error
		if limit, err = time.ParseDuration(v); err != nil || limit <= 0 {
			t.Fatalf("TELEGRAF_CHRONY_SOAK_TIMEOUT=%q: want a duration such as 30m", v)
		}
	}
	return n, limit
}
