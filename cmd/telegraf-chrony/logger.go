package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/influxdata/telegraf"
	tlog "github.com/influxdata/telegraf/logger"
)

// stderrLogger is the plugin's telegraf.Logger: one line per message with a
// bare level prefix ("E! ", "W! ", "I! ", "D! "), which inputs.execd maps to
// the agent's levels. It keeps nothing once a line is written.
type stderrLogger struct {
	mu    sync.Mutex
	w     io.Writer
	level telegraf.LogLevel
}

func newStderrLogger(w io.Writer, debug bool) *stderrLogger {
	l := &stderrLogger{w: w, level: telegraf.Info}
	if debug {
		l.level = telegraf.Debug
	}
	return l
}

// print writes one line. Newlines inside a message are flattened: execd
// would take every continuation line for an error without a level.
func (l *stderrLogger) print(level telegraf.LogLevel, msg string) {
	if !l.level.Includes(level) {
		return
	}
	msg = strings.ReplaceAll(strings.TrimRight(msg, "\r\n"), "\n", " ")
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s %s\n", level.Indicator(), msg)
}

func (l *stderrLogger) Level() telegraf.LogLevel       { return l.level }
func (*stderrLogger) AddAttribute(string, interface{}) {}
func (l *stderrLogger) Errorf(f string, a ...interface{}) {
	l.print(telegraf.Error, fmt.Sprintf(f, a...))
}
func (l *stderrLogger) Error(a ...interface{}) { l.print(telegraf.Error, fmt.Sprint(a...)) }
func (l *stderrLogger) Warnf(f string, a ...interface{}) {
	l.print(telegraf.Warn, fmt.Sprintf(f, a...))
}
func (l *stderrLogger) Warn(a ...interface{}) { l.print(telegraf.Warn, fmt.Sprint(a...)) }
func (l *stderrLogger) Infof(f string, a ...interface{}) {
	l.print(telegraf.Info, fmt.Sprintf(f, a...))
}
func (l *stderrLogger) Info(a ...interface{}) { l.print(telegraf.Info, fmt.Sprint(a...)) }
func (l *stderrLogger) Debugf(f string, a ...interface{}) {
	l.print(telegraf.Debug, fmt.Sprintf(f, a...))
}
func (l *stderrLogger) Debug(a ...interface{}) { l.print(telegraf.Debug, fmt.Sprint(a...)) }
func (l *stderrLogger) Tracef(f string, a ...interface{}) {
	l.print(telegraf.Trace, fmt.Sprintf(f, a...))
}
func (l *stderrLogger) Trace(a ...interface{}) { l.print(telegraf.Trace, fmt.Sprint(a...)) }

// captureTelegrafLogs routes what Telegraf's own code logs (the shim, and
// the standard log package, which Telegraf's logger package redirects) to l.
// Until its logging is set up, Telegraf's logger appends every entry to an
// in-memory list that is never emptied and prints a timestamp first, which
// execd would file as an error; redirecting its sink to io.Discard stops
// both, and the callback still sees every entry with its level.
func captureTelegrafLogs(l *stderrLogger) {
	tlog.RedirectLogging(io.Discard)
	_, _ = tlog.AddCallback(func(level telegraf.LogLevel, _ time.Time, source string, _ map[string]interface{}, args ...interface{}) {
		msg := fmt.Sprint(args...)
		if source != "" {
			msg = "[" + source + "] " + msg
		}
		l.print(level, msg)
	})
}
