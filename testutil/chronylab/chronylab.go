// Package chronylab starts private chronyd daemons on the loopback interface
// for integration tests, and tears down only what it started.
//
// A Lab holds a "daemon under test": a chronyd whose command port (UDP on
// 127.0.0.1) and unix command socket (Dir/chronyd.sock) the code under test
// talks to. In Synced mode a second chronyd serves NTP on a loopback port
// with a local reference and the daemon under test synchronises to it; with
// Options.AllSources it also has a second reachable server, a silent one,
// a name that never resolves and a reference clock the lab feeds, and
// serves NTP itself (QueryNTP). The chronyc oracle (Tracking, Sources,
// SourceStats, Activity, ServerStats) parses each release's chronyc -c. Every
// chronyd runs with -x, so no lab ever touches the system clock, and logs to
// a file in Dir.
//
// The package needs Linux and the chronyd and chronyc programs (Debian's
// chrony package). Require skips a test when they are missing, or fails it
// when the environment variable TELEGRAF_CHRONY_REQUIRE_LAB is 1.
package chronylab

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/labenv"
)

// EnvRequireLab names the environment variable that turns a missing chrony
// installation from a skipped test into a failed one when it is "1".
const EnvRequireLab = labenv.RequireEnv

const (
	defaultLocalStratum  = 8
	defaultSocketDirMode = os.FileMode(0o750)
)

// Bounds of the lab's waits.
const (
	startTimeout    = 10 * time.Second // a daemon binding its sockets
	stopTimeout     = 5 * time.Second  // SIGTERM before SIGKILL, and SIGKILL
	removeTimeout   = 5 * time.Second  // the lab directory, against other processes' entries
	chronycTimeout  = 10 * time.Second // one chronyc run (chronyc gives up at 7 s)
	probeTimeout    = 2 * time.Second  // one readiness probe
	pollInterval    = 50 * time.Millisecond
	maxStartAttempt = 5 // fresh ports after a port collision
	maxSunPath      = 107
)

// ErrNeverSynchronises is returned by WaitSynced for a lab in Unsynchronised
// mode.
var ErrNeverSynchronises = errors.New("chronylab: an Unsynchronised lab never synchronises")

// ErrNotRunning is returned by Pause, Resume and Kill when the daemon under
// test is not running.
var ErrNotRunning = errors.New("chronylab: daemon under test is not running")

// Mode selects what the daemon under test synchronises to.
type Mode int

const (
	// Synced: the daemon under test polls a second, private chronyd serving
	// NTP on a loopback port with "local stratum LocalStratum"; once synced it
	// reports ref ID 7F000001, name 127.0.0.1, stratum LocalStratum+1.
	Synced Mode = iota
	// Unsynchronised: the daemon under test polls a loopback port held open
	// by the lab where nothing answers; it reports ref ID 0, stratum 0 and
	// leap status "Not synchronised".
	Unsynchronised
	// LocalReference: the daemon under test has no source and
	// "local stratum LocalStratum"; it reports ref ID 7F7F0101 and stratum
	// LocalStratum.
	LocalReference
)

