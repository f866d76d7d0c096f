package diagnose

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	"github.com/telegraf-chrony/telegraf-chrony/cmdmon/fsperm"
	"github.com/telegraf-chrony/telegraf-chrony/internal/procnet"
)

// host is where the checks look; tests point it at fixtures or inject
// credentials.
type host struct {
	proc, sys    string   // "/proc", "/sys"
	chronydPaths []string // where distributions install chronyd
	confPaths    []string // chronyd's default chrony.conf locations
	self         creds    // the user the plugin would run as
}

func newHost() *host {
	return &host{
		proc:         "/proc",
		sys:          "/sys",
		chronydPaths: cmdmon.ChronydPaths,
		confPaths:    []string{"/etc/chrony/chrony.conf", "/etc/chrony.conf"},
		self:         selfCreds(),
	}
}

// chronydProc is a running chronyd and what it listens on.
type chronydProc struct {
	pid   int
	cred  creds
	state string // from /proc/PID/status: "S (sleeping)", "T (stopped)"...
	exe   string
	conf  string // its chrony.conf, "" when unknown
	// release is its chrony release ("4.8"); releaseWhy says why it is
	// unknown when it is "".
	release, releaseWhy string
	// cmdPort and ntpPort from its chrony.conf (323 and 123 by default).
	cmdPort, ntpPort int
	udp              []netip.AddrPort // bound, unconnected UDP sockets (command ports)
	unix             []string         // unix socket paths it has bound, and answers at
	// shadowed are paths it bound that a later chronyd bound again: the
	// file is the later one's, and this one no longer answers there.
	shadowed []string
	started  uint64          // start time, in clock ticks after boot
	inodes   map[string]bool // "socket:[N]" of its descriptors; nil if unreadable
}

func (p *chronydProc) stopped() bool {
	return strings.HasPrefix(p.state, "T") || strings.HasPrefix(p.state, "t")
}

func (p *chronydProc) addresses() []string {
	var out []string
	for _, a := range p.udp {
		out = append(out, "udp://"+a.String())
	}
	for _, s := range p.unix {
		out = append(out, "unixgram://"+s)
	}
	return out
}

// chronyds scans /proc for chronyd processes.
func (h *host) chronyds() []*chronydProc {
	ents, err := os.ReadDir(h.proc)
	if err != nil {
		return nil
	}
	udp, _ := procnet.UDP(h.proc)
	unix := procnet.Unix(h.proc)
	var out []*chronydProc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join(h.proc, e.Name())
		comm, err := os.ReadFile(filepath.Join(dir, "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != "chronyd" {
			continue
		}
		p := &chronydProc{pid: pid, cmdPort: 323, ntpPort: 123}
		p.cred, p.state = procStatus(filepath.Join(dir, "status"))
		if strings.HasPrefix(p.state, "Z") || strings.HasPrefix(p.state, "X") {
			continue // dead, waiting to be reaped: it answers nothing
		}
		p.started = procStart(filepath.Join(dir, "stat"))
		p.exe, _ = os.Readlink(filepath.Join(dir, "exe"))
		p.release, p.releaseWhy = h.runningRelease(pid)
		p.conf = h.procConf(filepath.Join(dir, "cmdline"))
		p.readConf()
		p.inodes = procnet.SocketInodes(filepath.Join(dir, "fd"))
		for _, s := range udp {
			if s.Connected || !s.Local.IsValid() {
				continue
			}
			mine := p.inodes[s.Inode]
			if p.inodes == nil { // not allowed to read its fds: go by uid
				mine = s.UID == p.cred.uid
			}
			if mine && s.Local.Port() == uint16(p.cmdPort) {
				p.udp = append(p.udp, s.Local)
			}
		}
		for inode, path := range unix {
			if p.inodes[inode] {
				p.unix = append(p.unix, path)
			}
		}
		sort.Strings(p.unix)
		out = append(out, p)
	}
	claimUnixPaths(out)
	return out
}

// claimUnixPaths leaves each unix socket path to the one chronyd that
// answers there. Each chronyd that binds a path first removes the file
// there, so of several that bound one path, the last to start holds the
// file; the others keep their sockets, unreachable, in shadowed.
func claimUnixPaths(procs []*chronydProc) {
	last := map[string]*chronydProc{}
	for _, p := range procs {
		for _, u := range p.unix {
			if q := last[u]; q == nil || p.started > q.started || p.started == q.started && p.pid > q.pid {
				last[u] = p
			}
		}
	}
	for _, p := range procs {
		kept := p.unix[:0]
		for _, u := range p.unix {
			if last[u] == p {
				kept = append(kept, u)
			} else {
				p.shadowed = append(p.shadowed, u)
			}
		}
		p.unix = kept
	}
}

