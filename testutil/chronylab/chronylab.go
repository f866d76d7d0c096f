// Package chronylab starts private chronyd daemons on the loopback interface
// for integration tests, and tears down only what it started.
//
// A Lab holds a "daemon under test": a chronyd whose command port (UDP on
// 127.0.0.1) and unix command socket (Dir/chronyd.sock) the code under test
// talks to. In Synced mode a second chronyd serves NTP on a loopback port
// with a local reference and the daemon under test synchronises to it. Every
// chronyd runs with -x, so no lab ever touches the system clock, and logs to
// a file in Dir.
//
// The package needs Linux and the chronyd and chronyc programs (Debian's
// chrony package). Require skips a test when they are missing, or fails it
// when the environment variable TELEGRAF_CHRONY_REQUIRE_LAB is 1.
package chronylab

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/labenv"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/proc"
)

// EnvRequireLab names the environment variable that turns a missing chrony
// installation from a skipped test into a failed one when it is "1".
const EnvRequireLab = labenv.RequireEnv

// Reference IDs chronyd reports in its tracking report.
const (
	// RefIDUnsynchronised is the reference ID of a daemon without a source.
	RefIDUnsynchronised uint32 = 0
	// RefIDLocal is the reference ID of a daemon using its local reference
	// ("local stratum N"): 127.127.1.1.
	RefIDLocal uint32 = 0x7F7F0101
	// RefIDLabServer is the reference ID of the lab NTP server, 127.0.0.1.
	RefIDLabServer uint32 = 0x7F000001
)

// Leap status words printed by `chronyc -c tracking`.
const (
	LeapNormal          = "Normal"
	LeapInsertSecond    = "Insert second"
	LeapDeleteSecond    = "Delete second"
	LeapNotSynchronised = "Not synchronised"
)

const (
	defaultLocalStratum  = 8
	defaultSocketDirMode = os.FileMode(0o750)
)

// Bounds of the lab's waits.
const (
	startTimeout    = 10 * time.Second // a daemon binding its sockets
	stopTimeout     = 5 * time.Second  // SIGTERM before SIGKILL, and SIGKILL
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

// errPortCollision marks a start attempt that lost one of its ports to
// another process; Start retries with fresh ports.
var errPortCollision = errors.New("port already in use")

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
	// mode (1..14; the daemon under test then reports LocalStratum+1).
	// Default 8.
	LocalStratum int
	// SocketDirMode is the permission of Dir, the directory of the unix
	// command socket. Default 0750. chronyd refuses (logs "Wrong
	// permissions" and disables) its unix socket when the mode has bits
	// outside 0770; the lab then starts with the UDP command port only.
	SocketDirMode os.FileMode
	// ExtraConfig lines are appended to the daemon under test's chrony.conf.
	ExtraConfig []string
}

// ChronycTracking is one `chronyc -c tracking` line.
type ChronycTracking struct {
	RefID          uint32
	Name           string // IP address of the source; empty when unsynchronised or local
	Stratum        int
	RefTime        float64 // seconds since the Unix epoch; 0 when unsynchronised
	SystemTime     float64 // seconds; positive: the system clock is slow of NTP time
	LastOffset     float64 // seconds
	RMSOffset      float64 // seconds
	Frequency      float64 // ppm; positive: the clock runs fast
	ResidualFreq   float64 // ppm
	Skew           float64 // ppm
	RootDelay      float64 // seconds
	RootDispersion float64 // seconds
	UpdateInterval float64 // seconds
	Leap           string  // one of the Leap* words
}

// ParseTracking parses the output of `chronyc -c tracking`: one line of 14
// comma-separated columns.
func ParseTracking(out string) (ChronycTracking, error) {
	line := strings.TrimSpace(out)
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		return ChronycTracking{}, fmt.Errorf("chronylab: tracking: want one line, got %q", out)
	}
	f := strings.Split(line, ",")
	if len(f) != 14 {
		return ChronycTracking{}, fmt.Errorf("chronylab: tracking: want 14 columns, got %d in %q", len(f), line)
	}
	var tr ChronycTracking
	refID, err := strconv.ParseUint(f[0], 16, 32)
	if err != nil {
		return tr, fmt.Errorf("chronylab: tracking: ref id %q: %w", f[0], err)
	}
	tr.RefID = uint32(refID)
	tr.Name = f[1]
	if tr.Stratum, err = strconv.Atoi(f[2]); err != nil {
		return tr, fmt.Errorf("chronylab: tracking: stratum %q: %w", f[2], err)
	}
	floats := []*float64{&tr.RefTime, &tr.SystemTime, &tr.LastOffset, &tr.RMSOffset,
		&tr.Frequency, &tr.ResidualFreq, &tr.Skew, &tr.RootDelay, &tr.RootDispersion,
		&tr.UpdateInterval}
	for i, p := range floats {
		if *p, err = strconv.ParseFloat(f[3+i], 64); err != nil {
			return tr, fmt.Errorf("chronylab: tracking: column %d %q: %w", 4+i, f[3+i], err)
		}
	}
	tr.Leap = f[13]
	switch tr.Leap {
	case LeapNormal, LeapInsertSecond, LeapDeleteSecond, LeapNotSynchronised:
	default:
		return tr, fmt.Errorf("chronylab: tracking: unknown leap status %q", tr.Leap)
	}
	return tr, nil
}

