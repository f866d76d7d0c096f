package main

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// lines is a stdout that hands each write to the test.
type lines struct {
	mu     sync.Mutex
	writes chan string
	fail   error // returned by every write once set
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return 0, l.fail
	}
	l.writes <- string(p)
	return len(p), nil
}

// runner is an execd run of a plugin, driven by the test.
type runner struct {
	stdin  *os.File
	out    *lines
	log    *syncBuffer
	sig    chan os.Signal // SIGTERM, SIGINT
	trig   chan os.Signal // gatherSignals
	code   chan int
	exited chan int // exit's argument, if the grace timer fired
}

// startRunner runs the plugin with one attempt of timeout: timing.LongTimeout
// where every gather must be answered (or refused), since a loaded machine
// turns a short one into a timeout.
func startRunner(t *testing.T, interval time.Duration, server string, timeout time.Duration) *runner {
	t.Helper()
	p := ct.New()
	p.Server, p.Timeout, p.Retries = server, ct.Duration(timeout), 0
	logBuf := &syncBuffer{}
	log := newStderrLogger(logBuf, true)
	p.Log = log
	require.NoError(t, p.Init())
	pr, pw, err := os.Pipe() // as inputs.execd gives it
	require.NoError(t, err)
	r := &runner{stdin: pw, out: &lines{writes: make(chan string, 100)}, log: logBuf,
		sig: make(chan os.Signal, 1), trig: make(chan os.Signal, 1), code: make(chan int, 1), exited: make(chan int, 1)}
	e := newExecd(p, log, pr, r.out, logBuf, interval, r.sig, r.trig)
	e.exit = func(c int) { r.exited <- c }
	go func() { r.code <- e.run() }()
	t.Cleanup(func() { pw.Close(); p.Stop() })
	return r
}

// syncBuffer is the run's stderr: the logger's goroutines write it while
// the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (r *runner) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-r.out.writes:
		return s
	case <-time.After(timing.LongTimeout):
		t.Fatal("no point written")
	}
	return ""
}

func (r *runner) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case s := <-r.out.writes:
		t.Fatalf("unexpected write %q", s)
	case <-time.After(d):
	}
}

// ended is the status the run returned.
func (r *runner) ended(t *testing.T) int {
	t.Helper()
	return statusAtOnce(t, r.code, "the run ends")
}

// exitedAtOnce is the status the run exited the process with, from stop,
// while its newline loop waits in a read of stdin.
func (r *runner) exitedAtOnce(t *testing.T) int {
	t.Helper()
	return statusAtOnce(t, r.exited, "the process exits")
}

func statusAtOnce(t *testing.T, c <-chan int, what string) int {
	t.Helper()
	start := time.Now()
	select {
	case code := <-c:
		timing.Before(t, time.Since(start), timing.LongTimeout, what+" at once")
		return code
	case <-time.After(timing.LongTimeout):
		t.Fatalf("%s: not within %s", what, timing.LongTimeout)
	}
	return -1
}

// signal = "STDIN": each newline is one gather, written as one flush of
// line protocol; nothing is written without one.
func TestExecdGathersOnNewlines(t *testing.T) {
	srv := fakechronyd.StartUDP(t, fakechronyd.Reply(fakechronyd.SyncedIPv4()))
	r := startRunner(t, 0, srv.URL(), timing.LongTimeout)
	r.none(t, 300*time.Millisecond)
	for i := 0; i < 3; i++ {
		_, err := r.stdin.Write([]byte("\n"))
		require.NoError(t, err)
		out := r.next(t)
		ms := parseLines(t, out)
		require.Len(t, ms, 1, out)
		require.Equal(t, "success", ms[0].Tags()["result"])
		require.Equal(t, srv.URL(), ms[0].Tags()["server"])
		require.Len(t, ms[0].Fields(), 16)
	}
	// Text that is not a newline prompts nothing.
	_, err := r.stdin.Write([]byte("no newline here"))
	require.NoError(t, err)
	r.none(t, 300*time.Millisecond)
	require.Len(t, srv.Requests(), 3)
	require.NoError(t, r.stdin.Close())
	require.Equal(t, exitOK, r.ended(t))
}

