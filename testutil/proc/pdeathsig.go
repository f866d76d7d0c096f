//go:build linux || freebsd

package proc

import "syscall"

// DieWithParent has the process started with a killed when its parent
// dies, so that nothing a crashed test started outlives it.
func DieWithParent(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
