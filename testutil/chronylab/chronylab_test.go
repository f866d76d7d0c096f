package chronylab

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronybuild"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/labenv"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

const syncTimeout = 15 * time.Second

func TestParseTracking(t *testing.T) {
	tr, err := ParseTracking("7F000001,127.0.0.1,9,1795704993.275378172,-0.000001616,0.000000073," +
		"0.000000071,0.115,0.066,1.787,0.000005949,0.000001508,64.0,Normal\n")
	if err != nil {
		t.Fatal(err)
	}
	want := ChronycTracking{
		RefID: 0x7F000001, Name: "127.0.0.1", Stratum: 9, RefTime: 1795704993.275378172,
		SystemTime: -0.000001616, LastOffset: 0.000000073, RMSOffset: 0.000000071,
		Frequency: 0.115, ResidualFreq: 0.066, Skew: 1.787, RootDelay: 0.000005949,
		RootDispersion: 0.000001508, UpdateInterval: 64, Leap: LeapNormal,
	}
	if tr != want {
		t.Fatalf("got %+v\nwant %+v", tr, want)
	}

	tr, err = ParseTracking("00000000,,0,0.000000000,0.000000000,0.000000000,0.000000000,0.000," +
		"0.000,0.000,1.000000000,1.000000000,0.0,Not synchronised")
	if err != nil {
		t.Fatal(err)
	}
	if tr.RefID != 0 || tr.Name != "" || tr.Leap != LeapNotSynchronised || tr.RootDelay != 1 {
		t.Fatalf("unsynchronised: got %+v", tr)
	}

	for _, bad := range []string{
		"",
		"506 Cannot talk to daemon",
		"7F000001,127.0.0.1,9",
		"XYZ,,0,0,0,0,0,0,0,0,1,1,0,Normal",
		"00000000,,x,0,0,0,0,0,0,0,1,1,0,Normal",
		"00000000,,0,0,0,0,0,0,0,0,1,1,0,Sideways",
		"00000000,,0,0,0,0,0,0,0,0,1,1,0,Normal\n00000000,,0,0,0,0,0,0,0,0,1,1,0,Normal",
	} {
		if _, err := ParseTracking(bad); err == nil {
			t.Errorf("ParseTracking(%q): no error", bad)
		}
	}
}

func TestModeString(t *testing.T) {
	for m, want := range map[Mode]string{Synced: "Synced", Unsynchronised: "Unsynchronised",
		LocalReference: "LocalReference", Mode(7): "Mode(7)"} {
		if got := m.String(); got != want {
			t.Errorf("%d: got %q, want %q", int(m), got, want)
		}
	}
}

func TestFreeUDPPort(t *testing.T) {
	if p := FreeUDPPort(t); p <= 0 || p > 65535 {
		t.Fatalf("port %d", p)
	}
}

// checkUnixSocket asserts that the unix socket exists and answers.
func checkUnixSocket(t *testing.T, l *Lab) {
	t.Helper()
	st, err := os.Stat(l.SocketPath)
	if err != nil {
		t.Fatalf("socket: %v", err)
	}
	if st.Mode().Type() != os.ModeSocket {
		t.Fatalf("%s is %v, not a socket", l.SocketPath, st.Mode())
	}
	out, err := l.ChronycUnix("-c", "tracking")
	if err != nil {
		t.Fatalf("unix socket: %v", err)
	}
	if _, err := ParseTracking(out); err != nil {
		t.Fatal(err)
	}
}

func TestSynced(t *testing.T) {
	t.Parallel()
	t0 := time.Now()
	l := Start(t, Options{})
	started := time.Since(t0)
	if err := l.WaitSynced(syncTimeout); err != nil {
		t.Fatal(err)
	}
	t.Logf("Synced lab: started in %v, selected its source %v after start", started, time.Since(t0)-started)

	tr, err := l.Tracking()
	if err != nil {
		t.Fatal(err)
	}
	if tr.RefID != RefIDLabServer || tr.Name != "127.0.0.1" || tr.Stratum != 9 || tr.Leap != LeapNormal {
		t.Fatalf("tracking %+v", tr)
	}
	if tr.RefTime < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Fatalf("ref time %f is old", tr.RefTime)
	}
	if l.NTPPort == 0 || l.NTPPort == l.CmdPort || l.PID() == 0 || l.ServerPID() == 0 {
		t.Fatalf("lab %+v", l)
	}
	if got, want := l.UDPURL(), "udp://127.0.0.1:"+strconv.Itoa(l.CmdPort); got != want {
		t.Fatalf("UDPURL %q, want %q", got, want)
	}
	if got, want := l.UnixURL(), "unixgram://"+filepath.Join(l.Dir, "chronyd.sock"); got != want {
		t.Fatalf("UnixURL %q, want %q", got, want)
	}
	st, err := os.Stat(l.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o750 {
		t.Fatalf("dir mode %v", st.Mode())
	}
	checkUnixSocket(t, l)

	// Sources over UDP names the lab server.
	out, err := l.Chronyc("-c", "sources")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "127.0.0.1") || !strings.HasPrefix(out, "^,*,") {
		t.Fatalf("sources: %q", out)
	}
}

