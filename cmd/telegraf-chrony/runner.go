package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/influxdata/telegraf"
	"golang.org/x/sys/unix"

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

// gatherSignals are the signals inputs.execd's signal option sends at each
// of the agent's intervals ("SIGHUP", "SIGUSR1", "SIGUSR2"). SIGHUP's
// default action ends the process and Go drops the other two unless asked
// for them: each must be asked for before the agent can send it.
var gatherSignals = []os.Signal{syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2}

// notifyGatherSignals catches gatherSignals from now on; stop releases them.
// Their channel holds one: signals that arrive during a gather make one
// more gather, as newlines do.
func notifyGatherSignals() (c chan os.Signal, stop func()) {
	c = make(chan os.Signal, 1)
	signal.Notify(c, gatherSignals...)
	return c, func() { signal.Stop(c) }
}

// execd runs the plugin as Telegraf's inputs.execd expects of an external
// input: without an interval (--poll_interval_disabled) one gather per
// newline on stdin (signal = "STDIN") and one per gather signal (signal =
// "SIGHUP", "SIGUSR1" or "SIGUSR2"); with an interval (signal = "none") one
// every interval, and a gather signal is ignored (said once as a warning):
// gathering on both would write points at two rates. Each gather's points
// as line protocol on stdout, flushed once per gather; log lines on stderr.
// The end of stdin, SIGTERM and SIGINT end it.
type execd struct {
	plugin   *ct.ChronyTracking
	log      *stderrLogger
	stdin    io.Reader
	stdout   io.Writer
	stderr   io.Writer
	interval time.Duration    // zero: gather on newlines
	signals  <-chan os.Signal // SIGTERM, SIGINT
	triggers <-chan os.Signal // gatherSignals
	// hangUpFd is stdin's descriptor when it is a pipe whose writer's
	// hang-up can be watched, else -1.
	hangUpFd int
	// exit ends the process when stop cannot end the loop.
	exit func(code int)

	out  *lineWriter
	done chan struct{} // closed by stop
	// gathering is held during a gather: a signal's and a newline's run
	// on goroutines of their own, and stop waits for one in flight.
	gathering  sync.Mutex
	ignoredSig bool // a gather signal was ignored and said so
	stopOnce   sync.Once
	finishOnce sync.Once
	// failed is set when stdout failed: the run ends with exitRuntime.
	failed atomic.Bool
	// reading is set while the gathering loop waits in a read of stdin,
	// which only input or its end interrupts: stop then ends the process.
	reading atomic.Bool
	// gathered is set when the first gather starts, inGather while one runs;
	// stdinEnd once the end of stdin was seen, by the loop or the hang-up
	// watcher, whichever came first.
	gathered, inGather, stdinEnd atomic.Bool
}

// runExecd runs p under execd on the process's standard streams, gathering
// also on triggers (see notifyGatherSignals).
func runExecd(p *ct.ChronyTracking, o *options, log *stderrLogger, triggers <-chan os.Signal, stdout, stderr io.Writer) int {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	interval := o.pollInterval
	if o.pollDisabled {
		interval = 0
	}
	e := newExecd(p, log, os.Stdin, stdout, stderr, interval, sig, triggers)
	code := e.run()
	e.finish()
	return code
}

func newExecd(p *ct.ChronyTracking, log *stderrLogger, stdin *os.File, stdout, stderr io.Writer, interval time.Duration, signals, triggers <-chan os.Signal) *execd {
	e := &execd{plugin: p, log: log, stdin: stdin, stdout: stdout, stderr: stderr, interval: interval,
		signals: signals, triggers: triggers, hangUpFd: -1, exit: os.Exit, out: newLineWriter(stdout, log), done: make(chan struct{})}
	if fi, err := stdin.Stat(); err == nil && fi.Mode()&os.ModeNamedPipe != 0 {
		e.hangUpFd = int(stdin.Fd())
	}
	return e
}

func (e *execd) run() int {
	e.log.Debugf("polling %s %s", polled(e.plugin.Settings()), describeInterval(e.interval))
	go func() {
		select {
		case <-e.signals:
			e.stop()
		case <-e.done:
		}
	}()
	go e.onSignals()
	if e.interval > 0 {
		go func() {
			io.Copy(io.Discard, e.stdin)
			e.stdinEnded()
		}()
		return e.onTicks()
	}
	if e.hangUpFd >= 0 {
		// The gathering loop reads stdin itself and cannot see its end
		// during a gather; the writer's hang-up can be seen meanwhile. At
		// any other time the loop sees the end itself, after the input
		// before it: a newline and the end at once are a gather, then a stop.
		go func() {
			if waitHangUp(e.hangUpFd) && e.inGather.Load() {
				e.stdinEnded()
			}
		}()
	}
	return e.onNewlines()
}

