package diagnose

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/internal/fsperm"
	"github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking/tracking"
)

// Bounds of the checks.
const (
	// maxFound bounds how many chronyd command addresses found in /proc,
	// beyond the configured ones, are probed.
	maxFound = 16
	// foundTimeout is the single wait for a found address.
	foundTimeout = 500 * time.Millisecond
	// minStaleAge is the least ref-time age that is called stale: chronyd's
	// default maxpoll is 1024 s, so a healthy server can be quiet that long.
	minStaleAge = 20 * time.Minute
)

// msgOf is what went wrong, with its cause but without the code, address
// and hint, which the report prints in their own places.
func msgOf(err error) string {
	var te *tracking.Error
	if !errors.As(err, &te) {
		return err.Error()
	}
	if te.Err != nil {
		return te.Msg + ": " + te.Err.Error()
	}
	return te.Msg
}

func hintOf(err error) string {
	var te *tracking.Error
	if errors.As(err, &te) {
		return te.Hint
	}
	return ""
}

func isLocal(a tracking.Address) bool {
	if a.Network == "unixgram" {
		return true
	}
	ip, err := netip.ParseAddr(a.Host)
	return a.Host == "localhost" || (err == nil && (ip.IsLoopback() || ip.IsUnspecified()))
}

func anyLocal(as []tracking.Address) bool {
	for _, a := range as {
		if isLocal(a) {
			return true
		}
	}
	return false
}

func checkInstalled(rep *report, h *host, local bool) {
	path, version := h.installed()
	switch {
	case path == "" && local:
		rep.add(Warn, "chronyd", "install chrony (apt-get install chrony, or dnf install chrony) and start it (systemctl enable --now chrony; chronyd on RHEL)",
			"chronyd is not installed here (looked in %s and PATH)", strings.Join(h.chronydPaths, ", "))
	case path == "":
		rep.add(Info, "chronyd", "", "chronyd is not installed here; not needed, every server is remote")
	case version == "":
		rep.add(Warn, "chronyd", "run "+path+" -v by hand; reinstall the chrony package if it fails", "%s is installed but `chronyd -v` failed", path)
	default:
		rep.add(OK, "chronyd", "", "installed: %s: %s", path, version)
	}
}

