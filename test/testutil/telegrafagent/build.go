// Package telegrafagent runs a real Telegraf agent in end-to-end tests.
//
// The agent is built from source with only the plugins the tests need, so a
// test exercises the same execd and output code paths as a user's agent
// without requiring a Telegraf package on the machine. The binary is cached
// across test runs because a cold build takes minutes.
package telegrafagent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/buildcache"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/labenv"
)

// Version is the newest Telegraf release the tests run against; it matches
// the version in go.mod, whose packages the plugin is built with.
const Version = "v1.37.2"

// OldestVersion is the oldest release the tests run against, and so the
// oldest telegraf-chrony supports. inputs.execd maps an external plugin's
// "E! ", "W! ", "I! " and "D! " stderr prefixes to log levels since v1.32.0
// (influxdata/telegraf#15834); older agents run telegraf-chrony but log
// every line of it as an error. v1.34.4 is the oldest release since then
// whose dependencies the module proxy serves (v1.32.0 needs an
// influxdata/tail version that sum.golang.org does not know).
const OldestVersion = "v1.34.4"

// Versions are the releases the end-to-end tests run against, newest first.
var Versions = []string{Version, OldestVersion}

// DefaultTags selects the plugins Binary builds. "custom" tells Telegraf's
// build to include only the plugins named by the other tags.
var DefaultTags = []string{
	"custom",
	"inputs.execd",
	"outputs.file",
	"outputs.influxdb",
	"parsers.influx",
	"serializers.influx",
}

// PipelineTags is DefaultTags plus the outputs of the pipeline tests:
// outputs.kafka (with the JSON serializer besides line protocol) and
// outputs.prometheus_client, Prometheus' scrape endpoint.
var PipelineTags = append(slices.Clone(DefaultTags),
	"outputs.kafka",
	"outputs.prometheus_client",
	"serializers.json",
)

// CacheEnv overrides the root of the binary cache (default
// <os.UserCacheDir()>/telegraf-chrony). Each tag set gets its own
// subdirectory, so one root can hold several builds.
const CacheEnv = buildcache.Env

const (
	// buildTimeout bounds a cold build; about 2 minutes is typical on two
	// cores, so this only trips on a hung download or compiler.
	buildTimeout = 15 * time.Minute
	// lockTimeout lets a waiter outlast another process's full build.
	lockTimeout = buildTimeout + time.Minute
	// maxBuildOutput keeps a failing build's error message readable.
	maxBuildOutput = 16 << 10
)

// Binary returns the path of a Telegraf built with DefaultTags, building it
// first if the cache lacks it.
func Binary(t testing.TB) string {
	t.Helper()
	return BinaryWithTags(t, DefaultTags...)
}

// BinaryWithTags is Binary for a different plugin selection; include
// "custom" or Telegraf builds every plugin.
func BinaryWithTags(t testing.TB, tags ...string) string {
	t.Helper()
	return BinaryVersion(t, Version, tags...)
}

// BinaryVersion is BinaryWithTags for another Telegraf release, such as
// OldestVersion.
func BinaryVersion(t testing.TB, version string, tags ...string) string {
	t.Helper()
	path, err := cachedBuild(version, tags)
	labenv.Need(t, "telegrafagent", err, "a Go toolchain and the Go module proxy are needed to build Telegraf")
	return path
}

// builds remembers each tag set's outcome so the tests of one package pay
// for the lock and the version check once.
var builds sync.Map // key string -> *buildOnce

type buildOnce struct {
	once sync.Once
	path string
	err  error
}

func cachedBuild(version string, tags []string) (string, error) {
	tags = normalizeTags(tags)
	key := version + " " + strings.Join(tags, ",")
	v, _ := builds.LoadOrStore(key, &buildOnce{})
	b := v.(*buildOnce)
	b.once.Do(func() {
		dir, err := cacheDir(version, tags)
		if err != nil {
			b.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), lockTimeout+buildTimeout)
		defer cancel()
		b.path, b.err = ensureBinary(ctx, dir, version, tags)
	})
	return b.path, b.err
}

func normalizeTags(tags []string) []string {
	out := slices.Clone(tags)
	slices.Sort(out)
	return slices.Compact(out)
}

