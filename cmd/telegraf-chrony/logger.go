package main

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/influxdata/telegraf"
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