func (m Mode) String() string {
	switch m {
	case Synced:
		return "Synced"
	case Unsynchronised:
		return "Unsynchronised"
	case LocalReference:
		return "LocalReference"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// Options configure a Lab. The zero value is a Synced lab.
type Options struct {
	Mode Mode
	// LocalStratum is the stratum of the local reference: of the daemon under
	// test in LocalReference mode (1..15), of the lab NTP server in Synced
	// mode (1..15; the daemon under test then reports LocalStratum+1, and
	// 16 with 15: chronyd follows a stratum-15 source and says so, while
	// NTP calls stratum 16 unsynchronised).
	// Default 8.
	LocalStratum int
	// SocketDirMode is the permission of Dir, the directory of the unix
	// command socket. Default 0750. chronyd refuses (logs "Wrong
	// permissions" and disables) its unix socket when the mode has bits
	// outside 0770; the lab then starts with the UDP command port only.
	SocketDirMode os.FileMode
	// ExtraConfig lines are appended to the daemon under test's chrony.conf.
	ExtraConfig []string
	// Chronyd and Chronyc are the programs the lab runs, for both daemons
	// and for the chronyc oracle: e.g. a chrony release built by
	// testutil/chronybuild. Empty: the installed chronyd and chronyc (PATH,
	// then /usr/sbin and the like).
	Chronyd, Chronyc string
	// AllSources gives the daemon under test of a Synced lab a source of
	// every kind (Lab.Configured: the lab NTP server it selects, a second
	// reachable one, a silent one, a name that never resolves and a
	// reference clock fed by the lab), all polled every 1/4 s, and an NTP
	// port of its own on 127.0.0.1 (Lab.ServePort, see QueryNTP).
	AllSources bool
	// ExtraSilent adds as many more silent sources to an AllSources lab,
	// on 127.0.0.4 and up (0..100): a benchmark's chronyd with more
	// sources.
	ExtraSilent int
	// NoUnresolved leaves the name that never resolves out of an
	// AllSources lab: Telegraf's inputs.chrony fails every sources and
	// sourcestats gather of a chronyd with one (asking its name answers
	// NOSUCHSOURCE), and a benchmark needs a chronyd it can read.
	NoUnresolved bool
}

// Require skips the test when chronyd or chronyc is missing, or fails it when
// the environment variable TELEGRAF_CHRONY_REQUIRE_LAB is set (see labenv).
func Require(t testing.TB) {
	t.Helper()
	need(t, Options{}, Available())
}

// need skips or fails t when the programs opts names cannot run here.
func need(t testing.TB, opts Options, unavailable error) {
	t.Helper()
	fix := "install Debian's chrony package (apt-get install chrony)"
	if opts.Chronyd != "" {
		fix = "build it (testutil/chronybuild), and run as root for a chronyd before 4.0"
	}
	labenv.Need(t, "chronylab", unavailable, fix)
}

// Available says why a lab cannot run here, or nil when it can.
func Available() error {
	_, err := findTools(Options{})
	return err
}

// Lab is a running chrony lab. Its methods are safe for concurrent use.
type Lab struct {
	// Dir is the lab's private directory (config, logs, pid and drift files,
	// the unix socket); it is removed by Close.
	Dir string
	// SocketPath is the unix command socket of the daemon under test,
	// Dir/chronyd.sock.
	SocketPath string
	// CmdPort is the UDP command port of the daemon under test on 127.0.0.1.
	CmdPort int
	// NTPPort is the loopback port the daemon under test polls: the lab NTP
	// server's in Synced mode, a port held open where nothing answers in
	// Unsynchronised mode, 0 in LocalReference mode.
	NTPPort int
	// LogPath is the log of the daemon under test.
	LogPath string
	// ServePort is the port on 127.0.0.1 where the daemon under test of an
	// AllSources lab serves NTP; 0 otherwise.
	ServePort int
	// Configured are the sources of the daemon under test, in the order of
	// its chrony.conf: the lab NTP server in Synced mode, every kind with
	// AllSources, none otherwise (the silent port of an Unsynchronised lab
	// is NTPPort).
	Configured []Source
	// Mode and LocalStratum are the lab's options after defaults.
	Mode         Mode
	LocalStratum int
	// Release is the chrony release of the lab's chronyd ("4.3").
	Release string

	tools      tools
	confPath   string
	pidPath    string
	unixSocket bool // whether chronyd accepts Dir as its socket directory

	mu     sync.Mutex
	dut    *daemon        // daemon under test; nil when stopped
	server *daemon        // lab NTP server (Synced)
	hold   *net.UDPConn   // silent NTP port (Unsynchronised)
	second *daemon        // second lab NTP server (AllSources)
	silent []*net.UDPConn // silent sources' ports (AllSources)
	feeder *feeder        // reference clock's samples (AllSources)
	closed bool
	closeE error
}

// Start starts a lab, or skips/fails the test as Require does when chrony is
// missing. It fails the test when the lab does not come up. The lab is closed
// by t.Cleanup. Start returns once the daemon under test answers on its UDP
// port and its unix socket; use WaitSynced to wait for synchronisation.
func Start(t testing.TB, opts Options) *Lab {
	t.Helper()
	_, err := findTools(opts)
	need(t, opts, err)
	l, err := Launch(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("chronylab: close: %v", err)
		}
	})
	return l
}