// tools are the programs and the user chronyd runs as.
type tools struct {
	chronyd, chronyc string
	userArgs         []string
}

// toolDirs are searched after PATH, which often lacks /usr/sbin.
var toolDirs = []string{"/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"}

func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range toolDirs {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

// findTools says why the lab cannot run, or returns its tools.
func findTools() (tools, error) {
	var tl tools
	if runtime.GOOS != "linux" {
		return tl, fmt.Errorf("the chrony lab needs Linux, this is %s", runtime.GOOS)
	}
	var err error
	if tl.chronyd, err = lookTool("chronyd"); err != nil {
		return tl, err
	}
	if tl.chronyc, err = lookTool("chronyc"); err != nil {
		return tl, err
	}
	if os.Geteuid() == 0 {
		tl.userArgs = []string{"-u", "root"}
	} else {
		u, err := user.Current()
		if err != nil {
			return tl, fmt.Errorf("current user: %w", err)
		}
		// -U: run as an ordinary user, which -x makes possible.
		tl.userArgs = []string{"-U", "-u", u.Username}
	}
	return tl, nil
}

// Require skips the test when chronyd or chronyc is missing, or fails it when
// the environment variable TELEGRAF_CHRONY_REQUIRE_LAB is set (see labenv).
func Require(t testing.TB) {
	t.Helper()
	labenv.Need(t, "chronylab", Available(), "install Debian's chrony package (apt-get install chrony)")
}

// Available says why a lab cannot run here, or nil when it can.
func Available() error {
	_, err := findTools()
	return err
}

// freeUDPPort returns a UDP port that was free on 127.0.0.1 a moment ago.
func freeUDPPort() (int, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, err
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	return port, c.Close()
}

// pickPort picks the lab's ports; tests replace it to force collisions.
var pickPort = freeUDPPort

// FreeUDPPort returns a UDP port that was free on 127.0.0.1 a moment ago, for
// a test that needs a loopback address where nothing listens.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	port, err := freeUDPPort()
	if err != nil {
		t.Fatalf("chronylab: free UDP port: %v", err)
	}
	return port
}

// daemon is one chronyd this package started.
type daemon struct {
	*proc.Proc
	name      string
	logPath   string
	logOffset int64 // size of the log before this process started
	paused    bool
}

// stop ends the daemon (SIGTERM, then SIGKILL after stopTimeout) and
// reports whether SIGKILL was needed.
func (d *daemon) stop() (killed bool, err error) {
	d.paused = false
	return d.Stop(stopTimeout)
}

func (d *daemon) kill() error {
	d.paused = false
	return d.Kill()
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
	// Mode and LocalStratum are the lab's options after defaults.
	Mode         Mode
	LocalStratum int

	tools      tools
	confPath   string
	pidPath    string
	unixSocket bool // whether chronyd accepts Dir as its socket directory

	mu     sync.Mutex
	dut    *daemon      // daemon under test; nil when stopped
	server *daemon      // lab NTP server (Synced)
	hold   *net.UDPConn // silent NTP port (Unsynchronised)
	closed bool
	closeE error
}

