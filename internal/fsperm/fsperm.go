// Package fsperm reads who owns a path and walks a path from / to find the
// first component a rule refuses: the shared ground of the client's
// permission hints and --diagnose's permission checks.
package fsperm

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// Node is the owner, group and mode of a path.
type Node struct {
	UID, GID int
	Mode     os.FileMode
}

// String renders "owner:group 0750", with names where they resolve.
func (n Node) String() string {
	return fmt.Sprintf("%s:%s %#o", UserName(n.UID), GroupName(n.GID), n.Mode.Perm())
}

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

// UserName is uid's name, or "uid N".
func UserName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return "uid " + strconv.Itoa(uid)
}

// GroupName is gid's name, or the number.
func GroupName(gid int) string {
	if g, err := user.LookupGroupId(strconv.Itoa(gid)); err == nil {
		return g.Name
	}
	return strconv.Itoa(gid)
}

// Walk visits /, every directory below it on the way to path, and path
// itself (last true), and returns the first one ok refuses with its Node;
// "" when ok accepts them all. A path it cannot stat ends the walk with
// that path and the error.
func Walk(path string, ok func(p string, n Node, last bool) bool) (string, Node, error) {
	path = filepath.Clean(path)
	parts := []string{path}
	for p := path; p != "/" && p != "."; {
		p = filepath.Dir(p)
		parts = append([]string{p}, parts...)
	}
	if parts[0] == "." {
		parts = parts[1:]
	}
	for i, p := range parts {
		if i > 0 && p == parts[i-1] {
			continue // path is "/" itself
		}
		n, err := Stat(p)
		if err != nil {
			return p, Node{}, err
		}
		if !ok(p, n, i == len(parts)-1) {
			return p, n, nil
		}
	}
	return "", Node{}, nil
}
