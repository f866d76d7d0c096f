package diagnose

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// creds are the identity a permission check is made for: this process, or
// chronyd's user. They are plain data so tests can inject any uid and gids.
type creds struct {
	uid, gid int
	groups   []int // supplementary
	name     string
	names    []string // group names, for messages
}

func selfCreds() creds {
	c := creds{uid: os.Geteuid(), gid: os.Getegid()}
	c.groups, _ = os.Getgroups()
	c.fillNames()
	return c
}

func (c *creds) fillNames() {
	if c.name == "" {
		c.name = userName(c.uid)
	}
	c.names = nil
	for _, g := range c.allGroups() {
		c.names = append(c.names, groupName(g))
	}
}

func (c creds) allGroups() []int {
	gs := []int{c.gid}
	for _, g := range c.groups {
		if !slices.Contains(gs, g) {
			gs = append(gs, g)
		}
	}
	return gs
}

func (c creds) inGroup(gid int) bool { return slices.Contains(c.allGroups(), gid) }

func (c creds) describe() string {
	return fmt.Sprintf("user %s (uid %d, groups %s)", c.name, c.uid, strings.Join(c.names, ","))
}

func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return "uid " + strconv.Itoa(uid)
}

func groupName(gid int) string {
	if g, err := user.LookupGroupId(strconv.Itoa(gid)); err == nil {
		return g.Name
	}
	return strconv.Itoa(gid)
}

// Permission bits wanted of a path.
const (
	permX = 1
	permW = 2
)

// node is the owner and mode of a path.
type node struct {
	uid, gid int
	mode     os.FileMode
}

func (n node) String() string {
	return fmt.Sprintf("%s:%s %#o", userName(n.uid), groupName(n.gid), n.mode.Perm())
}

func statNode(p string) (node, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return node{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return node{}, fmt.Errorf("no owner information for %s", p)
	}
	return node{uid: int(st.Uid), gid: int(st.Gid), mode: fi.Mode()}, nil
}

// allowed applies the kernel's rule: root may (we check only directory
// search and write), the owner gets the owner bits, a member of the group
// the group bits, everyone else the other bits. Only one class applies.
func allowed(n node, c creds, want uint32) bool {
	if c.uid == 0 {
		return true
	}
	m := uint32(n.mode.Perm())
	var bits uint32
	switch {
	case c.uid == n.uid:
		bits = m >> 6
	case c.inGroup(n.gid):
		bits = m >> 3
	default:
		bits = m
	}
	return bits&7&want == want
}

// blocked walks from / to path: every directory on the way needs search
// (x), path itself needs last. It returns the first path c cannot use, what
// was missing, and that path's owner and mode; "" when nothing blocks.
func blocked(path string, c creds, last uint32) (string, string, node, error) {
	path = filepath.Clean(path)
	var parts []string
	for p := path; p != "/" && p != "."; p = filepath.Dir(p) {
		parts = append([]string{p}, parts...)
	}
	parts = append([]string{"/"}, parts...)
	for i, p := range parts {
		n, err := statNode(p)
		if err != nil {
			return p, "", node{}, err
		}
		want, what := uint32(permX), "search (x) the directory"
		if i == len(parts)-1 {
			want = last
			what = map[uint32]string{permX: "search (x) the directory", permW: "write (w)", permW | permX: "create files in (wx)"}[last]
		}
		if !allowed(n, c, want) {
			return p, what, n, nil
		}
	}
	return "", "", node{}, nil
}

// socketPlan is what the unixgram client will do: the directory it makes
// its chain in, and the client socket's mode and group.
type socketPlan struct {
	base string // socket_dir, or the directory of chronyd's socket
	mode os.FileMode
	gid  int // the socket's group: socket_group, else this user's gid
}

// permFinding is one result of the permission checks.
type permFinding struct {
	level     Level
	msg, fix  string
	checkName string
}

// checkPerms decides whether self can create its client socket under
// plan.base and reach chronyd's socket, and whether chronyd (running as
// chronyd) can traverse to the client socket and write it. It only reads
// owners and modes, so any uid and gids can be checked.
func checkPerms(sock string, plan socketPlan, self, chronyd creds, chronydKnown bool) []permFinding {
	var out []permFinding
	// 1. Reaching chronyd's socket: search on every directory, write on the socket.
	if p, what, n, err := blocked(sock, self, permW); err == nil && p != "" {
		out = append(out, permFinding{Fail, fmt.Sprintf("%s cannot %s %s (%s), so it cannot send to chronyd's socket", self.name, what, p, n),
			fmt.Sprintf("run the agent as a member of %s's group (%s), or use udp://127.0.0.1:323 (tracking is open over UDP from localhost)", p, groupName(n.gid)), "socket"})
	} else if err == nil {
		out = append(out, permFinding{OK, fmt.Sprintf("%s can reach and write chronyd's socket %s", self.name, sock), "", "socket"})
	}
	// 2. Creating the client socket chain: write and search on base.
	if p, what, n, err := blocked(plan.base, self, permW|permX); err != nil {
		out = append(out, permFinding{Fail, fmt.Sprintf("socket directory %s: %v", plan.base, err),
			"set socket_dir to an existing directory this user owns and chronyd's user can search, e.g. /run/telegraf (mode 0711)", "socket"})
	} else if p != "" {
		out = append(out, permFinding{Fail, fmt.Sprintf("%s cannot %s %s (%s), so it cannot create its client socket under %s", self.name, what, p, n, plan.base),
			"set socket_dir to a directory this user owns and chronyd's user can search, e.g. /run/telegraf (mode 0711), or run as chronyd's group", "socket"})
	} else {
		out = append(out, permFinding{OK, fmt.Sprintf("%s can create its client socket under %s", self.name, plan.base), "", "socket"})
	}
	if !chronydKnown {
		out = append(out, permFinding{Warn, "cannot tell which user chronyd answers as (it is not running, and neither _chrony nor chrony exists)",
			"start chronyd and run --diagnose again", "socket"})
		return out
	}
	// 3. chronyd writing back: search on base and above (the chain below is
	// 0711), write on the socket (owner: self, group: plan.gid).
	if p, what, n, err := blocked(plan.base, chronyd, permX); err == nil && p != "" {
		out = append(out, permFinding{Fail, fmt.Sprintf("chronyd's user %s cannot %s %s (%s), so its replies cannot reach a client socket under %s", chronyd.name, what, p, n, plan.base),
			fmt.Sprintf("chmod o+x %s (or give it to a group %s is in), or set socket_dir to a directory %s can search", p, chronyd.name, chronyd.name), "socket"})
		return out
	}
	sockNode := node{uid: self.uid, gid: plan.gid, mode: plan.mode}
	if !allowed(sockNode, chronyd, permW) {
		out = append(out, permFinding{Fail, fmt.Sprintf("chronyd's user %s (groups %s) cannot write a client socket %s", chronyd.name, strings.Join(chronyd.names, ","), sockNode),
			fmt.Sprintf("set socket_group to a group %s is in (%s), or socket_perms = \"0666\"", chronyd.name, strings.Join(chronyd.names, ", ")), "socket"})
		return out
	}
	out = append(out, permFinding{OK, fmt.Sprintf("chronyd's user %s can search %s and write a client socket %s", chronyd.name, plan.base, sockNode), "", "socket"})
	return out
}
