//go:build unix

package fsperm

import (
	"fmt"
	"os"
	"syscall"
)

// Stat reads the Node of p, following links as the kernel does on a path.
func Stat(p string) (Node, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return Node{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return Node{}, fmt.Errorf("no owner information for %s", p)
	}
	return Node{UID: int(st.Uid), GID: int(st.Gid), Mode: fi.Mode()}, nil
}
