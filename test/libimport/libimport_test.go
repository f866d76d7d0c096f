// Package libimport checks what a Go program that imports the library
// (cmdmon) takes on: a module of its own, outside this repository, made
// and tidied the way a user makes one.
package libimport

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
)

const module = "github.com/telegraf-chrony/telegraf-chrony"

// program asks chronyd for tracking through the library, as the README's
// example does, and prints the reference ID.
const program = `package main

import (
	"context"
	"fmt"
	"os"

	"` + module + `/cmdmon"
)

func main() {
	cfg := cmdmon.DefaultConfig()
	cfg.Address = os.Args[1]
	client, err := cmdmon.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer client.Close()
	report, err := client.Tracking(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(report.RefIDHex())
}
`

// A program importing cmdmon requires, after go mod tidy, only the modules
// whose packages cmdmon imports (and this repository's), each at the
// version the root go.mod asks for, no newer; and it works.
func TestProgramImportingTheLibrary(t *testing.T) {
	chronylab.Require(t)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(program), 0o644))
	goCmd(t, dir, "mod", "init", "example.com/chronywatch")
	goCmd(t, dir, "mod", "edit", "-require="+module+"@v0.0.0", "-replace="+module+"="+root)
	goCmd(t, dir, "mod", "tidy")

	got := requirements(t, dir)
	ours := requirements(t, root)
	want := map[string]bool{module: true}
	for _, m := range strings.Fields(goCmd(t, dir, "list", "-deps", "-f", "{{with .Module}}{{if not .Main}}{{.Path}}{{end}}{{end}}", ".")) {
		want[m] = true
	}
	t.Logf("the program's go.mod: %v", got)
	for path, version := range got {
		require.True(t, want[path], "%s %s is required, but no package of it is built", path, version)
		if path != module {
			require.Equal(t, ours[path], version, "%s: the root module asks for %s", path, ours[path])
		}
	}
	for path := range want {
		require.Contains(t, got, path)
	}

	lab := chronylab.Start(t, chronylab.Options{})
	require.NoError(t, lab.WaitSynced(30*time.Second))
	bin := filepath.Join(dir, "chronywatch")
	goCmd(t, dir, "build", "-o", bin, ".")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, lab.UDPURL()).CombinedOutput()
	require.NoError(t, err, "%s", out)
	tr, err := lab.Tracking()
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("%08X", tr.RefID), strings.TrimSpace(string(out)))
}

// requirements reads dir's go.mod as the go command does.
func requirements(t *testing.T, dir string) map[string]string {
	t.Helper()
	var f struct {
		Require []struct{ Path, Version string }
	}
	require.NoError(t, json.Unmarshal([]byte(goCmd(t, dir, "mod", "edit", "-json")), &f))
	out := map[string]string{}
	for _, r := range f.Require {
		out[r.Path] = r.Version
	}
	return out
}

func goCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=", "GOTOOLCHAIN=local")
	out, err := cmd.Output()
	var stderr string
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = string(ee.Stderr)
	}
	require.NoError(t, err, "go %s: %s", strings.Join(args, " "), stderr)
	return string(out)
}
