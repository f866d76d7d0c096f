package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/cmdbin"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// ownChain is the client socket chain of process pid in dir: other test
// processes' --diagnose probe every chronyd on the host, ours included.
func ownChain(dir string, pid int) string {
	return filepath.Join(dir, "telegraf-chrony."+strconv.Itoa(pid))
}

// requireEnded checks how the command that Wait returned err for ended:
// its status, what it said on stderr, and no client sockets left in dir.
func requireEnded(t *testing.T, cmd *exec.Cmd, err error, stderr string, code int, says, dir string) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, code, cmd.ProcessState.ExitCode(), "%v; stderr: %s", err, stderr)
	require.Contains(t, stderr, says)
	_, err = os.Lstat(ownChain(dir, cmd.Process.Pid))
	require.ErrorIs(t, err, os.ErrNotExist, "client socket chain of pid %d left in %s", cmd.Process.Pid, dir)
}

// Every mode that writes a report fails, saying so, when its stdout cannot
// be written: a full disk (/dev/full) or a reader gone (a closed pipe,
// which would otherwise kill the process with SIGPIPE and leave its client
// sockets in chronyd's directory).
func TestLostOutputFails(t *testing.T) {
	lab := chronylab.Start(t, chronylab.Options{Mode: chronylab.LocalReference})
	bin := cmdbin.Path(t)
	modes := [][]string{
		{"--version"}, {"--help"}, {"--sample-config"},
		{"--once", "--format", "influx"}, {"--once", "--format", "json"}, {"--once", "--format", "text"},
		{"--diagnose"},
		{"--poll_interval_disabled"}, // execd, one gather on stdin's newline
	}
	sinks := map[string]func(t *testing.T) *os.File{
		"full disk": func(t *testing.T) *os.File {
			f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
			require.NoError(t, err)
			return f
		},
		"closed pipe": func(t *testing.T) *os.File {
			r, w, err := os.Pipe()
			require.NoError(t, err)
			r.Close()
			return w
		},
	}
	for _, args := range modes {
		for name, sink := range sinks {
			t.Run(strings.Join(args, " ")+"/"+name, func(t *testing.T) {
				cmd := exec.Command(bin, append(args, "--server", lab.UnixURL())...)
				var stderr strings.Builder
				cmd.Stderr = &stderr
				cmd.Stdout = sink(t)
				// Open until the exit: its end would stop execd's gather.
				stdin, err := cmd.StdinPipe()
				require.NoError(t, err)
				require.NoError(t, cmd.Start())
				// execd's prompt; the other modes may have exited unread.
				stdin.Write([]byte("\n"))
				cmd.Stdout.(*os.File).Close()
				err = cmd.Wait()
				requireEnded(t, cmd, err, stderr.String(), exitRuntime, "E! writing to stdout: ", lab.Dir)
			})
		}
	}
}

// --once and --diagnose waiting on a silent chronyd (a real one, stopped
// with SIGSTOP) stop at once on SIGINT, SIGTERM or SIGHUP, with their
// client sockets removed from chronyd's socket directory and the
// interruption said, not after the 20 s timeout.
func TestInterruptRemovesSockets(t *testing.T) {
	lab := chronylab.Start(t, chronylab.Options{Mode: chronylab.LocalReference})
	require.NoError(t, lab.Pause())
	t.Cleanup(func() { lab.Resume() })
	bin := cmdbin.Path(t)
	for _, mode := range []string{"--once", "--diagnose"} {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
			t.Run(mode+"/"+sig.String(), func(t *testing.T) {
				cmd := exec.Command(bin, mode, "--server", lab.UnixURL(), "--timeout", "20s", "--retries", "0")
				var stderr strings.Builder
				cmd.Stderr = &stderr
				require.NoError(t, cmd.Start())
				chain := ownChain(lab.Dir, cmd.Process.Pid)
				// --diagnose first looks at every chronyd on the host.
				require.Eventually(t, func() bool { _, err := os.Lstat(chain); return err == nil },
					3*timing.LongTimeout, 10*time.Millisecond, "the request is in flight")
				// Past --once's signalDelay, with room for a loaded machine.
				time.Sleep(signalDelay + timing.Slack)
				start := time.Now()
				require.NoError(t, cmd.Process.Signal(sig))
				err := cmd.Wait()
				timing.Before(t, time.Since(start), timing.LongTimeout, "stopped at once, not after the 20 s timeout")
				requireEnded(t, cmd, err, stderr.String(), exitFailed, "interrupted", lab.Dir)
			})
		}
	}
}

