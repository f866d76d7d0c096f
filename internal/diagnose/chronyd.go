package diagnose

import (
	"fmt"
	"strings"
)

func (d *diagnosis) checkInstalled() {
	h, local := d.host, anyLocal(d.targets)
	path, version := h.installed()
	switch {
	case path == "" && local:
		d.add(Warn, "chronyd", "install chrony (apt-get install chrony, or dnf install chrony) and start it (systemctl enable --now chrony; chronyd on RHEL)",
			"chronyd is not installed here (looked in %s and PATH)", strings.Join(h.chronydPaths, ", "))
	case path == "":
		d.add(Info, "chronyd", "", "chronyd is not installed here; not needed, every server is remote")
	case version == "":
		d.add(Warn, "chronyd", "run "+path+" -v by hand; reinstall the chrony package if it fails", "%s is installed but `chronyd -v` failed", path)
	default:
		d.add(OK, "chronyd", "", "installed: %s: %s", path, version)
	}
}

func (d *diagnosis) checkRunning() {
	procs, local := d.procs, anyLocal(d.targets)
	if len(procs) == 0 {
		if local {
			d.add(Fail, "chronyd", "start it: systemctl enable --now chrony (Debian, Ubuntu) or chronyd (RHEL, Fedora)", "no chronyd process is running")
		} else {
			d.add(Info, "chronyd", "", "no chronyd process runs here; not needed, every server is remote")
		}
		return
	}
	for _, p := range procs {
		addrs := strings.Join(p.addresses(), ", ")
		if addrs == "" {
			addrs = "none found"
		}
		conf := p.conf
		if conf == "" {
			conf = "unknown"
		}
		msg := fmt.Sprintf("running: pid %d (%s) as %s, state %s, config %s, command addresses: %s", p.pid, p.describe(), p.cred.describe(), p.state, conf, addrs)
		switch {
		case p.stopped() && holdsAny(p, d.targets):
			d.add(Warn, "chronyd", fmt.Sprintf("it answers nothing while stopped: kill -CONT %d, or restart it", p.pid), "%s", msg)
		case p.stopped():
			d.add(Info, "chronyd", "", "%s (stopped, but it holds no configured address)", msg)
		default:
			d.add(OK, "chronyd", "", "%s", msg)
		}
	}
}
