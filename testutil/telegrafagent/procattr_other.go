//go:build !linux

package telegrafagent

import "os/exec"

// Only Linux can tie the agent's life to the test process.
func setProcAttr(*exec.Cmd) {}
