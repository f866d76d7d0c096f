package telegrafagent

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// runTestSlack is added to the --test-wait so the run is bounded even if
// startup or shutdown hangs.
const runTestSlack = time.Minute

// RunTest runs `telegraf --config FILE --test --test-wait N`, which gathers
// once (waiting N seconds for service inputs such as execd), prints the
// metrics to stdout in line protocol and exits. wait is rounded up to whole
// seconds, the flag's unit. err is the exit error: Telegraf exits 1 when any
// input recorded an error, for instance an execd child's unprefixed stderr.
func RunTest(t testing.TB, configTOML string, wait time.Duration) (stdout, stderr string, err error) {
	t.Helper()
	return RunTestVersion(t, Version, configTOML, wait)
}

// RunTestVersion is RunTest with another Telegraf release, one of Versions.
func RunTestVersion(t testing.TB, version, configTOML string, wait time.Duration) (stdout, stderr string, err error) {
	t.Helper()
	bin := BinaryVersion(t, version, DefaultTags...)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "telegraf.conf")
	if err := os.WriteFile(cfg, []byte(configTOML), 0o644); err != nil {
		t.Fatalf("telegrafagent: writing config: %v", err)
	}
	secs := int((wait + time.Second - 1) / time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), wait+runTestSlack)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--config", cfg, "--test", "--test-wait", strconv.Itoa(secs))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), DirEnv+"="+dir)
	// Like proc.Start: the agent must not outlive a killed test binary.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	// On timeout ask politely first, so execd children are cleaned up.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = StopTimeout
	var outBuf, errBuf bytes.Buffer
	cmd.Stdout = &outBuf
	cmd.Stderr = &errBuf
	err = cmd.Run()
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("telegraf --test did not finish within %v: %w", wait+runTestSlack, err)
	}
	return outBuf.String(), errBuf.String(), err
}
