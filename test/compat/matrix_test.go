package compat

import (
	"context"
	"flag"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/internal/diagnose"
	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronybuild"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/labenv"
)

var update = flag.Bool("update", false, "rewrite the README's chronyd versions table from this run")

// syncTimeout bounds the wait for a lab to synchronise (a second or two
// with the lab's 1/64 s polling).
const syncTimeout = 30 * time.Second

// row is one chronyd of the matrix: the installed one, or a release built
// from a tarball.
type row struct {
	release   string
	installed bool
	opts      chronylab.Options // the built programs; zero for the installed ones
	err       error             // why the release could not be built
}

// name is the row's subtest name: "4.8", or "4.3-installed".
func (r row) name() string {
	if r.installed {
		return r.release + "-installed"
	}
	return r.release
}

// installedRow is the installed chronyd, when there is one (a missing one
// is a skipped subtest, or a failed one under labenv.RequireEnv, as every
// lab test does).
func installedRow(t *testing.T) []row {
	if err := chronylab.Available(); err != nil {
		t.Run("installed", func(t *testing.T) {
			labenv.Need(t, "chronylab", err, "install Debian's chrony package (apt-get install chrony)")
		})
		return nil
	}
	v, err := chronylab.Version(chronylab.Options{})
	require.NoError(t, err)
	return []row{{release: v, installed: true}}
}

// builtRows are the releases in the directory chronybuild.SrcEnv names,
// built (or taken from the cache) first, at most one per core at a time.
// Without the variable there are none, and the test says how to get them.
func builtRows(t *testing.T) []row {
	dir, srcs, err := chronybuild.FromEnv()
	if dir == "" {
		t.Run("releases", func(t *testing.T) {
			t.Skipf("chrony releases not tested: set %s to a directory of chrony-VERSION.tar.gz (CI: ../shared/chrony-src beside the repository)", chronybuild.SrcEnv)
		})
		return nil
	}
	require.NoError(t, err, "%s=%s", chronybuild.SrcEnv, dir)
	start := time.Now()
	builds := chronybuild.Ensure(context.Background(), srcs)
	var out []row
	for _, b := range builds {
		how := "built"
		switch {
		case b.Err != nil:
			how = "failed to build"
		case b.Cached:
			how = "cached"
		}
		t.Logf("chrony %s: %s in %v", b.Version, how, b.Took.Round(time.Millisecond))
		out = append(out, row{release: b.Version, err: b.Err,
			opts: chronylab.Options{Chronyd: b.Chronyd, Chronyc: b.Chronyc}})
	}
	t.Logf("%d chrony releases ready in %v", len(builds), time.Since(start).Round(time.Millisecond))
	return out
}

// modes are the states of the daemon under test, in the table's order.
var modes = []chronylab.Mode{chronylab.Synced, chronylab.Unsynchronised, chronylab.LocalReference}

// transports are the client's two ways to chronyd, in the table's order.
var transports = []string{"unix", "udp"}

func url(lab *chronylab.Lab, transport string) string {
	if transport == "unix" {
		return lab.UnixURL()
	}
	return lab.UDPURL()
}

// TestMatrix runs every chronyd release against the client, the plugin and
// --diagnose, then checks (or with -update rewrites) the README's table.
func TestMatrix(t *testing.T) {
	rows := append(installedRow(t), builtRows(t)...)
	slices.SortStableFunc(rows, func(a, b row) int { return chronybuild.CompareVersions(a.release, b.release) })
	res := newResults()
	t.Run("chronyd", func(t *testing.T) {
		for _, r := range rows {
			res.add(r) // in the table's order
			t.Run(r.name(), func(t *testing.T) {
				t.Parallel()
				if r.err != nil {
					t.Fatal(r.err) // it names the release
				}
				for _, m := range modes {
					t.Run(m.String(), func(t *testing.T) { runMode(t, res, r, m) })
				}
			})
		}
	})
	t.Run("readme", func(t *testing.T) { checkReadme(t, res) })
}

