package diagnose

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking/tracking"
	"github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking/tracking/fsperm"
)

func TestAllowed(t *testing.T) {
	alice := creds{uid: 1000, gid: 1000}
	chrony := creds{uid: 102, gid: 105}
	tests := []struct {
		name string
		n    fsperm.Node
		c    creds
		want uint32
		ok   bool
	}{
		{"root passes everything", fsperm.Node{UID: 5, GID: 5, Mode: 0}, creds{uid: 0}, permW | permX, true},
		{"owner bits", fsperm.Node{UID: 1000, GID: 0, Mode: 0o700}, alice, permW | permX, true},
		{"owner bits only, not group", fsperm.Node{UID: 1000, GID: 1000, Mode: 0o070}, alice, permX, false},
		{"group bits", fsperm.Node{UID: 0, GID: 105, Mode: 0o750}, chrony, permX, true},
		{"group lacks w", fsperm.Node{UID: 0, GID: 105, Mode: 0o750}, chrony, permW, false},
		{"supplementary group", fsperm.Node{UID: 0, GID: 7, Mode: 0o770}, creds{uid: 9, gid: 9, groups: []int{7}}, permW, true},
		{"other bits", fsperm.Node{UID: 0, GID: 0, Mode: 0o711}, chrony, permX, true},
		{"other lacks x", fsperm.Node{UID: 0, GID: 0, Mode: 0o750}, chrony, permX, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.ok, allowed(tc.n, tc.c, tc.want))
		})
	}
}

// permDir makes a directory whose ancestors anyone can search, so that the
// only obstacle is the directory itself. As root it gives the directory to
// nobody, as a real foreign-owned directory would be.
func permDir(t *testing.T, mode os.FileMode, chownNobody bool) string {
	t.Helper()
	parent, err := os.MkdirTemp("/tmp", "diagnose-perm-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(parent) })
	require.NoError(t, os.Chmod(parent, 0o755))
	dir := filepath.Join(parent, "sockdir")
	require.NoError(t, os.Mkdir(dir, 0o700))
	if chownNobody {
		if os.Geteuid() != 0 {
			t.Skip("chown to nobody needs root; the injected-credential cases cover this")
		}
		require.NoError(t, os.Chown(dir, 65534, 65534))
	}
	require.NoError(t, os.Chmod(dir, mode))
	return dir
}

func TestCheckPerms(t *testing.T) {
	root := creds{uid: 0, gid: 0, name: "root"}
	alice := creds{uid: 1000, gid: 1000, name: "alice"}
	chronyd := creds{uid: 102, gid: 105, name: "_chrony", names: []string{"_chrony"}}
	tests := []struct {
		name      string
		mode      os.FileMode
		nobody    bool
		self      creds
		plan      func(dir string) socketPlan
		wantLevel []Level // levels of: reach chronyd's socket, create, chronyd writes back
		wantMsg   string  // in the first non-OK finding
		wantFix   string
	}{
		{name: "root, dir 0700 owned by nobody: chronyd cannot search it", mode: 0o700, nobody: true, self: root,
			plan:      func(d string) socketPlan { return socketPlan{base: d, mode: 0o666, gid: 0} },
			wantLevel: []Level{OK, OK, Fail}, wantMsg: "chronyd's user _chrony cannot search (x) the directory", wantFix: "chmod o+x"},
		{name: "unprivileged user, dir 0700 owned by nobody: cannot create", mode: 0o700, nobody: true, self: alice,
			plan:      func(d string) socketPlan { return socketPlan{base: d, mode: 0o666, gid: 1000} },
			wantLevel: []Level{Fail, Fail, Fail}, wantMsg: "alice cannot search (x) the directory", wantFix: "udp://127.0.0.1:323"},
		{name: "injected uid, dir 0700 of root: cannot create its socket", mode: 0o700, self: alice,
			plan:      func(d string) socketPlan { return socketPlan{base: d, mode: 0o666, gid: 1000} },
			wantLevel: []Level{Fail, Fail, Fail}, wantMsg: "alice cannot search (x) the directory", wantFix: "socket_dir"},
		{name: "socket 0660 in a group chronyd is not in", mode: 0o711, self: root,
			plan:      func(d string) socketPlan { return socketPlan{base: d, mode: 0o660, gid: 0} },
			wantLevel: []Level{OK, OK, Fail}, wantMsg: "cannot write a client socket root:root 0660", wantFix: "set socket_group to a group _chrony is in"},
		{name: "socket 0660 in chronyd's group", mode: 0o711, self: root,
			plan:      func(d string) socketPlan { return socketPlan{base: d, mode: 0o660, gid: 105} },
			wantLevel: []Level{OK, OK, OK}},
		{name: "socket 0666 in a 0711 directory", mode: 0o711, self: root,
			plan:      func(d string) socketPlan { return socketPlan{base: d, mode: 0o666, gid: 0} },
			wantLevel: []Level{OK, OK, OK}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := permDir(t, tc.mode, tc.nobody)
			sock := filepath.Join(dir, "chronyd.sock")
			require.NoError(t, os.WriteFile(sock, nil, 0o666)) // stands in for chronyd's socket
			if tc.nobody {
				require.NoError(t, os.Chown(sock, 65534, 65534))
			}
			fs := checkPerms(sock, tc.plan(dir), tc.self, chronyd, true)
			var levels []Level
			var bad *permFinding
			for i := range fs {
				levels = append(levels, fs[i].level)
				if bad == nil && fs[i].level != OK {
					bad = &fs[i]
				}
			}
			assert.Equal(t, tc.wantLevel, levels, "%+v", fs)
			if tc.wantMsg != "" {
				require.NotNil(t, bad)
				assert.Contains(t, bad.msg, tc.wantMsg)
				var fixes []string
				for _, f := range fs {
					fixes = append(fixes, f.fix)
				}
				assert.Contains(t, strings.Join(fixes, "\n"), tc.wantFix)
			}
		})
	}
}

