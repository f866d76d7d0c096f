package diagnose

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRelease(t *testing.T) {
	for line, want := range map[string]string{
		"chronyd (chrony) version 4.8 (+CMDMON +NTP +REFCLOCK)":   "4.8",
		"chronyd (chrony) version 3.5.1 (+CMDMON +NTP -PRIVDROP)": "3.5.1",
		"chronyd (chrony) version 4.3":                            "4.3",
		"chronyd: invalid option -- 'v'":                          "",
		"":                                                        "",
	} {
		assert.Equal(t, want, release(line), line)
	}
}

// fakeProc is a /proc with one process, pid 42, whose exe link points at
// a script that prints a chronyd -v line. The script's directory has mode
// dirMode, and ancestors only root or this user can change.
func fakeProc(t *testing.T, name string, dirMode, fileMode os.FileMode) (*host, string) {
	t.Helper()
	bin := permDir(t, 0o755, false)
	exe := filepath.Join(bin, name)
	require.NoError(t, os.WriteFile(exe, []byte("#!/bin/sh\necho 'chronyd (chrony) version 9.1.2 (+CMDMON)'\n"), 0o755))
	require.NoError(t, os.Chmod(exe, fileMode))
	require.NoError(t, os.Chmod(bin, dirMode))

	proc := t.TempDir()
	pid := filepath.Join(proc, "42")
	require.NoError(t, os.Mkdir(pid, 0o755))
	require.NoError(t, os.Symlink(exe, filepath.Join(pid, "exe")))
	h := newHost()
	h.proc = proc
	return h, exe
}

func TestRunningRelease(t *testing.T) {
	tests := []struct {
		name              string
		file              string
		dirMode, fileMode os.FileMode
		want, why         string
	}{
		{"safe chronyd", "chronyd", 0o755, 0o755, "9.1.2", ""},
		{"not named chronyd", "evil", 0o755, 0o755, "", "not chronyd"},
		{"program writable by others", "chronyd", 0o755, 0o757, "", "could be changed by another user"},
		{"directory writable by its group", "chronyd", 0o775, 0o755, "", "could be changed by another user"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, exe := fakeProc(t, tc.file, tc.dirMode, tc.fileMode)
			rel, why := h.runningRelease(42)
			assert.Equal(t, tc.want, rel)
			assert.Contains(t, why, tc.why)
			if tc.why != "" {
				assert.True(t, strings.Contains(why, exe) || strings.Contains(why, filepath.Dir(exe)), "names the path: %s", why)
			}
		})
	}
}

// A process whose exe link is unreadable is named by the absolute path it
// was started as; a relative one cannot be trusted to be the same file.
func TestRunningReleaseFromCmdline(t *testing.T) {
	h, exe := fakeProc(t, "chronyd", 0o755, 0o755)
	pid := filepath.Join(h.proc, "42")
	require.NoError(t, os.Remove(filepath.Join(pid, "exe")))

	require.NoError(t, os.WriteFile(filepath.Join(pid, "cmdline"), []byte(exe+"\x00-f\x00/etc/chrony.conf\x00"), 0o644))
	rel, why := h.runningRelease(42)
	assert.Equal(t, "9.1.2", rel, why)

	require.NoError(t, os.WriteFile(filepath.Join(pid, "cmdline"), []byte("chronyd\x00-d\x00"), 0o644))
	rel, why = h.runningRelease(42)
	assert.Empty(t, rel)
	assert.Contains(t, why, "cannot read "+pid+"/exe")
}
