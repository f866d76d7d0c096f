package reliability

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/cmdbin"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// agent is one telegraf-chrony process run as execd runs it.
type agent struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string // metric lines from stdout
	stderr *syncBuffer
	done   chan struct{}
	err    error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startAgent(t *testing.T, args ...string) *agent {
	t.Helper()
	a := &agent{cmd: exec.Command(cmdbin.Path(t), args...), lines: make(chan string, 1024),
		stderr: &syncBuffer{}, done: make(chan struct{})}
	a.cmd.Stderr = a.stderr
	var err error
	a.stdin, err = a.cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := a.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, a.cmd.Start())
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case a.lines <- sc.Text():
			default: // a test that stopped reading must not block the agent
			}
		}
		a.err = a.cmd.Wait()
		close(a.done)
	}()
	t.Cleanup(func() {
		select {
		case <-a.done:
		default:
			a.cmd.Process.Kill() // only the process this test started
			<-a.done
		}
	})
	return a
}

// firstLine waits for the agent's first metric line.
func (a *agent) firstLine(t *testing.T, limit time.Duration) string {
	t.Helper()
	select {
	case l := <-a.lines:
		return l
	case <-a.done:
		t.Fatalf("agent exited: %v\n%s", a.err, a.stderr)
	case <-time.After(limit):
		t.Fatalf("no metric line within %v\n%s", limit, a.stderr)
	}
	return ""
}

func (a *agent) waitExit(limit time.Duration) (time.Duration, bool) {
	start := time.Now()
	select {
	case <-a.done:
		return time.Since(start), true
	case <-time.After(limit):
		return time.Since(start), false
	}
}

func chainDir(lab *chronylab.Lab, pid int) string {
	return filepath.Join(filepath.Dir(lab.SocketPath), "telegraf-chrony."+strconv.Itoa(pid))
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// TestShutdown: SIGTERM, SIGINT and the end of stdin (execd closing the
// pipe) each end the agent within a second and leave no socket file, both
// between gathers and in the middle of one against a frozen chronyd whose
// bound (timeout 2 s, 2 retries: 14 s) is far longer.
func TestShutdown(t *testing.T) {
	lab := startLab(t)
	for _, frozen := range []bool{false, true} {
		for _, how := range []string{"SIGTERM", "SIGINT", "stdin EOF"} {
			name := how
			if frozen {
				name += " mid-gather"
			}
			t.Run(name, func(t *testing.T) {
				a := startAgent(t, "--server", lab.UnixURL(), "--poll_interval", "100ms", "--timeout", "2s")
				line := a.firstLine(t, 10*time.Second)
				assert.Contains(t, line, "result=success")
				chain := chainDir(lab, a.cmd.Process.Pid)
				require.True(t, exists(chain), "the agent's socket chain %s", chain)
				if frozen {
					require.NoError(t, lab.Pause())
					defer lab.Resume()
					time.Sleep(300 * time.Millisecond) // a gather is now waiting on chronyd
				}
				switch how {
				case "SIGTERM":
					require.NoError(t, a.cmd.Process.Signal(syscall.SIGTERM))
				case "SIGINT":
					require.NoError(t, a.cmd.Process.Signal(syscall.SIGINT))
				default:
					require.NoError(t, a.stdin.Close())
				}
				took, ok := a.waitExit(time.Second + 2*timing.Slack)
				require.True(t, ok, "still running %v after %s\n%s", took, how, a.stderr)
				t.Logf("%s: exited in %v, %v; stderr: %q", name, took.Round(time.Millisecond), a.err, a.stderr)
				timing.Within(t, took, time.Second, "exit within a second, not after the gather's 14 s bound")
				assert.NoError(t, a.err, "clean exit status")
				assert.False(t, exists(chain), "socket chain left behind")
				if frozen {
					require.NoError(t, lab.Resume())
				}
			})
		}
	}
}

// TestKilledLeftovers: a SIGKILLed agent cannot remove its socket chain.
// The next agent (here --once, on the same socket directory) removes that
// leftover and nothing else: not a live process's chain, not another
// user's, not other programs' sockets or names that merely look alike.
func TestKilledLeftovers(t *testing.T) {
	requireRoot(t) // to plant another user's leftover
	lab := startLab(t)
	dir := filepath.Dir(lab.SocketPath)

	a := startAgent(t, "--server", lab.UnixURL(), "--poll_interval", "100ms")
	a.firstLine(t, 10*time.Second)
	killed := chainDir(lab, a.cmd.Process.Pid)
	require.True(t, exists(killed))
	require.NoError(t, a.cmd.Process.Kill())
	_, ok := a.waitExit(3 * time.Second)
	require.True(t, ok)
	require.True(t, exists(killed), "SIGKILL leaves the chain (nothing can clean up in-process)")

	deadPID := exitedPID(t)
	decoys := map[string]func(string){
		"telegraf-chrony.1": mkdir, // a live process (init)
		"telegraf-chrony." + strconv.Itoa(deadPID): func(p string) { // dead, but another user's
			mkdir(p)
			os.Chown(p, nobodyUID, nobodyGID)
		},
		"telegraf-chrony.notapid":  mkdir,
		"chronyc.4242.sock":        touch, // chronyc 4.3's own client socket name
		"telegraf-chrony.99x":      touch,
		"chronyc.4242":             mkdir, // chronyc 4.8's chain
		"other-program.sock":       touch,
		"telegraf-chrony-backup.1": mkdir,
	}
	for name, mk := range decoys {
		mk(filepath.Join(dir, name))
	}

	out, err := exec.Command(cmdbin.Path(t), "--once", "--server", lab.UnixURL()).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "result=success")
	assert.False(t, exists(killed), "the killed agent's chain was removed by the next start")
	for name := range decoys {
		assert.True(t, exists(filepath.Join(dir, name)), "%s must not be touched", name)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	t.Logf("socket directory after the restart: %s", strings.Join(names, " "))
}

func mkdir(p string) { os.Mkdir(p, 0o711) }
func touch(p string) { os.WriteFile(p, nil, 0o600) }

// exitedPID returns the pid of a process that has exited.
func exitedPID(t *testing.T) int {
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	return cmd.Process.Pid
}

// TestPermissionsAgent: the agent binary itself, run as nobody with --once,
// against chronyd's 0750 socket directory: exit status 1, a
// permission_denied point on stdout and the path, owner and group on
// stderr; over UDP it works.
func TestPermissionsAgent(t *testing.T) {
	requireRoot(t)
	bin := cmdbin.Path(t)
	lab := startLab(t)
	run := func(server string) (string, string, int) {
		cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bin, "--once", "--server", server)
		cmd.Dir = "/"
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else {
			require.NoError(t, err)
		}
		return stdout.String(), stderr.String(), code
	}
	stdout, stderr, code := run(lab.UnixURL())
	t.Logf("nobody, unix socket: exit %d\nstdout: %sstderr: %s", code, stdout, stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout, "result=permission_denied")
	assert.Contains(t, stdout, "result_code=3i")
	assert.Contains(t, stderr, filepath.Dir(lab.SocketPath))
	assert.Contains(t, stderr, "(root:root 0750)")

	stdout, stderr, code = run(lab.UDPURL())
	assert.Equal(t, 0, code, "%s", stderr)
	assert.Contains(t, stdout, "result=success")
}
