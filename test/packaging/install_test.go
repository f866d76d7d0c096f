package packaging

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/influxdata/telegraf/plugins/parsers/influx"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/test/testutil/telegrafagent"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/labenv"
)

const (
	pkgName   = "telegraf-chrony"
	confPath  = "/etc/telegraf/telegraf-chrony.conf"
	dropInDir = "/etc/telegraf/telegraf.d"
	// lockPath serialises the tests of several checkouts on one machine:
	// they would install and purge the same package.
	lockPath = "/run/lock/telegraf-chrony-package-test.lock"
	// dpkgLockWait is how long dpkg may wait for another apt-get or dpkg.
	dpkgLockWait = 2 * time.Minute
)

// The .deb installs with dpkg -i, a Telegraf started as InfluxData's
// service starts it (--config-directory /etc/telegraf/telegraf.d) runs the
// packaged drop-in, and the points of the lab's chronyd arrive; an edited
// conffile survives a reinstall; dpkg --purge leaves no file or directory
// of the package behind. What the test changes on this machine is undone
// when it ends, also when it fails.
func TestDebInstallRunPurge(t *testing.T) {
	dir := distDir(t)
	deb := one(t, dir, "telegraf-chrony_*_"+debArch(t)+".deb")
	needInstall(t)
	chronylab.Require(t)
	telegrafagent.Binary(t) // built before anything is installed
	lock(t)

	contents := debContents(t, deb)
	m := snapshot(t, contents)
	t.Cleanup(func() { m.restore(t) })

	dpkg(t, "--install", deb)
	require.Equal(t, packagedFiles, installedFiles(t), "dpkg -L, directories aside")
	checkInstalled(t, dir)

	lab := chronylab.Start(t, chronylab.Options{})
	require.NoError(t, lab.WaitSynced(30*time.Second))
	// What an operator does: point the installed config at a chronyd.
	conf, err := os.ReadFile(confPath)
	require.NoError(t, err)
	edited := strings.Replace(string(conf), `  # server = ""`, fmt.Sprintf("  server = %q", lab.UnixURL()), 1)
	require.NotEqual(t, string(conf), edited, "the sample config has a commented server line")
	require.NoError(t, os.WriteFile(confPath, []byte(edited), 0o644))
	dpkg(t, "--install", deb) // an upgrade in place
	now, err := os.ReadFile(confPath)
	require.NoError(t, err)
	require.Equal(t, edited, string(now), "a reinstall keeps the edited conffile")

	runAgent(t, lab)

	dpkg(t, "--purge", pkgName)
	status, _ := exec.Command("dpkg-query", "--show", "--showformat=${db:Status-Abbrev}", pkgName).Output()
	require.Empty(t, strings.TrimSpace(string(status)), "dpkg forgets the purged package")
	for _, e := range contents {
		if !m.existed[e.path] {
			require.NoFileExists(t, e.path, "purge removes what the package made")
			require.NoDirExists(t, e.path, "purge removes what the package made")
		}
	}
	left, _ := filepath.Glob("/var/lib/dpkg/info/" + pkgName + ".*")
	require.Empty(t, left, "dpkg's own records of the package")
}

// runAgent starts Telegraf as its service does, plus an output to a file,
// and waits for points of the lab's chronyd from the drop-in.
func runAgent(t *testing.T, lab *chronylab.Lab) {
	t.Helper()
	agent := telegrafagent.Start(t, `[agent]
  interval = "500ms"
  flush_interval = "500ms"
  omit_hostname = true
[[outputs.file]]
  files = ["${TELEGRAF_AGENT_DIR}/out.lp"]
  data_format = "influx"
`, "--config-directory", dropInDir)
	success := regexp.MustCompile(`(?m)^chrony_tracking,.*result=success,server=` + regexp.QuoteMeta(lab.UnixURL()) + ` .*$`)
	out := telegrafagent.WaitForFile(t, filepath.Join(agent.Dir(), "out.lp"),
		func(s string) bool { return len(success.FindAllString(s, -1)) >= 2 }, 30*time.Second)
	require.Contains(t, agent.Log(), "/usr/bin/telegraf-chrony", "the agent runs the packaged command")

	lines := success.FindAllString(out, -1)
	p := &influx.Parser{}
	require.NoError(t, p.Init())
	point, err := p.ParseLine(lines[len(lines)-1])
	require.NoError(t, err)
	tr, err := lab.Tracking()
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("%08X", tr.RefID), point.Tags()["reference_id"])
	require.Equal(t, tr.Name, point.Tags()["reference_name"])
	require.Equal(t, int64(tr.Stratum), point.Fields()["stratum"])
	require.Equal(t, true, point.Fields()["synchronised"])
	require.NoError(t, agent.Stop())
}