// onNewlines gathers once for each read from stdin that holds a newline.
// The gathering goroutine reads stdin itself, in a blocking read: a gather
// then costs no hand-off between goroutines and threads, nor a trip through
// the network poller, which took a third of the process's CPU per gather.
// Newlines that arrive during a gather are read together afterwards and
// make one more gather, as the execd shim merges them. Nothing is kept per
// line.
func (e *execd) onNewlines() int {
	buf := make([]byte, 4096)
	for {
		e.reading.Store(true)
		if e.stopped() {
			return exitOK
		}
		n, err := e.stdin.Read(buf)
		e.reading.Store(false)
		if e.stopped() {
			return exitOK
		}
		if bytes.IndexByte(buf[:n], '\n') >= 0 && !e.gather() {
			return exitRuntime
		}
		if err != nil { // the end of stdin
			e.stdinEnded()
			return exitOK
		}
	}
}

// onSignals gathers once per gather signal, on its own goroutine: the
// newline loop may be blocked in a read of stdin that no signal interrupts.
func (e *execd) onSignals() {
	for {
		select {
		case <-e.done:
			return
		case s := <-e.triggers:
			if e.interval > 0 {
				e.ignoreSignal(s)
				continue
			}
			if !e.gather() {
				return
			}
		}
	}
}

// ignoreSignal says, as a warning the first time and then at debug level,
// that a gather signal does not gather when the command runs its own timer.
func (e *execd) ignoreSignal(s os.Signal) {
	say := e.log.Debugf
	if !e.ignoredSig {
		e.ignoredSig, say = true, e.log.Warnf
	}
	say("%s ignored: this command gathers every %s on its own timer (--poll_interval); "+
		"for inputs.execd's signal to trigger each gather, run it with --poll_interval_disabled", signalName(s), e.interval)
}

// signalName is a signal as inputs.execd's signal option names it.
func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGUSR1:
		return "SIGUSR1"
	case syscall.SIGUSR2:
		return "SIGUSR2"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return s.String()
}

func (e *execd) onTicks() int {
	t := time.NewTicker(e.interval)
	defer t.Stop()
	for {
		select {
		case <-e.done:
			return exitOK
		case <-t.C:
		}
		if !e.gather() {
			return exitRuntime
		}
	}
}

// gather runs one gather and writes its points, unless stopping; false
// when stdout failed, which stops the run.
func (e *execd) gather() bool {
	e.gathering.Lock()
	var err error
	if !e.stopped() {
		e.gathered.Store(true)
		e.inGather.Store(true)
		err = e.out.gather(e.plugin)
		e.inGather.Store(false)
	}
	e.gathering.Unlock()
	if err != nil {
		e.log.Errorf("writing to stdout: %v; stopping (inputs.execd restarts this process)", err)
		e.failed.Store(true)
		e.stop()
		return false
	}
	return true
}

// stop ends the loops, then abandons requests in flight, so that a gather
// waiting on a silent chronyd returns at once and its loop sees the stop
// before it reads stdin again, and removes the client sockets. A loop
// already waiting in a read of stdin cannot be woken, so then stop ends the
// process itself, as the loop's return would, once a signal's gather in
// flight has returned. If the process still runs exitGrace later, for
// instance blocked writing to a stdout nobody reads, it exits anyway.
func (e *execd) stop() {
	e.stopOnce.Do(func() {
		close(e.done)
		e.plugin.Stop()
		time.AfterFunc(exitGrace, func() { e.exit(e.exitCode()) })
		if e.reading.Load() {
			e.gathering.Lock()
			e.finish()
			e.gathering.Unlock()
			e.exit(e.exitCode())
		}
	})
}

// stdinEnded stops the run, which the end of stdin ends, saying so: at
// debug level after gathers (an agent that stops), as information before
// any (stdin is /dev/null, as under nohup or a systemd unit without one).
func (e *execd) stdinEnded() {
	if !e.stdinEnd.CompareAndSwap(false, true) || e.stopped() {
		return
	}
	if e.gathered.Load() {
		e.log.Debugf("stdin ended: stopping")
	} else {
		e.log.Infof("stdin ended before any gather: stopping. Under inputs.execd the agent keeps stdin open; by hand, use --once, or keep stdin open")
	}
	e.stop()
}

// exitCode is the status of a run that stop ends.
func (e *execd) exitCode() int {
	if e.failed.Load() {
		return exitRuntime
	}
	return exitOK
}

func (e *execd) stopped() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// finish ends the process's output, once (see endOutputs).
func (e *execd) finish() { e.finishOnce.Do(func() { endOutputs(e.stdout, e.stderr) }) }

// waitHangUp blocks until the writer of the pipe fd closes it, in ppoll(2)
// without reading (a hang-up is reported whatever the events asked for),
// and reports whether it did.
func waitHangUp(fd int) bool {
	pfd := []unix.PollFd{{Fd: int32(fd)}}
	for {
		_, err := unix.Ppoll(pfd, nil, nil)
		switch {
		case err == unix.EINTR:
		case err != nil:
			return false
		case pfd[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0:
			return true
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

// polled says what a run polls, from the settings Init resolved.
func polled(s ct.Settings) string {
	urls := make([]string, len(s.Addresses))
	for i, a := range s.Addresses {
		urls[i] = a.String()
	}
	if s.Auto {
		return "the first of " + strings.Join(urls, ", ") + " that answers (chronyc's order)"
	}
	return strings.Join(urls, ", ")
}

func describeInterval(d time.Duration) string {
	if d == 0 {
		return "on each newline on stdin"
	}
	return "every " + d.String()
}
