//go:build !(linux || freebsd)

package proc

import "syscall"

// DieWithParent does nothing: this system has no parent-death signal, so a
// child outlives a test binary that crashes. The chrony lab and the other
// helpers that start processes run on Linux only.
func DieWithParent(*syscall.SysProcAttr) {}
