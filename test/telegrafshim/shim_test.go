// Package telegrafshim proves that the plugin is still a Telegraf input:
// built into Telegraf's own execd shim (plugins/common/shim), configured by
// the shim's config loader, it reads chronyd's tracking report.
package telegrafshim

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/influxdata/telegraf/plugins/common/shim"
	"github.com/influxdata/telegraf/plugins/parsers/influx"
	"github.com/stretchr/testify/require"

	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// shimPkg is the shim program of the benchmarks; the chrony_tracking tag
// adds this repository's plugin to it.
const shimPkg = "github.com/telegraf-chrony/telegraf-chrony/test/bench/chronyshim"

func buildShim(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "trackingshim")
	out, err := exec.Command("go", "build", "-tags", "chrony_tracking", "-o", bin, shimPkg).CombinedOutput()
	require.NoError(t, err, "go build -tags chrony_tracking %s:\n%s", shimPkg, out)
	return bin
}

func TestPluginUnderTelegrafShim(t *testing.T) {
	lab := chronylab.Start(t, chronylab.Options{})
	require.NoError(t, lab.WaitSynced(30*time.Second))
	bin := buildShim(t)
	// The point must be a success: with retries up to a last attempt of
	// timing.ReplyWait at least (4 s, 4 s), so a loaded machine cannot
	// miss the lab's answer.
	for _, tc := range []struct {
		name, server, timeout string
		retries               int
	}{
		{"unixgram, string duration", lab.UnixURL(), `"500ms"`, 3},
		{"udp, seconds", lab.UDPURL(), `1`, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := filepath.Join(t.TempDir(), "shim.conf")
			require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(
				"[[inputs.chrony_tracking]]\n  server = %q\n  timeout = %s\n  retries = %d\n", tc.server, tc.timeout, tc.retries)), 0o600))
			cmd := exec.Command(bin, "--config", conf, "--poll_interval_disabled")
			stdin, err := cmd.StdinPipe()
			require.NoError(t, err)
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			cmd.Stderr = os.Stderr
			require.NoError(t, cmd.Start())
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() }) // only the process this test started
			lines := make(chan string, 4)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()

			_, err = io.WriteString(stdin, "\n")
			require.NoError(t, err)
			var line string
			select {
			case line = <-lines:
			case <-time.After(timing.LongTimeout):
				t.Fatal("the shim wrote no point")
			}
			p := &influx.Parser{}
			require.NoError(t, p.Init())
			m, err := p.ParseLine(line)
			require.NoError(t, err, line)
			tr, err := lab.Tracking()
			require.NoError(t, err)
			require.Equal(t, "chrony_tracking", m.Name())
			require.Equal(t, map[string]string{
				"server": tc.server, "result": "success",
				"reference_id": fmt.Sprintf("%08X", tr.RefID), "reference_name": tr.Name,
			}, m.Tags())
			fields := m.Fields()
			require.Len(t, fields, 16)
			require.Equal(t, int64(tr.Stratum), fields["stratum"])
			require.Equal(t, true, fields["synchronised"])
			require.InDelta(t, tr.RefTime, fields["ref_time"], 5)

			// The shim stops the service input at the end of stdin: the
			// client's socket chain is removed.
			require.NoError(t, stdin.Close())
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(timing.LongTimeout):
				t.Fatal("the shim did not exit at the end of stdin")
			}
			chain := filepath.Join(filepath.Dir(lab.SocketPath), "telegraf-chrony."+strconv.Itoa(cmd.Process.Pid))
			_, err = os.Lstat(chain)
			require.True(t, os.IsNotExist(err), "socket chain %s left behind", chain)
		})
	}
}

// The shim's own config loader (BurntSushi/toml) reads the plugin's
// durations in both of Telegraf's forms.
func TestShimConfigLoaderReadsDurations(t *testing.T) {
	for in, want := range map[string]time.Duration{`"500ms"`: 500 * time.Millisecond, `"2s"`: 2 * time.Second, `3`: 3 * time.Second, `0.25`: 250 * time.Millisecond} {
		conf := filepath.Join(t.TempDir(), "shim.conf")
		require.NoError(t, os.WriteFile(conf, []byte("[[inputs.chrony_tracking]]\n  timeout = "+in+"\n"), 0o600))
		loaded, err := shim.LoadConfig(&conf)
		require.NoError(t, err, in)
		p, ok := loaded.Input.(*ct.ChronyTracking)
		require.True(t, ok, "%T", loaded.Input)
		require.Equal(t, want, time.Duration(p.Timeout), in)
	}
}