func TestUnsynchronised(t *testing.T) {
	t.Parallel()
	l := Start(t, Options{Mode: Unsynchronised})
	if err := l.WaitSynced(time.Second); !errors.Is(err, ErrNeverSynchronises) {
		t.Fatalf("WaitSynced: %v", err)
	}
	// Give it a few polls: it must stay unsynchronised.
	time.Sleep(500 * time.Millisecond)
	tr, err := l.Tracking()
	if err != nil {
		t.Fatal(err)
	}
	if tr.RefID != RefIDUnsynchronised || tr.Name != "" || tr.Stratum != 0 || tr.Leap != LeapNotSynchronised ||
		tr.RefTime != 0 || tr.RootDelay != 1 || tr.RootDispersion != 1 {
		t.Fatalf("tracking %+v", tr)
	}
	if l.NTPPort == 0 || l.ServerPID() != 0 {
		t.Fatalf("lab %+v", l)
	}
	checkUnixSocket(t, l)
}

func TestLocalReference(t *testing.T) {
	t.Parallel()
	t0 := time.Now()
	l := Start(t, Options{Mode: LocalReference, LocalStratum: 5})
	started := time.Since(t0)
	if err := l.WaitSynced(syncTimeout); err != nil {
		t.Fatal(err)
	}
	t.Logf("LocalReference lab: started in %v, local reference %v after start", started, time.Since(t0)-started)
	tr, err := l.Tracking()
	if err != nil {
		t.Fatal(err)
	}
	if tr.RefID != RefIDLocal || tr.Name != "" || tr.Stratum != 5 || tr.Leap != LeapNormal {
		t.Fatalf("tracking %+v", tr)
	}
	if l.NTPPort != 0 || l.ServerPID() != 0 {
		t.Fatalf("lab %+v", l)
	}
	checkUnixSocket(t, l)
}

func TestLocalReferenceDefaultStratum(t *testing.T) {
	t.Parallel()
	l := Start(t, Options{Mode: LocalReference})
	if err := l.WaitSynced(syncTimeout); err != nil {
		t.Fatal(err)
	}
	if tr, err := l.Tracking(); err != nil || tr.Stratum != 8 {
		t.Fatalf("tracking %+v, %v", tr, err)
	}
}

// A server at local stratum 15 gives stratum 16: chronyd follows it with
// leap status normal, which is how a real chronyd reports stratum 16.
func TestSyncedLocalStratum(t *testing.T) {
	t.Parallel()
	for _, server := range []int{2, 15} {
		t.Run(strconv.Itoa(server), func(t *testing.T) {
			t.Parallel()
			l := Start(t, Options{LocalStratum: server})
			if err := l.WaitSynced(syncTimeout); err != nil {
				t.Fatal(err)
			}
			if tr, err := l.Tracking(); err != nil || tr.Stratum != server+1 || tr.Leap != LeapNormal {
				t.Fatalf("tracking %+v, %v; want stratum %d, leap normal", tr, err, server+1)
			}
		})
	}
}

func TestStopRestart(t *testing.T) {
	t.Parallel()
	l := Start(t, Options{})
	if err := l.WaitSynced(syncTimeout); err != nil {
		t.Fatal(err)
	}
	pid := l.PID()
	if err := l.Stop(); err != nil {
		t.Fatal(err)
	}
	if l.PID() != 0 {
		t.Fatalf("PID %d after Stop", l.PID())
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("pid %d still there after Stop: %v", pid, err)
	}
	if _, err := os.Stat(l.SocketPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket after Stop: %v", err)
	}
	if _, err := l.Tracking(); err == nil {
		t.Fatal("Tracking answered after Stop")
	}
	if err := l.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := l.Pause(); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Pause after Stop: %v", err)
	}

	t0 := time.Now()
	if err := l.Restart(); err != nil {
		t.Fatal(err)
	}
	restarted := time.Since(t0)
	if l.PID() == 0 || l.PID() == pid {
		t.Fatalf("PID %d after Restart (was %d)", l.PID(), pid)
	}
	if _, err := l.Tracking(); err != nil {
		t.Fatal(err)
	}
	checkUnixSocket(t, l)
	if err := l.WaitSynced(syncTimeout); err != nil {
		t.Fatal(err)
	}
	t.Logf("Restart answered after %v, synced again after %v", restarted, time.Since(t0))

	// Restart of a running daemon stops it first.
	pid = l.PID()
	if err := l.Restart(); err != nil {
		t.Fatal(err)
	}
	if l.PID() == pid {
		t.Fatal("Restart kept the old process")
	}
	if _, err := l.Tracking(); err != nil {
		t.Fatal(err)
	}
}

