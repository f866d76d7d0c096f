package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/internal/jsonline"
	"github.com/telegraf-chrony/telegraf-chrony/test/testutil/influxlab"
	"github.com/telegraf-chrony/telegraf-chrony/test/testutil/points"
	"github.com/telegraf-chrony/telegraf-chrony/test/testutil/telegrafagent"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/cmdbin"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// The command under real Telegraf agents (telegrafagent.Versions): every
// signal mode of inputs.execd, outputs, clean stops and --test runs.

func TestMain(m *testing.M) {
	code := m.Run()
	cmdbin.Remove()
	os.Exit(code)
}

var execdSignals = []string{"none", "STDIN", "SIGHUP", "SIGUSR1", "SIGUSR2"}

// agentConfig runs our binary under inputs.execd and writes to a file, and
// to InfluxDB when influxURL is set.
func agentConfig(bin, conf, signal, influxURL string) string {
	args := fmt.Sprintf("%q, \"--config\", %q", bin, conf)
	if signal == "none" {
		args += `, "--poll_interval", "500ms"`
	} else {
		args += `, "--poll_interval_disabled"`
	}
	c := fmt.Sprintf(`[agent]
  interval = "500ms"
  flush_interval = "500ms"
  debug = true
[[inputs.execd]]
  command = [%s]
  signal = %q
  restart_delay = "1s"
  data_format = "influx"
[[outputs.file]]
  files = ["${TELEGRAF_AGENT_DIR}/out.lp"]
  data_format = "influx"
`, args, signal)
	if influxURL != "" {
		c += fmt.Sprintf("[[outputs.influxdb]]\n  urls = [%q]\n  database = \"chrony\"\n", influxURL)
	}
	return c
}

func countResults(lp, result string) int {
	return strings.Count(lp, "result="+result+",") + strings.Count(lp, "result="+result+" ")
}

// The end-to-end tests run with each Telegraf release of
// telegrafagent.Versions: the newest and the oldest supported.
func TestAgentExecd(t *testing.T) {
	for _, version := range telegrafagent.Versions {
		for _, signal := range execdSignals {
			t.Run(version+"/"+signal, func(t *testing.T) { testAgentExecd(t, version, signal) })
		}
	}
}

func testAgentExecd(t *testing.T, version, signal string) {
	lab := chronylab.Start(t, chronylab.Options{})
	require.NoError(t, lab.WaitSynced(30*time.Second))
	conf := filepath.Join(t.TempDir(), "chrony.conf")
	// The default timeout and retries: with 100 ms and one retry a loaded
	// machine could miss a running chronyd's answer, and a timeout point
	// could then be the last line, read as a success.
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(
		"[[inputs.chrony_tracking]]\nserver = %q\n", lab.UnixURL())), 0o600))
	agent := telegrafagent.StartVersion(t, version, agentConfig(cmdbin.Path(t), conf, signal, ""))
	out := filepath.Join(agent.Dir(), "out.lp")

	content := telegrafagent.WaitForFile(t, out, func(s string) bool { return countResults(s, "success") >= 2 }, 20*time.Second)
	tr, err := lab.Tracking()
	require.NoError(t, err)
	ms := points.Parse(t, content)
	tr.RequireMetric(t, ms[len(ms)-1])
	child := childPID(t, agent.PID())

	require.NoError(t, lab.Stop())
	content = telegrafagent.WaitForFile(t, out, func(s string) bool { return countResults(s, "service_unavailable") >= 2 }, 20*time.Second)
	failure := lastLine(content, "result=service_unavailable")
	require.Regexp(t, `^chrony_tracking,host=[^,]+,result=service_unavailable,server=unixgram://\S+ result_code=1i \d+$`, failure)

	require.NoError(t, lab.Restart())
	before := countResults(content, "success")
	telegrafagent.WaitForFile(t, out, func(s string) bool { return countResults(s, "success") >= before+2 }, 20*time.Second)

	require.Equal(t, child, childPID(t, agent.PID()), "the agent never restarted our process")
	log := runningLog(t, agent.Log(), signal)
	require.Regexp(t, `W! \[inputs\.execd\] result=service_unavailable result_code=1: .*start it`, log)
	require.Regexp(t, `I! \[inputs\.execd\] unixgram://\S+: success again after \d+ failed gather`, log)
	require.NotContains(t, log, "E! ", "our lines never arrive as errors")
	t.Logf("failure point: %s", failure)
}