// Start starts a lab, or skips/fails the test as Require does when chrony is
// missing. It fails the test when the lab does not come up. The lab is closed
// by t.Cleanup. Start returns once the daemon under test answers on its UDP
// port and its unix socket; use WaitSynced to wait for synchronisation.
func Start(t testing.TB, opts Options) *Lab {
	t.Helper()
	Require(t)
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
	tl, err := findTools()
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
		if opts.LocalStratum < 1 || opts.LocalStratum > 14 {
			return nil, fmt.Errorf("chronylab: LocalStratum %d out of 1..14 for a Synced lab", opts.LocalStratum)
		}
	case Unsynchronised, LocalReference:
		if opts.LocalStratum < 1 || opts.LocalStratum > 15 {
			return nil, fmt.Errorf("chronylab: LocalStratum %d out of 1..15", opts.LocalStratum)
		}
	default:
		return nil, fmt.Errorf("chronylab: unknown mode %v", opts.Mode)
	}
	if opts.SocketDirMode&^os.ModePerm != 0 {
		return nil, fmt.Errorf("chronylab: SocketDirMode %v has bits other than permissions", opts.SocketDirMode)
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
// sockets of chronyd and chronyc (sun_path holds 107 bytes).
func makeDir() (string, error) {
	const longest = "/chronyc.4194304.sock"
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
	l.NTPPort = 0
	var source string
	switch opts.Mode {
	case Synced:
		if err := l.startServer(); err != nil {
			return err
		}
		source = fmt.Sprintf("server 127.0.0.1 port %d iburst minpoll -6 maxpoll -6", l.NTPPort)
	case Unsynchronised:
		hold, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return fmt.Errorf("chronylab: %w", err)
		}
		l.mu.Lock()
		l.hold = hold
		l.mu.Unlock()
		l.NTPPort = hold.LocalAddr().(*net.UDPAddr).Port
		source = fmt.Sprintf("server 127.0.0.1 port %d iburst", l.NTPPort)
	case LocalReference:
		source = fmt.Sprintf("local stratum %d", opts.LocalStratum)
	}
	conf := []string{
		"# chronylab: daemon under test (" + opts.Mode.String() + ")",
		source,
		"port 0",
		fmt.Sprintf("cmdport %d", l.CmdPort),
		"bindcmdaddress 127.0.0.1",
		"bindcmdaddress " + l.SocketPath,
		"pidfile " + l.pidPath,
		"driftfile " + filepath.Join(l.Dir, "chronyd.drift"),
	}
	conf = append(conf, opts.ExtraConfig...)
	if err := os.WriteFile(l.confPath, []byte(strings.Join(conf, "\n")+"\n"), 0o644); err != nil {
		return fmt.Errorf("chronylab: %w", err)
	}
	return l.startDUT()
}

// startServer starts the lab NTP server of a Synced lab on a fresh port.
func (l *Lab) startServer() error {
	port, err := pickPort()
	if err != nil {
		return fmt.Errorf("chronylab: %w", err)
	}
	l.NTPPort = port
	confPath := filepath.Join(l.Dir, "server.conf")
	conf := []string{
		"# chronylab: lab NTP server",
		fmt.Sprintf("local stratum %d", l.LocalStratum),
		"allow 127.0.0.1",
		fmt.Sprintf("port %d", port),
		"bindaddress 127.0.0.1",
		"cmdport 0",
		"bindcmdaddress /", // no unix command socket either
		"pidfile " + filepath.Join(l.Dir, "server.pid"),
		"driftfile " + filepath.Join(l.Dir, "server.drift"),
	}
	if err := os.WriteFile(confPath, []byte(strings.Join(conf, "\n")+"\n"), 0o644); err != nil {
		return fmt.Errorf("chronylab: %w", err)
	}
	l.mu.Lock()
	p, err := l.spawnLocked("lab NTP server", confPath, filepath.Join(l.Dir, "server.log"))
	if err == nil {
		l.server = p
	}
	l.mu.Unlock()
	if err != nil {
		return err
	}

	deadline := time.Now().Add(startTimeout)
	for {
		if err := checkLog(p); err != nil {
			return err
		}
		if p.Exited() {
			return fmt.Errorf("chronylab: %s exited: %v%s", p.name, p.Err(), logTail(p.logPath))
		}
		if ok, err := ownsUDPPort(p.PID(), port); err != nil {
			return fmt.Errorf("chronylab: %w", err)
		} else if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("chronylab: %s did not bind 127.0.0.1:%d within %v%s", p.name, port, startTimeout, logTail(p.logPath))
		}
		time.Sleep(pollInterval)
	}
}