// signal = "SIGHUP", "SIGUSR1", "SIGUSR2" with --poll_interval_disabled:
// each signal is one gather, written as one flush; the run goes on until
// the end of stdin.
func TestExecdGathersOnSignals(t *testing.T) {
	srv := fakechronyd.StartUDP(t, fakechronyd.Reply(fakechronyd.SyncedIPv4()))
	r := startRunner(t, 0, srv.URL(), timing.LongTimeout)
	for _, s := range gatherSignals {
		for i := 0; i < 2; i++ {
			r.trig <- s
			ms := parseLines(t, r.next(t))
			require.Len(t, ms, 1)
			require.Equal(t, "success", ms[0].Tags()["result"])
		}
	}
	r.none(t, 300*time.Millisecond)
	require.Len(t, srv.Requests(), 2*len(gatherSignals))
	require.NoError(t, r.stdin.Close())
	require.Equal(t, exitOK, r.ended(t))
}

// With a poll interval the command's timer alone gathers: a gather signal
// is ignored, said once as a warning naming the fix, then at debug level.
func TestExecdIgnoresSignalsOnInterval(t *testing.T) {
	srv := fakechronyd.StartUDP(t, fakechronyd.Reply(fakechronyd.SyncedIPv4()))
	r := startRunner(t, time.Hour, srv.URL(), timing.LongTimeout)
	for _, s := range gatherSignals {
		r.trig <- s
	}
	r.none(t, 300*time.Millisecond)
	require.Empty(t, srv.Requests())
	r.sig <- syscall.SIGTERM
	require.Equal(t, exitOK, r.ended(t))
	log := r.log.String()
	require.Equal(t, 1, strings.Count(log, "W! "), log)
	require.Contains(t, log, "W! SIGHUP ignored: this command gathers every 1h0m0s on its own timer (--poll_interval); "+
		"for inputs.execd's signal to trigger each gather, run it with --poll_interval_disabled")
	require.Contains(t, log, "D! SIGUSR1 ignored")
}

// A stop while a signal's gather waits on a silent chronyd and the newline
// loop waits in a read of stdin: the gather is abandoned, nothing is
// written, and the process exits at once (the read cannot be woken).
func TestExecdStopsMidSignalGather(t *testing.T) {
	srv := fakechronyd.StartUDP(t, fakechronyd.Silence())
	r := startRunner(t, 0, srv.URL(), 20*time.Second)
	r.trig <- syscall.SIGUSR1
	require.Eventually(t, func() bool { return len(srv.Requests()) == 1 }, timing.LongTimeout, 10*time.Millisecond)
	r.sig <- syscall.SIGTERM
	require.Equal(t, exitOK, r.exitedAtOnce(t), "not after the attempt's timeout")
	r.none(t, 100*time.Millisecond)
}

// signal = "none": a gather every interval, without any input.
func TestExecdGathersOnInterval(t *testing.T) {
	srv := fakechronyd.StartUDP(t, fakechronyd.Reply(fakechronyd.SyncedIPv4()))
	r := startRunner(t, 50*time.Millisecond, srv.URL(), timing.LongTimeout)
	for i := 0; i < 3; i++ {
		require.Contains(t, r.next(t), "result=success")
	}
	r.sig <- syscall.SIGTERM
	require.Equal(t, exitOK, r.ended(t))
	require.Contains(t, r.log.String(), "every 50ms")
}