func TestKillRestart(t *testing.T) {
	t.Parallel()
	l := Start(t, Options{Mode: LocalReference})
	if err := l.Kill(); err != nil {
		t.Fatal(err)
	}
	// A crash leaves the socket file and the pidfile behind.
	if _, err := os.Stat(l.SocketPath); err != nil {
		t.Fatalf("stale socket: %v", err)
	}
	if _, err := l.ChronycUnix("-c", "tracking"); err == nil {
		t.Fatal("stale socket answered")
	}
	if err := l.Restart(); err != nil {
		t.Fatal(err)
	}
	checkUnixSocket(t, l)
}

func TestPauseResume(t *testing.T) {
	t.Parallel()
	l := Start(t, Options{Mode: LocalReference})
	if err := l.WaitSynced(syncTimeout); err != nil {
		t.Fatal(err)
	}
	if err := l.Pause(); err != nil {
		t.Fatal(err)
	}
	// chronyc's own timeout: 200 ms, no retry, not its default 1 s with
	// two retries (7 s).
	t0 := time.Now()
	_, err := l.Chronyc("-c", "-m", "timeout 200", "retries 0", "tracking")
	if err == nil {
		t.Fatal("paused daemon answered")
	}
	timing.Before(t, time.Since(t0), 7*time.Second, "chronyc gave up after its own timeout")
	// A context deadline bounds a default chronyc as well.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := l.TrackingContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("TrackingContext on a paused daemon: %v", err)
	}
	if err := l.Resume(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Tracking(); err != nil {
		t.Fatal(err)
	}

	// Stop and Close cope with a paused daemon.
	if err := l.Pause(); err != nil {
		t.Fatal(err)
	}
	t0 = time.Now()
	if err := l.Stop(); err != nil {
		t.Fatal(err)
	}
	if !timing.Before(t, time.Since(t0), stopTimeout, "Stop of a paused daemon waited out the SIGTERM grace") {
		t.FailNow()
	}
}

func TestBadSocketDirMode(t *testing.T) {
	t.Parallel()
	l := Start(t, Options{Mode: LocalReference, SocketDirMode: 0o755})
	if _, err := l.Tracking(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.SocketPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket with a 0755 dir: %v", err)
	}
	log, err := os.ReadFile(l.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "Wrong permissions") {
		t.Fatalf("log: %s", log)
	}
}

func TestTwoLabsAtOnce(t *testing.T) {
	t.Parallel()
	var (
		wg   sync.WaitGroup
		labs [3]*Lab
	)
	opts := [3]Options{{}, {LocalStratum: 4}, {Mode: LocalReference, LocalStratum: 3}}
	// t.Fatal belongs to the test goroutine: start the labs in parallel
	// through Launch and fail here.
	errs := make([]error, len(labs))
	for i := range labs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			labs[i], errs[i] = Launch(opts[i])
		}()
	}
	wg.Wait()
	for _, l := range labs {
		if l != nil {
			t.Cleanup(func() { l.Close() })
		}
	}
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	seen := map[int]bool{}
	for i, l := range labs {
		if err := l.WaitSynced(syncTimeout); err != nil {
			t.Fatal(err)
		}
		for _, p := range []int{l.CmdPort, l.NTPPort} {
			if p != 0 && seen[p] {
				t.Fatalf("port %d used twice", p)
			}
			seen[p] = true
		}
		tr, err := l.Tracking()
		if err != nil {
			t.Fatal(err)
		}
		want := []int{9, 5, 3}[i]
		if tr.Stratum != want {
			t.Fatalf("lab %d: stratum %d, want %d", i, tr.Stratum, want)
		}
	}
	if labs[0].Dir == labs[1].Dir || labs[1].Dir == labs[2].Dir {
		t.Fatal("labs share a directory")
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	l := Start(t, Options{})
	pids := []int{l.PID(), l.ServerPID()}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("pid %d after Close: %v", pid, err)
		}
	}
	if _, err := os.Stat(l.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("dir after Close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := l.Restart(); err == nil {
		t.Fatal("Restart after Close")
	}
	if l.PID() != 0 {
		t.Fatal("PID after Close")
	}
}