// spawnLocked starts chronyd in the foreground (-d: log to stderr, which
// goes to logPath) without control of the clock (-x). l.mu must be held, so
// that Close cannot miss the new process.
func (l *Lab) spawnLocked(name, confPath, logPath string) (*daemon, error) {
	if l.closed {
		return nil, errors.New("chronylab: lab is closed")
	}
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("chronylab: %w", err)
	}
	defer logf.Close()
	var offset int64
	if st, err := logf.Stat(); err == nil {
		offset = st.Size()
	}
	fmt.Fprintf(logf, "chronylab: starting %s at %s\n", name, time.Now().UTC().Format(time.RFC3339Nano))
	args := []string{"-4", "-x", "-d"}
	args = append(args, l.tools.userArgs...)
	args = append(args, "-f", confPath)
	cmd := exec.Command(l.tools.chronyd, args...)
	cmd.Dir = l.Dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	pr, err := proc.Start(name, cmd)
	if err != nil {
		return nil, fmt.Errorf("chronylab: %w", err)
	}
	return &daemon{Proc: pr, name: name, logPath: logPath, logOffset: offset}, nil
}

// startDUT starts the daemon under test and waits until it serves commands.
func (l *Lab) startDUT() error {
	// A pidfile left by a killed daemon would name a pid that may be reused,
	// and chronyd refuses to start while that pid exists.
	_ = os.Remove(l.pidPath)
	l.mu.Lock()
	p, err := l.spawnLocked("daemon under test", l.confPath, l.LogPath)
	if err == nil {
		l.dut = p
	}
	l.mu.Unlock()
	if err != nil {
		return err
	}
	return l.waitReady(p)
}

// waitReady waits until p owns the UDP command port (so that a reply comes
// from p and not from a process that took the port first), answers chronyc
// over UDP and, unless chronyd refuses Dir, over the unix socket.
func (l *Lab) waitReady(p *daemon) error {
	deadline := time.Now().Add(startTimeout)
	var last error
	for {
		if err := checkLog(p); err != nil {
			return err
		}
		if p.Exited() {
			return fmt.Errorf("chronylab: %s exited: %v%s", p.name, p.Err(), logTail(p.logPath))
		}
		last = l.probe(p)
		if last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("chronylab: %s not ready within %v: %v%s", p.name, startTimeout, last, logTail(p.logPath))
		}
		time.Sleep(pollInterval)
	}
}

func (l *Lab) probe(p *daemon) error {
	ok, err := ownsUDPPort(p.PID(), l.CmdPort)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("127.0.0.1:%d not bound yet", l.CmdPort)
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	if _, err := l.run(ctx, l.udpArgs(), "-c", "tracking"); err != nil {
		return err
	}
	if !l.unixSocket {
		return nil
	}
	_, err = l.run(ctx, l.unixArgs(), "-c", "tracking")
	return err
}

// checkLog reports a port collision that p logged.
func checkLog(p *daemon) error {
	b, err := os.ReadFile(p.logPath)
	if err != nil || int64(len(b)) < p.logOffset {
		return nil
	}
	b = b[p.logOffset:]
	if bytes.Contains(b, []byte("Could not open NTP socket")) ||
		bytes.Contains(b, []byte("Could not open command socket")) {
		return fmt.Errorf("chronylab: %s: %w%s", p.name, errPortCollision, logTail(p.logPath))
	}
	return nil
}

// ownsUDPPort reports whether process pid has a socket bound to
// 127.0.0.1:port, from /proc.
func ownsUDPPort(pid, port int) (bool, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/udp", pid))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil // exited
		}
		return false, err
	}
	inodes := map[string]bool{}
	lines := strings.Split(string(data), "\n")
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) < 10 {
			continue
		}
		addr, portHex, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		a, err1 := strconv.ParseUint(addr, 16, 32)
		pt, err2 := strconv.ParseUint(portHex, 16, 16)
		if err1 != nil || err2 != nil || int(pt) != port {
			continue
		}
		var ip [4]byte
		binary.NativeEndian.PutUint32(ip[:], uint32(a))
		if ip == [4]byte{127, 0, 0, 1} {
			inodes["socket:["+f[9]+"]"] = true
		}
	}
	if len(inodes) == 0 {
		return false, nil
	}
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(fdDir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	for _, e := range ents {
		if target, err := os.Readlink(filepath.Join(fdDir, e.Name())); err == nil && inodes[target] {
			return true, nil
		}
	}
	return false, nil
}

