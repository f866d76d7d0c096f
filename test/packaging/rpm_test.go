package packaging

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/labenv"
)

// rpmQuery runs rpm -qp on an .rpm file.
func rpmQuery(t *testing.T, file string, args ...string) string {
	t.Helper()
	out, err := exec.Command("rpm", append(append([]string{"-qp"}, args...), file)...).CombinedOutput()
	require.NoError(t, err, "rpm -qp %s: %s", strings.Join(args, " "), out)
	return string(out)
}

// Each .rpm holds the same files as the .deb, the two under /etc as
// %config(noreplace), and no scriptlet at all.
func TestRPM(t *testing.T) {
	dir := distDir(t)
	_, err := exec.LookPath("rpm")
	labenv.Need(t, "rpm", err, "apt-get install rpm (make deps does)")
	for _, tg := range targets {
		t.Run(tg.rpm, func(t *testing.T) {
			file := one(t, dir, "telegraf-chrony-*."+tg.rpm+".rpm")
			require.Equal(t, "telegraf-chrony "+tg.rpm, rpmQuery(t, file, "--qf", "%{NAME} %{ARCH}"))
			require.Equal(t, packagedFiles, regularFiles(t, file), "rpm -qpl, directories aside")
			require.Empty(t, strings.TrimSpace(rpmQuery(t, file, "--scripts")), "no scriptlets")
			require.Empty(t, strings.TrimSpace(rpmQuery(t, file, "--triggers")), "no triggers")
			flags := rpmQuery(t, file, "--qf", `[%{FILEFLAGS:fflags} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]`)
			for _, f := range confFiles {
				require.Contains(t, flags, "cn root:root "+f+"\n", "config(noreplace)")
			}
		})
	}
}

// regularFiles lists an rpm's files without its directories (an rpm lists
// the directories it owns; a deb every parent).
func regularFiles(t *testing.T, file string) []string {
	t.Helper()
	var files []string
	modes := rpmQuery(t, file, "--qf", `[%{FILEMODES:perms} %{FILENAMES}\n]`)
	for _, l := range strings.Split(strings.TrimSpace(modes), "\n") {
		perms, name, _ := strings.Cut(l, " ")
		if !strings.HasPrefix(perms, "d") {
			files = append(files, name)
		}
	}
	listed := strings.Fields(rpmQuery(t, file, "-l"))
	for _, f := range files {
		require.Contains(t, listed, filepath.Clean(f))
	}
	return files
}