func TestSecurity(t *testing.T) {
	unix := tracking.Address{Network: "unixgram", Path: "/run/chrony/chronyd.sock"}
	timeout := &tracking.Error{Code: tracking.CodeTimeout, Msg: "no reply"}
	tests := []struct {
		name  string
		files map[string]string
		err   error
		want  Level
		msg   string
	}{
		{"nothing enabled", nil, nil, OK, "neither SELinux nor AppArmor"},
		{"SELinux enforcing, unix socket fine", map[string]string{"fs/selinux/enforce": "1"}, nil, Info, "SELinux is enforcing (nothing"},
		{"SELinux enforcing, unix socket times out", map[string]string{"fs/selinux/enforce": "1"}, timeout, Warn, "SELinux is enforcing and unixgram:///run/chrony/chronyd.sock failed with timeout"},
		{"SELinux permissive", map[string]string{"fs/selinux/enforce": "0"}, timeout, Info, "permissive"},
		{"AppArmor chronyd profile enforcing, socket times out", map[string]string{
			"module/apparmor/parameters/enabled": "Y\n",
			"kernel/security/apparmor/profiles":  "/usr/sbin/chronyd (enforce)\nfoo (complain)\n",
		}, timeout, Warn, "AppArmor profile /usr/sbin/chronyd (enforce) and"},
		{"AppArmor without chronyd profile", map[string]string{
			"module/apparmor/parameters/enabled": "Y\n",
			"kernel/security/apparmor/profiles":  "foo (enforce)\n",
		}, timeout, Info, "no chronyd profile"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sys := t.TempDir()
			for name, body := range tc.files {
				require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(sys, name)), 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(sys, name), []byte(body), 0o644))
			}
			d := &diagnosis{host: &host{sys: sys}, targets: []tracking.Address{unix}, probes: []probe{{addr: unix, err: tc.err}}}
			d.checkSecurity()
			var got []string
			for _, f := range d.findings {
				got = append(got, f.Level.String()+" "+f.Msg)
				if f.Level == tc.want && strings.Contains(f.Msg, tc.msg) {
					return
				}
			}
			t.Errorf("want %s %q, got %q", tc.want, tc.msg, got)
		})
	}
}

