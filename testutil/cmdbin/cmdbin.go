// Package cmdbin builds the telegraf-chrony command once per test binary,
// as a user would (go build ./cmd/telegraf-chrony in this repository's root
// module), for tests that run it as a process: under a Telegraf agent, with
// --once, or as another user. The build runs in the root module even when
// the test belongs to the test wing's module (test/), so the binary under
// test is built with the dependencies that ship, not with the test wing's.
package cmdbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

const pkg = "github.com/telegraf-chrony/telegraf-chrony/cmd/telegraf-chrony"

var (
	once sync.Once
	path string
	err  error
)

// Path returns the built binary, building it on first use. Its directory
// is 0755 so that tests may run it as an unprivileged user.
func Path(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		var dir string
		if dir, err = os.MkdirTemp("", "telegraf-chrony-bin"); err != nil {
			return
		}
		if err = os.Chmod(dir, 0o755); err != nil {
			return
		}
		path = filepath.Join(dir, "telegraf-chrony")
		build := exec.Command("go", "build", "-o", path, pkg)
		build.Dir = rootModule()
		if out, berr := build.CombinedOutput(); berr != nil {
			err = fmt.Errorf("go build %s: %v\n%s", pkg, berr, out)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// rootModule is the root module's directory: two levels above this file,
// which the test wing's module reaches through its replace directive.
func rootModule() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Remove deletes what Path built; call it from TestMain after m.Run.
func Remove() {
	if path != "" {
		os.RemoveAll(filepath.Dir(path))
	}
}
