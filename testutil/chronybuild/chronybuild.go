// Package chronybuild builds chronyd and chronyc of chrony source releases
// (chrony-VERSION.tar.gz) for the compatibility tests, and keeps them in the
// build cache (testutil/buildcache) keyed by the tarball's SHA-256 and the
// build recipe, so each release is compiled once, not once per run.
//
// Builds run under a lock per release, so test processes that need the same
// release at once (go test runs packages in parallel) wait for one build
// instead of racing, and each build holds one of Parallel slots shared by
// every process, so that all of them together compile no more releases at
// once than there are cores.
package chronybuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/buildcache"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/proc"
)

// SrcEnv names the environment variable that points at a directory of chrony
// source tarballs (chrony-VERSION.tar.gz). .ci/run sets it to
// ../shared/chrony-src beside the repository.
const SrcEnv = "TELEGRAF_CHRONY_CHRONY_SRC"

// configureFlags leave out every optional library, so that a C compiler and
// make are all a build needs (older configure scripts ignore the options
// they do not know). Without privdrop chronyd runs as the user that starts
// it, which the lab wants anyway.
var configureFlags = []string{
	"--disable-readline", "--without-nettle", "--without-nss",
	"--without-tomcrypt", "--without-gnutls", "--without-libcap",
	"--without-seccomp", "--disable-sechash", "--disable-nts",
	"--disable-privdrop",
}

// programs are the make targets, and the files kept from a build.
var programs = []string{"chronyd", "chronyc"}

// recipe is part of the cache key: changing how a release is built must not
// reuse binaries built the old way.
var recipe = "configure " + strings.Join(configureFlags, " ") + "; make " + strings.Join(programs, " ")

const (
	// buildTimeout bounds one release's build (7-15 s on two cores).
	buildTimeout = 10 * time.Minute
	// lockTimeout lets a waiter outlast another process's build.
	lockTimeout = buildTimeout + time.Minute
	// maxLog keeps a failed build's error readable; build.log keeps all.
	maxLog = 4 << 10
)

// Source is one release's tarball.
type Source struct {
	Version string // "4.6.1"
	Path    string // .../chrony-4.6.1.tar.gz
}

// Build is a release's programs, or why they could not be built.
type Build struct {
	Source
	Chronyd, Chronyc string
	// Cached is true when the programs came from an earlier build.
	Cached bool
	// Took is how long Ensure spent on this release (lock wait included).
	Took time.Duration
	Err  error
}

var tarballName = regexp.MustCompile(`^chrony-([0-9]+(?:\.[0-9]+)*)\.tar\.gz$`)

// Sources lists the chrony-VERSION.tar.gz files in dir, oldest release
// first. A directory without any is an error: whoever pointed at it
// expected releases there.
func Sources(dir string) ([]Source, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("chrony sources: %w", err)
	}
	var out []Source
	for _, e := range ents {
		m := tarballName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() { // a link to a tarball counts
			out = append(out, Source{Version: m[1], Path: path})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("chrony sources: no chrony-VERSION.tar.gz in %s", dir)
	}
	slices.SortFunc(out, func(a, b Source) int { return CompareVersions(a.Version, b.Version) })
	return out, nil
}

// CompareVersions orders dotted release numbers numerically: 3.5.1 < 4.0
// < 4.10.
func CompareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

// FromEnv returns the directory SrcEnv names ("" when it is unset) and its
// sources.
func FromEnv() (dir string, srcs []Source, err error) {
	dir = os.Getenv(SrcEnv)
	if dir == "" {
		return "", nil, nil
	}
	srcs, err = Sources(dir)
	return dir, srcs, err
}

// Parallel is how many releases are built at once, across processes: one
// per core, each with a serial make, so that one's configure (serial)
// overlaps another's compile.
var Parallel = runtime.NumCPU()

// memo makes each release's build happen once per process.
var memo sync.Map // cache dir -> *once

type once struct {
	sync.Once
	b Build
}

// Ensure returns every source's programs, building the ones the cache
// lacks, at most Parallel at a time. A release that fails to build has Err
// set; the others are unaffected.
func Ensure(ctx context.Context, srcs []Source) []Build {
	out := make([]Build, len(srcs))
	var wg sync.WaitGroup
	for i, src := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = ensureOne(ctx, src)
		}()
	}
	wg.Wait()
	return out
}

func ensureOne(ctx context.Context, src Source) Build {
	dir, err := CacheDir(src)
	if err != nil {
		return Build{Source: src, Err: err}
	}
	v, _ := memo.LoadOrStore(dir, &once{})
	o := v.(*once)
	o.Do(func() {
		start := time.Now()
		o.b = ensure(ctx, src, dir)
		o.b.Took = time.Since(start)
	})
	return o.b
}

