// Package packaging tests what make dist builds: the binaries (their
// architectures, static, --version), the checksums, the .rpm's and the
// .deb's contents, and the .deb installed on this machine with dpkg, run by
// a real Telegraf through its drop-in, then purged without a trace.
//
// The tests read the directory named by TELEGRAF_CHRONY_DIST, which make
// test sets after make dist.
package packaging

import (
	"bufio"
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/telegraf/plugins/parsers/influx"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/labenv"
)

// DistEnv names the directory make dist wrote.
const DistEnv = "TELEGRAF_CHRONY_DIST"

// packagedFiles are the files every package holds; confFiles are the
// conffiles among them.
var (
	packagedFiles = []string{
		"/etc/telegraf/telegraf-chrony.conf",
		"/etc/telegraf/telegraf.d/chrony_tracking.conf",
		"/usr/bin/telegraf-chrony",
		"/usr/share/doc/telegraf-chrony/README.md",
		"/usr/share/man/man1/telegraf-chrony.1.gz",
	}
	confFiles = packagedFiles[:2]
)

// target is one platform of the release, as its files name it.
type target struct {
	suffix  string // telegraf-chrony-linux-<suffix>
	goarch  string
	goarm   string
	machine elf.Machine
	class   elf.Class
	deb     string // Architecture of the .deb
	rpm     string // architecture of the .rpm
	qemu    string // qemu-user-static's emulator of the architecture
}

var targets = []target{
	{"amd64", "amd64", "", elf.EM_X86_64, elf.ELFCLASS64, "amd64", "x86_64", "qemu-x86_64-static"},
	{"arm64", "arm64", "", elf.EM_AARCH64, elf.ELFCLASS64, "arm64", "aarch64", "qemu-aarch64-static"},
	{"armv7", "arm", "7", elf.EM_ARM, elf.ELFCLASS32, "armhf", "armv7hl", "qemu-arm-static"},
}

// distDir is make dist's output directory.
func distDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(DistEnv)
	var err error
	if dir == "" {
		err = errors.New(DistEnv + " is not set")
	} else if _, err = os.Stat(filepath.Join(dir, "SHA256SUMS")); err != nil {
		err = errors.New(dir + " holds no release (no SHA256SUMS)")
	}
	labenv.Need(t, "dist", err, "run make dist, then "+DistEnv+"=$PWD/dist go test ./test/packaging (make test does both)")
	return dir
}

// one returns the single file of dir that matches pattern.
func one(t *testing.T, dir, pattern string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, pattern))
	require.NoError(t, err)
	require.Len(t, m, 1, "want one %s in %s", pattern, dir)
	return m[0]
}

func TestChecksums(t *testing.T) {
	dir := distDir(t)
	f, err := os.Open(filepath.Join(dir, "SHA256SUMS"))
	require.NoError(t, err)
	defer f.Close()
	var listed []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		require.True(t, ok, "sha256sum's format: %q", sc.Text())
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		got := sha256.Sum256(data)
		require.Equal(t, sum, hex.EncodeToString(got[:]), name)
		listed = append(listed, name)
	}
	require.NoError(t, sc.Err())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var all []string
	for _, e := range entries {
		if e.Name() != "SHA256SUMS" {
			all = append(all, e.Name())
		}
	}
	require.Equal(t, all, listed, "every artifact is listed, once")
	require.Len(t, all, 3*len(targets), "a binary, a .deb and an .rpm per target")
}

