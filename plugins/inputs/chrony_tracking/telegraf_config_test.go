package chrony_tracking_test

import (
	"testing"
	"time"

	"github.com/influxdata/telegraf/config"
	"github.com/stretchr/testify/require"

	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
)

// Telegraf's own config loader, the one an agent with this plugin compiled
// in uses, reads every option, durations written both ways.
func TestTelegrafConfigLoadsOptions(t *testing.T) {
	for _, tt := range []struct {
		timeout string
		want    time.Duration
	}{
		{`"500ms"`, 500 * time.Millisecond},
		{`"1s"`, time.Second},
		{`2`, 2 * time.Second},
		{`0.25`, 250 * time.Millisecond},
	} {
		c := config.NewConfig()
		require.NoError(t, c.LoadConfigData([]byte(`[[inputs.chrony_tracking]]
  servers = ["udp://127.0.0.1:323", "udp://[::1]"]
  max_in_flight = 8
  timeout = `+tt.timeout+`
  retries = 0
  socket_dir = "/run/telegraf"
  socket_group = "_chrony"
  socket_perms = "0660"
  dns_lookup = true
`), config.EmptySourcePath), tt.timeout)
		require.Len(t, c.Inputs, 1)
		p, ok := c.Inputs[0].Input.(*ct.ChronyTracking)
		require.True(t, ok, "%T", c.Inputs[0].Input)
		require.Equal(t, tt.want, time.Duration(p.Timeout), tt.timeout)
		require.Equal(t, []string{"udp://127.0.0.1:323", "udp://[::1]"}, p.Servers)
		require.Equal(t, 8, p.MaxInFlight)
		require.Equal(t, 0, p.Retries)
		require.Equal(t, "/run/telegraf", p.SocketDir)
		require.Equal(t, "_chrony", p.SocketGroup)
		require.Equal(t, "0660", p.SocketPerms)
		require.True(t, p.DNSLookup)
	}
}

func TestTelegrafConfigRejectsBadDuration(t *testing.T) {
	c := config.NewConfig()
	err := c.LoadConfigData([]byte("[[inputs.chrony_tracking]]\n  timeout = \"soon\"\n"), config.EmptySourcePath)
	require.Error(t, err)
	require.Contains(t, err.Error(), `"soon"`)
}
