//go:build !linux

package influxlab

import "os/exec"

// Only Linux can tie influxd's life to the test process.
func setProcAttr(*exec.Cmd) {}
