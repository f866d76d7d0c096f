package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/cmdbin"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// The command run as a process, as execd and a user at a terminal run it:
// against a real chronyd, on a silent one, and interrupted.

func TestOnceAgainstLab(t *testing.T) {
	lab := chronylab.Start(t, chronylab.Options{})
	require.NoError(t, lab.WaitSynced(30*time.Second))
	bin := cmdbin.Path(t)
	for _, url := range []string{lab.UnixURL(), lab.UDPURL()} {
		out, err := exec.Command(bin, "--once", "--server", url).Output()
		require.NoError(t, err)
		tr, err := lab.Tracking()
		require.NoError(t, err)
		ms := parseLines(t, string(out))
		require.Len(t, ms, 1)
		require.Equal(t, url, ms[0].Tags()["server"])
		tr.RequireMetric(t, ms[0])
	}
	// Nothing there: non-zero within the bound, with advice.
	start := time.Now()
	cmd := exec.Command(bin, "--once", "--server", "unixgram://"+filepath.Join(t.TempDir(), "none.sock"), "--timeout", timing.LongTimeout.String())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	require.Error(t, err)
	require.Equal(t, exitFailed, cmd.ProcessState.ExitCode())
	timing.Before(t, time.Since(start), timing.LongTimeout, "a missing socket is refused at once")
	require.Contains(t, stderr.String(), "service_unavailable")
	require.Contains(t, stderr.String(), "connect: no such file or directory")
}

// Run as execd runs it, a gather stuck on a silent chronyd must not hold up
// an exit on SIGTERM, SIGINT or the end of stdin, and the client socket
// chain must be gone afterwards. The attempt in flight waits
// timing.LongTimeout, so an exit that waited for it shows, however late
// the machine is.
func TestCommandExitsPromptly(t *testing.T) {
	for _, how := range []string{"SIGTERM", "SIGINT", "EOF"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			fakechronyd.StartUnixgram(t, filepath.Join(dir, "chronyd.sock"), fakechronyd.Silence())
			conf := filepath.Join(dir, "c.conf")
			require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(
				"[[inputs.chrony_tracking]]\nserver = \"unixgram://%s/chronyd.sock\"\ntimeout = %q\n", dir, timing.LongTimeout)), 0o600))
			cmd := exec.Command(cmdbin.Path(t), "--config", conf, "--poll_interval", "100ms")
			stdin, err := cmd.StdinPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			// Wait until the client socket exists: a request is in flight.
			require.Eventually(t, func() bool { return len(chains(dir)) > 0 }, 3*time.Second, 20*time.Millisecond)
			start := time.Now()
			switch how {
			case "SIGTERM":
				cmd.Process.Signal(syscall.SIGTERM)
			case "SIGINT":
				cmd.Process.Signal(syscall.SIGINT)
			case "EOF":
				stdin.Close()
			}
			require.NoError(t, cmd.Wait())
			// The attempt began before the socket chain was seen, at most
			// Slack before the signal on a late machine.
			timing.Before(t, time.Since(start), timing.LongTimeout-timing.Slack, "exit at once, not after the attempt's timeout")
			require.Empty(t, chains(dir), "client socket chain removed")
		})
	}
}

func chains(dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "telegraf-chrony.*"))
	return m
}

// Run as inputs.execd runs it with signal = "SIGHUP", "SIGUSR1" or
// "SIGUSR2", each signal the process receives is one point and never an
// exit; the end of stdin still ends it, cleanly.
func TestCommandGathersOnSignals(t *testing.T) {
	srv := fakechronyd.StartUDP(t, fakechronyd.Reply(fakechronyd.SyncedIPv4()))
	cmd := exec.Command(cmdbin.Path(t), "--server", srv.URL(), "--poll_interval_disabled", "--debug")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	points := pipeLines(t, cmd.StdoutPipe)
	logs := pipeLines(t, cmd.StderrPipe)
	require.NoError(t, cmd.Start())
	// The polling line is written after the signals are caught.
	requireLine(t, logs, "D! polling "+srv.URL())
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2} {
		for i := 0; i < 2; i++ {
			require.NoError(t, cmd.Process.Signal(sig))
			ms := parseLines(t, requireLine(t, points, "chrony_tracking,"))
			require.Equal(t, "success", ms[0].Tags()["result"], "after %s", sig)
		}
	}
	require.Len(t, srv.Requests(), 2*len(gatherSignals))
	require.NoError(t, stdin.Close())
	require.NoError(t, cmd.Wait())
}

// pipeLines hands each line of one of cmd's output pipes to the test.
func pipeLines(t *testing.T, pipe func() (io.ReadCloser, error)) <-chan string {
	t.Helper()
	r, err := pipe()
	require.NoError(t, err)
	c := make(chan string, 100)
	go func() {
		s := bufio.NewScanner(r)
		for s.Scan() {
			c <- s.Text()
		}
		close(c)
	}()
	return c
}

// requireLine waits for a line holding substr and returns it.
func requireLine(t *testing.T, lines <-chan string, substr string) string {
	t.Helper()
	deadline := time.After(timing.LongTimeout)
	for {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "the output ended before a line with %q", substr)
			if strings.Contains(l, substr) {
				return l
			}
		case <-deadline:
			t.Fatalf("no line with %q", substr)
		}
	}
}
