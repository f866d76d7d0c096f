package proc

import (
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

func TestStopKillsAfterGrace(t *testing.T) {
	p, err := Start("sh", exec.Command("sh", "-c", `trap "" TERM; while :; do sleep 0.05; done`))
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond) // let the shell install its trap
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