// checkInstalled looks at the installed files: the command is the release
// binary, the config is its --sample-config, and man finds a page that
// documents every option of --help.
func checkInstalled(t *testing.T, dist string) {
	t.Helper()
	bin, err := os.ReadFile("/usr/bin/telegraf-chrony")
	require.NoError(t, err)
	release, err := os.ReadFile(filepath.Join(dist, "telegraf-chrony-linux-"+targetOf(t).suffix))
	require.NoError(t, err)
	require.True(t, bytes.Equal(release, bin), "/usr/bin/telegraf-chrony is the release binary")

	sample, err := exec.Command("/usr/bin/telegraf-chrony", "--sample-config").Output()
	require.NoError(t, err)
	conf, err := os.ReadFile(confPath)
	require.NoError(t, err)
	require.Equal(t, string(sample), string(conf))

	where, err := exec.Command("man", "-w", pkgName).Output()
	require.NoError(t, err, "man -w %s", pkgName)
	require.Equal(t, "/usr/share/man/man1/telegraf-chrony.1.gz", strings.TrimSpace(string(where)))
	cmd := exec.Command("man", pkgName)
	cmd.Env = append(os.Environ(), "MANPAGER=cat", "MANWIDTH=200", "MAN_KEEP_FORMATTING=0")
	out, err := cmd.Output()
	require.NoError(t, err)
	page := regexp.MustCompile(".\b").ReplaceAll(out, nil) // bold and underline by overstrike
	help, err := exec.Command("/usr/bin/telegraf-chrony", "--help").Output()
	require.NoError(t, err)
	options := regexp.MustCompile(`(?m)^    (--[a-z_-]+)`).FindAllStringSubmatch(string(help), -1)
	require.NotEmpty(t, options)
	for _, o := range options {
		require.Regexp(t, `(?m)^\s+`+regexp.QuoteMeta(o[1])+`\b`, string(page), "man page entry for %s", o[1])
	}
}

// machine is what the test changed: files of the package that were here
// before (to put back) and which of its paths existed.
type machine struct {
	existed map[string]bool
	saved   map[string]savedFile
}

type savedFile struct {
	data     []byte
	mode     fs.FileMode
	uid, gid int
}

// snapshot records the package's paths before the install. An installed
// telegraf-chrony package is left alone: the test would replace it.
func snapshot(t *testing.T, contents []debEntry) *machine {
	t.Helper()
	status, _ := exec.Command("dpkg-query", "--show", "--showformat=${db:Status-Abbrev}", pkgName).Output()
	if s := strings.TrimSpace(string(status)); s != "" {
		labenv.Need(t, "package test", fmt.Errorf("the package %s is on this machine (%s)", pkgName, s),
			"remove it first (dpkg --purge "+pkgName+"): the test installs and purges its own")
	}
	if others, _ := filepath.Glob(filepath.Join(dropInDir, "*.conf")); len(others) > 0 {
		labenv.Need(t, "package test", fmt.Errorf("%s already holds %v, which the test's agent would load", dropInDir, others),
			"run the package test on a machine without a Telegraf configuration")
	}
	m := &machine{existed: map[string]bool{}, saved: map[string]savedFile{}}
	for _, e := range contents {
		st, err := os.Lstat(e.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		require.NoError(t, err)
		m.existed[e.path] = true
		if !e.dir && st.Mode().IsRegular() {
			data, err := os.ReadFile(e.path)
			require.NoError(t, err)
			sys := st.Sys().(*syscall.Stat_t)
			m.saved[e.path] = savedFile{data, st.Mode().Perm(), int(sys.Uid), int(sys.Gid)}
			t.Logf("%s exists before the install: it is put back afterwards", e.path)
		}
	}
	return m
}

// restore purges the package if it is still installed, then puts back the
// files it replaced.
func (m *machine) restore(t *testing.T) {
	if status, _ := exec.Command("dpkg-query", "--show", "--showformat=${db:Status-Abbrev}", pkgName).Output(); strings.TrimSpace(string(status)) != "" {
		if out, err := runDpkg("--purge", pkgName); err != nil {
			t.Errorf("cleanup: dpkg --purge %s: %v\n%s", pkgName, err, out)
		}
	}
	for path, f := range m.saved {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Errorf("cleanup: %v", err)
			continue
		}
		if err := os.WriteFile(path, f.data, f.mode); err == nil {
			err = errors.Join(os.Chmod(path, f.mode), os.Chown(path, f.uid, f.gid))
		} else {
			t.Errorf("cleanup: putting back %s: %v", path, err)
		}
	}
}

func installedFiles(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("dpkg-query", "--listfiles", pkgName).Output()
	require.NoError(t, err)
	var files []string
	for _, p := range strings.Fields(string(out)) {
		if st, err := os.Lstat(p); err == nil && !st.IsDir() {
			files = append(files, p)
		}
	}
	return files
}

// dpkg runs dpkg with args and fails the test if it fails or warns.
func dpkg(t *testing.T, args ...string) {
	t.Helper()
	out, err := runDpkg(args...)
	require.NoError(t, err, "dpkg %s:\n%s", strings.Join(args, " "), out)
	require.NotContains(t, out, "warning", "dpkg %s:\n%s", strings.Join(args, " "), out)
}

// runDpkg runs dpkg, waiting while another dpkg or apt-get holds its lock.
func runDpkg(args ...string) (string, error) {
	deadline := time.Now().Add(dpkgLockWait)
	for {
		out, err := exec.Command("dpkg", args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "lock") || time.Now().After(deadline) {
			return string(out), err
		}
		time.Sleep(time.Second)
	}
}

// needInstall: installing a package takes root and dpkg.
func needInstall(t *testing.T) {
	t.Helper()
	var err error
	if os.Geteuid() != 0 {
		err = errors.New("installing a package needs root")
	} else if _, err = exec.LookPath("dpkg"); err == nil {
		_, err = exec.LookPath("man")
	}
	labenv.Need(t, "package test", err, "run as root on Debian or Ubuntu with man-db (make test does in CI)")
}

// lock keeps other checkouts' package tests out until this one ends.
func lock(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o644)
	require.NoError(t, err)
	require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX))
	t.Cleanup(func() { f.Close() }) // runs last: after the restore
}

func targetOf(t *testing.T) target {
	t.Helper()
	for _, tg := range targets {
		if tg.goarch == runtime.GOARCH {
			return tg
		}
	}
	t.Skipf("no release package installs on %s", runtime.GOARCH)
	return target{}
}

func debArch(t *testing.T) string { return targetOf(t).deb }
