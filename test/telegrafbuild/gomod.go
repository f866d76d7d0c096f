package telegrafbuild

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"

	"golang.org/x/mod/semver"
)

// goMod is what a go.mod says: its go line and each requirement's version.
type goMod struct {
	Go      string
	Require map[string]string
}

// readGoMod reads a go.mod as the go command does (go mod edit -json).
func readGoMod(path string) (goMod, error) {
	out, err := exec.Command("go", "mod", "edit", "-json", path).Output()
	if err != nil {
		return goMod{}, fmt.Errorf("go mod edit -json %s: %w", path, err)
	}
	var f struct {
		Go      string
		Require []struct{ Path, Version string }
	}
	if err := json.Unmarshal(out, &f); err != nil {
		return goMod{}, fmt.Errorf("reading %s: %w", path, err)
	}
	m := goMod{Go: f.Go, Require: map[string]string{}}
	for _, r := range f.Require {
		m.Require[r.Path] = r.Version
	}
	return m, nil
}

// graphVersions is the newest version of each module that the root
// module's requirement graph in dir names anywhere (go mod graph): the
// most that adding the root module to another build can raise it to.
func graphVersions(dir string) (map[string]string, error) {
	cmd := exec.Command("go", "mod", "graph")
	cmd.Dir = dir
	cmd.Env = buildEnv()
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go mod graph in %s: %w", dir, err)
	}
	newest := map[string]string{}
	for _, mod := range strings.Fields(string(out)) {
		path, version, ok := strings.Cut(mod, "@")
		if ok && semver.Compare(version, newest[path]) > 0 {
			newest[path] = version
		}
	}
	return newest, nil
}

// change is one requirement the build wrote differently: From is empty for
// a requirement it added.
type change struct {
	Path, From, To string
}

func (c change) String() string {
	if c.From == "" {
		return fmt.Sprintf("%s added at %s", c.Path, c.To)
	}
	return fmt.Sprintf("%s %s -> %s", c.Path, c.From, c.To)
}

// changes lists the requirements of after that before did not have at
// that version, leaving out the module named skip.
func changes(before, after goMod, skip string) []change {
	var out []change
	for path, to := range after.Require {
		if path != skip && before.Require[path] != to {
			out = append(out, change{Path: path, From: before.Require[path], To: to})
		}
	}
	return out
}
