package diagnose

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	"github.com/telegraf-chrony/telegraf-chrony/cmdmon/fsperm"
	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
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
		c.name = fsperm.UserName(c.uid)
	}
	c.names = nil
	for _, g := range c.allGroups() {
		c.names = append(c.names, fsperm.GroupName(g))
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

// Permission bits wanted of a path.
const (
	permX = 1
	permW = 2
)

// allowed applies the kernel's rule: root may (we check only directory
// search and write), the owner gets the owner bits, a member of the group
// the group bits, everyone else the other bits. Only one class applies.
func allowed(n fsperm.Node, c creds, want uint32) bool {
	if c.uid == 0 {
		return true
	}
	m := uint32(n.Mode.Perm())
	var bits uint32
	switch {
	case c.uid == n.UID:
		bits = m >> 6
	case c.inGroup(n.GID):
		bits = m >> 3
	default:
		bits = m
	}
	return bits&7&want == want
}

// blocked walks from / to path: every directory on the way needs search
// (x), path itself needs last. It returns the first path c cannot use, what
// was missing, and that path's owner and mode; "" when nothing blocks.
func blocked(path string, c creds, last uint32) (string, string, fsperm.Node, error) {
	var what string
	p, n, err := fsperm.Walk(path, func(_ string, n fsperm.Node, isLast bool) bool {
		want := uint32(permX)
		what = "search (x) the directory"
		if isLast {
			want = last
			what = map[uint32]string{permX: "search (x) the directory", permW: "write (w)", permW | permX: "create files in (wx)"}[last]
		}
		return allowed(n, c, want)
	})
	if err != nil || p == "" {
		what = ""
	}
	return p, what, n, err
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
		groupBit := os.FileMode(permX << 3)
		if p == sock {
			groupBit = permW << 3
		}
		out = append(out, permFinding{Fail, fmt.Sprintf("%s cannot %s %s (%s), so it cannot send to chronyd's socket", self.name, what, p, n),
			cmdmon.ReachAdvice("user "+self.name, n, groupBit), "socket"})
	} else if err == nil {
		out = append(out, permFinding{OK, fmt.Sprintf("%s can reach and write chronyd's socket %s", self.name, sock), "", "socket"})
	}
	// 2. Creating the client socket chain: write and search on base.
	if p, what, n, err := blocked(plan.base, self, permW|permX); err != nil {
		out = append(out, permFinding{Fail, fmt.Sprintf("socket directory %s: %v", plan.base, err),
			ct.Advice(cmdmon.SocketDirAdvice), "socket"})
	} else if p != "" {
		out = append(out, permFinding{Fail, fmt.Sprintf("%s cannot %s %s (%s), so it cannot create its client socket under %s", self.name, what, p, n, plan.base),
			ct.Advice(cmdmon.SocketDirAdvice), "socket"})
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
	sockNode := fsperm.Node{UID: self.uid, GID: plan.gid, Mode: plan.mode}
	if !allowed(sockNode, chronyd, permW) {
		out = append(out, permFinding{Fail, fmt.Sprintf("chronyd's user %s (groups %s) cannot write a client socket %s", chronyd.name, strings.Join(chronyd.names, ","), sockNode),
			fmt.Sprintf("set socket_group to a group %s is in (%s), or socket_perms = \"0666\"", chronyd.name, strings.Join(chronyd.names, ", ")), "socket"})
		return out
	}
	out = append(out, permFinding{OK, fmt.Sprintf("chronyd's user %s can search %s and write a client socket %s", chronyd.name, plan.base, sockNode), "", "socket"})
	return out
}