func TestStopServer(t *testing.T) {
	t.Parallel()
	l := Start(t, Options{})
	if err := l.WaitSynced(syncTimeout); err != nil {
		t.Fatal(err)
	}
	if err := l.StopServer(); err != nil {
		t.Fatal(err)
	}
	if l.ServerPID() != 0 {
		t.Fatal("server still running")
	}
	if _, err := l.Tracking(); err != nil {
		t.Fatal(err)
	}
	if err := l.StopServer(); err == nil {
		t.Fatal("second StopServer")
	}
}

func TestBadOptions(t *testing.T) {
	Require(t)
	for _, o := range []Options{
		{LocalStratum: 16},
		{Mode: LocalReference, LocalStratum: 16},
		{LocalStratum: -1},
		{Mode: Mode(9)},
		{SocketDirMode: os.ModeDir | 0o750},
	} {
		if l, err := Launch(o); err == nil {
			_ = l.Close()
			t.Errorf("%+v: no error", o)
		}
	}
}

// programs are the installed chronyd and, with chronybuild.SrcEnv set,
// every chrony release built from it: their logs differ (3.x "Could not
// bind IPv4 command socket" and exits, 4.x "Could not open command socket
// on ..." and runs on), and the lab must read both.
func programs(t *testing.T) map[string]Options {
	Require(t)
	out := map[string]Options{"installed": {}}
	_, srcs, err := chronybuild.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range chronybuild.Ensure(context.Background(), srcs) {
		if b.Err != nil {
			t.Fatal(b.Err)
		}
		out[b.Version] = Options{Chronyd: b.Chronyd, Chronyc: b.Chronyc}
	}
	return out
}

// TestPortCollision hands the lab a port that another socket holds, first as
// the command port, then as the NTP server's port: Start must retry with
// fresh ports.
func TestPortCollision(t *testing.T) {
	taken, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := taken.LocalAddr().(*net.UDPAddr).Port

	for name, opts := range programs(t) {
		t.Run(name, func(t *testing.T) {
			_, err := findTools(opts)
			need(t, opts, err) // chronyd before 4.0 runs only as root
			for _, tc := range []struct {
				mode   Mode
				victim int // which pickPort call gets the taken port
			}{{LocalReference, 1}, {Synced, 2}} {
				calls := 0
				pickPort = func() (int, error) {
					calls++
					if calls == tc.victim {
						return takenPort, nil
					}
					return freeUDPPort()
				}
				opts.Mode = tc.mode
				l, err := Launch(opts)
				pickPort = freeUDPPort
				if err != nil {
					t.Fatalf("%v: %v", tc.mode, err)
				}
				if l.CmdPort == takenPort || l.NTPPort == takenPort || calls <= tc.victim {
					t.Fatalf("%v: lab %+v, %d port picks", tc.mode, l, calls)
				}
				if err := l.WaitSynced(syncTimeout); err != nil {
					t.Fatal(err)
				}
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestRequireMissing(t *testing.T) {
	saved := toolDirs
	toolDirs = nil
	defer func() { toolDirs = saved }()
	t.Setenv("PATH", t.TempDir())

	for _, tc := range []struct{ env, want string }{{"", "skip: "}, {"1", "fatal: "}} {
		t.Setenv(labenv.RequireEnv, tc.env)
		got := labenv.Outcome(t, Require)
		if !strings.HasPrefix(got, tc.want) || !strings.Contains(got, "chronyd not found") ||
			!strings.Contains(got, "Debian's chrony package") {
			t.Errorf("%s=%q: %q", labenv.RequireEnv, tc.env, got)
		}
	}
}

// Another process making and removing its client socket chains in the lab
// directory while the lab removes it (as a --diagnose in another test
// process does) does not fail the removal once it stops, and nothing is
// left.
func TestRemoveDirWhileOthersWriteInIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				// Mkdir, not MkdirAll: like the client, it never makes the
				// socket directory itself.
				chain := filepath.Join(dir, "telegraf-chrony."+strconv.Itoa(w))
				if os.Mkdir(chain, 0o711) == nil {
					_ = os.Mkdir(filepath.Join(chain, strconv.Itoa(i)), 0o711)
				}
				_ = os.RemoveAll(chain)
			}
		}()
	}
	// The other process's requests end; a removal must outlast them.
	time.AfterFunc(200*time.Millisecond, func() { close(stop) })
	time.Sleep(10 * time.Millisecond)
	err := removeDir(dir)
	wg.Wait()
	if err != nil {
		t.Fatalf("removeDir: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the lab directory is still there: %v", err)
	}
}