// Newlines that arrive during a gather are merged into one more gather.
// The first reply is held back long enough (timing.ReplyWait) that the
// newlines certainly come during that gather on a loaded machine, and the
// attempt waits longer still, so the reply is taken.
func TestExecdMergesPrompts(t *testing.T) {
	reply := fakechronyd.Reply(fakechronyd.SyncedIPv4())
	srv := fakechronyd.StartUDP(t, fakechronyd.Steps(fakechronyd.Delayed(timing.ReplyWait, reply), reply))
	r := startRunner(t, 0, srv.URL(), timing.LongTimeout)
	_, err := r.stdin.Write([]byte("\n"))
	require.NoError(t, err)
	// The first gather is waiting on the reply.
	require.Eventually(t, func() bool { return len(srv.Requests()) == 1 }, timing.LongTimeout, 10*time.Millisecond)
	_, err = r.stdin.Write([]byte("\n\n\n\n"))
	require.NoError(t, err)
	r.next(t)
	r.next(t)
	r.none(t, 700*time.Millisecond)
	require.Len(t, srv.Requests(), 2)
}

// A signal or the end of stdin during a gather on a silent chronyd ends the
// run at once, with nothing written for the abandoned gather.
func TestExecdStopsMidGather(t *testing.T) {
	for _, how := range []string{"SIGTERM", "SIGINT", "EOF"} {
		t.Run(how, func(t *testing.T) {
			srv := fakechronyd.StartUDP(t, fakechronyd.Silence())
			r := startRunner(t, 0, srv.URL(), 20*time.Second)
			_, err := r.stdin.Write([]byte("\n"))
			require.NoError(t, err)
			require.Eventually(t, func() bool { return len(srv.Requests()) == 1 }, timing.LongTimeout, 10*time.Millisecond)
			switch how {
			case "SIGTERM":
				r.sig <- syscall.SIGTERM
			case "SIGINT":
				r.sig <- syscall.SIGINT
			default:
				require.NoError(t, r.stdin.Close())
			}
			require.Equal(t, exitOK, r.ended(t))
			r.none(t, 100*time.Millisecond)
		})
	}
}

// When stdout fails (the agent is gone), the run stops with the runtime
// status and says why, instead of gathering into the void: after a
// newline's gather the loop returns it; after a signal's the newline loop
// waits in a read of stdin, so stop exits with it.
func TestExecdStopsWhenStdoutFails(t *testing.T) {
	for _, how := range []string{"newline", "SIGUSR2"} {
		t.Run(how, func(t *testing.T) {
			srv := fakechronyd.StartUDP(t, fakechronyd.Reply(fakechronyd.SyncedIPv4()))
			r := startRunner(t, 0, srv.URL(), timing.LongTimeout)
			r.out.mu.Lock()
			r.out.fail = errors.New("broken pipe")
			r.out.mu.Unlock()
			if how == "newline" {
				_, err := r.stdin.Write([]byte("\n"))
				require.NoError(t, err)
				require.Equal(t, exitRuntime, r.ended(t))
			} else {
				r.trig <- syscall.SIGUSR2
				require.Equal(t, exitRuntime, r.exitedAtOnce(t))
			}
			require.Contains(t, r.log.String(), "E! writing to stdout: broken pipe")
		})
	}
}

// Every log line has a bare level prefix, which inputs.execd maps to the
// agent's levels.
func TestExecdLogPrefixes(t *testing.T) {
	r := startRunner(t, 0, "udp://127.0.0.1:1", timing.LongTimeout) // a refusal, which a late 100 ms deadline could turn into a timeout
	for i := 0; i < 2; i++ {
		_, err := r.stdin.Write([]byte("\n"))
		require.NoError(t, err)
		require.Contains(t, r.next(t), "result=service_unavailable")
	}
	require.NoError(t, r.stdin.Close())
	r.ended(t)
	log := strings.TrimSpace(r.log.String())
	for _, l := range strings.Split(log, "\n") {
		require.Regexp(t, `^[EWID]! \S`, l)
	}
	require.Contains(t, log, "W! result=service_unavailable")
	require.Contains(t, log, "D! result=service_unavailable result_code=1 (failure 2 in a row)")
}