// Launch starts a lab without a test to tie it to, for TestMain and
// runnable examples; the caller must Close it. It does not check Require.
func Launch(opts Options) (*Lab, error) {
	tl, err := findTools(opts)
	if err != nil {
		return nil, fmt.Errorf("chronylab: %w", err)
	}
	if opts.LocalStratum == 0 {
		opts.LocalStratum = defaultLocalStratum
	}
	if opts.SocketDirMode == 0 {
		opts.SocketDirMode = defaultSocketDirMode
	}
	switch opts.Mode {
	case Synced:
		if opts.LocalStratum < 1 || opts.LocalStratum > 15 {
			return nil, fmt.Errorf("chronylab: LocalStratum %d out of 1..15 for a Synced lab", opts.LocalStratum)
		}
	case Unsynchronised, LocalReference:
		if opts.LocalStratum < 1 || opts.LocalStratum > 15 {
			return nil, fmt.Errorf("chronylab: LocalStratum %d out of 1..15", opts.LocalStratum)
		}
	default:
		return nil, fmt.Errorf("chronylab: unknown mode %v", opts.Mode)
	}
	if opts.AllSources && opts.Mode != Synced {
		return nil, fmt.Errorf("chronylab: AllSources needs a Synced lab, not %v", opts.Mode)
	}
	if opts.ExtraSilent < 0 || opts.ExtraSilent > 100 || opts.ExtraSilent > 0 && !opts.AllSources {
		return nil, fmt.Errorf("chronylab: ExtraSilent %d: 0..100, with AllSources", opts.ExtraSilent)
	}
	if opts.NoUnresolved && !opts.AllSources {
		return nil, errors.New("chronylab: NoUnresolved is an option of AllSources")
	}
	if opts.SocketDirMode&^os.ModePerm != 0 {
		return nil, fmt.Errorf("chronylab: SocketDirMode %v has bits other than permissions", opts.SocketDirMode)
	}

	rel, err := release(tl.chronyd)
	if err != nil {
		return nil, fmt.Errorf("chronylab: %w", err)
	}
	dir, err := makeDir()
	if err != nil {
		return nil, err
	}
	l := &Lab{
		Dir:          dir,
		SocketPath:   filepath.Join(dir, "chronyd.sock"),
		LogPath:      filepath.Join(dir, "chronyd.log"),
		Mode:         opts.Mode,
		LocalStratum: opts.LocalStratum,
		Release:      rel,
		tools:        tl,
		confPath:     filepath.Join(dir, "chronyd.conf"),
		pidPath:      filepath.Join(dir, "chronyd.pid"),
		unixSocket:   opts.SocketDirMode&^0o770 == 0,
	}
	if err := os.Chmod(dir, opts.SocketDirMode); err != nil {
		l.Close()
		return nil, fmt.Errorf("chronylab: %w", err)
	}

	for attempt := 1; ; attempt++ {
		err = l.startAttempt(opts)
		if err == nil {
			return l, nil
		}
		l.mu.Lock()
		l.teardownLocked()
		l.mu.Unlock()
		if !errors.Is(err, errPortCollision) || attempt == maxStartAttempt {
			l.Close()
			return nil, err
		}
	}
}

// makeDir creates the lab directory with a path short enough for the unix
// sockets of chronyd and chronyc (sun_path holds 107 bytes). chronyc 4.8
// binds its socket two directories down: DIR/chronyc.PID/RANDOM16/sock.
func makeDir() (string, error) {
	const longest = "/chronyc.4194304/0123456789abcdef/sock"
	dir, err := os.MkdirTemp("", "chronylab-")
	if err == nil && len(dir)+len(longest) > maxSunPath {
		_ = os.Remove(dir)
		dir, err = os.MkdirTemp("/tmp", "chronylab-")
	}
	if err != nil {
		return "", fmt.Errorf("chronylab: %w", err)
	}
	if len(dir)+len(longest) > maxSunPath {
		_ = os.Remove(dir)
		return "", fmt.Errorf("chronylab: directory %s is too long for a unix socket path", dir)
	}
	return dir, nil
}

func (l *Lab) startAttempt(opts Options) error {
	var err error
	if l.CmdPort, err = pickPort(); err != nil {
		return fmt.Errorf("chronylab: %w", err)
	}
	l.NTPPort, l.ServePort, l.Configured = 0, 0, nil
	var sources []string // and the NTP port of the daemon under test
	switch opts.Mode {
	case Synced:
		if err := l.startServer(); err != nil {
			return err
		}
		l.Configured = []Source{{SourceSelected, labServerAddr.String(), netip.AddrPortFrom(labServerAddr, uint16(l.NTPPort))}}
		sources = []string{fmt.Sprintf("server 127.0.0.1 port %d iburst minpoll -6 maxpoll -6", l.NTPPort), "port 0"}
		if opts.AllSources {
			if sources, err = l.startAllSources(opts.ExtraSilent, !opts.NoUnresolved); err != nil {
				return err
			}
		}
	case Unsynchronised:
		hold, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return fmt.Errorf("chronylab: %w", err)
		}
		l.mu.Lock()
		l.hold = hold
		l.mu.Unlock()
		l.NTPPort = hold.LocalAddr().(*net.UDPAddr).Port
		sources = []string{fmt.Sprintf("server 127.0.0.1 port %d iburst", l.NTPPort), "port 0"}
	case LocalReference:
		sources = []string{fmt.Sprintf("local stratum %d", opts.LocalStratum), "port 0"}
	}
	conf := append([]string{"# chronylab: daemon under test (" + opts.Mode.String() + ")"}, sources...)
	conf = append(conf,
		fmt.Sprintf("cmdport %d", l.CmdPort),
		"bindcmdaddress 127.0.0.1",
		"bindcmdaddress "+l.SocketPath,
		"pidfile "+l.pidPath,
		"driftfile "+filepath.Join(l.Dir, "chronyd.drift"),
	)
	conf = append(conf, opts.ExtraConfig...)
	if err := os.WriteFile(l.confPath, []byte(strings.Join(conf, "\n")+"\n"), 0o644); err != nil {
		return fmt.Errorf("chronylab: %w", err)
	}
	return l.startDUT()
}