func checkRunning(rep *report, procs []*chronydProc, targets []tracking.Address, local bool) {
	if len(procs) == 0 {
		if local {
			rep.add(Fail, "chronyd", "start it: systemctl enable --now chrony (Debian, Ubuntu) or chronyd (RHEL, Fedora)", "no chronyd process is running")
		} else {
			rep.add(Info, "chronyd", "", "no chronyd process runs here; not needed, every server is remote")
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
		msg := fmt.Sprintf("running: pid %d as %s, state %s, config %s, command addresses: %s", p.pid, p.cred.describe(), p.state, conf, addrs)
		switch {
		case p.stopped() && holdsAny(p, targets):
			rep.add(Warn, "chronyd", fmt.Sprintf("it answers nothing while stopped: kill -CONT %d, or restart it", p.pid), "%s", msg)
		case p.stopped():
			rep.add(Info, "chronyd", "", "%s (stopped, but it holds no configured address)", msg)
		default:
			rep.add(OK, "chronyd", "", "%s", msg)
		}
	}
}

// probe is one tracking request to one address.
type probe struct {
	addr  tracking.Address
	found *chronydProc // set for an address found in /proc, not configured
	rep   tracking.Report
	err   error
	took  time.Duration
}

func (p *probe) code() tracking.Code { return tracking.CodeOf(p.err) }

// candidates are chronyd command addresses found in /proc that are not
// configured: probing them tells the user where chronyd really answers.
func candidates(procs []*chronydProc, targets []tracking.Address) []probe {
	seen := map[string]bool{}
	for _, t := range targets {
		seen[t.String()] = true
	}
	var out []probe
	for _, p := range procs {
		if p.stopped() {
			continue
		}
		for _, s := range p.addresses() {
			a, err := tracking.ParseAddress(s)
			if err != nil || seen[a.String()] || len(out) == maxFound {
				continue
			}
			seen[a.String()] = true
			out = append(out, probe{addr: a, found: p})
		}
	}
	return out
}

// runProbes asks every target (with the plugin's settings) and every found
// address (one short attempt) for tracking, concurrently, through the
// tracking client.
func runProbes(ctx context.Context, cfg tracking.Config, targets []tracking.Address, found []probe) []probe {
	ps := make([]probe, 0, len(targets)+len(found))
	for _, a := range targets {
		ps = append(ps, probe{addr: a})
	}
	ps = append(ps, found...)
	var wg sync.WaitGroup
	for i := range ps {
		c := cfg
		c.Address = ps[i].addr.String()
		if ps[i].found != nil {
			c.Retries = 0
			c.Timeout = min(c.Timeout, foundTimeout)
		}
		wg.Add(1)
		go func(p *probe) {
			defer wg.Done()
			cl, err := tracking.New(c)
			if err != nil {
				p.err = err
				return
			}
			defer cl.Close()
			start := time.Now()
			p.rep, p.err = cl.Tracking(ctx)
			p.took = time.Since(start)
		}(&ps[i])
	}
	wg.Wait()
	return ps
}

// effective returns the index of the target the plugin would use: the
// first that answers in chronyc's order, stopping at the first failure
// other than "absent" or "permission denied", as the client does; -1 when
// none is decisive. With explicit servers every target is used.
func effective(ps []probe) int {
	for i, p := range ps {
		if p.found != nil {
			break
		}
		if c := p.code(); c != tracking.CodeUnavailable && c != tracking.CodePermissionDenied {
			return i
		}
	}
	return -1
}

// levelFor grades a problem with target i: FAIL, unless in chronyc's
// automatic order another address the plugin will use answers.
func levelFor(ps []probe, i int, auto bool) (Level, string) {
	if !auto {
		return Fail, ""
	}
	eff := effective(ps)
	if eff < 0 || eff == i || ps[eff].err != nil {
		return Fail, ""
	}
	if i < eff {
		return Info, fmt.Sprintf(" (not needed: the plugin moves on to %s)", ps[eff].addr)
	}
	return Info, fmt.Sprintf(" (not used: the plugin stops at %s)", ps[eff].addr)
}

// answering lists found addresses that answered, as advice.
func answering(ps []probe) string {
	var as []string
	for _, p := range ps {
		if p.found != nil && p.err == nil {
			as = append(as, fmt.Sprintf("%q (chronyd pid %d)", p.addr.String(), p.found.pid))
		}
	}
	if len(as) == 0 {
		return ""
	}
	return "chronyd answers tracking at " + strings.Join(as, ", ") + ": use that as server"
}

func joinFix(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}

// checkAddresses reports, for each configured address, whether it exists
// (socket file, bound UDP port) and whether it answers tracking; then the
// chronyd addresses found that answer.
func checkAddresses(rep *report, h *host, procs []*chronydProc, targets []tracking.Address, ps []probe, auto bool) {
	for i, a := range targets {
		lvl, why := levelFor(ps, i, auto)
		checkExists(rep, h, procs, a, ps, lvl, why)
		if i >= len(ps) {
			continue
		}
		p := ps[i]
		if p.err == nil {
			rep.add(OK, "tracking", "", "%s answers tracking in %s: ref ID %s, stratum %d",
				a, p.took.Round(10*time.Microsecond), p.rep.RefIDHex(), p.rep.Stratum)
			continue
		}
		fix := hintOf(p.err)
		if sp := stoppedOwner(h, procs, a); sp != nil {
			fix = joinFix(fmt.Sprintf("chronyd pid %d holds this address but is stopped (%s): kill -CONT %d, or restart it", sp.pid, sp.state, sp.pid), fix)
		}
		if lvl == Fail {
			fix = joinFix(fix, answering(ps))
		} else {
			fix = ""
		}
		rep.add(lvl, "tracking", fix, "%s does not answer tracking: %s: %s%s", a, p.code(), msgOf(p.err), why)
	}
	for _, p := range ps {
		if p.found == nil {
			continue
		}
		if p.err == nil {
			rep.add(Info, "tracking", "", "%s (found: chronyd pid %d, not configured) answers tracking", p.addr, p.found.pid)
		} else {
			rep.add(Info, "tracking", "", "%s (found: chronyd pid %d, not configured) does not answer: %s", p.addr, p.found.pid, p.code())
		}
	}
}

// holdsAny reports whether p has bound one of the addresses.
func holdsAny(p *chronydProc, targets []tracking.Address) bool {
	for _, s := range p.addresses() {
		b, err := tracking.ParseAddress(s)
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

// stoppedOwner returns the stopped chronyd that holds a's socket, if any.
func stoppedOwner(h *host, procs []*chronydProc, a tracking.Address) *chronydProc {
	for _, p := range procs {
		if !p.stopped() {
			continue
		}
		for _, s := range p.addresses() {
			if b, err := tracking.ParseAddress(s); err == nil && b.String() == a.String() {
				return p
			}
		}
	}
	return nil
}

func checkExists(rep *report, h *host, procs []*chronydProc, a tracking.Address, ps []probe, lvl Level, why string) {
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
			rep.add(lvl, "address", quiet(joinFix(fix, answering(ps))), "%s: socket does not exist%s", a, why)
		case err != nil:
			rep.add(lvl, "address", quiet("see the socket check below"), "%s: cannot look at the socket: %v%s", a, err, why)
		case n.Mode&os.ModeSocket == 0:
			rep.add(lvl, "address", quiet("point server at chronyd's socket (bindcmdaddress in chrony.conf)"), "%s: exists but is not a socket (%s)%s", a, n.Mode, why)
		default:
			owner := ""
			for _, p := range procs {
				for _, u := range p.unix {
					if u == a.Path {
						owner = fmt.Sprintf(", bound by chronyd pid %d", p.pid)
					}
				}
			}
			dn, _ := fsperm.Stat(dir)
			rep.add(OK, "address", "", "%s: socket exists (%s, directory %s)%s", a, n, dn, owner)
		}
		return
	}
	ip, err := netip.ParseAddr(a.Host)
	if err != nil || !(ip.IsLoopback() || ip.IsUnspecified()) {
		rep.add(Info, "address", "", "%s is remote: not inspected here (chronyd there needs `cmdallow` for this host and its firewall must pass UDP %d)", a, a.Port)
		return
	}
	ap := netip.AddrPortFrom(ip, uint16(a.Port))
	bound := h.boundUDP(ap)
	if len(bound) == 0 {
		fix := fmt.Sprintf("chronyd's command port is %d unless chrony.conf sets cmdport; bindcmdaddress must include %s", tracking.DefaultPort, ip)
		var ports []string
		for _, p := range procs {
			for _, u := range p.udp {
				ports = append(ports, fmt.Sprintf("%s (chronyd pid %d)", u, p.pid))
			}
		}
		if len(ports) > 0 {
			fix = "chronyd's command ports here: " + strings.Join(ports, ", ") + "; " + fix
		}
		rep.add(lvl, "address", quiet(fix), "%s: nothing is bound to UDP %s%s", a, ap, why)
		return
	}
	rep.add(OK, "address", "", "%s: UDP %s is bound by %s", a, bound[0].local, h.ownerOf(bound[0].inode, bound[0].uid, procs))
}

// checkSockets checks, for each unix socket address that exists, that this
// user can create its client socket and that chronyd can write back.
func checkSockets(rep *report, h *host, procs []*chronydProc, opts Options, targets []tracking.Address, ps []probe, auto bool) {
	groups := chronyGroups()
	did := false
	for i, a := range targets {
		if a.Network != "unixgram" {
			continue
		}
		if _, err := os.Stat(a.Path); err != nil && !errors.Is(err, os.ErrPermission) {
			continue
		}
		did = true
		plan := socketPlan{base: opts.SocketDir, mode: 0o666, gid: h.self.gid}
		if plan.base == "" {
			plan.base = filepath.Dir(a.Path)
		}
		if opts.SocketGroup != "" {
			plan.mode = 0o660
			if gid, ok := groups[opts.SocketGroup]; ok {
				plan.gid = gid
			} else if g, err := lookupGID(opts.SocketGroup); err == nil {
				plan.gid = g
			}
		}
		if m, err := parseOctal(opts.SocketPerms); opts.SocketPerms != "" && err == nil {
			plan.mode = m
		}
		chronyd, known := chronydCreds(procs, a.Path)
		lvl, why := levelFor(ps, i, auto)
		for _, f := range checkPerms(a.Path, plan, h.self, chronyd, known) {
			l, fix := f.level, f.fix
			if l >= Warn && lvl == Info {
				l, fix = Info, ""
			}
			msg := f.msg
			if l != f.level {
				msg += why
			}
			rep.add(l, f.checkName, fix, "%s", msg)
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
		rep.add(Info, "group", "", "neither _chrony (Debian, Ubuntu) nor chrony (RHEL, Fedora) exists here; socket_group must name chronyd's group")
	default:
		rep.add(Info, "group", "", "chronyd's group here: %s (Debian and Ubuntu use _chrony, RHEL and Fedora chrony); socket_group must name one that exists", strings.Join(have, ", "))
	}
}

func lookupGID(name string) (int, error) {
	var gid int
	if _, err := fmt.Sscanf(name, "%d", &gid); err == nil {
		return gid, nil
	}
	g := chronyGroups()
	if v, ok := g[name]; ok {
		return v, nil
	}
	return 0, fmt.Errorf("no group %s", name)
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

// checkSecurity notes SELinux and AppArmor enforcement, and warns when it
// may be what stops chronyd's replies on the unix socket.
func checkSecurity(rep *report, h *host, targets []tracking.Address, ps []probe, opts Options) {
	trouble := ""
	for i, a := range targets {
		if a.Network != "unixgram" || i >= len(ps) {
			continue
		}
		if c := ps[i].code(); c == tracking.CodeTimeout || c == tracking.CodePermissionDenied {
			trouble = fmt.Sprintf("%s failed with %s", a, c)
		} else if opts.SocketDir != "" && !strings.HasPrefix(filepath.Clean(opts.SocketDir)+"/", filepath.Dir(a.Path)+"/") {
			if trouble == "" && ps[i].err != nil {
				trouble = fmt.Sprintf("socket_dir %s is outside chronyd's directory %s", opts.SocketDir, filepath.Dir(a.Path))
			}
		}
	}
	noted := false
	if b, err := os.ReadFile(filepath.Join(h.sys, "fs/selinux/enforce")); err == nil {
		noted = true
		if strings.TrimSpace(string(b)) == "1" {
			if trouble != "" {
				rep.add(Warn, "security", "look for denials: ausearch -m avc -ts recent -c chronyd; chronyd_t may only write sockets it is allowed to (keep socket_dir empty so the client socket goes under chronyd's own directory), or use udp://127.0.0.1:323",
					"SELinux is enforcing and %s", trouble)
			} else {
				rep.add(Info, "security", "", "SELinux is enforcing (nothing here points at a denial)")
			}
		} else {
			rep.add(Info, "security", "", "SELinux is permissive")
		}
	}
	if b, err := os.ReadFile(filepath.Join(h.sys, "module/apparmor/parameters/enabled")); err == nil && strings.TrimSpace(string(b)) == "Y" {
		noted = true
		profiles, perr := os.ReadFile(filepath.Join(h.sys, "kernel/security/apparmor/profiles"))
		var prof string
		for _, line := range strings.Split(string(profiles), "\n") {
			if strings.Contains(line, "chronyd") {
				prof = strings.TrimSpace(line)
				break
			}
		}
		switch {
		case perr != nil:
			rep.add(Info, "security", "", "AppArmor is enabled (its profiles are not readable as this user)")
		case prof == "":
			rep.add(Info, "security", "", "AppArmor is enabled, no chronyd profile is loaded")
		case strings.Contains(prof, "(enforce)") && trouble != "":
			rep.add(Warn, "security", `look for denials: journalctl -k | grep 'apparmor="DENIED".*chronyd'; the chronyd profile lets it write only to sockets under its own directories: keep socket_dir empty (or add a local rule in /etc/apparmor.d/local/usr.sbin.chronyd), or use udp://127.0.0.1:323`,
				"AppArmor profile %s and %s", prof, trouble)
		default:
			rep.add(Info, "security", "", "AppArmor profile %s (nothing here points at a denial)", prof)
		}
	}
	if !noted {
		rep.add(OK, "security", "", "neither SELinux nor AppArmor is enabled")
	}
}

// versionMessage names both protocol versions of a version_mismatch.
func versionMessage(err error) string {
	var te *tracking.Error
	if errors.As(err, &te) && te.ReplyVersion != 0 && te.ReplyVersion != tracking.ProtocolVersion {
		return fmt.Sprintf("chronyd speaks protocol version %d, this client version %d (%s)", te.ReplyVersion, tracking.ProtocolVersion, msgOf(err))
	}
	return fmt.Sprintf("%s; this client speaks version %d", msgOf(err), tracking.ProtocolVersion)
}

// checkProtocol reports version agreement from the probes' results.
func checkProtocol(rep *report, procs []*chronydProc, h *host, ps []probe) {
	agreed := ""
	mismatch := false
	for _, p := range ps {
		if p.found != nil {
			continue
		}
		switch {
		case p.code() == tracking.CodeVersionMismatch:
			mismatch = true
			rep.add(Fail, "protocol", hintOf(p.err), "%s: %s", p.addr, versionMessage(p.err))
		case p.err == nil && agreed == "":
			agreed = p.addr.String()
		}
	}
	if mismatch {
		return
	}
	if agreed == "" {
		rep.add(Info, "protocol", "", "not checked: no configured address answered")
		return
	}
	rep.add(OK, "protocol", "", "chronyd at %s speaks protocol version %d, as this client does", agreed, tracking.ProtocolVersion)
}

// checkSync judges the reports the plugin would record: every server's,
// or in chronyc's order the one it would use.
func checkSync(rep *report, ps []probe, auto bool, maxErr time.Duration) {
	var use []probe
	if auto {
		if e := effective(ps); e >= 0 && ps[e].err == nil {
			use = append(use, ps[e])
		}
	} else {
		for _, p := range ps {
			if p.found == nil && p.err == nil {
				use = append(use, p)
			}
		}
	}
	if len(use) == 0 {
		rep.add(Fail, "sync", "fix the failures above first", "not checked: no configured address answered tracking")
		return
	}
	for _, p := range use {
		r := p.rep
		switch {
		case r.Synchronised:
			rep.add(OK, "sync", "", "%s: synchronised to %s (ref ID %s), stratum %d, leap status %s", p.addr, orDefault(r.ReferenceName, "?"), r.RefIDHex(), r.Stratum, r.Leap)
		case r.ReferenceID == tracking.LocalRefID:
			rep.add(Warn, "sync", "add a server or pool line to chrony.conf and check `chronyc sources` shows a selected (*) source; `local stratum` alone is only for isolated networks",
				"%s: running on its local reference (local stratum %d), not synchronised to a real time source: nothing bounds its error", p.addr, r.Stratum)
		default:
			rep.add(Fail, "sync", "check `chronyc sources -v` and `chronyc activity`: are the servers reachable on UDP 123 (firewall, DNS)? A chronyd that just started needs a few polls",
				"%s: not synchronised (ref ID %s, stratum %d, leap status %s): chronyd has no usable source", p.addr, r.RefIDHex(), r.Stratum, r.Leap)
		}
		bound := time.Duration(r.ClockErrorBound * float64(time.Second))
		detail := fmt.Sprintf("|system time| %s + root dispersion %s + root delay/2 %s",
			secs(abs(r.SystemTime)), secs(r.RootDispersion), secs(r.RootDelay/2))
		switch {
		case r.ReferenceID == tracking.LocalRefID:
			rep.add(Info, "error-bound", "", "%s: clock error bound %s means nothing on a local reference (see sync)", p.addr, bound.Round(time.Microsecond))
		case bound <= maxErr:
			rep.add(OK, "error-bound", "", "%s: clock error bound %s <= %s (%s)", p.addr, bound.Round(time.Microsecond), maxErr, detail)
		default:
			fix := "use closer or better sources (lower root delay and dispersion), or pass a larger --max-error if this bound is acceptable"
			if !r.Synchronised {
				fix = "synchronise chronyd to a real source first (see sync)"
			}
			rep.add(Fail, "error-bound", fix, "%s: clock error bound %s exceeds --max-error %s (%s)", p.addr, bound.Round(time.Microsecond), maxErr, detail)
		}
		switch {
		case r.RefTime.IsZero():
			rep.add(Info, "ref-time", "", "%s: chronyd has never updated the clock from a source", p.addr)
		default:
			stale := max(minStaleAge, time.Duration(4*r.UpdateInterval*float64(time.Second)))
			if r.RefTimeAge > stale {
				rep.add(Warn, "ref-time", "chronyd is losing its sources: check `chronyc sources` and the network to them",
					"%s: last clock update %s ago, more than %s (update interval %.1f s)", p.addr, r.RefTimeAge.Round(time.Second), stale, r.UpdateInterval)
			} else {
				rep.add(OK, "ref-time", "", "%s: last clock update %s ago (update interval %.1f s)", p.addr, r.RefTimeAge.Round(time.Millisecond), r.UpdateInterval)
			}
		}
	}
}

func secs(v float64) string {
	return time.Duration(v * float64(time.Second)).Round(time.Microsecond).String()
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
