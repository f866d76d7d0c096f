package telegrafagent

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// Generous bounds: a loaded CI machine under -race can be slow to start
// the agent, but a correct agent flushes within a few seconds.
const outputTimeout = 30 * time.Second

// config is an agent gathering every second from one execd child and
// writing line protocol to out.lp in the agent's directory.
func config(command, signal string) string {
	return `
[agent]
  interval = "1s"
  flush_interval = "1s"
  omit_hostname = true

[[inputs.execd]]
  command = ` + command + `
  signal = "` + signal + `"
  restart_delay = "1s"
  data_format = "influx"

[[outputs.file]]
  files = ["${` + DirEnv + `}/out.lp"]
  data_format = "influx"
`
}

// The execd children below: one answering each newline on stdin (the
// plugin's signal = "STDIN" mode), one printing on its own clock.
const (
	stdinChild = `["sh", "-c", "while read l; do echo 'probe,host=x value=1i'; done"]`
	timerChild = `["sh", "-c", "while true; do echo 'probe_none,host=y value=2i'; sleep 1; done"]`
)

func TestBinaryBuildsAndRuns(t *testing.T) {
	start := time.Now()
	bin := Binary(t)
	t.Logf("Binary took %v: %s", time.Since(start), bin)
	dir, err := CacheDir(DefaultTags)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "telegraf"); bin != want {
		t.Errorf("Binary() = %s, want %s", bin, want)
	}
}

func TestCacheDirDependsOnTagSetOnly(t *testing.T) {
	t.Setenv(CacheEnv, "/cache")
	dir := func(tags ...string) string {
		d, err := CacheDir(tags)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	a := dir("custom", "inputs.execd")
	if b := dir("inputs.execd", "custom", "custom"); a != b {
		t.Errorf("same tag set, different dirs: %s, %s", a, b)
	}
	if c := dir("custom", "inputs.exec"); a == c {
		t.Errorf("different tag sets share %s", a)
	}
	if !strings.HasPrefix(a, "/cache/telegraf-"+Version+"-") {
		t.Errorf("CacheDir = %s, want it under %s=/cache", a, CacheEnv)
	}
}

func TestAgentExecdSignalStdin(t *testing.T) {
	t.Parallel()
	a := Start(t, config(stdinChild, "STDIN"))
	if a.PID() <= 0 {
		t.Errorf("PID() = %d", a.PID())
	}
	out := WaitForFile(t, filepath.Join(a.Dir(), "out.lp"), func(s string) bool {
		return strings.Contains(s, "probe,host=x value=1i ")
	}, outputTimeout)
	if !regexp.MustCompile(`(?m)^probe,host=x value=1i \d+$`).MatchString(out) {
		t.Errorf("out.lp is not line protocol:\n%s", out)
	}
	// The child exits on stdin EOF, so shutdown is clean and quick.
	start := time.Now()
	if err := a.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("Stop took %v", time.Since(start))
	if err := a.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestAgentExecdSignalNone(t *testing.T) {
	t.Parallel()
	a := Start(t, config(timerChild, "none"))
	WaitForFile(t, filepath.Join(a.Dir(), "out.lp"), func(s string) bool {
		return strings.Count(s, "probe_none,host=y value=2i ") >= 2
	}, outputTimeout)
	// This child ignores stdin, so Telegraf has to signal it: the slow path.
	start := time.Now()
	if err := a.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	t.Logf("Stop took %v", time.Since(start))
}

// The execd child's stderr is a plugin's only log channel; these are the
// exact lines users will see in the agent's log.
func TestAgentLogsExecdStderr(t *testing.T) {
	t.Parallel()
	a := Start(t, config(`["sh", "-c", "echo 'W! careful now' >&2; echo 'no prefix here' >&2; while read l; do echo 'probe value=1i'; done"]`, "STDIN"))
	// Each text is in the log twice once the child has written it: the
	// "Starting process" line quotes the whole command first.
	log := WaitForFile(t, a.LogPath(), func(s string) bool {
		return strings.Count(s, "careful now") >= 2 && strings.Count(s, "no prefix here") >= 2
	}, outputTimeout)
	if !strings.HasPrefix(a.Log(), log) {
		t.Errorf("Log() does not start with the log file's content")
	}
	const ts = `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`
	for _, want := range []string{
		`(?m)^` + ts + ` W! \[inputs\.execd\] careful now$`,
		`(?m)^` + ts + ` E! \[inputs\.execd\] stderr: "no prefix here"$`,
	} {
		if !regexp.MustCompile(want).MatchString(log) {
			t.Errorf("log has no line matching %s:\n%s", want, log)
		}
	}
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "careful now") || strings.Contains(l, "no prefix here") {
			t.Logf("log line: %s", l)
		}
	}
}

