package chrony_tracking

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
)

func TestInitRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*ChronyTracking)
		want   []string // substrings: the key and the value at fault
	}{
		{"bad scheme", func(p *ChronyTracking) { p.Server = "tcp://127.0.0.1:323" }, []string{"server", "tcp://127.0.0.1:323", "scheme"}},
		{"no scheme", func(p *ChronyTracking) { p.Server = "127.0.0.1" }, []string{"server", `"127.0.0.1"`}},
		{"path in udp", func(p *ChronyTracking) { p.Server = "udp://127.0.0.1:323/run/chrony" }, []string{"server", "udp://127.0.0.1:323/run/chrony", "no path"}},
		{"relative unix path", func(p *ChronyTracking) { p.Server = "unixgram://run/chrony/chronyd.sock" }, []string{"server", "unixgram://run/chrony/chronyd.sock"}},
		{"bad port", func(p *ChronyTracking) { p.Server = "udp://127.0.0.1:70000" }, []string{"server", "70000"}},
		{"bad entry in servers", func(p *ChronyTracking) { p.Servers = []string{"udp://a", "http://b"} }, []string{"servers[1]", "http://b"}},
		{"duplicate servers", func(p *ChronyTracking) { p.Servers = []string{"udp://127.0.0.1", "udp://127.0.0.1:323"} }, []string{"servers[1]", "servers[0]"}},
		{"server and servers", func(p *ChronyTracking) { p.Server = "udp://a"; p.Servers = []string{"udp://b"} }, []string{"server", "servers"}},
		{"zero timeout", func(p *ChronyTracking) { p.Timeout = 0 }, []string{"timeout", "0s", "at least 1ms"}},
		{"negative timeout", func(p *ChronyTracking) { p.Timeout = Duration(-time.Second) }, []string{"timeout", "-1s"}},
		{"too short timeout", func(p *ChronyTracking) { p.Timeout = Duration(time.Microsecond) }, []string{"timeout", "1µs"}},
		{"negative retries", func(p *ChronyTracking) { p.Retries = -1 }, []string{"retries", "-1"}},
		{"too many retries", func(p *ChronyTracking) { p.Retries = 31 }, []string{"retries", "31"}},
		{"zero max_in_flight", func(p *ChronyTracking) { p.MaxInFlight = 0 }, []string{"max_in_flight", "0"}},
		{"perms not octal", func(p *ChronyTracking) { p.SocketPerms = "0689" }, []string{"socket_perms", "0689"}},
		{"perms words", func(p *ChronyTracking) { p.SocketPerms = "rw-rw----" }, []string{"socket_perms", "rw-rw----"}},
		{"perms too wide", func(p *ChronyTracking) { p.SocketPerms = "4777" }, []string{"socket_perms", "4777"}},
		{"unknown group", func(p *ChronyTracking) { p.SocketGroup = "no-such-group-xyz" }, []string{"socket_group", "no-such-group-xyz", "_chrony"}},
		// The kernel's EINVAL for a path past sun_path would read as a
		// chronyd that is down.
		{"socket_dir too long", func(p *ChronyTracking) { p.SocketDir = "/" + strings.Repeat("d", 70) }, []string{"socket_dir", "71 bytes", "111 bytes", "107-byte limit"}},
		{"server path too long", func(p *ChronyTracking) { p.Server = "unixgram:///" + strings.Repeat("s", 120) }, []string{"server", "121 bytes", "107-byte limit"}},
		{"server's directory too long", func(p *ChronyTracking) {
			p.Servers = []string{"udp://[::1]", "unixgram:///" + strings.Repeat("d", 70) + "/chronyd.sock"}
		}, []string{"servers[1]", "up to 111 bytes", "107-byte limit", "set socket_dir"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New()
			tt.modify(p)
			err := p.Init()
			require.Error(t, err)
			var te *cmdmon.Error
			require.ErrorAs(t, err, &te)
			require.Equal(t, cmdmon.CodeConfigError, te.Code)
			require.True(t, strings.HasPrefix(err.Error(), "config_error: "+tt.want[0]+" = "), "%q names the key %s first", err, tt.want[0])
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
			require.Nil(t, p.targets, "a failed Init must not leave clients behind")
		})
	}
}

