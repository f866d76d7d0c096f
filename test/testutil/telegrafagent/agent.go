package telegrafagent

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/proc"
)

// DirEnv names the environment variable that holds the agent's directory.
// Telegraf substitutes ${VAR} in config strings, so a config can say
// files = ["${TELEGRAF_AGENT_DIR}/out.lp"] before the directory exists.
// (Consequently a literal ${NAME} meant for a shell in an execd command is
// replaced too when NAME is set in the environment.)
const DirEnv = "TELEGRAF_AGENT_DIR"

// StopTimeout bounds the graceful part of Stop. On shutdown inputs.execd
// closes the child's stdin, waits 5 s, sends SIGTERM and waits another 5 s,
// so a child that ignores stdin costs about 10 s before the agent exits.
const StopTimeout = 20 * time.Second

// Agent is a running `telegraf --config FILE` process.
type Agent struct {
	dir        string
	configPath string
	stdoutPath string
	stderrPath string
	proc       *proc.Proc
}

// Start writes configTOML to a fresh temporary directory and starts the
// agent on it, with args after --config FILE (such as --config-directory
// DIR). The agent is stopped when the test ends; if the test failed, its
// log is added to the test output since it usually explains why.
func Start(t testing.TB, configTOML string, args ...string) *Agent {
	t.Helper()
	return start(t, BinaryWithTags(t, DefaultTags...), configTOML, args)
}

// StartWithTags is Start with an agent built with tags (see
// BinaryWithTags), such as PipelineTags.
func StartWithTags(t testing.TB, configTOML string, tags ...string) *Agent {
	t.Helper()
	return start(t, BinaryWithTags(t, tags...), configTOML, nil)
}

// StartVersion is Start with another Telegraf release, one of Versions.
func StartVersion(t testing.TB, version, configTOML string) *Agent {
	t.Helper()
	return start(t, BinaryVersion(t, version, DefaultTags...), configTOML, nil)
}

func start(t testing.TB, bin, configTOML string, args []string) *Agent {
	t.Helper()
	dir := t.TempDir()
	a := &Agent{
		dir:        dir,
		configPath: filepath.Join(dir, "telegraf.conf"),
		stdoutPath: filepath.Join(dir, "telegraf.stdout"),
		stderrPath: filepath.Join(dir, "telegraf.stderr"),
	}
	if err := os.WriteFile(a.configPath, []byte(configTOML), 0o644); err != nil {
		t.Fatalf("telegrafagent: writing config: %v", err)
	}
	// Files rather than pipes: the agent can write without our goroutines
	// draining it, and the output survives for post-mortems.
	stdout, err := os.Create(a.stdoutPath)
	if err != nil {
		t.Fatalf("telegrafagent: %v", err)
	}
	defer stdout.Close()
	stderr, err := os.Create(a.stderrPath)
	if err != nil {
		t.Fatalf("telegrafagent: %v", err)
	}
	defer stderr.Close()

	cmd := exec.Command(bin, append([]string{"--config", a.configPath}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), DirEnv+"="+dir)
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	if a.proc, err = proc.Start("telegraf", cmd); err != nil {
		t.Fatalf("telegrafagent: %v", err)
	}
	t.Cleanup(func() {
		if err := a.Stop(); err != nil {
			t.Logf("telegrafagent: stopping agent: %v", err)
		}
		if t.Failed() {
			t.Logf("telegrafagent: agent log (%s):\n%s", a.stderrPath, a.Log())
		}
	})
	return a
}

// Dir is the agent's private directory, also available to the config as
// ${TELEGRAF_AGENT_DIR}; it is removed when the test ends.
func (a *Agent) Dir() string { return a.dir }

// ConfigPath is the config file the agent was started with.
func (a *Agent) ConfigPath() string { return a.configPath }

// PID is the agent's process id.
func (a *Agent) PID() int { return a.proc.PID() }

// Log is what the agent wrote to stderr so far, which is its log unless
// the config sets [agent] logfile.
func (a *Agent) Log() string { return readOrEmpty(a.stderrPath) }

// LogPath is the file Log reads, for WaitForFile.
func (a *Agent) LogPath() string { return a.stderrPath }

// Stdout is what the agent wrote to stdout so far (outputs.file with
// files = ["stdout"] ends up here).
func (a *Agent) Stdout() string { return readOrEmpty(a.stdoutPath) }

// Exited is closed once the agent process has ended, so a test can notice
// an agent that died on a bad config instead of waiting for output.
func (a *Agent) Exited() <-chan struct{} { return a.proc.Done() }

// Stop sends SIGTERM, which lets Telegraf stop its inputs and flush its
// outputs, and waits up to StopTimeout before killing the agent. Only the
// agent's own pid is signalled: its execd children are Telegraf's to stop.
// It returns the agent's exit error, if any; later calls return the same.
func (a *Agent) Stop() error { return a.proc.Shutdown(StopTimeout) }

func readOrEmpty(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}
