package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
)

func TestParseConfigRejects(t *testing.T) {
	tests := []struct {
		name string
		toml string
		want []string
	}{
		{"misspelt key", "[[inputs.chrony_tracking]]\ntimout = \"2s\"\n", []string{"inputs.chrony_tracking.timout"}},
		{"Telegraf-only key", "[[inputs.chrony_tracking]]\ninterval = \"10s\"\n", []string{"inputs.chrony_tracking.interval", "[[inputs.execd]]"}},
		{"agent table", "[agent]\ninterval = \"10s\"\n[[inputs.chrony_tracking]]\n", []string{"agent"}},
		{"other input", "[[inputs.chrony]]\n", []string{"inputs.chrony", "only"}},
		{"two tables", "[[inputs.chrony_tracking]]\n[[inputs.chrony_tracking]]\n", []string{"2 [[inputs.chrony_tracking]]", "servers"}},
		{"no table", "", []string{"no [[inputs.chrony_tracking]]"}},
		{"wrong type", "[[inputs.chrony_tracking]]\nretries = \"two\"\n", []string{"retries"}},
		{"bad duration", "[[inputs.chrony_tracking]]\ntimeout = \"soon\"\n", []string{"soon"}},
		{"not TOML", "[[inputs.chrony_tracking]\n", []string{"toml: line"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(tt.toml)
			require.Error(t, err)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestParseConfigReadsEveryOption(t *testing.T) {
	p, err := parseConfig(`[[inputs.chrony_tracking]]
  servers = ["udp://127.0.0.1:323", "udp://[::1]"]
  max_in_flight = 8
  timeout = "250ms"
  retries = 0
  socket_dir = "/run/telegraf"
  socket_group = "_chrony"
  socket_perms = "0660"
  dns_lookup = true
`)
	require.NoError(t, err)
	require.Equal(t, []string{"udp://127.0.0.1:323", "udp://[::1]"}, p.Servers)
	require.Equal(t, 8, p.MaxInFlight)
	require.Equal(t, 250*time.Millisecond, time.Duration(p.Timeout))
	require.Equal(t, 0, p.Retries)
	require.Equal(t, "/run/telegraf", p.SocketDir)
	require.Equal(t, "_chrony", p.SocketGroup)
	require.Equal(t, "0660", p.SocketPerms)
	require.True(t, p.DNSLookup)
}

// The shipped sample configs parse, and leave the defaults in place.
func TestSampleConfigsParse(t *testing.T) {
	for _, path := range []string{"../../sample.conf", "../../plugins/inputs/chrony_tracking/sample.conf"} {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		p, err := parseConfig(string(b))
		require.NoError(t, err, path)
		require.Equal(t, ct.New(), p, path)
	}
	top, _ := os.ReadFile("../../sample.conf")
	require.Equal(t, ct.New().SampleConfig(), string(top), "the top-level sample.conf is the plugin's")
}

func TestLoadConfigExpandsEnv(t *testing.T) {
	t.Setenv("CHRONY_ADDR", "udp://127.0.0.1:4323")
	path := filepath.Join(t.TempDir(), "c.conf")
	require.NoError(t, os.WriteFile(path, []byte("[[inputs.chrony_tracking]]\nserver = \"${CHRONY_ADDR}\"\n"), 0o600))
	p, err := loadConfig(path)
	require.NoError(t, err)
	require.Equal(t, "udp://127.0.0.1:4323", p.Server)
}
