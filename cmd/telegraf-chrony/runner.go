package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/telegraf-chrony/telegraf-chrony/internal/lineproto"
	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
)

const (
	// exitGrace is how long a shutdown may take before the process exits
	// anyway, for instance when blocked writing to a stdout nobody reads:
	// execd and users expect an exit within a second.
	exitGrace = 800 * time.Millisecond
	// readerGrace is how long the process waits, its output closed, before
	// it exits: see endOutputs.
	readerGrace = 100 * time.Millisecond
)

// execd runs the plugin as Telegraf's inputs.execd expects of an external
// input: one gather per newline on stdin (signal = "STDIN"), and every
// interval unless that is zero (signal = "none"); each gather's points as
// line protocol on stdout, flushed once per gather; log lines on stderr.
// The end of stdin, SIGTERM and SIGINT end it.
type execd struct {
	plugin   *ct.ChronyTracking
	log      *stderrLogger
	stdin    io.Reader
	stdout   io.Writer
	interval time.Duration // zero: gather on newlines only
	signals  <-chan os.Signal
	// exit ends the process when a shutdown outlasts exitGrace.
	exit func(code int)
}

// runExecd runs p under execd on the process's standard streams.
func runExecd(p *ct.ChronyTracking, o *options, log *stderrLogger, stdout io.Writer) int {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	// A write to a stdout nobody reads any more fails with EPIPE, which
	// ends the run cleanly (sockets removed), instead of killing the process.
	signal.Ignore(syscall.SIGPIPE)
	interval := o.pollInterval
	if o.pollDisabled {
		interval = 0
	}
	e := &execd{plugin: p, log: log, stdin: os.Stdin, stdout: stdout, interval: interval, signals: sig, exit: os.Exit}
	return e.run()
}

func (e *execd) run() int {
	e.log.Debugf("polling %s %s", servers(e.plugin), describeInterval(e.interval))
	prompts := make(chan struct{}, 1)
	eof := make(chan struct{})
	go readPrompts(e.stdin, prompts, eof)
	done := make(chan struct{})
	var stopOnce sync.Once
	stop := func() {
		stopOnce.Do(func() {
			// Stop abandons requests in flight, so a gather waiting on a
			// silent chronyd returns at once, and removes the client sockets.
			e.plugin.Stop()
			close(done)
			time.AfterFunc(exitGrace, func() { e.exit(exitOK) })
		})
	}
	go func() {
		select {
		case <-e.signals:
		case <-eof:
		}
		stop()
	}()

	var tick <-chan time.Time
	if e.interval > 0 {
		t := time.NewTicker(e.interval)
		defer t.Stop()
		tick = t.C
	}
	out := newLineWriter(e.stdout, e.log)
	for {
		select {
		case <-done:
			return exitOK
		case <-prompts:
		case <-tick:
		}
		select {
		case <-done: // stopping comes first
			return exitOK
		default:
		}
		if err := out.gather(e.plugin); err != nil {
			e.log.Errorf("writing to stdout: %v; stopping (inputs.execd restarts this process)", err)
			stop()
			return exitRuntime
		}
	}
}

// readPrompts sends on prompts for each read from stdin holding a newline,
// without blocking: a prompt that arrives during a gather is kept, further
// ones are merged into it, as the execd shim does. Nothing is kept per
// line. eof is closed when stdin ends.
func readPrompts(stdin io.Reader, prompts chan<- struct{}, eof chan<- struct{}) {
	defer close(eof)
	buf := make([]byte, 4096)
	for {
		n, err := stdin.Read(buf)
		if bytes.IndexByte(buf[:n], '\n') >= 0 {
			select {
			case prompts <- struct{}{}:
			default:
			}
		}
		if err != nil {
			return
		}
	}
}

// lineWriter is the accumulator of a gather: each point the plugin adds
// becomes a line of influx line protocol, buffered until the gather ends.
type lineWriter struct {
	// The plugin adds points with AddMetric only; the other methods of the
	// interface are the nil embedded one's and would panic if it used them.
	telegraf.Accumulator

	w    *bufio.Writer
	line []byte // reused for every point
	log  telegraf.Logger
	err  error // the first write error
}

func newLineWriter(w io.Writer, log telegraf.Logger) *lineWriter {
	return &lineWriter{w: bufio.NewWriter(w), log: log}
}

// gather runs one gather and writes its points at once.
func (l *lineWriter) gather(p *ct.ChronyTracking) error {
	if err := p.Gather(l); err != nil {
		l.AddError(err)
	}
	if l.err != nil {
		return l.err
	}
	return l.w.Flush()
}

func (l *lineWriter) AddMetric(m telegraf.Metric) {
	var err error
	if l.line, err = lineproto.Append(l.line[:0], m); err != nil {
		l.log.Errorf("cannot write a %s point as line protocol: %v", m.Name(), err)
		return
	}
	if _, err := l.w.Write(l.line); err != nil && l.err == nil {
		l.err = err
	}
}

func (l *lineWriter) AddError(err error) { l.log.Errorf("%v", err) }

// endOutputs closes stdout and stderr and, when either is a pipe, waits
// readerGrace before the process exits. Telegraf's inputs.execd (through
// v1.37.2 at least) reaps its child while its stdout and stderr readers
// may still be reading, and exec.Cmd.Wait then closes the pipes under them:
// "read |0: file already closed", logged as an error at many agent stops
// (internal/process's cmdWait; influxdata/telegraf#7514). Closing first
// lets those readers reach the end of the stream before the exit.
func endOutputs(ws ...io.Writer) {
	piped := false
	for _, w := range ws {
		f, ok := w.(*os.File)
		if !ok {
			continue
		}
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeNamedPipe != 0 {
			piped = true
		}
		f.Close()
	}
	if piped {
		time.Sleep(readerGrace)
	}
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
	if d == 0 {
		return "on each newline on stdin"
	}
	return "every " + d.String()
}
