package chronybuild

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/buildcache"
)

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		sign int
	}{
		{"3.4", "3.5.1", -1}, {"3.5.1", "4.0", -1}, {"4.2", "4.10", -1},
		{"4.6.1", "4.6", 1}, {"4.0", "4", 0}, {"4.8", "4.8", 0},
	} {
		got := CompareVersions(tc.a, tc.b)
		assert.Equal(t, tc.sign, sign(got), "%s vs %s: %d", tc.a, tc.b, got)
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func TestSources(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"chrony-4.10.tar.gz", "chrony-3.5.1.tar.gz", "chrony-4.2.tar.gz",
		"README.md", "chrony-x.tar.gz", "chrony-4.3.tar.bz2"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), nil, 0o644))
	}
	require.NoError(t, os.Symlink(filepath.Join(dir, "chrony-4.2.tar.gz"), filepath.Join(dir, "chrony-4.4.tar.gz")))
	require.NoError(t, os.Symlink(filepath.Join(dir, "missing"), filepath.Join(dir, "chrony-4.5.tar.gz")))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "chrony-4.6.tar.gz"), 0o755))
	srcs, err := Sources(dir)
	require.NoError(t, err)
	var got []string
	for _, s := range srcs {
		got = append(got, s.Version)
		assert.Equal(t, filepath.Join(dir, "chrony-"+s.Version+".tar.gz"), s.Path)
	}
	assert.Equal(t, []string{"3.5.1", "4.2", "4.4", "4.10"}, got, "sorted by release; a link to a tarball counts, a dangling link or a directory does not")

	_, err = Sources(t.TempDir())
	assert.ErrorContains(t, err, "no chrony-VERSION.tar.gz in")
	_, err = Sources(filepath.Join(dir, "missing"))
	assert.Error(t, err)
}

func TestFromEnv(t *testing.T) {
	t.Setenv(SrcEnv, "")
	dir, srcs, err := FromEnv()
	assert.Empty(t, dir)
	assert.Empty(t, srcs)
	assert.NoError(t, err)

	t.Setenv(SrcEnv, t.TempDir())
	_, _, err = FromEnv()
	assert.ErrorContains(t, err, "no chrony-VERSION.tar.gz", "a variable pointing at nothing is an error, not a skip")
}

// fakeRelease writes chrony-VERSION.tar.gz: a configure script and a
// Makefile that make chronyd and chronyc scripts printing the version as
// chrony's programs do, or a Makefile that fails when broken.
func fakeRelease(t *testing.T, dir, version string, broken bool) Source {
	t.Helper()
	prog := func(name string) string {
		return "#!/bin/sh\necho '" + name + " (chrony) version " + version + " (+CMDMON)'\n"
	}
	makefile := "all: chronyd chronyc\nchronyd chronyc:\n\tcp $@.in $@ && chmod 755 $@\n"
	if broken {
		makefile = "chronyd chronyc:\n\t@echo 'conf.c:1: error: something is wrong' >&2; exit 2\n"
	}
	files := map[string]string{
		"configure":  "#!/bin/sh\necho \"configured with $*\" > configured\n",
		"Makefile":   makefile,
		"chronyd.in": prog("chronyd"),
		"chronyc.in": prog("chronyc"),
	}
	path := filepath.Join(dir, "chrony-"+version+".tar.gz")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for name, body := range files {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: "chrony-" + version + "/" + name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}))
		_, err := tw.Write([]byte(body))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	return Source{Version: version, Path: path}
}

func freshCache(t *testing.T) string {
	t.Helper()
	if err := Tools(); err != nil {
		t.Skip(err)
	}
	cache := t.TempDir()
	t.Setenv(buildcache.Env, cache)
	memo = sync.Map{}
	t.Cleanup(func() { memo = sync.Map{} })
	return cache
}

// The first Ensure builds into the cache, a later run (a new process,
// simulated by forgetting the memo) takes the cached programs; a build
// failure names the release and keeps the others.
func TestEnsure(t *testing.T) {
	cache := freshCache(t)
	dir := t.TempDir()
	good := fakeRelease(t, dir, "9.1", false)
	bad := fakeRelease(t, dir, "9.2", true)

	builds := Ensure(context.Background(), []Source{good, bad})
	require.Len(t, builds, 2)
	require.NoError(t, builds[0].Err)
	assert.False(t, builds[0].Cached)
	assert.True(t, strings.HasPrefix(builds[0].Chronyd, filepath.Join(cache, "chrony", "9.1-")), builds[0].Chronyd)
	out, err := os.ReadFile(filepath.Join(filepath.Dir(builds[0].Chronyd), "build.log"))
	require.NoError(t, err)
	assert.Contains(t, string(out), "./configure "+strings.Join(configureFlags, " "))

	require.Error(t, builds[1].Err)
	for _, want := range []string{"chrony 9.2", "make failed", "conf.c:1: error: something is wrong", "build.log"} {
		assert.Contains(t, builds[1].Err.Error(), want)
	}

	memo = sync.Map{}
	again := Ensure(context.Background(), []Source{good})
	require.NoError(t, again[0].Err)
	assert.True(t, again[0].Cached, "second run takes the cached build")
	assert.Equal(t, builds[0].Chronyd, again[0].Chronyd)
}

// The cache is keyed by the tarball's content: the same release from a
// different tarball is built again, into its own directory; and a cached
// program that is not the release it is filed under is rebuilt.
func TestCacheKey(t *testing.T) {
	freshCache(t)
	a := fakeRelease(t, t.TempDir(), "9.3", false)
	b := fakeRelease(t, t.TempDir(), "9.3", false)
	require.NoError(t, os.WriteFile(b.Path, append(mustRead(t, b.Path), 0), 0o644)) // same files, other bytes
	da, err := CacheDir(a)
	require.NoError(t, err)
	db, err := CacheDir(b)
	require.NoError(t, err)
	assert.NotEqual(t, da, db)

	first := Ensure(context.Background(), []Source{a})[0]
	require.NoError(t, first.Err)
	require.NoError(t, os.WriteFile(first.Chronyd, []byte("#!/bin/sh\necho 'chronyd (chrony) version 1.0'\n"), 0o755))
	memo = sync.Map{}
	again := Ensure(context.Background(), []Source{a})[0]
	require.NoError(t, again.Err)
	assert.False(t, again.Cached, "a cached chronyd of another release is rebuilt")
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// TestReleasesBuild builds (or finds in the cache) every release in
// SrcEnv. `make test` runs it alone before the other tests, so that a cold
// cache is filled while nothing timing-sensitive runs beside it; there it
// prints how long each release took.
func TestReleasesBuild(t *testing.T) {
	dir, srcs, err := FromEnv()
	if dir == "" {
		t.Skipf("%s is not set", SrcEnv)
	}
	require.NoError(t, err)
	start := time.Now()
	for _, b := range Ensure(context.Background(), srcs) {
		if !assert.NoError(t, b.Err) {
			continue
		}
		how := "built"
		if b.Cached {
			how = "cached"
		}
		t.Logf("chrony %s: %s in %v", b.Version, how, b.Took.Round(time.Millisecond))
	}
	t.Logf("%d releases in %v", len(srcs), time.Since(start).Round(time.Millisecond))
}
