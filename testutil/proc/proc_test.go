package proc

import (
	"bufio"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStopGraceful(t *testing.T) {
	p, err := Start("sleep", exec.Command("sleep", "30"))
	require.NoError(t, err)
	killed, err := p.Stop(5 * time.Second)
	require.NoError(t, err)
	assert.False(t, killed)
	assert.True(t, p.Exited())
	assert.Error(t, p.Err(), "killed by SIGTERM")
	killed, err = p.Stop(time.Second)
	assert.NoError(t, err, "stopping twice is fine")
	assert.False(t, killed)
}

// ignoringTERM starts a shell that ignores SIGTERM, and returns once its
// trap is in place: a fixed sleep could end before a loaded machine got
// the shell that far.
func ignoringTERM(t *testing.T) *Proc {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	cmd := exec.Command("sh", "-c", `trap "" TERM; echo ready; while :; do sleep 0.05; done`)
	cmd.Stdout = w
	p, err := Start("sh", cmd)
	w.Close()
	require.NoError(t, err)
	line, err := bufio.NewReader(r).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)
	return p
}

func TestStopKillsAfterGrace(t *testing.T) {
	p := ignoringTERM(t)
	start := time.Now()
	killed, err := p.Stop(200 * time.Millisecond)
	require.NoError(t, err)
	assert.True(t, killed)
	assert.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)
}

func TestStoppedChildIsContinuedAndStopped(t *testing.T) {
	p, err := Start("sleep", exec.Command("sleep", "30"))
	require.NoError(t, err)
	require.NoError(t, p.Signal(syscall.SIGSTOP))
	killed, err := p.Stop(5 * time.Second)
	require.NoError(t, err)
	assert.False(t, killed, "SIGCONT lets the pending SIGTERM act")
}

func TestExitStatus(t *testing.T) {
	p, err := Start("true", exec.Command("true"))
	require.NoError(t, err)
	<-p.Done()
	assert.NoError(t, p.Err())
	p, err = Start("false", exec.Command("false"))
	require.NoError(t, err)
	assert.ErrorContains(t, p.Err(), "false exited")
}

// Shutdown acts once and names what it had to do; a later call returns the
// same outcome without signalling again.
func TestShutdown(t *testing.T) {
	p, err := Start("sleep", exec.Command("sleep", "30"))
	require.NoError(t, err)
	first := p.Shutdown(5 * time.Second)
	assert.ErrorContains(t, first, "sleep exited: signal: terminated")
	assert.Equal(t, first, p.Shutdown(5*time.Second))

	p = ignoringTERM(t)
	err = p.Shutdown(200 * time.Millisecond)
	assert.ErrorContains(t, err, "ignored SIGTERM for 200ms and was killed")
	assert.True(t, p.Exited())
	assert.Equal(t, err, p.Shutdown(time.Second))

	p, err = Start("true", exec.Command("true"))
	require.NoError(t, err)
	<-p.Done()
	assert.NoError(t, p.Shutdown(time.Second), "an exited child's own status")
}