func TestAgentToInfluxDB(t *testing.T) {
	for _, version := range telegrafagent.Versions {
		t.Run(version, func(t *testing.T) { testAgentToInfluxDB(t, version) })
	}
}

func testAgentToInfluxDB(t *testing.T, version string) {
	lab := chronylab.Start(t, chronylab.Options{})
	require.NoError(t, lab.WaitSynced(30*time.Second))
	influx := influxlab.Start(t)
	conf := filepath.Join(t.TempDir(), "chrony.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf("[[inputs.chrony_tracking]]\nserver = %q\n", lab.UDPURL())), 0o600))
	agent := telegrafagent.StartVersion(t, version, agentConfig(cmdbin.Path(t), conf, "none", influx.URL))
	telegrafagent.WaitForFile(t, filepath.Join(agent.Dir(), "out.lp"), func(s string) bool { return countResults(s, "success") >= 2 }, 20*time.Second)

	var rows []map[string]any
	require.Eventually(t, func() bool {
		series, err := influx.Query("chrony", `SELECT * FROM chrony_tracking WHERE "result" = 'success'`)
		if err != nil || len(series) == 0 {
			return false
		}
		rows = series[0].Rows()
		return len(rows) > 0
	}, 15*time.Second, 200*time.Millisecond)
	row := rows[len(rows)-1]
	tr, err := lab.Tracking()
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("%08X", tr.RefID), row["reference_id"])
	require.Equal(t, lab.UDPURL(), row["server"])
	require.Equal(t, strconv.Itoa(tr.Stratum), fmt.Sprint(row["stratum"]))
	require.Equal(t, true, row["synchronised"])
	for _, f := range []string{"system_time", "last_offset", "rms_offset", "frequency", "residual_freq", "skew",
		"root_delay", "root_dispersion", "update_interval", "ref_time", "ref_time_age", "clock_error_bound", "leap_status", "result_code"} {
		require.Contains(t, row, f)
		require.NotNil(t, row[f], f)
	}
}

// --format json is Telegraf's JSON format: the points the agent gathers
// from the command, written by the agent's own JSON serializer (its
// defaults), are what the command writes (internal/jsonline) for the same points read back from
// the agent's line protocol. A success and a failure, so both shapes.
func TestJSONAsTelegrafWritesIt(t *testing.T) {
	lab := chronylab.Start(t, chronylab.Options{})
	require.NoError(t, lab.WaitSynced(30*time.Second))
	conf := filepath.Join(t.TempDir(), "chrony.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(
		"[[inputs.chrony_tracking]]\nservers = [%q, \"udp://127.0.0.1:1\"]\n", lab.UDPURL())), 0o600))
	config := agentConfig(cmdbin.Path(t), conf, "STDIN", "") + `[[outputs.file]]
  files = ["${TELEGRAF_AGENT_DIR}/out.json"]
  data_format = "json"
`
	agent := telegrafagent.StartWithTags(t, config, telegrafagent.PipelineTags...)
	jsonPath := filepath.Join(agent.Dir(), "out.json")
	telegrafagent.WaitForFile(t, jsonPath, func(s string) bool { return strings.Count(s, "\n") >= 2 }, 20*time.Second)
	require.NoError(t, agent.Stop())
	lp, err := os.ReadFile(filepath.Join(agent.Dir(), "out.lp"))
	require.NoError(t, err)
	js, err := os.ReadFile(jsonPath)
	require.NoError(t, err)
	ms := points.Parse(t, string(lp))
	theirs := strings.Split(strings.TrimSpace(string(js)), "\n")
	require.Len(t, theirs, len(ms), "each output has every point")
	results := map[string]int{}
	for i, m := range ms {
		ours, err := jsonline.Marshal(m)
		require.NoError(t, err)
		require.JSONEq(t, theirs[i], string(ours))
		results[m.Tags()["result"]]++
	}
	require.Positive(t, results["success"])
	require.Positive(t, results["service_unavailable"])
}

