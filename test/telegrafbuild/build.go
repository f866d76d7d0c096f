package telegrafbuild

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/buildcache"
)

// Module is this repository's root module, which Telegraf's build requires.
const Module = "github.com/telegraf-chrony/telegraf-chrony"

// Tags build a Telegraf with the plugin and the output its test reads.
var Tags = []string{"custom", "inputs.chrony_tracking", "outputs.file"}

// allFile is the file a packager adds beside Telegraf's own
// plugins/inputs/all/<name>.go files, in their form.
const allFile = `//go:build !custom || inputs || inputs.chrony_tracking

package all

import _ "` + Module + `/plugins/inputs/chrony_tracking" // register plugin
`

const (
	buildTimeout   = 15 * time.Minute
	maxBuildOutput = 16 << 10
)

// Result is a Telegraf built with the plugin inside, and its go.mod before
// and after the build.
type Result struct {
	Binary        string
	Tree          string // the source tree, its go.mod as the build left it
	Before, After goMod
}

// Build copies Telegraf version's source from the module cache into dir,
// adds the plugin as a packager would, and builds it with Tags, letting the
// go command update go.mod as it must (-mod=mod). root is this
// repository's root module directory.
func Build(ctx context.Context, version, root, dir string) (Result, error) {
	src, err := download(ctx, version)
	if err != nil {
		return Result{}, err
	}
	tree := filepath.Join(dir, "telegraf")
	if err := run(ctx, dir, "cp", "-R", src, tree); err != nil {
		return Result{}, err
	}
	// The module cache is read-only; the copy must be writable.
	if err := run(ctx, dir, "chmod", "-R", "u+w", tree); err != nil {
		return Result{}, err
	}
	if err := os.WriteFile(filepath.Join(tree, "plugins/inputs/all/chrony_tracking.go"), []byte(allFile), 0o644); err != nil {
		return Result{}, err
	}
	if err := run(ctx, tree, "go", "mod", "edit", "-require="+Module+"@v0.0.0", "-replace="+Module+"="+root); err != nil {
		return Result{}, err
	}
	res := Result{Binary: filepath.Join(dir, "telegraf-with-chrony_tracking"), Tree: tree}
	if res.Before, err = readGoMod(filepath.Join(tree, "go.mod")); err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	if err := run(ctx, tree, "go", "build", "-mod=mod", "-tags", strings.Join(Tags, ","), "-o", res.Binary, "./cmd/telegraf"); err != nil {
		return Result{}, err
	}
	res.After, err = readGoMod(filepath.Join(tree, "go.mod"))
	return res, err
}

// download returns the directory of Telegraf version's source in the
// module cache, fetching it first when needed.
func download(ctx context.Context, version string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", "github.com/influxdata/telegraf@"+version)
	cmd.Env = buildEnv()
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download telegraf@%s: %w", version, err)
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		return "", fmt.Errorf("go mod download telegraf@%s: no source directory (%v %s)", version, err, m.Error)
	}
	return m.Dir, nil
}

func run(ctx context.Context, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = buildEnv()
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, buildcache.Tail(out.Bytes(), maxBuildOutput))
	}
	return nil
}

// buildEnv builds as Telegraf's release does (static, no VCS stamp), with
// this machine's Go: a go line raised past it must fail, not fetch a newer
// toolchain and hide the rise.
func buildEnv() []string {
	return append(buildcache.WithoutEnv(os.Environ(), "GOFLAGS", "CGO_ENABLED", "GOOS", "GOARCH", "GOWORK", "GOTOOLCHAIN"),
		"GOFLAGS=-buildvcs=false", "CGO_ENABLED=0", "GOWORK=off", "GOTOOLCHAIN=local")
}
