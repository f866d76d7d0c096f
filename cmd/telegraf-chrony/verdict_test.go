package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// TestOneVerdict feeds the same bad configs and flags to the plugin's Init
// (the step a run makes), to --once and to --diagnose: all three refuse
// them, with the same config_error naming the same key. A file that does
// not load is refused before Init, by the same loader for all three.
func TestOneVerdict(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		conf  string // the [[inputs.chrony_tracking]] table's body; "" for no --config
		flags []string
		key   string // the key the verdict names first
		loads bool   // the file loads, so Init gives the verdict
	}{
		{"negative timeout", `timeout = "-1s"`, nil, "timeout", true},
		{"zero timeout", `timeout = "0s"`, nil, "timeout", true},
		{"zero max_in_flight", `max_in_flight = 0`, nil, "max_in_flight", true},
		{"server and servers", "server = \"udp://a\"\nservers = [\"udp://b\"]", nil, "server", true},
		{"bad server", `server = "tcp://127.0.0.1:323"`, nil, "server", true},
		{"bad entry in servers", `servers = ["udp://a", "udp://b/x"]`, nil, "servers[1]", true},
		{"same server twice", `servers = ["udp://127.0.0.1", "udp://127.0.0.1:323"]`, nil, "servers[1]", true},
		{"retries out of range", `retries = 31`, nil, "retries", true},
		{"socket_perms not octal", `socket_perms = "0999"`, nil, "socket_perms", true},
		{"socket_group unknown", `socket_group = "no-such-group-xyz"`, nil, "socket_group", true},
		{"--timeout negative", "", []string{"--timeout", "-1s"}, "timeout", true},
		{"--timeout zero", "", []string{"--timeout", "0s"}, "timeout", true},
		{"--retries negative", "", []string{"--retries", "-1"}, "retries", true},
		{"--server with a path", "", []string{"--server", "udp://h/x"}, "server", true},
		{"--server cannot mend the file", `max_in_flight = 0`, []string{"--server", "udp://127.0.0.1:1"}, "max_in_flight", true},
		{"--timeout over a good file", `timeout = "2s"`, []string{"--timeout", "0s"}, "timeout", true},
		{"misspelt key", `timout = "1s"`, nil, "inputs.chrony_tracking.timout", false},
		{"Telegraf-only key", `interval = "10s"`, nil, "inputs.chrony_tracking.interval", false},
		{"wrong type", `retries = "two"`, nil, "retries", false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.flags
			if tt.conf != "" {
				path := filepath.Join(dir, strings.Repeat("c", i+1)+".conf")
				require.NoError(t, os.WriteFile(path, []byte("[[inputs.chrony_tracking]]\n"+tt.conf+"\n"), 0o600))
				args = append([]string{"--config", path}, args...)
			}

			// The run's own steps: load, override, Init.
			o, err := parseFlags(args, io.Discard)
			require.NoError(t, err)
			p, err := o.plugin()
			if tt.loads {
				require.NoError(t, err)
				err = p.Init()
			}
			var te *cmdmon.Error
			require.ErrorAs(t, err, &te)
			require.Equal(t, cmdmon.CodeConfigError, te.Code)
			verdict := te.Message()
			if tt.loads {
				assert.Equal(t, tt.key, te.Key)
				assert.True(t, strings.HasPrefix(verdict, tt.key+" = "), "%q names %s first", verdict, tt.key)
			} else {
				assert.Contains(t, verdict, tt.key)
			}

			code, out, errOut := runCLI(append([]string{"--once"}, args...)...)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, out)
			assert.Equal(t, "telegraf-chrony: "+err.Error()+"\n", errOut, "--once says what Init said")

			code, out, _ = runCLI(append([]string{"--diagnose"}, args...)...)
			assert.Equal(t, exitFailed, code)
			fails := regexp.MustCompile(`(?m)^FAIL\s+config\s+(.*)$`).FindAllStringSubmatch(out, -1)
			require.Len(t, fails, 1, "one verdict:\n%s", out)
			assert.Equal(t, verdict, fails[0][1], "--diagnose says what Init said")
			assert.NotRegexp(t, `(?m)^OK\s+config`, out)
		})
	}
}