func TestAgentExitsOnBadConfig(t *testing.T) {
	t.Parallel()
	a := Start(t, "[[inputs.no_such_plugin]]\n")
	select {
	case <-a.Exited():
	case <-time.After(outputTimeout):
		t.Fatal("agent with an unknown plugin kept running")
	}
	if err := a.Stop(); err == nil {
		t.Error("Stop after a failed start returned nil")
	}
	if !strings.Contains(a.Log(), "no_such_plugin") {
		t.Errorf("log does not name the bad plugin:\n%s", a.Log())
	}
}

// testWait is the --test-wait of the RunTest tests: the child's point (or
// its stderr line) must come within it, an answer on a loaded machine.
var testWait = timing.ReplyWait

func TestRunTest(t *testing.T) {
	t.Parallel()
	stdout, stderr, err := RunTest(t, config(stdinChild, "STDIN"), testWait)
	if err != nil && !onlyShutdownRace(stderr) {
		t.Fatalf("RunTest: %v\nstderr:\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "probe,host=x value=1i ") {
		t.Errorf("stdout lacks the point:\n%s", stdout)
	}
}

// onlyShutdownRace reports whether every error in a --test run's log is
// Telegraf v1.37.2's execd shutdown race: --test closes the child's pipes
// while execd still reads them ("read |0: file already closed"), which
// makes the run exit 1 now and then whatever the child did.
func onlyShutdownRace(log string) bool {
	errs := 0
	for _, line := range strings.Split(log, "\n") {
		switch {
		case strings.Contains(line, "file already closed"):
			errs++
		case strings.Contains(line, " E! ") && !strings.Contains(line, "input plugins recorded"):
			return false
		}
	}
	return errs > 0
}

func TestRunTestFailsOnUnprefixedStderr(t *testing.T) {
	t.Parallel()
	stdout, stderr, err := RunTest(t, config(`["sh", "-c", "echo oops >&2; while read l; do echo 'probe value=1i'; done"]`, "STDIN"), testWait)
	if err == nil {
		t.Fatalf("RunTest succeeded despite an unprefixed stderr line\nstdout:\n%s", stdout)
	}
	if !strings.Contains(stderr, `stderr: "oops"`) {
		t.Errorf("stderr lacks the child's line:\n%s", stderr)
	}
}

func TestHelpListsTheFlagsWeUse(t *testing.T) {
	stdout, stderr, err := runBinary(t, "--help")
	if err != nil {
		t.Fatalf("--help: %v\n%s", err, stderr)
	}
	for _, flag := range []string{"--config value", "--test ", "--test-wait value"} {
		if !strings.Contains(stdout+stderr, flag) {
			t.Errorf("--help does not mention %q", flag)
		}
	}
}

// The pipeline tests' agent: the tags took, and it knows the outputs.
func TestPipelineBinary(t *testing.T) {
	t.Parallel()
	bin := BinaryWithTags(t, PipelineTags...)
	out, err := exec.Command(bin, "plugins", "outputs").CombinedOutput()
	if err != nil {
		t.Fatalf("telegraf plugins outputs: %v\n%s", err, out)
	}
	for _, p := range []string{"kafka", "prometheus_client", "influxdb", "file"} {
		if !regexp.MustCompile(`(?m)^outputs\.` + p + `$`).Match(out) {
			t.Errorf("the pipeline agent lacks outputs.%s:\n%s", p, out)
		}
	}
}
