package cmdmon

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in   string
		want Address
		err  string // substring of the error; "" = valid
	}{
		{"unixgram:///run/chrony/chronyd.sock", Address{Network: "unixgram", Path: "/run/chrony/chronyd.sock"}, ""},
		{"unix:///var/run/chrony/chronyd.sock", Address{Network: "unixgram", Path: "/var/run/chrony/chronyd.sock"}, ""},
		{"unixgram:///run//chrony/./chronyd.sock", Address{Network: "unixgram", Path: "/run/chrony/chronyd.sock"}, ""},
		{"udp://127.0.0.1", Address{Network: "udp", Host: "127.0.0.1", Port: 323}, ""},
		{"udp://127.0.0.1:10323", Address{Network: "udp", Host: "127.0.0.1", Port: 10323}, ""},
		{"udp://[::1]", Address{Network: "udp", Host: "::1", Port: 323}, ""},
		{"udp://[::1]:324", Address{Network: "udp", Host: "::1", Port: 324}, ""},
		{"udp://ntp1.example.com", Address{Network: "udp", Host: "ntp1.example.com", Port: 323}, ""},
		{"udp://ntp1.example.com/", Address{Network: "udp", Host: "ntp1.example.com", Port: 323}, ""},
		{"127.0.0.1:323", Address{}, "no scheme"},
		{"/run/chrony/chronyd.sock", Address{}, "no scheme"},
		{"unixgram:/tmp/x", Address{}, `"//" missing after "unixgram:". write "unixgram:///tmp/x"`},
		{"unix:tmp/x", Address{}, `"//" missing after "unix:". write "unix:///tmp/x"`},
		{"udp:127.0.0.1:323", Address{}, `"//" missing after "udp:". write "udp://127.0.0.1:323"`},
		{"UDP:/localhost", Address{}, `write "UDP://localhost"`},
		// The family is the host's: udp6://localhost dialled IPv4.
		{"udp6://localhost", Address{}, `scheme "udp6" is not supported`},
		{"udp4://127.0.0.1", Address{}, `scheme "udp4" is not supported`},
		{"udp6://[::1]", Address{}, `"udp://[::1]:323" for IPv6`},
		{"tcp://127.0.0.1:323", Address{}, `unknown scheme "tcp"`},
		{"unixgram://run/chrony/chronyd.sock", Address{}, "absolute path"},
		{"udp://127.0.0.1:323/run/chrony/chronyd.sock", Address{}, "no path"},
		{"udp://127.0.0.1:0", Address{}, "not 1..65535"},
		{"udp://127.0.0.1:70000", Address{}, "not 1..65535"},
		{"udp://127.0.0.1:", Address{}, "empty port"},
		{"udp://", Address{}, "no host"},
		{"udp://127.0.0.1?x=1", Address{}, "no path, query"},
		{"udp://%zz", Address{}, "invalid URL escape"},
		{"udp://::1", Address{}, "IPv6 addresses go in brackets"},
		{"unixgram:///%00", Address{}, "NUL byte"},
		{"unixgram:///run/chrony%25/a%20b.sock", Address{Network: "unixgram", Path: "/run/chrony%/a b.sock"}, ""},
		{"udp://fe80::1:323", Address{}, "IPv6 addresses go in brackets"},
		{"udp://ntp 1.example", Address{}, "invalid character"},
		{"udp://ntp$1.example", Address{}, "is not a host name"},
		{"udp://[fe80::1%25eth0]:323", Address{Network: "udp", Host: "fe80::1%eth0", Port: 323}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAddress(tt.in)
			if tt.err == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				again, err := ParseAddress(got.String())
				require.NoError(t, err)
				assert.Equal(t, got, again, "String() round-trips")
				return
			}
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrConfig))
			assert.Contains(t, err.Error(), tt.err)
			assert.Contains(t, err.Error(), tt.in)
		})
	}
}

