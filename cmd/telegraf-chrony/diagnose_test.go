package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/cmdbin"
)

func TestDiagnoseFlags(t *testing.T) {
	code, _, errOut := runCLI("--max-error", "1s")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errOut, "--max-error applies to --diagnose only")

	code, _, errOut = runCLI("--diagnose", "--max-error", "-1s")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errOut, "--max-error -1s: must be positive")

	code, _, errOut = runCLI("--diagnose", "--once")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errOut, "exclude each other")

	code, out, _ := runCLI("--help")
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "--diagnose")
	require.Contains(t, out, "--max-error DURATION")

	// A config error is a finding, not an early exit: the report still
	// comes, with the error on a FAIL config line, and the status is 1.
	conf := filepath.Join(t.TempDir(), "c.conf")
	require.NoError(t, os.WriteFile(conf, []byte("[[inputs.chrony_tracking]]\ntimout = \"1s\"\n"), 0o600))
	none := "unixgram://" + filepath.Join(t.TempDir(), "none.sock")
	code, out, _ = runCLI("--diagnose", "--config", conf, "--server", none, "--timeout", "100ms")
	require.Equal(t, exitFailed, code, out)
	require.Regexp(t, `(?m)^FAIL\s+config\s+.*timout`, out)
	require.Contains(t, out, "summary: ")
}

// diagnoseBin runs the built command with --diagnose and returns its exit
// status and report.
func diagnoseBin(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(cmdbin.Path(t), append([]string{"--diagnose"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run: %v", err)
	}
	require.Empty(t, stderr.String(), "the report goes to stdout")
	return cmd.ProcessState.ExitCode(), string(out)
}

var failLine = regexp.MustCompile(`(?m)^FAIL\s+(\S+)\s+(.*)$`)

// TestDiagnoseAgainstLab: `telegraf-chrony --diagnose --config FILE` exits 0
// against a healthy lab, 1 with a FAIL line when the error bound is below
// --max-error, and 1 with FAIL lines once chronyd is stopped.
func TestDiagnoseAgainstLab(t *testing.T) {
	lab := chronylab.Start(t, chronylab.Options{})
	require.NoError(t, lab.WaitSynced(30*time.Second))
	conf := filepath.Join(t.TempDir(), "chrony.conf")
	// One attempt, which must be answered while chronyd runs.
	timeout := timing.ReplyWait
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(
		"[[inputs.chrony_tracking]]\nservers = [%q, %q]\ntimeout = %q\nretries = 0\n", lab.UnixURL(), lab.UDPURL(), timeout)), 0o600))

	code, out := diagnoseBin(t, "--config", conf)
	require.Equal(t, exitOK, code, out)
	require.Empty(t, failLine.FindAllString(out, -1), out)
	require.Regexp(t, `(?m)^OK\s+config\s+`+regexp.QuoteMeta(conf)+`: addresses `+regexp.QuoteMeta(lab.UnixURL()+", "+lab.UDPURL())+`; metrics tracking; timeout `+timeout.String()+`, retries 0`, out)
	for _, u := range []string{lab.UnixURL(), lab.UDPURL()} {
		require.Regexp(t, `(?m)^OK\s+tracking\s+`+regexp.QuoteMeta(u)+` answers tracking`, out)
	}
	require.Regexp(t, `(?m)^OK\s+sync\s+`, out)
	require.Contains(t, out, `"--config", "`+conf+`"`, "the telegraf.conf snippet names the config")
	require.Regexp(t, `summary: \d+ OK, \d+ INFO, 0 WARN, 0 FAIL: exit status 0`, out)
	t.Logf("healthy:\n%s", out)

	code, out = diagnoseBin(t, "--config", conf, "--max-error", "1ns")
	require.Equal(t, exitFailed, code, out)
	require.Regexp(t, `(?m)^FAIL\s+error-bound\s+.*exceeds --max-error 1ns`, out)

	require.NoError(t, lab.Stop())
	start := time.Now()
	code, out = diagnoseBin(t, "--config", conf)
	require.Equal(t, exitFailed, code, out)
	// Bounded: the probes' one attempt, and `chronyd -v` given at most 3 s.
	timing.Within(t, time.Since(start), timeout+3*time.Second, "a diagnosis of a stopped chronyd is bounded")
	fails := map[string]bool{}
	for _, m := range failLine.FindAllStringSubmatch(out, -1) {
		fails[m[1]] = true
	}
	require.True(t, fails["tracking"], out)
	require.True(t, fails["address"], out)
	require.Regexp(t, `(?m)^FAIL\s+tracking\s+`+regexp.QuoteMeta(lab.UDPURL())+` does not answer tracking: service_unavailable`, out)
	require.Regexp(t, `summary: .* [1-9]\d* FAIL: exit status 1`, out)
	t.Logf("stopped:\n%s", out)
}

// TestDiagnoseMetrics: --metrics reaches --diagnose's verdict on the
// options, and serverstats asked for over UDP is a WARN naming the unix
// socket, while over the socket it is read; an unknown word is the config
// FAIL naming it.
func TestDiagnoseMetrics(t *testing.T) {
	lab := chronylab.Start(t, chronylab.Options{})
	require.NoError(t, lab.WaitSynced(30*time.Second))
	timeout := timing.ReplyWait.String()
	code, out := diagnoseBin(t, "--server", lab.UDPURL(), "--timeout", timeout, "--retries", "0", "--metrics", "tracking,serverstats")
	require.Equal(t, exitFailed, code, out)
	require.Regexp(t, `(?m)^OK\s+config\s+.*; metrics tracking, serverstats; `, out)
	require.Regexp(t, `(?m)^WARN\s+serverstats\s+`+regexp.QuoteMeta(lab.UDPURL())+`: serverstats asked for over UDP`, out)
	require.Regexp(t, `(?m)^OK\s+sources\s+`+regexp.QuoteMeta(lab.UDPURL())+`: selected: 127\.0\.0\.1`, out)

	code, out = diagnoseBin(t, "--server", lab.UnixURL(), "--timeout", timeout, "--retries", "0", "--metrics", "serverstats")
	require.Equal(t, exitOK, code, out)
	require.Regexp(t, `(?m)^OK\s+serverstats\s+`+regexp.QuoteMeta(lab.UnixURL())+`: ntp_hits \d+, ntp_drops \d+, cmd_hits \d+`, out)

	code, out = diagnoseBin(t, "--server", lab.UDPURL(), "--metrics", "tracking,peers")
	require.Equal(t, exitFailed, code, out)
	require.Regexp(t, `(?m)^FAIL\s+config\s+metrics\[1\] = "peers": unknown report`, out)
}
