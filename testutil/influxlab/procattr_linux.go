package influxlab

import (
	"os/exec"
	"syscall"
)

// setProcAttr makes the kernel send SIGTERM to influxd if the test binary
// dies (a `go test -timeout` panic skips t.Cleanup), so no server outlives
// its test.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