func TestInitAcceptsGoodOptions(t *testing.T) {
	tests := []struct {
		name    string
		modify  func(*ChronyTracking)
		targets []string
	}{
		{"defaults: chronyc's order", func(*ChronyTracking) {}, []string{autoLabel}},
		{"unix socket", func(p *ChronyTracking) { p.Server = "unixgram:///run/chrony/chronyd.sock" }, []string{"unixgram:///run/chrony/chronyd.sock"}},
		{"udp default port", func(p *ChronyTracking) { p.Server = "udp://127.0.0.1" }, []string{"udp://127.0.0.1:323"}},
		{"ipv6", func(p *ChronyTracking) { p.Server = "udp://[::1]:3323" }, []string{"udp://[::1]:3323"}},
		{"servers", func(p *ChronyTracking) { p.Servers = []string{"udp://127.0.0.1:1", "udp://127.0.0.1:2"} }, []string{"udp://127.0.0.1:1", "udp://127.0.0.1:2"}},
		{"zero retries", func(p *ChronyTracking) { p.Retries = 0 }, []string{autoLabel}},
		{"perms and numeric group", func(p *ChronyTracking) { p.SocketPerms = "0660"; p.SocketGroup = "0" }, []string{autoLabel}},
		{"perms with 0o", func(p *ChronyTracking) { p.SocketPerms = "0o666" }, []string{autoLabel}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New()
			tt.modify(p)
			require.NoError(t, p.Init())
			defer p.Stop()
			var labels []string
			for _, tg := range p.targets {
				labels = append(labels, tg.label())
			}
			require.Equal(t, tt.targets, labels)
		})
	}
}

func TestSampleConfigDocumentsEveryOption(t *testing.T) {
	sc := New().SampleConfig()
	for _, key := range []string{"server", "servers", "max_in_flight", "timeout", "retries",
		"socket_dir", "socket_group", "socket_perms", "dns_lookup"} {
		require.Contains(t, sc, "# "+key+" = ", key)
	}
}

// Resolve is the one step from options to what the plugin runs with: the
// client's settings with their defaults filled in, and the addresses.
func TestResolve(t *testing.T) {
	s, err := New().Options().Resolve()
	require.NoError(t, err)
	assert.Equal(t, Settings{
		Cmdmon:    cmdmon.Settings{Timeout: time.Second, Retries: 2, SocketMode: 0o666, SocketGID: -1},
		Addresses: cmdmon.DefaultAddresses, Auto: true, MaxInFlight: DefaultMaxInFlight,
		Metrics: []Kind{KindTracking},
	}, s)

	s, err = Options{Servers: []string{"udp://127.0.0.1", "unixgram:///run/x.sock"}, MaxInFlight: 2,
		Timeout: 50 * time.Millisecond, SocketGroup: "0", SocketDir: "/run/telegraf", DNSLookup: true}.Resolve()
	require.NoError(t, err)
	assert.Equal(t, Settings{
		Cmdmon: cmdmon.Settings{Timeout: 50 * time.Millisecond, SocketDir: "/run/telegraf",
			SocketMode: 0o660, SocketGroup: "0", SocketGID: 0},
		Addresses:   []cmdmon.Address{{Network: "udp", Host: "127.0.0.1", Port: 323}, {Network: "unixgram", Path: "/run/x.sock"}},
		MaxInFlight: 2, DNSLookup: true, Metrics: []Kind{KindTracking},
	}, s)
	assert.Equal(t, 50*time.Millisecond, s.Cmdmon.Bound(), "no retries: one wait")
}

// UnixSockets tells whether a poll may bind a client socket file: a
// unixgram server among those configured, or chronyc's defaults, whose
// first is chronyd's socket.
func TestUnixSockets(t *testing.T) {
	for _, tc := range []struct {
		name    string
		servers []string
		want    bool
	}{
		{"defaults", nil, true},
		{"udp only", []string{"udp://127.0.0.1:323", "udp://[::1]:323"}, false},
		{"a unix socket among them", []string{"udp://127.0.0.1:323", "unixgram:///run/chrony/chronyd.sock"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Options{Servers: tc.servers, MaxInFlight: 1, Timeout: time.Second, SocketPerms: "0666"}.Resolve()
			require.NoError(t, err)
			assert.Equal(t, tc.want, s.UnixSockets())
		})
	}
}
