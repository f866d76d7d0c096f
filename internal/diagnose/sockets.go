package diagnose

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// checkSockets checks, for each unix socket address that exists, that this
// user can create its client socket and that chronyd can write back.
func (d *diagnosis) checkSockets() {
	h, s := d.host, d.opts.Settings.Cmdmon
	groups := chronyGroups()
	did := false
	for i, a := range d.targets {
		if a.Network != "unixgram" {
			continue
		}
		if _, err := os.Stat(a.Path); err != nil && !errors.Is(err, os.ErrPermission) {
			continue
		}
		did = true
		plan := socketPlan{base: s.SocketBase(a), mode: s.SocketMode, gid: h.self.gid}
		if s.SocketGID >= 0 {
			plan.gid = s.SocketGID
		}
		chronyd, known := chronydCreds(d.procs, a.Path)
		lvl, why := d.levelFor(i)
		for _, f := range checkPerms(a.Path, plan, h.self, chronyd, known) {
			l, fix := f.level, f.fix
			if l >= Warn && lvl == Info {
				l, fix = Info, ""
			}
			msg := f.msg
			if l != f.level {
				msg += why
			}
			d.add(l, f.checkName, fix, "%s", msg)
		}
	}
	if !did {
		return
	}
	var have []string
	for _, name := range []string{"_chrony", "chrony"} {
		if gid, ok := groups[name]; ok {
			have = append(have, fmt.Sprintf("%s (gid %d)", name, gid))
		}
	}
	switch {
	case len(have) == 0:
		d.add(Info, "group", "", "neither _chrony (Debian, Ubuntu) nor chrony (RHEL, Fedora) exists here; socket_group must name chronyd's group")
	default:
		d.add(Info, "group", "", "chronyd's group here: %s (Debian and Ubuntu use _chrony, RHEL and Fedora chrony); socket_group must name one that exists", strings.Join(have, ", "))
	}
}

// chronydCreds returns the credentials of the chronyd that owns sock, of
// any running chronyd, or of chronyd's usual user.
func chronydCreds(procs []*chronydProc, sock string) (creds, bool) {
	for _, p := range procs {
		for _, u := range p.unix {
			if u == sock {
				return p.cred, true
			}
		}
	}
	if len(procs) > 0 && procs[0].cred.uid >= 0 {
		return procs[0].cred, true
	}
	return chronyUser()
}
