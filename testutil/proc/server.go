package proc

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Server is a server child a test helper runs (influxd, prometheus): its
// command, the file that takes its output, and how it says it is ready.
type Server struct {
	Name        string
	Cmd         *exec.Cmd // Stdout and Stderr are set to LogPath
	LogPath     string
	ReadyURL    string // answers ReadyStatus once the server serves
	ReadyStatus int
	Client      *http.Client
	// StartTimeout bounds the wait for ReadyURL, StopTimeout the graceful
	// part of Shutdown.
	StartTimeout, StopTimeout time.Duration
}

// StartServer starts s and waits until it is ready; if it is not, it is
// stopped and the error carries its log. A ready server is shut down when
// the test ends, and its log is added to a failed test's output.
func StartServer(t testing.TB, s Server) (*Proc, error) {
	logFile, err := os.Create(s.LogPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	s.Cmd.Stdout = logFile
	s.Cmd.Stderr = logFile
	p, err := Start(s.Name, s.Cmd)
	if err != nil {
		return nil, err
	}
	if err := p.waitHTTP(s.Client, s.ReadyURL, s.ReadyStatus, s.StartTimeout); err != nil {
		stopErr := p.Shutdown(s.StopTimeout)
		return nil, fmt.Errorf("%w (stop: %v)\n%s log:\n%s", err, stopErr, s.Name, ReadLog(s.LogPath))
	}
	t.Cleanup(func() {
		if err := p.Shutdown(s.StopTimeout); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
		if t.Failed() {
			t.Logf("%s log (%s):\n%s", s.Name, s.LogPath, ReadLog(s.LogPath))
		}
	})
	return p, nil
}

// ReadLog is what a child has written to its log file so far.
func ReadLog(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