// TestAutoOrder: in chronyc's order an absent unix socket is no failure
// when the next address answers; with explicit servers it is.
func TestAutoOrder(t *testing.T) {
	absent := &tracking.Error{Code: tracking.CodeUnavailable, Msg: "socket does not exist"}
	ps := []probe{
		{addr: tracking.DefaultAddresses[0], err: absent},
		{addr: tracking.DefaultAddresses[1]},
		{addr: tracking.DefaultAddresses[2], err: absent},
	}
	auto := &diagnosis{probes: ps, auto: true}
	assert.Equal(t, 1, auto.effective())
	l, why := auto.levelFor(0)
	assert.Equal(t, Info, l)
	assert.Contains(t, why, "moves on to udp://127.0.0.1:323")
	l, _ = auto.levelFor(2)
	assert.Equal(t, Info, l)
	l, _ = (&diagnosis{probes: ps}).levelFor(0)
	assert.Equal(t, Fail, l)

	timeout := &tracking.Error{Code: tracking.CodeTimeout}
	ps[0].err = timeout // the client stops at a timeout: the plugin fails
	l, _ = auto.levelFor(0)
	assert.Equal(t, Fail, l)
}

func TestConfigFindings(t *testing.T) {
	r := diagnose(t.Context(), Options{
		ConfigPath: "/etc/telegraf/telegraf-chrony.conf",
		ConfigErr:  errors.New("line 3: invalid TOML"),
		Servers:    []string{"tcp://x"},
	}, &host{proc: t.TempDir(), sys: t.TempDir()})
	assertFindings(t, r, []want{
		{Fail, "config", []string{"/etc/telegraf/telegraf-chrony.conf does not load", "line 3"}, nil},
		{Fail, "config", []string{`server "tcp://x"`, "unknown scheme"}, []string{"unixgram://"}},
	})
	var b bytes.Buffer
	r.Write(&b)
	assert.Contains(t, b.String(), `command = ["`)
	assert.Contains(t, b.String(), `"--config", "/etc/telegraf/telegraf-chrony.conf", "--poll_interval_disabled"]`)
	assert.Contains(t, b.String(), `signal = "STDIN"`)
	assert.Contains(t, b.String(), `"--poll_interval_disabled"]`)
	assert.Contains(t, b.String(), `data_format = "influx"`)
	assert.False(t, r.OK())

	r = diagnose(t.Context(), Options{SocketPerms: "0999", SocketGroup: "no-such-group-here"}, &host{proc: t.TempDir(), sys: t.TempDir()})
	assertFindings(t, r, []want{
		{Fail, "config", []string{`socket_perms = "0999"`}, nil},
		{Fail, "config", []string{"socket_group = no-such-group-here"}, []string{"_chrony"}},
	})
}

// A chronyd that has died but is not reaped yet (a zombie) answers
// nothing: it must not count as running.
func TestZombieChronydIsNotRunning(t *testing.T) {
	procDir := t.TempDir()
	for pid, state := range map[string]string{"101": "Z (zombie)", "102": "S (sleeping)"} {
		dir := filepath.Join(procDir, pid)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "comm"), []byte("chronyd\n"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "status"), []byte("Name:\tchronyd\nState:\t"+state+"\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n"), 0o644))
	}
	procs := (&host{proc: procDir, sys: t.TempDir()}).chronyds()
	require.Len(t, procs, 1)
	assert.Equal(t, 102, procs[0].pid)
}
