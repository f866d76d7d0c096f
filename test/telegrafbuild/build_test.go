package telegrafbuild

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/semver"

	"github.com/telegraf-chrony/telegraf-chrony/test/testutil/points"
	"github.com/telegraf-chrony/telegraf-chrony/test/testutil/telegrafagent"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/labenv"
)

// Telegraf built with the plugin inside changes its own go.mod only where
// the plugin needs more than that release has. For the newest release the
// tests use, which the root module is built against, nothing changes at
// all, go line included. An older release is raised no further than the
// newest release's build with the plugin names anywhere in its module graph
// (the plugin is built against that release's API and dependencies), and
// its go line no further than the root module's; the test logs each change.
// The plugin then gathers a correct point under `telegraf --test`.
func TestTelegrafWithPluginInside(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Telegraf twice: minutes on two cores")
	}
	chronylab.Require(t)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	ours, err := readGoMod(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	var newest map[string]string // the module graph of the newest build
	lab := chronylab.Start(t, chronylab.Options{})
	require.NoError(t, lab.WaitSynced(30*time.Second))

	for _, version := range telegrafagent.Versions {
		t.Run(version, func(t *testing.T) {
			res, err := Build(context.Background(), version, root, t.TempDir())
			labenv.Need(t, "telegrafbuild", err, "a Go toolchain and the Go module proxy are needed to build Telegraf")
			if version == telegrafagent.Version {
				require.Empty(t, changes(res.Before, res.After, Module), "the newest release's go.mod must not change")
				require.Equal(t, res.Before.Go, res.After.Go, "the newest release's go line must not change")
				newest, err = graphVersions(res.Tree)
				require.NoError(t, err)
			} else {
				require.NotNil(t, newest, "the newest release is built first")
				requireNoFurther(t, res, ours.Go, newest)
			}
			requireGathers(t, res.Binary, lab)
		})
	}
}

func requireNoFurther(t *testing.T, res Result, goLine string, newest map[string]string) {
	t.Helper()
	got := changes(res.Before, res.After, Module)
	slices.SortFunc(got, func(a, b change) int { return strings.Compare(a.Path, b.Path) })
	for _, c := range got {
		t.Logf("go.mod: %v (Telegraf %s with the plugin names %s)", c, telegrafagent.Version, newest[c.Path])
		require.True(t, semver.Compare(c.To, newest[c.Path]) <= 0, "the build raised %v past Telegraf %s's graph (%s)", c, telegrafagent.Version, newest[c.Path])
	}
	t.Logf("go.mod: %d requirements changed", len(got))
	if res.After.Go != res.Before.Go {
		t.Logf("go.mod: go %s -> %s (the root module's go line)", res.Before.Go, res.After.Go)
		require.Equal(t, goLine, res.After.Go, "the go line rose past the root module's")
	}
}

// requireGathers runs `telegraf --test` with [[inputs.chrony_tracking]]
// against the lab over UDP and compares the point with chronyc's view.
func requireGathers(t *testing.T, bin string, lab *chronylab.Lab) {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "telegraf.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf("[agent]\n  omit_hostname = true\n[[inputs.chrony_tracking]]\n  server = %q\n", lab.UDPURL())), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--config", conf, "--test").Output()
	require.NoError(t, err, "%s", out)
	var lp strings.Builder
	for _, line := range strings.Split(string(out), "\n") {
		if line, ok := strings.CutPrefix(line, "> "); ok {
			lp.WriteString(line + "\n")
		}
	}
	ms := points.Parse(t, lp.String())
	require.Len(t, ms, 1, "%s", out)
	require.Equal(t, "chrony_tracking", ms[0].Name())
	require.Equal(t, lab.UDPURL(), ms[0].Tags()["server"])
	tr, err := lab.Tracking()
	require.NoError(t, err)
	tr.RequireMetric(t, ms[0])
}