// execdTable is the [[inputs.execd]] table --diagnose prints, decoded.
type execdTable struct {
	Inputs struct {
		Execd []struct {
			Command      []string `toml:"command"`
			Signal       string   `toml:"signal"`
			RestartDelay string   `toml:"restart_delay"`
			DataFormat   string   `toml:"data_format"`
		} `toml:"execd"`
	} `toml:"inputs"`
}

// The table --diagnose prints runs exactly what it checked: the config
// file by its absolute path, every flag, restart_delay; read back, its
// command line resolves to the same settings. The fake must answer the
// probe's first attempt, so the timeouts, the file's and the flag's
// (which differ, so that a flag the table dropped shows), are at least
// timing.ReplyWait.
func TestDiagnoseTableReproducesTheRun(t *testing.T) {
	// --diagnose passes only where a chronyd process runs; without a lab of
	// its own the test passed or failed with the other tests' labs.
	chronylab.Start(t, chronylab.Options{})
	srv := fakechronyd.StartUDP(t, fakechronyd.Reply(fakechronyd.SyncedIPv4()))
	conf := filepath.Join(t.TempDir(), "c.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf("[[inputs.chrony_tracking]]\ntimeout = %q\nretries = 1\nsocket_perms = \"0660\"\n", timing.LongTimeout)), 0o600))
	flagTimeout := timing.ReplyWait.String()
	wd, err := os.Getwd()
	require.NoError(t, err)
	rel, err := filepath.Rel(wd, conf)
	require.NoError(t, err)
	require.False(t, filepath.IsAbs(rel))

	for _, tt := range []struct {
		name   string
		args   []string
		source string // the config line's account of where the options came from
		signal string
	}{
		{"flags alone", []string{"--server", srv.URL(), "--timeout", flagTimeout, "--retries", "0"},
			"no --config: the plugin's defaults with --server, --timeout, --retries", "STDIN"},
		{"relative --config and flags", []string{"--config", rel, "--server", srv.URL(), "--timeout", flagTimeout, "--debug"},
			conf + " with --server, --timeout", "STDIN"},
		{"own poll interval", []string{"--config", conf, "--server", srv.URL(), "--poll_interval", "10s"},
			conf + " with --server", "none"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, _ := runCLI(append([]string{"--diagnose"}, tt.args...)...)
			require.Equal(t, exitOK, code, out)
			require.Regexp(t, `(?m)^OK\s+config\s+`+regexp.QuoteMeta(tt.source+": addresses "+srv.URL()+";"), out)

			_, table, ok := strings.Cut(out, "telegraf.conf:\n")
			require.True(t, ok, out)
			table, _, _ = strings.Cut(table, "\nsummary:")
			var tc execdTable
			_, err := toml.Decode(table, &tc)
			require.NoError(t, err, table)
			require.Len(t, tc.Inputs.Execd, 1)
			e := tc.Inputs.Execd[0]
			assert.Equal(t, tt.signal, e.Signal)
			assert.Equal(t, "10s", e.RestartDelay)
			assert.Equal(t, "influx", e.DataFormat)
			require.True(t, filepath.IsAbs(e.Command[0]), e.Command[0])
			for i, a := range e.Command {
				if a == "--config" {
					assert.Equal(t, conf, e.Command[i+1], "absolute: the agent's working directory is not the user's")
				}
			}

			checked, err := parseFlags(tt.args, io.Discard)
			require.NoError(t, err)
			run, err := parseFlags(e.Command[1:], io.Discard)
			require.NoError(t, err)
			want, err := checked.settings()
			require.NoError(t, err)
			got, err := run.settings()
			require.NoError(t, err)
			assert.Equal(t, want, got, "the table's command resolves to the settings checked")
			assert.Equal(t, checked.debug, run.debug)
			assert.Equal(t, tt.signal == "STDIN", run.pollDisabled)
			if tt.signal == "none" {
				assert.Equal(t, checked.pollInterval, run.pollInterval)
			}
		})
	}
}

func TestTOMLString(t *testing.T) {
	for _, s := range []string{`plain`, `/path with "quotes"`, `back\slash`, "tab\tand\x01control", "ünï"} {
		var v struct{ S string }
		_, err := toml.Decode("S = "+tomlString(s), &v)
		require.NoError(t, err, s)
		assert.Equal(t, s, v.S)
	}
}
