package diagnose

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
)

// checkSecurity notes SELinux and AppArmor enforcement, and warns when it
// may be what stops chronyd's replies on the unix socket.
func (d *diagnosis) checkSecurity() {
	h, ps, s := d.host, d.probes, d.opts.Settings.Cmdmon
	trouble := ""
	for i, a := range d.targets {
		if a.Network != "unixgram" || i >= len(ps) {
			continue
		}
		dir, base := filepath.Dir(a.Path), s.SocketBase(a)
		if c := ps[i].code(); c == cmdmon.CodeTimeout || c == cmdmon.CodePermissionDenied {
			trouble = fmt.Sprintf("%s failed with %s", a, c)
		} else if !strings.HasPrefix(filepath.Clean(base)+"/", dir+"/") {
			if trouble == "" && ps[i].err != nil {
				trouble = fmt.Sprintf("socket_dir %s is outside chronyd's directory %s", base, dir)
			}
		}
	}
	noted := false
	if b, err := os.ReadFile(filepath.Join(h.sys, "fs/selinux/enforce")); err == nil {
		noted = true
		if strings.TrimSpace(string(b)) == "1" {
			if trouble != "" {
				d.add(Warn, "security", "look for denials: ausearch -m avc -ts recent -c chronyd; chronyd_t may only write sockets it is allowed to (keep socket_dir empty so the client socket goes under chronyd's own directory), or use udp://127.0.0.1:323",
					"SELinux is enforcing and %s", trouble)
			} else {
				d.add(Info, "security", "", "SELinux is enforcing (nothing here points at a denial)")
			}
		} else {
			d.add(Info, "security", "", "SELinux is permissive")
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
			d.add(Info, "security", "", "AppArmor is enabled (its profiles are not readable as this user)")
		case prof == "":
			d.add(Info, "security", "", "AppArmor is enabled, no chronyd profile is loaded")
		case strings.Contains(prof, "(enforce)") && trouble != "":
			d.add(Warn, "security", `look for denials: journalctl -k | grep 'apparmor="DENIED".*chronyd'; the chronyd profile lets it write only to sockets under its own directories: keep socket_dir empty (or add a local rule in /etc/apparmor.d/local/usr.sbin.chronyd), or use udp://127.0.0.1:323`,
				"AppArmor profile %s and %s", prof, trouble)
		default:
			d.add(Info, "security", "", "AppArmor profile %s (nothing here points at a denial)", prof)
		}
	}
	if !noted {
		d.add(OK, "security", "", "neither SELinux nor AppArmor is enabled")
	}
}