// procStart reads a process's start time from /proc/PID/stat: the 22nd
// field, the 20th after the command name, which may hold spaces and ends
// at the last ')'. Zero when unreadable.
func procStart(statPath string) uint64 {
	b, err := os.ReadFile(statPath)
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 20 {
		return 0
	}
	n, _ := strconv.ParseUint(f[19], 10, 64)
	return n
}

// procConf finds chronyd's -f argument, or the distribution's default.
func (h *host) procConf(cmdlinePath string) string {
	b, _ := os.ReadFile(cmdlinePath)
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	for i, a := range args {
		if a == "-f" && i+1 < len(args) {
			return args[i+1]
		}
	}
	for _, c := range h.confPaths {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return ""
}

// readConf reads cmdport and port from chronyd's configuration.
func (p *chronydProc) readConf() {
	f, err := os.Open(p.conf)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 2 {
			continue
		}
		n, err := strconv.Atoi(fs[1])
		if err != nil {
			continue
		}
		switch strings.ToLower(fs[0]) {
		case "cmdport":
			p.cmdPort = n
		case "port":
			p.ntpPort = n
		}
	}
}

// procStatus reads the effective uid, gid, groups and state of a process.
func procStatus(path string) (creds, string) {
	c := creds{uid: -1, gid: -1}
	var state string
	b, err := os.ReadFile(path)
	if err != nil {
		return c, state
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fs := strings.Fields(v)
		switch k {
		case "State":
			state = strings.TrimSpace(v)
		case "Uid":
			if len(fs) > 1 {
				c.uid, _ = strconv.Atoi(fs[1])
			}
		case "Gid":
			if len(fs) > 1 {
				c.gid, _ = strconv.Atoi(fs[1])
			}
		case "Groups":
			for _, g := range fs {
				if n, err := strconv.Atoi(g); err == nil {
					c.groups = append(c.groups, n)
				}
			}
		}
	}
	c.fillNames()
	return c, state
}

// boundUDP lists the unconnected sockets bound where a datagram to ap
// would arrive: the address itself or the wildcard of its family.
func (h *host) boundUDP(ap netip.AddrPort) []procnet.Socket {
	var out []procnet.Socket
	socks, _ := procnet.UDP(h.proc)
	for _, s := range socks {
		if s.Connected || s.Local.Port() != ap.Port() {
			continue
		}
		la := s.Local.Addr()
		if la == ap.Addr() || (la.IsUnspecified() && la.Is4() == ap.Addr().Is4()) ||
			(la == netip.IPv6Unspecified() && ap.Addr().Is4()) {
			out = append(out, s)
		}
	}
	return out
}

// ownerOf names the process holding a socket inode: a chronyd we found, or
// any process whose descriptors we can read.
func (h *host) ownerOf(inode string, uid int, procs []*chronydProc) string {
	for _, p := range procs {
		if p.inodes[inode] {
			return fmt.Sprintf("chronyd pid %d", p.pid)
		}
	}
	ents, _ := os.ReadDir(h.proc)
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if procnet.SocketInodes(filepath.Join(h.proc, e.Name(), "fd"))[inode] {
			comm, _ := os.ReadFile(filepath.Join(h.proc, e.Name(), "comm"))
			return fmt.Sprintf("pid %s (%s), not chronyd", e.Name(), strings.TrimSpace(string(comm)))
		}
	}
	return fmt.Sprintf("a process of %s", fsperm.UserName(uid))
}

// installed returns where chronyd is and what `chronyd -v` says.
func (h *host) installed() (path, version string) {
	for _, p := range h.chronydPaths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			path = p
			break
		}
	}
	if path == "" {
		if p, err := exec.LookPath("chronyd"); err == nil {
			path = p
		}
	}
	if path == "" {
		return "", ""
	}
	return path, chronydVersion(path)
}

func chronydVersion(path string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "-v").Output()
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// chronyGroups says which of Debian's _chrony and RHEL's chrony groups
// exist here, with their gids.
func chronyGroups() map[string]int {
	m := map[string]int{}
	for _, name := range []string{"_chrony", "chrony"} {
		if g, err := user.LookupGroup(name); err == nil {
			if gid, err := strconv.Atoi(g.Gid); err == nil {
				m[name] = gid
			}
		}
	}
	return m
}

// chronyUser returns the credentials of chronyd's usual user when chronyd
// is not running to tell us: _chrony (Debian) or chrony (RHEL).
func chronyUser() (creds, bool) {
	for _, name := range []string{"_chrony", "chrony"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		c := creds{name: name}
		c.uid, _ = strconv.Atoi(u.Uid)
		c.gid, _ = strconv.Atoi(u.Gid)
		if ids, err := u.GroupIds(); err == nil {
			for _, id := range ids {
				if n, err := strconv.Atoi(id); err == nil {
					c.groups = append(c.groups, n)
				}
			}
		}
		c.fillNames()
		return c, true
	}
	return creds{}, false
}
