//go:build !unix

package fsperm

import (
	"fmt"
	"runtime"
)

// Stat reports that owners and modes are not known here: they are read from
// the unix stat structure.
func Stat(p string) (Node, error) {
	return Node{}, fmt.Errorf("%s: file owners and modes are not read on %s", p, runtime.GOOS)
}