func TestConfigResolve(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Config)
		err  string
	}{
		{"defaults", func(c *Config) {}, ""},
		{"zero timeout", func(c *Config) { c.Timeout = 0 }, "Timeout = 0s: must be at least 1ms"},
		{"negative timeout", func(c *Config) { c.Timeout = -1 }, "Timeout = -1ns"},
		{"retries -1", func(c *Config) { c.Retries = -1 }, "Retries = -1: out of range 0..30"},
		{"retries 31", func(c *Config) { c.Retries = 31 }, "Retries = 31"},
		{"retries 30", func(c *Config) { c.Retries = 30 }, ""},
		// timeout × (2^(retries+1) - 1) must fit a duration; both keys
		// are named, with their values and how far to lower each.
		{"bound past a duration", func(c *Config) { c.Timeout, c.Retries = 5*time.Second, 30 },
			"Timeout = 5s: with Config.Retries = 30 a request may wait Config.Timeout × (2^31 - 1), more than the 2562047h47m16.854775807s"},
		{"bound advice", func(c *Config) { c.Timeout, c.Retries = 5*time.Second, 30 }, "lower Config.Timeout to at most 4.294967298s, or Config.Retries to at most 29"},
		{"hours, one retry", func(c *Config) { c.Timeout, c.Retries = 1000000*time.Hour, 1 }, "or Config.Retries to at most 0"},
		{"hours, no retry", func(c *Config) { c.Timeout, c.Retries = 1000000*time.Hour, 0 }, ""},
		{"longest bound", func(c *Config) { c.Timeout, c.Retries = 4294967298*time.Nanosecond, 30 }, ""},
		// sun_path holds 107 bytes and a NUL; the client socket chain adds
		// up to 40 bytes to its directory.
		{"socket_dir at the limit", func(c *Config) { c.SocketDir = "/" + strings.Repeat("d", 66) }, ""},
		{"socket_dir too long", func(c *Config) { c.SocketDir = "/" + strings.Repeat("d", 67) },
			`SocketDir = "/ddd`},
		{"socket_dir length and limit", func(c *Config) { c.SocketDir = "/" + strings.Repeat("d", 67) },
			`: 68 bytes, and the client socket under it (/ddd`},
		{"socket_dir advice", func(c *Config) { c.SocketDir = "/" + strings.Repeat("d", 67) },
			"up to 108 bytes, over the 107-byte limit of a unix socket path (sun_path). use a directory of at most 67 bytes"},
		{"socket path too long", func(c *Config) { c.Address = "unixgram:///" + strings.Repeat("s", 107) },
			`Address = "unixgram:///sss`},
		{"socket path length", func(c *Config) { c.Address = "unixgram:///" + strings.Repeat("s", 107) },
			"the socket path is 108 bytes, over the 107-byte limit"},
		{"socket path at the limit", func(c *Config) {
			c.Address, c.SocketDir = "unixgram:///"+strings.Repeat("s", 106), "/run"
		}, ""},
		{"socket's directory too long", func(c *Config) { c.Address = "unixgram:///" + strings.Repeat("d", 67) + "/chronyd.sock" },
			"the client socket in its directory (/ddd"},
		{"socket's directory advice", func(c *Config) { c.Address = "unixgram:///" + strings.Repeat("d", 67) + "/chronyd.sock" },
			"would be up to 108 bytes, over the 107-byte limit of a unix socket path (sun_path). set Config.SocketDir"},
		{"socket's directory with socket_dir", func(c *Config) {
			c.Address, c.SocketDir = "unixgram:///"+strings.Repeat("d", 67)+"/chronyd.sock", "/run"
		}, ""},
		{"bad mode", func(c *Config) { c.SocketMode = 0o4777 }, "SocketMode = 04777: not permission bits"},
		{"unknown group", func(c *Config) { c.SocketGroup = "no-such-group-xyz" }, `SocketGroup = "no-such-group-xyz": no such group`},
		{"root group", func(c *Config) { c.SocketGroup = "root" }, ""},
		{"numeric group", func(c *Config) { c.SocketGroup = "0" }, ""},
		{"bad address", func(c *Config) { c.Address = "tcp://x" }, `config_error: Address = "tcp://x": unknown scheme "tcp"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			_, err := New(c)
			if tt.err == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrConfig))
			assert.Contains(t, err.Error(), tt.err)
		})
	}
}

func TestResolveDefaults(t *testing.T) {
	s, addrs, err := Config{Timeout: DefaultTimeout}.Resolve()
	require.NoError(t, err)
	assert.EqualValues(t, 0o666, s.SocketMode)
	assert.Equal(t, -1, s.SocketGID, "the socket's group is left alone")
	assert.Equal(t, DefaultAddresses, addrs, "no address: chronyc's order")
	s, addrs, err = Config{Address: "udp://[::1]", Timeout: DefaultTimeout, SocketGroup: "0"}.Resolve()
	require.NoError(t, err)
	assert.EqualValues(t, 0o660, s.SocketMode)
	assert.Equal(t, 0, s.SocketGID)
	assert.Equal(t, []Address{{Network: "udp", Host: "::1", Port: DefaultPort}}, addrs)
	s, _, err = Config{Timeout: DefaultTimeout, SocketGroup: "0", SocketMode: 0o600}.Resolve()
	require.NoError(t, err)
	assert.EqualValues(t, 0o600, s.SocketMode, "a mode given is kept")

	sock := DefaultAddresses[0]
	assert.Equal(t, "/run/chrony", s.SocketBase(sock), "no SocketDir: next to chronyd's socket")
	s.SocketDir = "/run/telegraf"
	assert.Equal(t, "/run/telegraf", s.SocketBase(sock))
}

func TestBound(t *testing.T) {
	c := DefaultConfig()
	assert.Equal(t, "7s", c.Bound().String(), "chronyc gives up after 1+2+4 s")
	s, _, err := c.Resolve()
	require.NoError(t, err)
	assert.Equal(t, c.Bound(), s.Bound())
	c.Retries = 0
	assert.Equal(t, "1s", c.Bound().String())
	// The widest bound, 2^31-1 first timeouts, is computed in 64 bits on
	// 32-bit ARM too.
	c = Config{Timeout: time.Millisecond, Retries: MaxRetries}
	assert.Equal(t, time.Duration(1<<31-1)*time.Millisecond, c.Bound())
}

// FuzzParseAddress: whatever a user writes as an address is refused with a
// config error, or parses to an address whose URL parses back to itself.
func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"unixgram:///run/chrony/chronyd.sock", "udp://127.0.0.1", "udp://[::1]:324",
		"udp://ntp1.example.com:323/", "unix:///x", "tcp://x", "udp://%zz", "127.0.0.1:323", "", "unixgram:/tmp/x", "udp6://[::1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddress(s)
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("%q: error of another kind: %v", s, err)
			}
			return
		}
		again, err := ParseAddress(a.String())
		if err != nil || again != a {
			t.Fatalf("%q parses to %+v, whose URL %q gives %+v, %v", s, a, a.String(), again, err)
		}
	})
}

func TestAddressLocal(t *testing.T) {
	for s, local := range map[string]bool{
		"unixgram:///run/chrony/chronyd.sock": true,
		"udp://127.0.0.1":                     true, "udp://127.0.0.53:323": true, "udp://[::1]": true,
		"udp://localhost": true, "udp://0.0.0.0": true, "udp://[::]": true,
		"udp://192.0.2.1": false, "udp://[2001:db8::1]": false, "udp://ntp1.example.com": false,
	} {
		a, err := ParseAddress(s)
		require.NoError(t, err)
		assert.Equal(t, local, a.Local(), s)
	}
}