// runningLog is the agent's log from the start of the process that ran the
// test. In a signal mode the agent's first signal may come in the
// command's first milliseconds, before it can catch it (README: the signal
// modes): that process dies of it and the agent starts another, once. Any
// other restart fails the test.
func runningLog(t *testing.T, log, signal string) string {
	t.Helper()
	starts := strings.Count(log, "Starting process")
	if starts == 2 && strings.HasPrefix(signal, "SIG") {
		require.Regexp(t, `exited: signal: (hangup|user defined signal [12])`, log)
		t.Logf("the first process died of the agent's first %s, sent as it started", signal)
		return log[strings.LastIndex(log, "Starting process"):]
	}
	require.Equal(t, 1, starts, log)
	return log
}

// childPID finds the agent's child process (our binary) through /proc.
func childPID(t *testing.T, parent int) int {
	t.Helper()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, s := range stats {
		b, err := os.ReadFile(s)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces, so cut at ')'.
		rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
		f := strings.Fields(rest)
		if len(f) > 1 && f[1] == strconv.Itoa(parent) {
			pid, _ := strconv.Atoi(strings.Fields(string(b))[0])
			return pid
		}
	}
	t.Fatalf("no child of agent pid %d", parent)
	return 0
}

func lastLine(content, substr string) string {
	lines := strings.Split(strings.TrimSpace(content), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], substr) {
			return lines[i]
		}
	}
	return ""
}

// stopRounds is how many agent stops TestAgentStopsCleanly makes per
// release and signal mode (twenty in all), and how many --test runs
// TestAgentTestWait makes per release. Without our ordered exit, Telegraf's
// execd logged "read |0: file already closed" at about one stop in four:
// twenty clean stops would then happen about one time in 300.
const stopRounds = 2

// An agent stop is clean: the agent closes our stdin, we exit, and its log
// has no error, in particular not Telegraf's "read |0: file already closed"
// of a child reaped while its pipes were still being read (see endOutputs).
func TestAgentStopsCleanly(t *testing.T) {
	lab := chronylab.Start(t, chronylab.Options{})
	conf := filepath.Join(t.TempDir(), "chrony.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf("[[inputs.chrony_tracking]]\nserver = %q\n", lab.UnixURL())), 0o600))
	for _, version := range telegrafagent.Versions {
		for _, signal := range execdSignals {
			t.Run(version+"/"+signal, func(t *testing.T) {
				for i := 0; i < stopRounds; i++ {
					agent := telegrafagent.StartVersion(t, version, agentConfig(cmdbin.Path(t), conf, signal, ""))
					telegrafagent.WaitForFile(t, filepath.Join(agent.Dir(), "out.lp"), func(s string) bool { return strings.Contains(s, "chrony_tracking,") }, 20*time.Second)
					child := childPID(t, agent.PID())
					require.NoError(t, agent.Stop())
					log := runningLog(t, agent.Log(), signal)
					require.Contains(t, log, "shut down")
					require.NotContains(t, log, "file already closed")
					require.NotContains(t, log, "E! ", "stop %d", i+1)
					chain := filepath.Join(filepath.Dir(lab.SocketPath), "telegraf-chrony."+strconv.Itoa(child))
					_, err := os.Lstat(chain)
					require.True(t, os.IsNotExist(err), "socket chain %s removed", chain)
				}
			})
		}
	}
}

// `telegraf --test --test-wait N`, the way to try an execd table by hand,
// prints our point and exits 0: the end of the run is the same ordered exit.
func TestAgentTestWait(t *testing.T) {
	lab := chronylab.Start(t, chronylab.Options{})
	conf := filepath.Join(t.TempDir(), "chrony.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf("[[inputs.chrony_tracking]]\nserver = %q\n", lab.UDPURL())), 0o600))
	for _, version := range telegrafagent.Versions {
		t.Run(version, func(t *testing.T) {
			for i := 0; i < stopRounds; i++ {
				// Our point must come within --test-wait: an answer.
				stdout, stderr, err := telegrafagent.RunTestVersion(t, version, agentConfig(cmdbin.Path(t), conf, "STDIN", ""), timing.ReplyWait)
				require.NoError(t, err, "run %d:\n%s", i+1, stderr)
				require.Contains(t, stdout, "chrony_tracking,")
				require.Contains(t, stdout, "server="+lab.UDPURL())
				require.NotContains(t, stderr, "E! ")
			}
		})
	}
}

// --once on a silent chronyd stops at once on SIGINT or SIGTERM, with the
// client socket chain removed and the interruption said, not after its 20 s