// CacheDir is where the binary of Version for tags lives: a directory per
// version and tag set, so changing the plugin selection never reuses a stale
// binary.
func CacheDir(tags []string) (string, error) { return cacheDir(Version, tags) }

func cacheDir(version string, tags []string) (string, error) {
	root, err := buildcache.Root()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(strings.Join(normalizeTags(tags), ",")))
	return filepath.Join(root, "telegraf-"+version+"-"+hex.EncodeToString(sum[:])[:12]), nil
}

// ensureBinary returns dir/telegraf, building it under a lock file because
// several test packages (separate processes under `go test ./...`) may ask
// for it at once.
func ensureBinary(ctx context.Context, dir, version string, tags []string) (string, error) {
	bin := filepath.Join(dir, "telegraf")
	if err := checkBinary(ctx, bin, version, tags); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	unlock, err := buildcache.Lock(ctx, filepath.Join(dir, ".lock"), lockTimeout)
	if err != nil {
		return "", fmt.Errorf("locking telegraf cache %s: %w", dir, err)
	}
	defer unlock()

	// Another process may have finished the build while we waited.
	if err := checkBinary(ctx, bin, version, tags); err == nil {
		return bin, nil
	}
	// A binary that exists but fails the check is left over from something
	// else (a different toolchain, a truncated copy); replace it.
	_ = os.Remove(bin)
	if err := goInstall(ctx, dir, version, tags, bin); err != nil {
		return "", err
	}
	if err := checkBinary(ctx, bin, version, tags); err != nil {
		return "", fmt.Errorf("freshly built telegraf is unusable: %w", err)
	}
	return bin, nil
}

// goInstall builds into a private directory and renames the result into
// place, so a reader never sees a half-written binary even without the lock.
func goInstall(ctx context.Context, dir, version string, tags []string, bin string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("cannot build telegraf: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "install",
		"-tags", strings.Join(tags, ","),
		"github.com/influxdata/telegraf/cmd/telegraf@"+version)
	// Outside any module so the repository's go.mod, vendor dir or
	// workspace cannot change what gets built.
	cmd.Dir = tmp
	cmd.Env = append(buildcache.WithoutEnv(os.Environ(), "GOBIN", "GOFLAGS", "CGO_ENABLED", "GOOS", "GOARCH", "GOWORK"),
		"GOBIN="+tmp,
		"GOFLAGS=-buildvcs=false",
		"CGO_ENABLED=0",
		"GOWORK=off",
	)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	// The go command's children could keep the pipe open after a kill.
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	err = cmd.Run()
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (timed out after %v)", err, buildTimeout)
		}
		return fmt.Errorf("building telegraf %s with tags %q failed after %v: %w\n%s",
			version, strings.Join(tags, ","), time.Since(start).Round(time.Second), err, buildcache.Tail(out.Bytes(), maxBuildOutput))
	}
	if err := os.Rename(filepath.Join(tmp, "telegraf"), bin); err != nil {
		return fmt.Errorf("installing built telegraf: %w\n%s", err, buildcache.Tail(out.Bytes(), maxBuildOutput))
	}
	return nil
}

// checkBinary accepts a cached file only if its embedded build info says it
// is this Telegraf release built with exactly these tags (the release binary
// reports "Telegraf unknown" for `version`, since the version is normally
// set by Telegraf's Makefile), and only if it actually runs.
func checkBinary(ctx context.Context, bin, version string, tags []string) error {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return err
	}
	if info.Main.Path != "github.com/influxdata/telegraf" || info.Main.Version != version {
		return fmt.Errorf("%s is %s@%s, want github.com/influxdata/telegraf@%s", bin, info.Main.Path, info.Main.Version, version)
	}
	var built []string
	for _, s := range info.Settings {
		if s.Key == "-tags" {
			built = normalizeTags(strings.Split(s.Value, ","))
		}
	}
	if !slices.Equal(built, normalizeTags(tags)) {
		return fmt.Errorf("%s was built with tags %q, want %q", bin, built, normalizeTags(tags))
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "version").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s version: %w: %s", bin, err, out)
	}
	return nil
}
