package chrony_tracking

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// The library's errors name its Config's fields; the plugin's, at start
// and in each gather's failure, name its TOML keys instead.
func TestErrorsNameTheKeys(t *testing.T) {
	tests := []struct {
		name string
		err  func(t *testing.T) error
		want string
	}{
		{"timeout at start", func(t *testing.T) error {
			_, err := Options{Timeout: -time.Second, MaxInFlight: 1}.Resolve()
			return err
		}, "timeout = -1s: must be at least"},
		{"socket_perms at start", func(t *testing.T) error {
			_, err := Options{Timeout: time.Second, MaxInFlight: 1, SocketPerms: "4777"}.Resolve()
			return err
		}, "socket_perms = 04777: not permission bits"},
		{"socket_group at start", func(t *testing.T) error {
			_, err := Options{Timeout: time.Second, MaxInFlight: 1, SocketGroup: "no-such-group-xyz"}.Resolve()
			return err
		}, `socket_group = "no-such-group-xyz": no such group`},
		{"no socket directory in a gather", func(t *testing.T) error {
			// A short directory: t.TempDir's, named for the test, is past
			// what a client socket under socket_dir may be.
			dir, err := os.MkdirTemp("", "ct")
			require.NoError(t, err)
			t.Cleanup(func() { os.RemoveAll(dir) })
			missing := filepath.Join(dir, "missing")
			p, _ := newPlugin(t, timing.LongTimeout, 0, func(p *ChronyTracking) {
				p.Server, p.SocketDir = "unixgram://"+filepath.Join(t.TempDir(), "chronyd.sock"), missing
			})
			return p.Poll(context.Background())[0].Err
		}, "set socket_dir to a directory that exists"},
		{"nothing listening in a gather", func(t *testing.T) error {
			p, _ := newPlugin(t, timing.LongTimeout, 0, func(p *ChronyTracking) { p.Server = "udp://127.0.0.1:1" })
			return p.Poll(context.Background())[0].Err
		}, "set server to the address chronyd listens on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err(t)
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
			require.NotContains(t, err.Error(), "Config.")
		})
	}
}

// Advice words a piece of the library's advice in the keys.
func TestAdviceNamesTheKeys(t *testing.T) {
	require.Contains(t, cmdmon.SocketDirAdvice, "Config.SocketDir")
	require.Equal(t, "set socket_dir to a directory this user can write and chronyd's user can search, e.g. /run/telegraf (mode 0711), or use udp://127.0.0.1:323 (tracking is open over UDP from localhost)",
		Advice(cmdmon.SocketDirAdvice))
}
