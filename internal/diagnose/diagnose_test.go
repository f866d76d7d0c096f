package diagnose

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	"github.com/telegraf-chrony/telegraf-chrony/cmdmon/fsperm"
	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
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
		// Joining root's group is no advice, nor a group the mode gives nothing.
		{name: "injected uid, dir 0750 of root: cannot reach chronyd's socket", mode: 0o750, self: alice,
			plan:      func(d string) socketPlan { return socketPlan{base: d, mode: 0o666, gid: 1000} },
			wantLevel: []Level{Fail, Fail, Fail}, wantMsg: "alice cannot search (x) the directory", wantFix: "run as root or as chronyd's user, or use udp://127.0.0.1:323"},
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
				assert.NotContains(t, strings.Join(fixes, "\n"), "'s group (root)")
			}
		})
	}
}

func TestSecurity(t *testing.T) {
	unix := cmdmon.Address{Network: "unixgram", Path: "/run/chrony/chronyd.sock"}
	timeout := &cmdmon.Error{Code: cmdmon.CodeTimeout, Msg: "no reply"}
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
			d := &diagnosis{host: &host{sys: sys}, targets: []cmdmon.Address{unix}, probes: []probe{{addr: unix, err: tc.err}}}
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

// TestAutoOrder: in chronyc's order an absent address is no failure when
// the plugin's own client moves on to one that answers, and one after it
// is not used; the client, not the diagnosis, makes that choice. With
// explicit servers every failure is one.
func TestAutoOrder(t *testing.T) {
	answers := fakechronyd.StartUDP(t, fakechronyd.Reply(fakechronyd.SyncedIPv4()))
	silent := fakechronyd.StartUDP(t, fakechronyd.Silence())
	absent := "unixgram://" + filepath.Join(t.TempDir(), "chronyd.sock")
	opts := fast(t, absent, answers.URL(), silent.URL())
	opts.Settings.Auto = true // chronyc's order, over these addresses
	r := diagnose(t.Context(), opts, &host{proc: t.TempDir(), sys: t.TempDir()})
	assertFindings(t, r, []want{
		{Info, "address", []string{absent, "socket does not exist", "not needed: the plugin moves on to " + answers.URL()}, nil},
		{Info, "tracking", []string{silent.URL(), "timeout", "not used: the plugin stops at " + answers.URL()}, nil},
		{OK, "tracking", []string{answers.URL(), "answers tracking"}, nil},
		{OK, "sync", []string{answers.URL(), "synchronised"}, nil},
	})

	opts.Settings.Auto = false
	r = diagnose(t.Context(), opts, &host{proc: t.TempDir(), sys: t.TempDir()})
	assertFindings(t, r, []want{
		{Fail, "address", []string{absent, "socket does not exist"}, nil},
		{Fail, "tracking", []string{silent.URL(), "timeout"}, nil},
	})
}

// The config line is the plugin's verdict: what the options resolved to,
// or the key and value at fault, with the checks then run on the defaults.
func TestConfigFindings(t *testing.T) {
	noHost := func() *host { return &host{proc: t.TempDir(), sys: t.TempDir()} }
	defaults, err := ct.New().Options().Resolve()
	require.NoError(t, err)
	r := diagnose(t.Context(), Options{Settings: defaults, Source: "no --config: the plugin's defaults", Snippet: "[[inputs.execd]]\n  command = [\"x\"]"}, noHost())
	assertFindings(t, r, []want{
		{OK, "config", []string{"no --config: the plugin's defaults: addresses unixgram:///run/chrony/chronyd.sock, udp://127.0.0.1:323, udp://[::1]:323 (chronyc's order)",
			"; metrics tracking; timeout 1s, retries 2 (a request gives up after 7s)", "client socket under /run/chrony, mode 0666"}, nil},
	})

	bad := ct.New().Options()
	bad.Timeout = -time.Second
	_, err = bad.Resolve()
	require.Error(t, err)
	r = diagnose(t.Context(), Options{Settings: defaults, ConfigErr: err, Snippet: "[[inputs.execd]]\n  command = [\"x\"]"}, noHost())
	assertFindings(t, r, []want{
		{Fail, "config", []string{"timeout = -1s: must be at least 1ms"}, []string{`"1s"`, "the checks below use the plugin's defaults"}},
		{Fail, "chronyd", []string{"no chronyd process is running"}, nil},
	})
	assert.Len(t, r.Find("config"), 1, "one verdict")
	var b bytes.Buffer
	r.Write(&b)
	assert.Contains(t, b.String(), "telegraf.conf:\n[[inputs.execd]]\n  command = [\"x\"]\n")
	assert.False(t, r.OK())

	r = diagnose(t.Context(), Options{Settings: defaults, ConfigErr: errors.New("/etc/x.conf: toml: line 3: invalid")}, noHost())
	assertFindings(t, r, []want{{Fail, "config", []string{"/etc/x.conf: toml: line 3"}, nil}})
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

// Two chronyd bound to one socket path: the later started removed the
// earlier one's file and answers there. Every line of the report names
// that one, and a warning names the other, which answers nobody there.
func TestTwoChronydOneSocket(t *testing.T) {
	procDir := t.TempDir()
	sock := filepath.Join(t.TempDir(), "chronyd.sock")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	require.NoError(t, err)
	defer l.Close()
	require.NoError(t, os.MkdirAll(filepath.Join(procDir, "net"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(procDir, "net", "unix"), []byte(
		"Num       RefCount Protocol Flags    Type St Inode Path\n"+
			"0000000000000000: 00000002 00000000 00000000 0002 01 9001 "+sock+"\n"+
			"0000000000000000: 00000002 00000000 00000000 0002 01 9002 "+sock+"\n"), 0o644))
	// pid 300 started first (tick 500), pid 200 later (tick 900); the
	// order of pids must not decide.
	for pid, p := range map[string]struct{ inode, start string }{"300": {"9001", "500"}, "200": {"9002", "900"}} {
		dir := filepath.Join(procDir, pid)
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "fd"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "comm"), []byte("chronyd\n"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "status"), []byte("Name:\tchronyd\nState:\tS (sleeping)\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n"), 0o644))
		stat := pid + " (chronyd) S" + strings.Repeat(" 0", 18) + " " + p.start + " 0 0\n"
		require.NoError(t, os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644))
		require.NoError(t, os.Symlink("socket:["+p.inode+"]", filepath.Join(dir, "fd", "5")))
	}
	procs := (&host{proc: procDir, sys: t.TempDir()}).chronyds()
	require.Len(t, procs, 2)
	a := cmdmon.Address{Network: "unixgram", Path: sock}
	d := &diagnosis{host: &host{proc: procDir, sys: t.TempDir()}, procs: procs, targets: []cmdmon.Address{a},
		probes: []probe{{addr: a}}}
	d.checkExists(a, Fail, "")
	d.checkProtocol()
	r := &Result{Findings: d.findings}
	assertFindings(t, r, []want{
		{OK, "address", []string{a.String(), "socket exists", "bound by chronyd pid 200"}, nil},
		{Warn, "address", []string{"chronyd pid 300 bound it too, but chronyd pid 200, started later, replaced the socket: pid 300 no longer answers there"}, []string{"bindcmdaddress"}},
		{OK, "protocol", []string{"(pid 200) at " + a.String()}, nil},
	})
	assert.Len(t, candidates(procs, nil), 1, "the path is probed once, as the chronyd that answers there")
}