// UnixURL is "unixgram://" + SocketPath.
func (l *Lab) UnixURL() string { return "unixgram://" + l.SocketPath }

// UDPURL is "udp://127.0.0.1:CmdPort".
func (l *Lab) UDPURL() string { return "udp://127.0.0.1:" + strconv.Itoa(l.CmdPort) }

// PID is the pid of the daemon under test, 0 when it is not running.
func (l *Lab) PID() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dut == nil || l.dut.Exited() {
		return 0
	}
	return l.dut.PID()
}

// ServerPID is the pid of the lab NTP server, 0 when there is none running.
func (l *Lab) ServerPID() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.server == nil || l.server.Exited() {
		return 0
	}
	return l.server.PID()
}

// Stop stops the daemon under test: SIGTERM, then SIGKILL after 5 s, and
// waits for it. chronyd removes its socket file on exit; after a SIGKILL Stop
// removes it. Stopping a stopped daemon does nothing.
func (l *Lab) Stop() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stopDUTLocked()
}

func (l *Lab) stopDUTLocked() error {
	p := l.dut
	if p == nil {
		return nil
	}
	killed, err := p.stop()
	if err != nil {
		return err
	}
	l.dut = nil
	if killed {
		_ = os.Remove(l.SocketPath)
		_ = os.Remove(l.pidPath)
	}
	return nil
}

// Kill sends SIGKILL to the daemon under test and waits for it, like a crash:
// its socket file and pidfile stay behind (Restart copes with both).
func (l *Lab) Kill() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dut == nil || l.dut.Exited() {
		return ErrNotRunning
	}
	if err := l.dut.kill(); err != nil {
		return err
	}
	l.dut = nil
	return nil
}

// Restart stops the daemon under test if it runs and starts it again with the
// same configuration, ports and socket path, and waits until it answers on
// both (it does not wait for synchronisation: use WaitSynced).
func (l *Lab) Restart() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errors.New("chronylab: lab is closed")
	}
	if err := l.stopDUTLocked(); err != nil {
		l.mu.Unlock()
		return err
	}
	l.mu.Unlock()
	if err := l.startDUT(); err != nil {
		l.mu.Lock()
		_ = l.stopDUTLocked()
		l.mu.Unlock()
		return err
	}
	return nil
}

// Pause stops the daemon under test with SIGSTOP: it keeps its sockets but
// answers nothing until Resume.
func (l *Lab) Pause() error { return l.signal(syscall.SIGSTOP, true) }

// Resume continues the daemon under test with SIGCONT after Pause.
func (l *Lab) Resume() error { return l.signal(syscall.SIGCONT, false) }

func (l *Lab) signal(sig syscall.Signal, paused bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dut == nil || l.dut.Exited() {
		return ErrNotRunning
	}
	if err := l.dut.Signal(sig); err != nil {
		return fmt.Errorf("chronylab: %v: %w", sig, err)
	}
	l.dut.paused = paused
	return nil
}

// StopServer stops the lab NTP server of a Synced lab, so that the daemon
// under test loses its only source.
func (l *Lab) StopServer() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.server == nil {
		return errors.New("chronylab: no lab NTP server running")
	}
	_, err := l.server.stop()
	if err == nil {
		l.server = nil
	}
	return err
}

// teardownLocked stops every process of the lab and releases the held port.
func (l *Lab) teardownLocked() error {
	var errs []error
	if err := l.stopDUTLocked(); err != nil {
		errs = append(errs, err)
	}
	if l.server != nil {
		if _, err := l.server.stop(); err != nil {
			errs = append(errs, err)
		} else {
			l.server = nil
		}
	}
	if l.hold != nil {
		_ = l.hold.Close()
		l.hold = nil
	}
	if err := l.stopAllSourcesLocked(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Close stops both daemons (only the processes this lab started), waits for
// them, and removes Dir. It is idempotent and is called by t.Cleanup.
func (l *Lab) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return l.closeE
	}
	l.closed = true
	err := l.teardownLocked()
	if rmErr := removeDir(l.Dir); rmErr != nil {
		err = errors.Join(err, rmErr)
	}
	l.closeE = err
	return err
}

// removeDir removes the lab directory, trying again while it keeps
// failing. A --diagnose run in another test process probes every chronyd on
// the host and holds its client socket chain in the lab directory for one
// request, so a removal can meet an entry made after it read the directory
// ("directory not empty"); once the daemons are stopped, no new one comes.
func removeDir(dir string) error {
	deadline := time.Now().Add(removeTimeout)
	for {
		err := os.RemoveAll(dir)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(pollInterval)
	}
}
