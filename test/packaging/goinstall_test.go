package packaging

import (
	"archive/zip"
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/labenv"
)

const module = "github.com/telegraf-chrony/telegraf-chrony"

// `go install module/cmd/telegraf-chrony@VERSION` builds a binary whose
// --version names that version (and, for a pseudo-version, its commit)
// from the build info, not "devel". The module is served from a local
// proxy directory, as the Go module proxy would serve a published version;
// its dependencies come from this machine's module cache.
func TestGoInstallVersion(t *testing.T) {
	files, head := checkout(t)
	proxy := t.TempDir()
	pseudo := "v0.0.0-20261129085840-" + head[:12]
	for _, tc := range []struct{ version, commit string }{
		{pseudo, head[:12]},
		{"v1.2.3", "unknown"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			publish(t, proxy, tc.version, files)
			bin := goInstall(t, proxy, tc.version)
			out, err := exec.Command(bin, "--version").Output()
			require.NoError(t, err)
			lines := strings.Split(string(out), "\n")
			require.Equal(t, "telegraf-chrony "+tc.version, lines[0])
			require.Equal(t, "commit:   "+tc.commit, lines[1])
			require.Regexp(t, `^telegraf: v1\.\d+\.\d+$`, lines[3])
		})
	}
}

// checkout lists the files a published version of the module would hold
// (git's, without nested modules such as tools/dist) and the commit.
func checkout(t *testing.T) (files []string, head string) {
	t.Helper()
	root := "../.."
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	labenv.Need(t, "git checkout", err, "run in a git checkout of the module")
	all := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	var nested []string
	for _, f := range all {
		if path.Base(f) == "go.mod" && path.Dir(f) != "." {
			nested = append(nested, path.Dir(f)+"/")
		}
	}
	for _, f := range all {
		inNested := false
		for _, n := range nested {
			inNested = inNested || strings.HasPrefix(f, n)
		}
		if !inNested {
			files = append(files, f)
		}
	}
	rev, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	require.NoError(t, err)
	return files, strings.TrimSpace(string(rev))
}

// publish writes version of the module into a file-based module proxy:
// @v/list, .info, .mod and a .zip of the working tree's files.
func publish(t *testing.T, proxy, version string, files []string) {
	t.Helper()
	dir := filepath.Join(proxy, module, "@v")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	list, _ := os.ReadFile(filepath.Join(dir, "list"))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "list"), append(list, version+"\n"...), 0o644))
	info, err := json.Marshal(map[string]any{"Version": version, "Time": time.Date(2026, 11, 29, 8, 58, 40, 0, time.UTC)})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, version+".info"), info, 0o644))
	mod, err := os.ReadFile("../../go.mod")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, version+".mod"), mod, 0o644))

	zf, err := os.Create(filepath.Join(dir, version+".zip"))
	require.NoError(t, err)
	defer zf.Close()
	zw := zip.NewWriter(zf)
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("../..", f))
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		require.NoError(t, err)
		w, err := zw.Create(module + "@" + version + "/" + f)
		require.NoError(t, err)
		_, err = w.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
}

// goInstall runs go install ...@version against the proxy, in a module
// cache of its own (removed with the test) fed from this machine's.
func goInstall(t *testing.T, proxy, version string) string {
	t.Helper()
	cache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	require.NoError(t, err)
	gobin, modcache := t.TempDir(), t.TempDir()
	cmd := exec.Command("go", "install", module+"/cmd/telegraf-chrony@"+version)
	cmd.Dir = t.TempDir() // outside any module
	cmd.Env = append(os.Environ(),
		"GOPROXY=file://"+proxy+",file://"+filepath.Join(strings.TrimSpace(string(cache)), "cache", "download"),
		"GOMODCACHE="+modcache,
		"GOFLAGS=-modcacherw -trimpath", // -trimpath: the build cache of make dist serves
		"GOSUMDB=off",                   // the module is not in the checksum database
		"GOBIN="+gobin, "GOWORK=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0",
	)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go install: %s", out)
	return filepath.Join(gobin, "telegraf-chrony")
}
