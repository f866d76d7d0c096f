// Package promlab runs a real Prometheus server (Debian's prometheus
// package) for pipeline tests: its own data directory, its web port on
// 127.0.0.1, the config the test gives it, and it is stopped when the test
// ends. It also runs promtool, which comes in the same package.
package promlab

import (
	"context"
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
	// startTimeout bounds the wait for /-/ready: Prometheus 2.42 replays
	// an empty WAL and is ready within a second or two, longer under -race
	// on a loaded machine.
	startTimeout = 60 * time.Second
	stopTimeout  = 15 * time.Second
	httpTimeout  = 10 * time.Second
)

const install = "install Debian's prometheus package (apt-get install prometheus), which has promtool too"

// Require skips the test when prometheus or promtool is missing, or fails
// it under labenv.RequireEnv.
func Require(t testing.TB) {
	t.Helper()
	_, err := binaries()
	labenv.Need(t, "promlab", err, install)
}

func binaries() ([2]string, error) {
	prom, err := exec.LookPath("prometheus")
	if err != nil {
		return [2]string{}, err
	}
	tool, err := exec.LookPath("promtool")
	return [2]string{prom, tool}, err
}

// Config is what Start writes into the server's directory: the main config
// file and the files it names (rule files) by paths relative to it.
type Config struct {
	YAML  string
	Files map[string]string
}

// Server is a running prometheus.
type Server struct {
	URL string // http://127.0.0.1:PORT

	dir     string
	logPath string
	proc    *proc.Proc
	client  *http.Client
}

// Start runs prometheus on cfg and returns once it reports ready.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	Require(t)
	bins, _ := binaries()
	s, err := freeport.Retry(func() (*Server, error) { return start(t, bins[0], cfg) })
	if err != nil {
		t.Fatalf("promlab: prometheus did not start: %v", err)
	}
	return s
}

func start(t testing.TB, bin string, cfg Config) (*Server, error) {
	dir := t.TempDir()
	ports, err := freeport.TCP(1)
	if err != nil {
		return nil, err
	}
	files := map[string]string{"prometheus.yml": cfg.YAML}
	for name, content := range cfg.Files {
		files[name] = content
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return nil, err
		}
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	s := &Server{
		URL:     "http://" + addr,
		dir:     dir,
		logPath: filepath.Join(dir, "prometheus.log"),
		client:  &http.Client{Timeout: httpTimeout},
	}
	cmd := exec.Command(bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		// The console templates of Debian's service are not ours to use.
		"--web.console.templates="+filepath.Join(dir, "consoles"),
		"--web.console.libraries="+filepath.Join(dir, "console_libraries"),
	)
	cmd.Dir = dir
	s.proc, err = proc.StartServer(t, proc.Server{
		Name: "prometheus", Cmd: cmd, LogPath: s.logPath,
		ReadyURL: s.URL + "/-/ready", ReadyStatus: http.StatusOK, Client: s.client,
		StartTimeout: startTimeout, StopTimeout: stopTimeout,
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Dir is the server's private directory: config, rule files, log, data.
func (s *Server) Dir() string { return s.dir }

// Log is what prometheus has logged so far.
func (s *Server) Log() string { return proc.ReadLog(s.logPath) }

// Promtool runs promtool with args in dir and returns its combined output;
// err is its exit error.
func Promtool(t testing.TB, dir string, args ...string) (string, error) {
	t.Helper()
	Require(t)
	bins, _ := binaries()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins[1], args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