// CacheDir is where src's programs are kept: a directory per release,
// tarball content and recipe.
func CacheDir(src Source) (string, error) {
	root, err := buildcache.Root()
	if err != nil {
		return "", err
	}
	f, err := os.Open(src.Path)
	if err != nil {
		return "", fmt.Errorf("chrony %s: %w", src.Version, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("chrony %s: %w", src.Version, err)
	}
	io.WriteString(h, "\x00"+recipe)
	return filepath.Join(root, "chrony", src.Version+"-"+hex.EncodeToString(h.Sum(nil))[:16]), nil
}

func ensure(ctx context.Context, src Source, dir string) Build {
	b := Build{Source: src, Chronyd: filepath.Join(dir, "chronyd"), Chronyc: filepath.Join(dir, "chronyc")}
	if check(ctx, b) == nil {
		b.Cached = true
		return b
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Err = fmt.Errorf("chrony %s: %w", src.Version, err)
		return b
	}
	unlock, err := buildcache.Lock(ctx, filepath.Join(dir, ".lock"), lockTimeout)
	if err != nil {
		b.Err = fmt.Errorf("chrony %s: locking the cache %s: %w", src.Version, dir, err)
		return b
	}
	defer unlock()
	// Another process may have built it while we waited.
	if check(ctx, b) == nil {
		b.Cached = true
		return b
	}
	release, err := buildcache.Slot(ctx, filepath.Dir(dir), Parallel, lockTimeout)
	if err != nil {
		b.Err = fmt.Errorf("chrony %s: waiting for a build slot: %w", src.Version, err)
		return b
	}
	err = build(ctx, src, dir)
	release()
	if err != nil {
		b.Err = err
		return b
	}
	if err := check(ctx, b); err != nil {
		b.Err = fmt.Errorf("chrony %s: freshly built programs are unusable: %w", src.Version, err)
	}
	return b
}

// check accepts cached programs only if they run and say they are the
// release they are filed under.
func check(ctx context.Context, b Build) error {
	for _, p := range []string{b.Chronyd, b.Chronyc} {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		out, err := exec.CommandContext(ctx, p, "-v").CombinedOutput()
		cancel()
		if err != nil {
			return fmt.Errorf("%s -v: %w: %s", p, err, bytes.TrimSpace(out))
		}
		if !strings.Contains(string(out), " version "+b.Version+" ") {
			return fmt.Errorf("%s -v says %q, want version %s", p, bytes.TrimSpace(out), b.Version)
		}
	}
	return nil
}

// Tools says what a build needs that this host lacks, or nil.
func Tools() error {
	var missing []string
	for _, t := range []string{"nice", "tar", "make", "cc"} {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("cannot build chrony: %s not found (apt-get install gcc make libc6-dev)", strings.Join(missing, ", "))
	}
	return nil
}

// build unpacks, configures and compiles src in a private directory under
// dir and renames the programs into place, so a reader never sees a
// half-written binary. build.log in dir keeps the last build's output.
func build(ctx context.Context, src Source, dir string) error {
	if err := Tools(); err != nil {
		return fmt.Errorf("chrony %s: %w", src.Version, err)
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return fmt.Errorf("chrony %s: %w", src.Version, err)
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()

	var log bytes.Buffer
	top := filepath.Join(tmp, "chrony-"+src.Version)
	steps := []struct {
		dir  string
		args []string
	}{
		{tmp, []string{"tar", "-xzf", src.Path}},
		{top, append([]string{"./configure"}, configureFlags...)},
		{top, append([]string{"make"}, programs...)},
	}
	start := time.Now()
	for _, s := range steps {
		if err := run(ctx, s.dir, &log, s.args...); err != nil {
			_ = os.WriteFile(filepath.Join(dir, "build.log"), log.Bytes(), 0o644)
			return fmt.Errorf("chrony %s: %s failed after %v: %w (full log: %s)\n%s", src.Version,
				strings.Join(s.args[:1], " "), time.Since(start).Round(time.Second), err,
				filepath.Join(dir, "build.log"), buildcache.Tail(log.Bytes(), maxLog))
		}
	}
	_ = os.WriteFile(filepath.Join(dir, "build.log"), log.Bytes(), 0o644)
	for _, p := range programs {
		if err := os.Rename(filepath.Join(top, p), filepath.Join(dir, p)); err != nil {
			return fmt.Errorf("chrony %s: %w", src.Version, err)
		}
	}
	return nil
}

// run runs one build step in its own process group, so that a timeout
// ends the compilers make started, not only make; and at the lowest
// priority, so that the timing-sensitive tests running beside a cold build
// (every CI run starts with an empty cache) keep nearly all of the CPU.
func run(ctx context.Context, dir string, log *bytes.Buffer, args ...string) error {
	fmt.Fprintf(log, "$ %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, "nice", append([]string{"-n", "19"}, args...)...)
	cmd.Dir = dir
	cmd.Stdout = log
	cmd.Stderr = log
	// A make above us (make test) exports its jobserver, whose descriptors
	// this make would not have.
	cmd.Env = buildcache.WithoutEnv(os.Environ(), "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	proc.DieWithParent(cmd.SysProcAttr)
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		err = errors.Join(err, ctx.Err())
	}
	return err
}