// logTail returns the end of a log file, to append to an error.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	const max = 2048
	if len(b) > max {
		b = b[len(b)-max:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return "\n--- " + path + " ---\n" + strings.TrimRight(string(b), "\n")
}

func (l *Lab) udpArgs() []string {
	return []string{"-n", "-h", "127.0.0.1", "-p", strconv.Itoa(l.CmdPort)}
}

func (l *Lab) unixArgs() []string {
	return []string{"-n", "-h", l.SocketPath}
}

// run runs chronyc with the address arguments addr followed by args.
func (l *Lab) run(ctx context.Context, addr []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, chronycTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, l.tools.chronyc, append(addr, args...)...)
	cmd.Dir = l.Dir
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	out := strings.TrimRight(stdout.String(), "\n")
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = fmt.Errorf("%w (%v)", ctxErr, err)
		}
		msg := strings.TrimSpace(stdout.String() + " " + stderr.String())
		return out, fmt.Errorf("chronylab: chronyc %s: %w: %s", strings.Join(append(addr, args...), " "), err, msg)
	}
	return out, nil
}

// UnixURL is "unixgram://" + SocketPath.
func (l *Lab) UnixURL() string { return "unixgram://" + l.SocketPath }

// UDPURL is "udp://127.0.0.1:CmdPort".
func (l *Lab) UDPURL() string { return "udp://127.0.0.1:" + strconv.Itoa(l.CmdPort) }

// Chronyc runs `chronyc -n -h 127.0.0.1 -p CmdPort ARGS...` (UDP: only the
// monitoring commands are open) and returns its standard output. It gives up
// after 10 s; chronyc itself gives up after 7 s by default.
func (l *Lab) Chronyc(args ...string) (string, error) {
	return l.ChronycContext(context.Background(), args...)
}

// ChronycContext is Chronyc with a context that bounds the run.
func (l *Lab) ChronycContext(ctx context.Context, args ...string) (string, error) {
	return l.run(ctx, l.udpArgs(), args...)
}

// ChronycUnix runs `chronyc -n -h SocketPath ARGS...` over the unix socket,
// where every command is allowed. chronyc 4.3 binds its own socket in Dir.
func (l *Lab) ChronycUnix(args ...string) (string, error) {
	return l.run(context.Background(), l.unixArgs(), args...)
}

// Tracking runs `chronyc -c tracking` over UDP and parses it.
func (l *Lab) Tracking() (ChronycTracking, error) {
	return l.TrackingContext(context.Background())
}

// TrackingContext is Tracking with a context that bounds the run.
func (l *Lab) TrackingContext(ctx context.Context) (ChronycTracking, error) {
	out, err := l.ChronycContext(ctx, "-c", "tracking")
	if err != nil {
		return ChronycTracking{}, err
	}
	return ParseTracking(out)
}

// WaitTracking polls Tracking every 50 ms until cond holds or timeout passes.
// It returns the last report.
func (l *Lab) WaitTracking(timeout time.Duration, cond func(ChronycTracking) bool) (ChronycTracking, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var (
		tr   ChronycTracking
		last error
	)
	for {
		var err error
		tr, err = l.TrackingContext(ctx)
		if err == nil && cond(tr) {
			return tr, nil
		}
		if err != nil {
			last = err
		} else {
			last = fmt.Errorf("last report %+v", tr)
		}
		select {
		case <-ctx.Done():
			return tr, fmt.Errorf("chronylab: condition not met within %v: %v%s", timeout, last, logTail(l.LogPath))
		case <-time.After(pollInterval):
		}
	}
}

// WaitSynced waits until the daemon under test has selected the lab NTP
// server (Synced: ref ID 7F000001, name 127.0.0.1, stratum LocalStratum+1,
// leap Normal) or uses its local reference (LocalReference: ref ID 7F7F0101,
// stratum LocalStratum, leap Normal). It returns ErrNeverSynchronises at once
// for an Unsynchronised lab.
func (l *Lab) WaitSynced(timeout time.Duration) error {
	var cond func(ChronycTracking) bool
	switch l.Mode {
	case Synced:
		cond = func(tr ChronycTracking) bool {
			return tr.RefID == RefIDLabServer && tr.Name == "127.0.0.1" &&
				tr.Stratum == l.LocalStratum+1 && tr.Leap == LeapNormal
		}
	case LocalReference:
		cond = func(tr ChronycTracking) bool {
			return tr.RefID == RefIDLocal && tr.Stratum == l.LocalStratum && tr.Leap == LeapNormal
		}
	default:
		return ErrNeverSynchronises
	}
	_, err := l.WaitTracking(timeout, cond)
	return err
}

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
	if rmErr := os.RemoveAll(l.Dir); rmErr != nil {
		err = errors.Join(err, rmErr)
	}
	l.closeE = err
	return err
}
