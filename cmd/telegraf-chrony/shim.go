package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/plugins/common/shim"

	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
)

// exitGrace is how long a shutdown may take before the process exits
// anyway: execd and users expect an exit within a second.
const exitGrace = 800 * time.Millisecond

// shimInput is what the shim runs. It wraps the plugin instead of handing
// it over, because shim.AddInput would replace the plugin's logger with
// Telegraf's (timestamped, and kept in memory) and Init it a second time.
// Being a service input makes the shim call Stop when gathering ends.
type shimInput struct{ p *ct.ChronyTracking }

func (s shimInput) SampleConfig() string                  { return s.p.SampleConfig() }
func (s shimInput) Gather(acc telegraf.Accumulator) error { return s.p.Gather(acc) }
func (s shimInput) Start(acc telegraf.Accumulator) error  { return s.p.Start(acc) }
func (s shimInput) Stop()                                 { s.p.Stop() }

var _ telegraf.ServiceInput = shimInput{}

// runShim runs the plugin under Telegraf's execd shim until SIGTERM, SIGINT
// or the end of stdin.
func runShim(p *ct.ChronyTracking, o *options, log *stderrLogger) int {
	// The shim only cancels its loop on these events; a gather in progress
	// would still wait out its bound (7 s by default). Watching them here
	// too lets Stop abandon the requests in flight at once.
	stop := onShutdown(p)
	stdin := os.Stdin
	pr, pw, err := os.Pipe()
	if err != nil {
		log.Errorf("cannot create a pipe for stdin: %v", err)
		return exitRuntime
	}
	os.Stdin = pr // shim.New takes its input from os.Stdin
	s := shim.New()
	os.Stdin = stdin
	go forwardStdin(stdin, pw, stop)

	if err := s.AddInput(shimInput{p}); err != nil {
		log.Errorf("%v", err)
		return exitRuntime
	}
	interval := o.pollInterval
	if o.pollDisabled {
		interval = shim.PollIntervalDisabled
	}
	log.Debugf("polling %s every %s", servers(p), describeInterval(interval))
	if err := s.Run(interval); err != nil {
		log.Errorf("%v", err)
		return exitRuntime
	}
	return exitOK
}

// onShutdown stops the plugin on SIGTERM or SIGINT (the shim, which also
// watches them, then ends its loop) and returns the same action for the
// end of stdin. If the shim is still running exitGrace later, for instance
// blocked writing to a stdout nobody reads, the process exits anyway; the
// plugin's sockets are gone by then.
func onShutdown(p *ct.ChronyTracking) func() {
	var once sync.Once
	stop := func() {
		once.Do(func() {
			p.Stop()
			time.AfterFunc(exitGrace, func() { os.Exit(exitOK) })
		})
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sig; stop() }()
	return stop
}

// forwardStdin copies stdin to the shim's pipe, so that the end of stdin is
// seen here as well as by the shim.
func forwardStdin(stdin io.Reader, pw *os.File, stop func()) {
	io.Copy(pw, stdin)
	stop()
	pw.Close()
}

func servers(p *ct.ChronyTracking) string {
	switch {
	case len(p.Servers) > 0:
		return fmt.Sprint(p.Servers)
	case p.Server != "":
		return p.Server
	}
	return "chronyd (chronyc's address order)"
}

func describeInterval(d time.Duration) string {
	if d == shim.PollIntervalDisabled {
		return "newline on stdin"
	}
	return d.String()
}
