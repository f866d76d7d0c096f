// Package scripts tests the shell scripts that change a host: they must say
// what they will change first, and undo their temporary changes on every
// exit path.
package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// host is a fake host for scripts/deps.sh: a PATH of stand-ins, where the
// script's policy-rc.d goes, and a log the stand-ins write to.
type host struct {
	bin, policy, log string
}

// newHost makes a PATH holding only the tools deps.sh uses, with `id`
// answering uid, and the given package tools (apt-get, dnf) as scripts.
func newHost(t *testing.T, uid string, tools map[string]string) host {
	t.Helper()
	dir := t.TempDir()
	h := host{bin: filepath.Join(dir, "bin"), policy: filepath.Join(dir, "policy-rc.d"), log: filepath.Join(dir, "log")}
	require.NoError(t, os.Mkdir(h.bin, 0o755))
	for _, name := range []string{"chmod", "rm"} {
		path, err := exec.LookPath(name)
		require.NoError(t, err)
		require.NoError(t, os.Symlink(path, filepath.Join(h.bin, name)))
	}
	tools["id"] = "echo " + uid
	for name, body := range tools {
		script := "#!/bin/sh\n" + body + "\n"
		require.NoError(t, os.WriteFile(filepath.Join(h.bin, name), []byte(script), 0o755))
	}
	return h
}

// run starts deps.sh test on the fake host; the returned command is
// running, with its output going to the host's log.
func (h host) start(t *testing.T) *exec.Cmd {
	t.Helper()
	log, err := os.OpenFile(h.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	require.NoError(t, err)
	t.Cleanup(func() { log.Close() })
	cmd := exec.Command("/bin/bash", "../../scripts/deps.sh", "test")
	cmd.Env = []string{"PATH=" + h.bin, "POLICY_RC_D=" + h.policy, "LOG=" + h.log}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
	return cmd
}

func (h host) run(t *testing.T) (exitCode int, out string) {
	t.Helper()
	cmd := h.start(t)
	cmd.Wait()
	b, err := os.ReadFile(h.log)
	require.NoError(t, err)
	return cmd.ProcessState.ExitCode(), string(b)
}

// aptGet stands in for apt-get: it notes whether policy-rc.d is in place
// while it installs, then runs then.
func aptGet(then string) string {
	return `if [ "$1" = install ]; then
  [ -x "$POLICY_RC_D" ] && echo "apt-get install: policy-rc.d in place" >&2
  ` + then + `
fi`
}

func TestDepsRemovesPolicyOnEveryExit(t *testing.T) {
	for _, tc := range []struct {
		name, install string
		code          int
	}{
		{"apt-get succeeds", "exit 0", 0},
		{"apt-get fails", "exit 100", 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t, "0", map[string]string{"apt-get": aptGet(tc.install)})
			code, out := h.run(t)
			require.Equal(t, tc.code, code, out)
			said := strings.Index(out, "installing with apt-get")
			installed := strings.Index(out, "apt-get install: policy-rc.d in place")
			require.True(t, said >= 0 && installed > said, "says what it installs before apt-get runs, with services blocked:\n%s", out)
			require.Contains(t, out, "chrony influxdb influxdb-client prometheus rpm man-db qemu-user-static")
			require.NoFileExists(t, h.policy)
		})
	}
}

func TestDepsRemovesPolicyOnSignal(t *testing.T) {
	h := newHost(t, "0", map[string]string{"apt-get": aptGet("exec sleep 60")})
	sleep, err := exec.LookPath("sleep")
	require.NoError(t, err)
	require.NoError(t, os.Symlink(sleep, filepath.Join(h.bin, "sleep")))
	cmd := h.start(t)
	require.Eventually(t, func() bool {
		b, _ := os.ReadFile(h.log)
		return strings.Contains(string(b), "policy-rc.d in place")
	}, timing.LongTimeout, 20*time.Millisecond)
	// Ctrl-C or a CI timeout signals the whole process group.
	require.NoError(t, syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM))
	cmd.Wait()
	require.Equal(t, 143, cmd.ProcessState.ExitCode())
	require.NoFileExists(t, h.policy)
}

func TestDepsKeepsAnExistingPolicy(t *testing.T) {
	h := newHost(t, "0", map[string]string{"apt-get": aptGet("exit 100")})
	const mine = "#!/bin/sh\n# the host's own\nexit 0\n"
	require.NoError(t, os.WriteFile(h.policy, []byte(mine), 0o755))
	code, out := h.run(t)
	require.Equal(t, 100, code, out)
	got, err := os.ReadFile(h.policy)
	require.NoError(t, err)
	require.Equal(t, mine, string(got))
}

func TestDepsNamesWhatToInstall(t *testing.T) {
	for _, tc := range []struct {
		name  string
		uid   string
		tools map[string]string
		says  []string
	}{
		{"not root", "1000", map[string]string{"apt-get": "exit 99"},
			[]string{"sudo apt-get install -y chrony influxdb influxdb-client prometheus rpm man-db qemu-user-static"}},
		{"no apt-get, dnf", "0", map[string]string{"dnf": "exit 99"},
			[]string{"this host has no apt-get", "sudo dnf install -y chrony rpm man-db qemu-user-static", "InfluxData's repository"}},
		{"no apt-get, yum", "0", map[string]string{"yum": "exit 99"},
			[]string{"sudo yum install -y chrony rpm man-db qemu-user-static"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t, tc.uid, tc.tools)
			code, out := h.run(t)
			require.Equal(t, 1, code, out)
			for _, s := range tc.says {
				require.Contains(t, out, s)
			}
			require.NotContains(t, out, "installing")
			require.NoFileExists(t, h.policy)
		})
	}
}
