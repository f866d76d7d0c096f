package chronylab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/internal/procnet"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/proc"
)

// errPortCollision marks a start attempt that lost one of its ports to
// another process; Start retries with fresh ports.
var errPortCollision = errors.New("port already in use")

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

// findTools says why the lab cannot run, or returns its tools: the
// programs opts names, or the installed ones.
func findTools(opts Options) (tools, error) {
	tl := tools{chronyd: opts.Chronyd, chronyc: opts.Chronyc}
	if runtime.GOOS != "linux" {
		return tl, fmt.Errorf("the chrony lab needs Linux, this is %s", runtime.GOOS)
	}
	for _, p := range []struct {
		path *string
		name string
	}{{&tl.chronyd, "chronyd"}, {&tl.chronyc, "chronyc"}} {
		var err error
		if *p.path == "" {
			*p.path, err = lookTool(p.name)
		} else {
			_, err = exec.LookPath(*p.path)
		}
		if err != nil {
			return tl, err
		}
	}
	if os.Geteuid() == 0 {
		tl.userArgs = []string{"-u", "root"}
		return tl, nil
	}
	u, err := user.Current()
	if err != nil {
		return tl, fmt.Errorf("current user: %w", err)
	}
	// -U: run as an ordinary user, which -x makes possible from 4.0; an
	// older chronyd exits with "Not superuser".
	rel, err := release(tl.chronyd)
	if err != nil {
		return tl, err
	}
	if major, err := strconv.Atoi(strings.SplitN(rel, ".", 2)[0]); err == nil && major < 4 {
		return tl, fmt.Errorf("chronyd %s runs only as root (-U, to run as another user, came in 4.0)", rel)
	}
	tl.userArgs = []string{"-U", "-u", u.Username}
	return tl, nil
}

// versionLine finds the release in `chronyd -v`: "chronyd (chrony) version
// 4.3 (+CMDMON ...)".
var versionLine = regexp.MustCompile(`^chronyd \(chrony\) version ([0-9][^ ]*)`)

// Version is the chrony release ("4.3") of the chronyd a lab with opts runs.
func Version(opts Options) (string, error) {
	tl, err := findTools(opts)
	if err != nil {
		return "", fmt.Errorf("chronylab: %w", err)
	}
	rel, err := release(tl.chronyd)
	if err != nil {
		return "", fmt.Errorf("chronylab: %w", err)
	}
	return rel, nil
}

// release asks chronyd for its release.
func release(chronyd string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), chronycTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, chronyd, "-v").Output()
	if err != nil {
		return "", fmt.Errorf("%s -v: %w", chronyd, err)
	}
	m := versionLine.FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("%s -v printed no release: %q", chronyd, out)
	}
	return string(m[1]), nil
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

// startServer starts the lab NTP server of a Synced lab on 127.0.0.1 at a
// fresh port.
func (l *Lab) startServer() error {
	port, err := l.startNTPServer(&l.server, "lab NTP server", "server", labServerAddr)
	l.NTPPort = port
	return err
}

// startNTPServer starts a chronyd serving its local reference (stratum
// LocalStratum) over NTP on ip at a fresh port, with its files in Dir named
// file.*, and waits until it owns the port. It is put in *slot (guarded by
// l.mu) as soon as it runs, so that a teardown never misses it.
func (l *Lab) startNTPServer(slot **daemon, name, file string, ip netip.Addr) (int, error) {
	port, err := pickPort()
	if err != nil {
		return 0, fmt.Errorf("chronylab: %w", err)
	}
	confPath := filepath.Join(l.Dir, file+".conf")
	conf := []string{
		"# chronylab: " + name,
		fmt.Sprintf("local stratum %d", l.LocalStratum),
		"allow 127.0.0.1",
		fmt.Sprintf("port %d", port),
		"bindaddress " + ip.String(),
		"cmdport 0",
		"bindcmdaddress /", // no unix command socket either
		"pidfile " + filepath.Join(l.Dir, file+".pid"),
		"driftfile " + filepath.Join(l.Dir, file+".drift"),
	}
	if err := os.WriteFile(confPath, []byte(strings.Join(conf, "\n")+"\n"), 0o644); err != nil {
		return 0, fmt.Errorf("chronylab: %w", err)
	}
	l.mu.Lock()
	p, err := l.spawnLocked(name, confPath, filepath.Join(l.Dir, file+".log"))
	if err == nil {
		*slot = p
	}
	l.mu.Unlock()
	if err != nil {
		return 0, err
	}

	want := netip.AddrPortFrom(ip, uint16(port))
	deadline := time.Now().Add(startTimeout)
	for {
		if err := p.failed(); err != nil {
			return 0, err
		}
		if ok, err := ownsUDPPort(p.PID(), want); err != nil {
			return 0, fmt.Errorf("chronylab: %w", err)
		} else if ok {
			return port, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("chronylab: %s did not bind %v within %v%s", p.name, want, startTimeout, logTail(p.logPath))
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
		if err := p.failed(); err != nil {
			return err
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
	ok, err := ownsUDPPort(p.PID(), netip.AddrPortFrom(labServerAddr, uint16(l.CmdPort)))
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

// collisionLogs are what chronyd logs when one of its ports is taken: 4.x
// "Could not open NTP socket on 127.0.0.1:N" (it runs on without a command
// port), 3.x "Could not bind IPv4 command socket : Address already in use"
// (it exits).
var collisionLogs = [][]byte{
	[]byte("Could not open NTP socket"), []byte("Could not open command socket"),
	[]byte("Could not bind IPv4 NTP socket"), []byte("Could not bind IPv4 command socket"),
}

// failed reports why a starting daemon will not become ready: a port
// collision it logged (Start then retries on fresh ports), or its exit.
// Whether it exited is read before its log: a 3.x chronyd logs the
// collision and exits at once, and a log read before that line was written
// would turn the collision into a plain exit.
func (p *daemon) failed() error {
	exited := p.Exited()
	if err := checkLog(p); err != nil {
		return err
	}
	if !exited {
		return nil
	}
	err := p.Err() // "<name> exited: exit status N"
	if err == nil {
		err = fmt.Errorf("%s exited", p.name)
	}
	return fmt.Errorf("chronylab: %w%s", err, logTail(p.logPath))
}

// checkLog reports a port collision that p logged.
func checkLog(p *daemon) error {
	b, err := os.ReadFile(p.logPath)
	if err != nil || int64(len(b)) < p.logOffset {
		return nil
	}
	b = b[p.logOffset:]
	for _, m := range collisionLogs {
		if bytes.Contains(b, m) {
			return fmt.Errorf("chronylab: %s: %w%s", p.name, errPortCollision, logTail(p.logPath))
		}
	}
	return nil
}

// ownsUDPPort reports whether process pid has a socket bound to want, from
// /proc.
func ownsUDPPort(pid int, want netip.AddrPort) (bool, error) {
	dir := fmt.Sprintf("/proc/%d", pid)
	socks, err := procnet.UDP(dir)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil // exited
	}
	if err != nil {
		return false, err
	}
	inodes := procnet.SocketInodes(filepath.Join(dir, "fd"))
	for _, s := range socks {
		if s.Local == want && inodes[s.Inode] {
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
