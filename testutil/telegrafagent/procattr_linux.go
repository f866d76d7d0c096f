package telegrafagent

import (
	"os/exec"
	"syscall"
)

// setProcAttr makes the kernel send SIGTERM to the agent if the test binary
// dies (a `go test -timeout` panic skips t.Cleanup), so no agent outlives
// its test.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
