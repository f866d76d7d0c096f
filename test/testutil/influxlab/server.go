// Package influxlab runs a real InfluxDB 1.x server for end-to-end tests, so
// a Telegraf pipeline can be checked against what InfluxDB actually stores
// rather than against a fake's idea of it.
package influxlab

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/freeport"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/labenv"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/proc"
)

const (
	// startTimeout bounds the wait for /ping; influxd 1.6 answers within a
	// second on an empty data dir, but -race runs share the CPU.
	startTimeout = 30 * time.Second
	// stopTimeout bounds the graceful shutdown after SIGTERM.
	stopTimeout = 15 * time.Second
	httpTimeout = 10 * time.Second
)

// Require skips the test when influxd is not installed, or fails it when
// labenv.RequireEnv is set.
func Require(t testing.TB) {
	t.Helper()
	_, err := influxdPath()
	labenv.Need(t, "influxlab", err, "install Debian's influxdb package (apt-get install influxdb)")
}

func influxdPath() (string, error) {
	return exec.LookPath("influxd")
}

// Server is a running influxd with a private data directory.
type Server struct {
	URL string // http://127.0.0.1:PORT

	dir     string
	logPath string
	proc    *proc.Proc
	client  *http.Client
}

// Start runs influxd on loopback ports of its own and returns once it
// answers /ping. It is stopped, and its directory removed, when the test
// ends; if the test failed, influxd's log is added to the test output.
func Start(t testing.TB) *Server {
	t.Helper()
	Require(t)
	bin, _ := influxdPath()
	s, err := freeport.Retry(func() (*Server, error) { return start(t, bin) })
	if err != nil {
		t.Fatalf("influxlab: influxd did not start: %v", err)
	}
	return s
}

func start(t testing.TB, bin string) (*Server, error) {
	dir := t.TempDir()
	ports, err := freeport.TCP(3)
	if err != nil {
		return nil, err
	}
	for _, sub := range []string{"meta", "data", "wal"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	httpAddr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	cfgPath := filepath.Join(dir, "influxdb.conf")
	if err := os.WriteFile(cfgPath, []byte(config(dir, httpAddr, ports[1], ports[2])), 0o644); err != nil {
		return nil, err
	}
	s := &Server{
		URL:     "http://" + httpAddr,
		dir:     dir,
		logPath: filepath.Join(dir, "influxd.log"),
		client:  &http.Client{Timeout: httpTimeout},
	}
	cmd := exec.Command(bin, "-config", cfgPath)
	cmd.Dir = dir
	// INFLUXDB_* variables override the config file; drop them so the
	// server is exactly what config describes.
	cmd.Env = withoutInfluxEnv(os.Environ())
	s.proc, err = proc.StartServer(t, proc.Server{
		Name: "influxd", Cmd: cmd, LogPath: s.logPath,
		ReadyURL: s.URL + "/ping", ReadyStatus: http.StatusNoContent, Client: s.client,
		StartTimeout: startTimeout, StopTimeout: stopTimeout,
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// config binds every listener to loopback: tests must not be reachable
// from the network nor collide with an InfluxDB the machine already runs
// on the default ports. Keys are those `influxd config` prints for
// Debian's 1.6.7. Debian's build spells the phone-home switch
// reporting-enabled, upstream's reporting-disabled; both are written
// because influxd silently ignores keys it does not know.
func config(dir, httpAddr string, rpcPort, ifqlPort int) string {
	q := func(s string) string { return fmt.Sprintf("%q", s) }
	return `reporting-enabled = false
reporting-disabled = true
bind-address = ` + q(fmt.Sprintf("127.0.0.1:%d", rpcPort)) + `

[meta]
  dir = ` + q(filepath.Join(dir, "meta")) + `

[data]
  dir = ` + q(filepath.Join(dir, "data")) + `
  wal-dir = ` + q(filepath.Join(dir, "wal")) + `
  query-log-enabled = false

[monitor]
  # Keeps SHOW DATABASES to what the test created.
  store-enabled = false

[http]
  enabled = true
  bind-address = ` + q(httpAddr) + `
  auth-enabled = false
  unix-socket-enabled = false
  pprof-enabled = false

[ifql]
  enabled = false
  bind-address = ` + q(fmt.Sprintf("127.0.0.1:%d", ifqlPort)) + `

[[graphite]]
  enabled = false
[[collectd]]
  enabled = false
[[opentsdb]]
  enabled = false
[[udp]]
  enabled = false

[continuous_queries]
  enabled = false

[logging]
  suppress-logo = true
`
}

func withoutInfluxEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "INFLUXDB_") {
			out = append(out, kv)
		}
	}
	return out
}

// Dir is the server's private directory (config, log, meta, data, wal).
func (s *Server) Dir() string { return s.dir }

// PID is influxd's process id.
func (s *Server) PID() int { return s.proc.PID() }

// Log is what influxd has logged so far.
func (s *Server) Log() string { return proc.ReadLog(s.logPath) }

// Stop sends SIGTERM and waits up to 15 s before killing influxd; only its
// own pid is signalled. Later calls return the first call's result.
func (s *Server) Stop() error { return s.proc.Shutdown(stopTimeout) }
