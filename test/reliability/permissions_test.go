package reliability

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// Who the permission tests run as: nobody, with no supplementary group,
// or with labGID, a group number no account uses, standing for chronyd's
// group (_chrony on Debian). A bare number keeps /etc/group untouched.
const (
	nobodyUID = 65534
	nobodyGID = 65534
	labGID    = 64123
	otherGID  = 64124 // a group nobody is never in
)

// probeBinary copies this test binary where nobody can execute it (go
// test's build directory is private to root) and returns its path.
func probeBinary(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	dir := shortDir(t)
	require.NoError(t, os.Chmod(dir, 0o755))
	dst := filepath.Join(dir, "probe")
	in, err := os.Open(self)
	require.NoError(t, err)
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
	return dst
}

// runAs runs one probe as uid/gid with the given supplementary groups,
// through setpriv (util-linux), and returns what it saw.
func runAs(t *testing.T, bin string, groups []int, pc probeConfig) probeResult {
	t.Helper()
	raw, err := json.Marshal(pc)
	require.NoError(t, err)
	args := []string{"--reuid=" + strconv.Itoa(nobodyUID), "--regid=" + strconv.Itoa(nobodyGID)}
	if len(groups) == 0 {
		args = append(args, "--clear-groups")
	} else {
		gs := ""
		for i, g := range groups {
			if i > 0 {
				gs += ","
			}
			gs += strconv.Itoa(g)
		}
		args = append(args, "--groups="+gs)
	}
	cmd := exec.Command("setpriv", append(args, bin)...)
	// GORACE: a race-enabled binary otherwise sleeps 1 s at exit.
	cmd.Env = append(os.Environ(), probeEnv+"="+string(raw), "GORACE=atexit_sleep_ms=0")
	cmd.Dir = "/"
	out, err := cmd.Output()
	require.NoError(t, err, "probe: %s", out)
	var res probeResult
	require.NoError(t, json.Unmarshal(out, &res), "%s", out)
	require.Equal(t, nobodyUID, res.UID, "the probe runs unprivileged")
	return res
}

// TestPermissions runs the client as nobody against a chronyd run by root
// whose socket directory is 0750 (as /run/chrony is, owned by chronyd's
// user). What nobody cannot use is reported as permission_denied naming
// the path, its owner and group, and what to change; with the documented
// settings (socket_dir it owns, chronyd's group, socket_group; or the UDP
// port) it works.
func TestPermissions(t *testing.T) {
	requireRoot(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Fatalf("setpriv (util-linux) is needed: %v", err)
	}
	bin := probeBinary(t)
	lab := startLab(t)
	labDir := filepath.Dir(lab.SocketPath)
	own := shortDir(t) // a socket_dir nobody owns, as /run/telegraf would be
	require.NoError(t, os.Chown(own, nobodyUID, nobodyGID))
	rootOnly := shortDir(t) // a socket_dir nobody cannot write
	require.NoError(t, os.Chmod(rootOnly, 0o755))
	base := probeConfig{Address: lab.UnixURL(), Timeout: timing.LongTimeout, Retries: 1}
	with := func(f func(*probeConfig)) probeConfig { pc := base; f(&pc); return pc }

	type step struct {
		name   string
		groups []int
		setup  func() // changes to the lab, applied in order
		pc     probeConfig
		code   cmdmon.Code
		says   []string // substrings of error + hint
	}
	steps := []step{
		{name: "default socket_dir is chronyd's 0750 directory",
			pc: base, code: cmdmon.CodePermissionDenied,
			says: []string{"cannot create the client socket under " + labDir, "(root:root 0750)", "Config.SocketDir"}},
		{name: "socket_dir not writable",
			pc:   with(func(pc *probeConfig) { pc.SocketDir = rootOnly }),
			code: cmdmon.CodePermissionDenied,
			says: []string{"cannot create the client socket under " + rootOnly, "(root:root 0755)"}},
		{name: "own socket_dir, chronyd's directory closed",
			pc:   with(func(pc *probeConfig) { pc.SocketDir = own }),
			code: cmdmon.CodePermissionDenied,
			says: []string{"connect: permission denied", "user nobody cannot enter the directory " + labDir + " (root:root 0750)", "run as root or as chronyd's user"}},
		{name: "in chronyd's group, socket not group-writable",
			groups: []int{labGID},
			setup:  func() { require.NoError(t, os.Chown(labDir, 0, labGID)) },
			pc:     with(func(pc *probeConfig) { pc.SocketDir = own }),
			code:   cmdmon.CodePermissionDenied,
			says:   []string{"user nobody cannot write to the socket " + lab.SocketPath, "(root:root 0755)"}},
		{name: "documented: chronyd's group, own socket_dir",
			groups: []int{labGID},
			setup: func() {
				require.NoError(t, os.Chown(lab.SocketPath, 0, labGID))
				require.NoError(t, os.Chmod(lab.SocketPath, 0o770))
			},
			pc:   with(func(pc *probeConfig) { pc.SocketDir = own }),
			code: cmdmon.CodeSuccess},
		{name: "documented: plus socket_group",
			groups: []int{labGID},
			pc: with(func(pc *probeConfig) {
				pc.SocketDir, pc.SocketGroup = own, strconv.Itoa(labGID)
			}),
			code: cmdmon.CodeSuccess},
		// chown(2) to a group the caller is not in is EPERM: the message
		// must point at socket_group, not at socket_dir, which is fine.
		{name: "socket_group this user is not in",
			groups: []int{labGID},
			pc: with(func(pc *probeConfig) {
				pc.SocketDir, pc.SocketGroup = own, strconv.Itoa(otherGID)
			}),
			code: cmdmon.CodePermissionDenied,
			says: []string{"Config.SocketGroup", strconv.Itoa(otherGID)}},
		{name: "documented: UDP needs no permission",
			pc:   with(func(pc *probeConfig) { pc.Address = lab.UDPURL() }),
			code: cmdmon.CodeSuccess},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.setup != nil {
				s.setup()
			}
			res := runAs(t, bin, s.groups, s.pc)
			t.Logf("nobody groups=%v: %s in %v: %s", res.Groups, res.Code, res.Took, res.Error)
			require.Equal(t, s.code.String(), res.Code, "%s", res.Error)
			for _, want := range s.says {
				assert.Contains(t, res.Error, want)
			}
			if s.code != cmdmon.CodeSuccess {
				assert.Contains(t, res.Error, s.pc.Address, "the message names the address")
				timing.Before(t, res.Took, timing.LongTimeout, "refused at once, no wait")
			}
			assert.Zero(t, countChainsAny(own), "the probe left its socket chain behind")
		})
	}
}

// countChainsAny counts every telegraf-chrony.* entry under dir, whoever's.
func countChainsAny(dir string) int {
	m, _ := filepath.Glob(filepath.Join(dir, "telegraf-chrony.*"))
	return len(m)
}
