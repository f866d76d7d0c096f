package diagnose

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon/fsperm"
)

// release is the chrony release in a `chronyd -v` line: "4.8" from
// "chronyd (chrony) version 4.8 (+CMDMON +NTP ...)"; "" when absent.
func release(versionLine string) string {
	_, after, ok := strings.Cut(versionLine, " version ")
	if !ok {
		return ""
	}
	r, _, _ := strings.Cut(after, " ")
	return r
}

// runningRelease finds which chrony release a running chronyd is, by
// running its program with -v: the file /proc/PID/exe points to or, when
// this user may not read that link, the absolute path it was started as.
// Since diagnose often runs as root, the program is run only when its real
// name is chronyd and neither it nor a directory above it can be changed
// by anyone but root or this user; otherwise why is the reason.
func (h *host) runningRelease(pid int) (rel, why string) {
	dir := filepath.Join(h.proc, fmt.Sprint(pid))
	exe, err := os.Readlink(filepath.Join(dir, "exe"))
	if err != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
		argv0, _, _ := strings.Cut(string(b), "\x00")
		if !filepath.IsAbs(argv0) {
			return "", fmt.Sprintf("cannot read %s/exe as this user", dir)
		}
		exe = argv0
	}
	if strings.HasSuffix(exe, " (deleted)") {
		return "", fmt.Sprintf("its program %s was replaced since it started: restart it", exe)
	}
	if filepath.Base(exe) != "chronyd" {
		return "", fmt.Sprintf("its program is %s, not chronyd", exe)
	}
	me := os.Geteuid()
	bad, n, err := fsperm.Walk(exe, func(_ string, n fsperm.Node, _ bool) bool {
		return (n.UID == 0 || n.UID == me) && (n.Mode.Perm()&0o022 == 0 || (n.Mode.IsDir() && n.Mode&os.ModeSticky != 0))
	})
	switch {
	case err != nil:
		return "", fmt.Sprintf("cannot inspect %s: %v", bad, err)
	case bad != "":
		return "", fmt.Sprintf("not running %s -v: %s (%s) could be changed by another user", exe, bad, n)
	}
	line := chronydVersion(exe)
	if rel = release(line); rel == "" {
		return "", fmt.Sprintf("%s -v did not name a release", exe)
	}
	return rel, ""
}

// describe names the chronyd: "chronyd 4.8", or why its release is unknown.
func (p *chronydProc) describe() string {
	if p.release != "" {
		return "chronyd " + p.release
	}
	return "chronyd (release unknown: " + p.releaseWhy + ")"
}