// --once asking over UDP binds no socket file, so it sets up no signal
// watch (a timer and a thread woken, a tenth of its run): a signal ends it
// as the signal says, at once, and leaves nothing behind.
func TestInterruptOverUDP(t *testing.T) {
	lab := chronylab.Start(t, chronylab.Options{Mode: chronylab.LocalReference})
	require.NoError(t, lab.Pause())
	t.Cleanup(func() { lab.Resume() })
	cmd := exec.Command(cmdbin.Path(t), "--once", "--server", lab.UDPURL(), "--timeout", "20s", "--retries", "0")
	require.NoError(t, cmd.Start())
	time.Sleep(signalDelay + timing.Slack)
	start := time.Now()
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	err := cmd.Wait()
	timing.Before(t, time.Since(start), timing.LongTimeout, "stopped at once, not after the 20 s timeout")
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	ws, ok := ee.Sys().(syscall.WaitStatus)
	require.True(t, ok)
	require.True(t, ws.Signaled(), "ended by the signal: %v", err)
	assert.Equal(t, syscall.SIGTERM, ws.Signal())
}

// A unix socket path must fit sun_path (107 bytes and a NUL), the client
// socket chain (up to 40 bytes) under socket_dir included: a socket_dir of
// 67 bytes works against a real chronyd, a longer one, or a server whose
// directory is too deep, is a config error naming the key, the length and
// the limit in --once and --diagnose alike, not "chronyd is down".
func TestSocketPathLimit(t *testing.T) {
	lab := chronylab.Start(t, chronylab.Options{Mode: chronylab.LocalReference})
	// Under the lab's directory, which chronyd's user can traverse.
	require.Less(t, len(lab.Dir), 60, "the lab's directory leaves no room for this test: shorten TMPDIR")
	fits := lab.Dir + "/" + strings.Repeat("p", 66-len(lab.Dir))
	require.Len(t, fits, 67)
	require.NoError(t, os.Mkdir(fits, 0o755))
	conf := func(lines ...string) string {
		p := filepath.Join(t.TempDir(), "c.conf")
		require.NoError(t, os.WriteFile(p, []byte("[[inputs.chrony_tracking]]\n"+strings.Join(lines, "\n")+"\n"), 0o600))
		return p
	}
	server := fmt.Sprintf("server = %q", lab.UnixURL())
	code, out, errOut := runCLI("--once", "--config", conf(server, fmt.Sprintf("socket_dir = %q", fits)))
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "result=success")

	// 80 bytes: room for chronyd's socket, not for the client's.
	deep := lab.Dir + "/" + strings.Repeat("q", 79-len(lab.Dir))
	for _, tt := range []struct {
		name, conf string
		want       []string
	}{
		{"socket_dir", conf(server, fmt.Sprintf("socket_dir = %q", deep)),
			[]string{fmt.Sprintf("socket_dir = %q: 80 bytes", deep), "up to 120 bytes, over the 107-byte limit"}},
		{"server", conf(fmt.Sprintf("server = %q", "unixgram://"+deep+"/chronyd.sock")),
			[]string{`server = "unixgram://` + deep, "would be up to 120 bytes, over the 107-byte limit", "set socket_dir"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI("--once", "--config", tt.conf)
			require.Equal(t, exitUsage, code, errOut)
			require.Contains(t, errOut, "config_error: ")
			code, out, _ := runCLI("--diagnose", "--config", tt.conf)
			require.Equal(t, exitFailed, code, out)
			require.Regexp(t, `(?m)^FAIL\s+config\s+`+regexp.QuoteMeta(tt.want[0]), out)
			for _, w := range tt.want {
				require.Contains(t, errOut, w)
				require.Contains(t, out, w)
			}
			require.NotRegexp(t, `(?m)^OK\s+socket\s+.*`+regexp.QuoteMeta(deep), out, "no socket check with the path at fault")
		})
	}
}

// The end of stdin ends an execd run with one line saying so: as
// information when it came before any gather (stdin is /dev/null, as under
// nohup or a systemd unit without one), at debug level after gathers.
func TestEndOfStdinSaysWhy(t *testing.T) {
	none := "unixgram://" + filepath.Join(t.TempDir(), "none.sock")
	for _, tt := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"dev null", "", []string{"--poll_interval_disabled"}, "I! stdin ended before any gather: stopping"},
		{"dev null, timer", "", []string{"--poll_interval", "1h"}, "I! stdin ended before any gather: stopping"},
		{"after a gather", "\n", []string{"--poll_interval_disabled", "--debug"}, "D! stdin ended: stopping"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(cmdbin.Path(t), append(tt.args, "--server", none)...)
			if tt.stdin != "" { // else /dev/null
				cmd.Stdin = strings.NewReader(tt.stdin)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Run(), stderr.String())
			require.Contains(t, stderr.String(), tt.want)
			require.Equal(t, 1, strings.Count(stderr.String(), "stdin ended"), stderr.String())
		})
	}
}
