package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/plugins/parsers/influx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func parseLines(t testing.TB, lp string) []telegraf.Metric {
	t.Helper()
	p := &influx.Parser{}
	require.NoError(t, p.Init())
	ms, err := p.Parse([]byte(lp))
	require.NoError(t, err, lp)
	return ms
}

func TestCLIInformation(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string // substring of stdout
		err  string // substring of stderr
	}{
		{[]string{"--version"}, exitOK, "telegraf-chrony ", ""},
		{[]string{"--sample-config"}, exitOK, "[[inputs.chrony_tracking]]", ""},
		{[]string{"--help"}, exitOK, "EXIT STATUS", ""},
		{[]string{"-h"}, exitOK, "SYNOPSIS", ""},
		{[]string{"--bogus"}, exitUsage, "", "flag provided but not defined: -bogus"},
		{[]string{"--once", "--format", "xml"}, exitUsage, "", `--format "xml"`},
		{[]string{"--format", "json"}, exitUsage, "", "--once only"},
		{[]string{"--poll_interval", "0s"}, exitUsage, "", "--poll_interval 0s"},
		{[]string{"extra"}, exitUsage, "", `unexpected argument "extra"`},
		{[]string{"--once", "--server", "udp://h/x"}, exitUsage, "", `server = "udp://h/x"`},
		{[]string{"--once", "--timeout", "-1s"}, exitUsage, "", "timeout = -1s"},
		{[]string{"--once", "--retries", "99"}, exitUsage, "", "retries = 99"},
		{[]string{"--once", "--metrics", "tracking,source"}, exitUsage, "", `metrics[1] = "source": unknown report`},
		{[]string{"--once", "--metrics", "sources,sources"}, exitUsage, "", `metrics[1] = "sources": listed twice`},
		{[]string{"--diagnose", "--metrics", "activity,bogus"}, exitFailed, `metrics[1] = "bogus"`, ""},
		{[]string{"--config", "/nonexistent/c.conf"}, exitUsage, "", "/nonexistent/c.conf"},
		// Flags that would be ignored, or mean what was not meant.
		{[]string{"--once", "--poll_interval", "5s"}, exitUsage, "", "apply to execd runs, not --once"},
		{[]string{"--once", "--poll_interval_disabled"}, exitUsage, "", "apply to execd runs, not --once"},
		{[]string{"--poll_interval", "5s", "--poll_interval_disabled"}, exitUsage, "", "exclude each other"},
		{[]string{"--once", "--config", ""}, exitUsage, "", "--config is empty: leave it out"},
		{[]string{"--once", "--server", ""}, exitUsage, "", "--server is empty: leave it out"},
		{[]string{"--once", "--timeout", "soon"}, exitUsage, "", `invalid value "soon" for flag -timeout: "soon" is not a duration`},
		{[]string{"--once", "--server", "unixgram:/tmp/x"}, exitUsage, "", `"//" missing after "unixgram:". write "unixgram:///tmp/x"`},
		{[]string{"--once", "--server", "udp6://localhost"}, exitUsage, "", `scheme "udp6" is not supported`},
		// A bound no duration holds names both keys.
		{[]string{"--once", "--timeout", "5s", "--retries", "30"}, exitUsage, "", "timeout = 5s: with retries = 30"},
		// A number of seconds, as in the config file.
		{[]string{"--once", "--timeout", "5", "--retries", "30"}, exitUsage, "", "timeout = 5s: with retries = 30"},
		{[]string{"--once", "--timeout", "0.0001"}, exitUsage, "", "timeout = 100µs: must be at least 1ms"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(tt.args...)
			require.Equal(t, tt.code, code, errOut)
			require.Contains(t, out, tt.out)
			require.Contains(t, errOut, tt.err)
		})
	}
}

