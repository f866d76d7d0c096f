package diagnose

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	"github.com/telegraf-chrony/telegraf-chrony/cmdmon/fsperm"
)

func anyLocal(as []cmdmon.Address) bool {
	for _, a := range as {
		if a.Local() {
			return true
		}
	}
	return false
}

// checkAddresses reports, for each configured address, whether it exists
// (socket file, bound UDP port) and whether it answers tracking; then the
// chronyd addresses found that answer.
func (d *diagnosis) checkAddresses() {
	ps := d.probes
	for i, a := range d.targets {
		lvl, why := d.levelFor(i)
		d.checkExists(a, lvl, why)
		if i >= len(ps) {
			continue
		}
		p := ps[i]
		if p.err == nil {
			d.add(OK, "tracking", "", "%s answers tracking in %s: ref ID %s, stratum %d",
				a, p.took.Round(10*time.Microsecond), p.rep.RefIDHex(), p.rep.Stratum)
			continue
		}
		fix := hintOf(p.err)
		if sp := d.stoppedOwner(a); sp != nil {
			fix = joinFix(fmt.Sprintf("chronyd pid %d holds this address but is stopped (%s): kill -CONT %d, or restart it", sp.pid, sp.state, sp.pid), fix)
		}
		if lvl == Fail {
			fix = joinFix(fix, d.answering())
		} else {
			fix = ""
		}
		d.add(lvl, "tracking", fix, "%s does not answer tracking: %s: %s%s", a, p.code(), msgOf(p.err), why)
	}
	for _, p := range ps {
		if p.found == nil {
			continue
		}
		if p.err == nil {
			d.add(Info, "tracking", "", "%s (found: chronyd pid %d, not configured) answers tracking", p.addr, p.found.pid)
		} else {
			d.add(Info, "tracking", "", "%s (found: chronyd pid %d, not configured) does not answer: %s", p.addr, p.found.pid, p.code())
		}
	}
}

// holdsAny reports whether p has bound one of the addresses.
func holdsAny(p *chronydProc, targets []cmdmon.Address) bool {
	for _, s := range p.addresses() {
		b, err := cmdmon.ParseAddress(s)
		if err != nil {
			continue
		}
		for _, a := range targets {
			if a.String() == b.String() {
				return true
			}
		}
	}
	return false
}

// checkShadowed warns of every other chronyd that bound a's path before
// owner bound it again: it runs, but answers nobody there.
func (d *diagnosis) checkShadowed(a cmdmon.Address, owner *chronydProc) {
	for _, p := range d.procs {
		if !slices.Contains(p.shadowed, a.Path) {
			continue
		}
		later := "a later chronyd"
		if owner != nil {
			later = fmt.Sprintf("chronyd pid %d, started later,", owner.pid)
		}
		d.add(Warn, "address", "stop the chronyd that should not run, or give each its own socket (bindcmdaddress in chrony.conf)",
			"%s: chronyd pid %d bound it too, but %s replaced the socket: pid %d no longer answers there", a, p.pid, later, p.pid)
	}
}

// stoppedOwner returns the stopped chronyd that holds a's socket, if any.
func (d *diagnosis) stoppedOwner(a cmdmon.Address) *chronydProc {
	if p := d.owner(a); p != nil && p.stopped() {
		return p
	}
	return nil
}

// owner returns the chronyd that holds a's socket, if it is one found here.
func (d *diagnosis) owner(a cmdmon.Address) *chronydProc {
	for _, p := range d.procs {
		for _, s := range p.addresses() {
			if b, err := cmdmon.ParseAddress(s); err == nil && b.String() == a.String() {
				return p
			}
		}
	}
	return nil
}

func (d *diagnosis) checkExists(a cmdmon.Address, lvl Level, why string) {
	h, procs := d.host, d.procs
	quiet := func(fix string) string {
		if lvl == Fail {
			return fix
		}
		return ""
	}
	if a.Network == "unixgram" {
		dir := filepath.Dir(a.Path)
		n, err := fsperm.Stat(a.Path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			fix := "chronyd is not running, or binds its socket elsewhere (bindcmdaddress in chrony.conf)"
			if dn, derr := fsperm.Stat(dir); derr != nil {
				fix = fmt.Sprintf("%s does not exist either: %s", dir, fix)
			} else if dn.Mode.Perm()&^0o770 != 0 {
				fix = fmt.Sprintf("%s is %s: chronyd refuses a socket directory with permission bits outside 0770 (it logs \"Wrong permissions\" and disables the socket): chmod 0750 %s and restart chronyd", dir, dn, dir)
			}
			d.add(lvl, "address", quiet(joinFix(fix, d.answering())), "%s: socket does not exist%s", a, why)
		case err != nil:
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the address names the path already
			}
			d.add(lvl, "address", quiet("see the socket check below"), "%s: cannot look at the socket: %v%s", a, err, why)
		case n.Mode&os.ModeSocket == 0:
			d.add(lvl, "address", quiet("point server at chronyd's socket (bindcmdaddress in chrony.conf)"), "%s: exists but is not a socket (%s)%s", a, n.Mode, why)
		default:
			owner := ""
			o := d.owner(a)
			if o != nil {
				owner = fmt.Sprintf(", bound by chronyd pid %d", o.pid)
			}
			dn, _ := fsperm.Stat(dir)
			d.add(OK, "address", "", "%s: socket exists (%s, directory %s)%s", a, n, dn, owner)
			d.checkShadowed(a, o)
		}
		return
	}
	if !a.Local() {
		d.add(Info, "address", "", "%s is remote: not inspected here (chronyd there needs `cmdallow` for this host and its firewall must pass UDP %d)", a, a.Port)
		return
	}
	ip, err := netip.ParseAddr(a.Host)
	if err != nil {
		d.add(Info, "address", "", "%s names this host: its bound UDP ports are looked up for IP addresses only", a)
		return
	}
	ap := netip.AddrPortFrom(ip, uint16(a.Port))
	bound := h.boundUDP(ap)
	if len(bound) == 0 {
		fix := fmt.Sprintf("chronyd's command port is %d unless chrony.conf sets cmdport; bindcmdaddress must include %s", cmdmon.DefaultPort, ip)
		var ports []string
		for _, p := range procs {
			for _, u := range p.udp {
				ports = append(ports, fmt.Sprintf("%s (chronyd pid %d)", u, p.pid))
			}
		}
		if len(ports) > 0 {
			fix = "chronyd's command ports here: " + strings.Join(ports, ", ") + "; " + fix
		}
		d.add(lvl, "address", quiet(fix), "%s: nothing is bound to UDP %s%s", a, ap, why)
		return
	}
	d.add(OK, "address", "", "%s: UDP %s is bound by %s", a, bound[0].Local, h.ownerOf(bound[0].Inode, bound[0].UID, procs))
}