// Each binary is a static Linux executable of the architecture its name
// says, built without cgo.
func TestBinaries(t *testing.T) {
	dir := distDir(t)
	for _, tg := range targets {
		t.Run(tg.suffix, func(t *testing.T) {
			path := filepath.Join(dir, "telegraf-chrony-linux-"+tg.suffix)
			f, err := elf.Open(path)
			require.NoError(t, err)
			defer f.Close()
			require.Equal(t, tg.machine, f.Machine)
			require.Equal(t, tg.class, f.Class)
			require.Equal(t, elf.ET_EXEC, f.Type)
			for _, p := range f.Progs {
				require.NotEqual(t, elf.PT_INTERP, p.Type, "static: no dynamic loader")
			}
			bi, err := buildinfo.ReadFile(path)
			require.NoError(t, err)
			settings := map[string]string{}
			for _, s := range bi.Settings {
				settings[s.Key] = s.Value
			}
			require.Equal(t, "linux", settings["GOOS"])
			require.Equal(t, tg.goarch, settings["GOARCH"])
			require.Equal(t, "0", settings["CGO_ENABLED"])
			if tg.goarm != "" {
				require.Equal(t, tg.goarm, settings["GOARM"])
			}
		})
	}
}

// Every release binary runs: --once against a real chronyd over UDP, each
// architecture this machine lacks in its qemu-user-static emulator (named,
// so no binfmt registration is needed), gives the point chronyc sees.
func TestBinariesOnce(t *testing.T) {
	dir := distDir(t)
	lab := chronylab.Start(t, chronylab.Options{})
	require.NoError(t, lab.WaitSynced(30*time.Second))
	for _, tg := range targets {
		t.Run(tg.suffix, func(t *testing.T) {
			args := []string{filepath.Join(dir, "telegraf-chrony-linux-"+tg.suffix), "--once", "--server", lab.UDPURL()}
			if tg.goarch != runtime.GOARCH {
				emulator, err := exec.LookPath(tg.qemu)
				labenv.Need(t, tg.qemu, err, "apt-get install qemu-user-static (make deps installs it)")
				args = append([]string{emulator}, args...)
			}
			// --once is bounded by its 7 s of attempts; emulated start-up on a
			// loaded machine gets the rest.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, args[0], args[1:]...).Output()
			require.NoError(t, err, "%s", errOutput(err))
			tr, err := lab.Tracking()
			require.NoError(t, err)
			p := &influx.Parser{}
			require.NoError(t, p.Init())
			ms, err := p.Parse(out)
			require.NoError(t, err, "%s", out)
			require.Len(t, ms, 1, "%s", out)
			tags, fields := ms[0].Tags(), ms[0].Fields()
			require.Equal(t, "success", tags["result"])
			require.Equal(t, fmt.Sprintf("%08X", tr.RefID), tags["reference_id"])
			require.Equal(t, int64(tr.Stratum), fields["stratum"])
			require.InDelta(t, tr.RefTime, fields["ref_time"], 5)
			require.Len(t, fields, 16)
		})
	}
}

// errOutput is what a failed command wrote to stderr.
func errOutput(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}

// The binary this machine can run reports the commit it was built from,
// the Go release that built it and the Telegraf module it links.
func TestBinaryVersion(t *testing.T) {
	dir := distDir(t)
	i := slices.IndexFunc(targets, func(tg target) bool { return tg.goarch == runtime.GOARCH })
	if i < 0 {
		t.Skipf("no release binary runs on %s", runtime.GOARCH)
	}
	path := filepath.Join(dir, "telegraf-chrony-linux-"+targets[i].suffix)
	out, err := exec.Command(path, "--version").Output()
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, 4, string(out))
	require.Regexp(t, `^telegraf-chrony v\d+\.\d+\.\d+(-\S+)?$`, lines[0])
	require.Regexp(t, `^commit:   [0-9a-f]{40}$`, lines[1])
	if head, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		require.Equal(t, "commit:   "+strings.TrimSpace(string(head)), lines[1], "built from this checkout's commit")
	}
	bi, err := buildinfo.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "go:       "+bi.GoVersion+" linux/"+runtime.GOARCH, lines[2])
	var telegraf string
	for _, d := range bi.Deps {
		if d.Path == "github.com/influxdata/telegraf" {
			telegraf = d.Version
		}
	}
	require.NotEmpty(t, telegraf)
	require.Equal(t, "telegraf: "+telegraf, lines[3])
}