func TestOnceFormats(t *testing.T) {
	srv := fakechronyd.StartUDP(t, fakechronyd.Reply(fakechronyd.SyncedIPv4()))
	base := []string{"--once", "--server", srv.URL()}

	code, out, errOut := runCLI(base...)
	require.Equal(t, exitOK, code, errOut)
	ms := parseLines(t, out)
	require.Len(t, ms, 1)
	require.Equal(t, "chrony_tracking", ms[0].Name())
	require.Equal(t, map[string]string{"server": srv.URL(), "reference_id": "C0000211", "reference_name": "192.0.2.17", "result": "success"}, ms[0].Tags())
	require.Len(t, ms[0].Fields(), 16)

	before := time.Now().Unix()
	code, out, _ = runCLI(append(base, "--format", "json")...)
	require.Equal(t, exitOK, code)
	var obj struct {
		Name      string            `json:"name"`
		Tags      map[string]string `json:"tags"`
		Fields    map[string]any    `json:"fields"`
		Timestamp int64             `json:"timestamp"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &obj))
	require.Equal(t, "chrony_tracking", obj.Name)
	require.Equal(t, 3.0, obj.Fields["stratum"])
	// Telegraf's default json_timestamp_units: whole seconds.
	require.GreaterOrEqual(t, obj.Timestamp, before)
	require.LessOrEqual(t, obj.Timestamp, time.Now().Unix())

	code, out, _ = runCLI(append(base, "--format", "text")...)
	require.Equal(t, exitOK, code)
	for _, line := range []string{
		"Reference ID    : C0000211 (192.0.2.17)\n",
		"Stratum         : 3\n",
		"System time     : 0.000012345 seconds slow of NTP time\n",
		"Last offset     : -0.000003456 seconds\n",
		"Frequency       : 12.345 ppm slow\n",
		"Residual freq   : +0.002 ppm\n",
		"Update interval : 64.5 seconds\n",
		"Leap status     : Normal\n",
		"Synchronised    : yes\n",
		"Result          : success (0)\n",
	} {
		require.Contains(t, out, line)
	}
}

// Against nothing, --once fails within its bound with the code and advice.
// The attempts are counted, so the last one's wait absorbs a late machine
// (timing.FirstTimeout).
func TestOnceFailure(t *testing.T) {
	silent := fakechronyd.StartUDP(t, fakechronyd.Silence())
	timeout := timing.FirstTimeout(2)
	bound := 7 * timeout
	start := time.Now()
	code, out, errOut := runCLI("--once", "--server", silent.URL(), "--timeout", timeout.String(), "--retries", "2")
	took := time.Since(start)
	require.Equal(t, exitFailed, code)
	require.GreaterOrEqual(t, took, bound, "T + 2T + 4T")
	require.True(t, timing.Within(t, took, bound, "bounded by the three attempts"))
	ms := parseLines(t, out)
	require.Len(t, ms, 1)
	require.Equal(t, map[string]string{"server": silent.URL(), "result": "timeout"}, ms[0].Tags())
	require.Equal(t, map[string]any{"result_code": int64(2)}, ms[0].Fields())
	require.Contains(t, errOut, "timeout ("+silent.URL()+"): no reply after 3 attempt(s)")
	require.Contains(t, errOut, "firewall")

	code, out, errOut = runCLI("--once", "--format", "text", "--server", silent.URL(), "--timeout", "50ms", "--retries", "0")
	require.Equal(t, exitFailed, code)
	require.Equal(t, "Server          : "+silent.URL()+"\nResult          : timeout (2)\n", out)
	require.NotEmpty(t, errOut)
}

// With several servers, --format text prints one report per server, a
// blank line between them, in configuration order.
func TestOnceTextSeparatesServers(t *testing.T) {
	a := fakechronyd.StartUDP(t, fakechronyd.Reply(fakechronyd.SyncedIPv4()))
	b := fakechronyd.StartUDP(t, fakechronyd.Reply(fakechronyd.LocalReference(5)))
	conf := filepath.Join(t.TempDir(), "c.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf("[[inputs.chrony_tracking]]\nservers = [%q, %q]\n", a.URL(), b.URL())), 0o600))
	code, out, errOut := runCLI("--once", "--format", "text", "--config", conf)
	require.Equal(t, exitOK, code, errOut)
	reports := strings.Split(out, "\n\n")
	require.Len(t, reports, 2, out)
	for i, srv := range []*fakechronyd.Server{a, b} {
		assert.True(t, strings.HasPrefix(reports[i], "Reference ID    : "), reports[i])
		assert.Contains(t, reports[i], "Server          : "+srv.URL()+"\n")
	}
}

// --metrics overrides the file's metrics: each report is its measurement,
// a failing one is its own point and exit status, the others still come.
func TestOnceMetrics(t *testing.T) {
	h := fakechronyd.Reports(fakechronyd.Daemon{Tracking: fakechronyd.SyncedIPv4(), Sources: fakechronyd.Pool()})
	srv := fakechronyd.StartUDP(t, func(req fakechronyd.Request) []fakechronyd.Packet {
		if req.Command == fakechronyd.ReqServerStats {
			return []fakechronyd.Packet{{Data: fakechronyd.StatusReply(req, fakechronyd.StatusUnauth)}}
		}
		return h(req)
	})
	conf := filepath.Join(t.TempDir(), "c.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf("[[inputs.chrony_tracking]]\nserver = %q\nmetrics = [\"tracking\"]\n", srv.URL())), 0o600))
	code, out, errOut := runCLI("--once", "--config", conf, "--metrics", "activity,sources,serverstats")
	require.Equal(t, exitFailed, code, errOut)
	count := map[string]int{}
	for _, m := range parseLines(t, out) {
		count[m.Name()+"/"+m.Tags()["result"]]++
	}
	assert.Equal(t, map[string]int{"chrony_activity/success": 1, "chrony_sources/success": 6, "chrony_serverstats/permission_denied": 1}, count)
	assert.Contains(t, errOut, "chrony_serverstats: permission_denied")
	assert.Contains(t, errOut, "unix socket")

	// Text: each report in chronyc's layout, one paragraph each, ending
	// with its report, server and result (the lab test compares them with
	// chronyc's own output).
	code, out, errOut = runCLI("--once", "--config", conf, "--format", "text", "--metrics", "activity,sources,serverstats")
	require.Equal(t, exitFailed, code, errOut)
	paragraphs := strings.Split(out, "\n\n")
	require.Len(t, paragraphs, 3, out)
	assert.Equal(t, "200 OK\n0 sources online\n0 sources offline\n0 sources doing burst (return to online)\n"+
		"0 sources doing burst (return to offline)\n0 sources with unknown address\n"+
		"Report          : activity\nServer          : "+srv.URL()+"\nResult          : success (0)", paragraphs[0])
	assert.True(t, strings.HasPrefix(paragraphs[1], "MS Name/IP address         Stratum Poll Reach LastRx Last sample               \n"+
		"===============================================================================\n"+
		"^* pool.example                  2   6   377    12   +120us[ +123us] +/- 2100us\n"+
		"^+ pool.example                  2   6   177    40   -300us[   +0ns] +/- 4000us\n"), paragraphs[1])
	assert.Contains(t, paragraphs[1], "\n#x PPS0                          0   4   377     0  +1000us[   +0ns] +/-   10us\n")
	assert.Contains(t, paragraphs[1], "\n^? never.invalid                 0   6     0     -     +0ns[   +0ns] +/-    0ns\n")
	assert.Equal(t, "Report          : serverstats\nServer          : "+srv.URL()+"\nResult          : permission_denied (3)\n", paragraphs[2])
}