// runMode checks one release in one state: the client and the plugin on
// each transport, and --diagnose on the synchronised lab.
func runMode(t *testing.T, res *results, r row, m chronylab.Mode) {
	opts := r.opts
	opts.Mode = m
	opts.AllSources = m == chronylab.Synced
	lab := chronylab.Start(t, opts)
	if m != chronylab.Unsynchronised {
		require.NoError(t, lab.WaitSynced(syncTimeout))
	}
	if opts.AllSources {
		_, err := lab.WaitAllSources(chronylab.SettleTimeout)
		require.NoError(t, err)
	}
	d := daemonUnderTest{lab: lab, release: r.release}
	for _, tr := range transports {
		ok := t.Run(tr, func(t *testing.T) {
			t.Run("client", func(t *testing.T) { checkClient(t, d, url(lab, tr)) })
			t.Run("plugin", func(t *testing.T) { checkPlugin(t, d, url(lab, tr)) })
		})
		res.set(r, cell{m, tr}, ok)
		for _, rep := range reports {
			ok := t.Run(tr+"/"+rep.name, func(t *testing.T) {
				t.Run("client", func(t *testing.T) { rep.client(t, d, url(lab, tr)) })
				t.Run("plugin", func(t *testing.T) { rep.plugin(t, d, url(lab, tr)) })
			})
			res.setReport(r, rep.name, cell{m, tr}, ok)
		}
	}
	if m == chronylab.Synced {
		res.setDiagnose(r, t.Run("diagnose", func(t *testing.T) { checkDiagnose(t, lab, r.release) }))
	}
}

// checkDiagnose runs --diagnose's checks against the lab and expects it to
// name the release of both of the lab's chronyds, and to say that the one
// under test speaks the client's protocol on both addresses.
func checkDiagnose(t *testing.T, lab *chronylab.Lab, release string) {
	o := ct.New().Options()
	// A loaded machine gets a retry.
	o.Servers, o.Timeout, o.Retries = []string{lab.UDPURL(), lab.UnixURL()}, time.Second, 1
	s, err := o.Resolve()
	require.NoError(t, err)
	// The error bound is not the point here, and right after synchronising
	// the root dispersion is still large.
	r := diagnose.Diagnose(context.Background(), diagnose.Options{Settings: s, MaxError: time.Hour})
	pid := strconv.Itoa(lab.PID())
	want := []struct{ check, msg string }{
		{"chronyd", "running: pid " + pid + " (chronyd " + release + ")"},
		{"chronyd", "running: pid " + strconv.Itoa(lab.ServerPID()) + " (chronyd " + release + ")"},
		{"protocol", "chronyd " + release + " (pid " + pid + ") at " + lab.UDPURL() + ", " + lab.UnixURL() +
			" speaks protocol version 6, as this client does"},
	}
	for _, w := range want {
		found := false
		for _, f := range r.Find(w.check) {
			found = found || (f.Level == diagnose.OK && strings.Contains(f.Msg, w.msg))
		}
		if !found {
			t.Errorf("no OK %s line containing %q in:\n%s", w.check, w.msg, findings(r))
		}
	}
	// The lab's silent source, falseticker and unresolved name are broken
	// on purpose: each is a WARN of its own, with a fix, and nothing else
	// is wrong.
	for _, f := range r.Findings {
		if f.Level == diagnose.Fail || f.Level == diagnose.Warn && !brokenOnPurpose(f) {
			t.Errorf("a lab with sources of every kind: %s %s %s\n%s", f.Level, f.Check, f.Msg, findings(r))
		}
	}
}

func brokenOnPurpose(f diagnose.Finding) bool {
	for _, what := range []string{"never answered", "is a falseticker", "never resolved", "not resolved yet"} {
		if strings.Contains(f.Msg, what) && f.Fix != "" {
			return true
		}
	}
	return false
}
