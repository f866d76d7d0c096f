package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/telegraf-chrony/telegraf-chrony/internal/jsonline"
	"github.com/telegraf-chrony/telegraf-chrony/internal/lineproto"
	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
)

// signalDelay is how long --once polls before stopSignals stop it
// cleanly; see stopOnSignalWhenSlow.
const signalDelay = 20 * time.Millisecond

// stopSignals are the signals that would end the process, which --once and
// --diagnose catch to end their requests and remove their client sockets
// first (in chronyd's socket directory, /run/chrony, a leftover is swept
// only by a later run of the same user there). Go ignores the others that
// a user sends, or dies of them without running code (SIGQUIT, SIGKILL).
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// runOnce polls every configured server once and prints their points,
// failures included (they are data too). Each failure also goes to stderr
// with its advice, and makes the exit status non-zero.
func runOnce(p *ct.ChronyTracking, format string, stdout, stderr io.Writer) int {
	// Over UDP a signal has nothing to clean up, and the watch's timer
	// alone (the network poller set up, a thread woken) costs 0.08-0.17 ms
	// of a 2.5 ms --once that chronyd answers at once: the signal ends the
	// process.
	interrupted, done := func() bool { return false }, func() {}
	if p.Settings().UnixSockets() {
		interrupted, done = stopOnSignalWhenSlow(p, signalDelay)
	}
	results := p.Poll(context.Background())
	done()
	if interrupted() {
		fmt.Fprintln(stderr, "telegraf-chrony: interrupted")
		return exitFailed
	}
	status := exitOK
	for i, r := range results {
		if format == "text" {
			if i > 0 {
				io.WriteString(stdout, "\n") // one report per paragraph
			}
			io.WriteString(stdout, textResult(r))
		} else if err := writePoints(stdout, format, r); err != nil {
			fmt.Fprintf(stderr, "telegraf-chrony: %s: %v\n", r.Server, err)
			return exitRuntime
		}
		if r.Err != nil {
			fmt.Fprintf(stderr, "telegraf-chrony: %s%v\n", r.Kind.Label(), r.Err)
			status = exitFailed
		}
	}
	return status
}

// stopOnSignalWhenSlow makes stopSignals stop p, abandoning the
// requests in flight and removing client sockets, once the poll has taken
// longer than delay. Watching signals starts a goroutine blocked on its own
// thread, a quarter of a --once that chronyd answers at once; a signal
// before delay ends the process as usual, and a client socket left so is
// removed at the next start. done ends the watch; interrupted reports
// whether a signal stopped p.
func stopOnSignalWhenSlow(p *ct.ChronyTracking, delay time.Duration) (interrupted func() bool, done func()) {
	var (
		mu      sync.Mutex
		sig     chan os.Signal // set once watching
		over    bool
		stopped atomic.Bool
	)
	timer := time.AfterFunc(delay, func() {
		mu.Lock()
		defer mu.Unlock()
		if over {
			return
		}
		c := make(chan os.Signal, 1)
		signal.Notify(c, stopSignals...)
		go func() {
			if _, ok := <-c; ok {
				stopped.Store(true)
				p.Stop()
			}
		}()
		sig = c
	})
	done = func() {
		timer.Stop()
		mu.Lock()
		defer mu.Unlock()
		over = true
		if sig != nil {
			signal.Stop(sig)
			close(sig)
		}
	}
	return stopped.Load, done
}

// writePoints writes each point of r in format, json or influx.
func writePoints(w io.Writer, format string, r ct.Result) error {
	for _, m := range r.Metrics() {
		out, err := render(format, m)
		if err != nil {
			return err
		}
		w.Write(out)
	}
	return nil
}

func render(format string, m telegraf.Metric) ([]byte, error) {
	switch format {
	case "json":
		return jsonline.Marshal(m)
	}
	return lineproto.Append(nil, m)
}
