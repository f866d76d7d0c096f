package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/labenv"
)

// debEntry is one line of dpkg-deb --contents.
type debEntry struct {
	path  string // absolute
	dir   bool
	mode  string // as ls prints it
	owner string
}

// debContents lists a .deb's data archive.
func debContents(t *testing.T, file string) []debEntry {
	t.Helper()
	out, err := exec.Command("dpkg-deb", "--contents", file).Output()
	require.NoError(t, err)
	var entries []debEntry
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(l)
		require.Len(t, f, 6, "dpkg-deb --contents line %q", l)
		path := filepath.Clean(strings.TrimPrefix(f[5], "."))
		entries = append(entries, debEntry{path: path, dir: strings.HasPrefix(f[0], "d"), mode: f[0], owner: f[1]})
	}
	return entries
}

func needDpkgDeb(t *testing.T) {
	t.Helper()
	_, err := exec.LookPath("dpkg-deb")
	labenv.Need(t, "dpkg-deb", err, "run on Debian or Ubuntu (dpkg)")
}

// Each .deb holds the packaged files owned by root, its two /etc files as
// conffiles, and no maintainer script: installing it changes no user,
// group, service or chrony setting.
func TestDebContents(t *testing.T) {
	dir := distDir(t)
	needDpkgDeb(t)
	for _, tg := range targets {
		t.Run(tg.deb, func(t *testing.T) {
			file := one(t, dir, "telegraf-chrony_*_"+tg.deb+".deb")
			arch, err := exec.Command("dpkg-deb", "--field", file, "Architecture").Output()
			require.NoError(t, err)
			require.Equal(t, tg.deb, strings.TrimSpace(string(arch)))

			var files []string
			for _, e := range debContents(t, file) {
				require.Equal(t, "root/root", e.owner, e.path)
				if !e.dir {
					files = append(files, e.path)
				}
				want := "-rw-r--r--"
				switch {
				case e.dir:
					want = "drwxr-xr-x"
				case e.path == "/usr/bin/telegraf-chrony":
					want = "-rwxr-xr-x"
				}
				require.Equal(t, want, e.mode, e.path)
			}
			require.Equal(t, packagedFiles, files)

			control := t.TempDir()
			require.NoError(t, exec.Command("dpkg-deb", "--control", file, control).Run())
			entries, err := os.ReadDir(control)
			require.NoError(t, err)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			require.Equal(t, []string{"conffiles", "control", "md5sums"}, names, "no preinst, postinst, prerm, postrm, triggers")
			conffiles, err := os.ReadFile(filepath.Join(control, "conffiles"))
			require.NoError(t, err)
			require.Equal(t, strings.Join(confFiles, "\n")+"\n", string(conffiles))
		})
	}
}
