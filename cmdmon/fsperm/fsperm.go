// Package fsperm reads who owns a path and walks a path from / to find the
// first component a rule refuses. It is the tracking client's knowledge of
// file permissions (its advice on a refused unix socket names the directory
// in the way), and telegraf-chrony --diagnose checks permissions with it.
//
// Owners and modes are read on unix systems only; elsewhere Stat says so.
package fsperm

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
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
