// Package diagnose checks a host the way a support engineer would before
// telegraf-chrony is put behind Telegraf: is chronyd installed and running,
// which command addresses exist and which answer tracking, can this user
// create its client socket where chronyd can write back, do the protocol
// versions agree, is the clock synchronised within a bound, does the
// configuration parse, what is wrong with chronyd's sources, and which
// telegraf.conf snippet runs the plugin.
//
// Every protocol exchange goes through the library's client (cmdmon); this
// package only inspects the
// host (/proc, /sys, the file system) and interprets the client's results.
//
// Each finding is OK, INFO, WARN or FAIL. INFO lines are facts that need no
// action (an address the plugin will not use, a security module that is not
// in the way). Run returns ok = true only when there is no WARN and no FAIL:
// the command exits 0 then and non-zero otherwise, as issue 6 asks ("exit
// status 0 when all is OK").
package diagnose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
)

// DefaultMaxError is the clock error bound above which diagnose fails when
// Options.MaxError is zero.
const DefaultMaxError = 100 * time.Millisecond

// Options is what the command resolved and what the user asked of the
// diagnosis. Nothing here is defaulted again: the settings are the plugin's
// own verdict on its options.
type Options struct {
	// Settings are the plugin's options as chrony_tracking's
	// Options.Resolve resolved them: what a gather would use.
	Settings ct.Settings
	// ConfigErr is why the options given did not load or resolve (a
	// config_error naming the key and value). Settings are then the
	// plugin's defaults, which the other checks use.
	ConfigErr error
	// Source says where the options came from, for the config line: a
	// config file or the plugin's defaults, and the flags on top.
	Source string
	// MaxError is the largest acceptable clock error bound (zero:
	// DefaultMaxError).
	MaxError time.Duration
	// Snippet is the [[inputs.execd]] table that runs the plugin with
	// these options, printed at the end of the report.
	Snippet string
}

// asks reports whether the options' metrics ask for report k. Source
// health is checked whatever they are; a report that cannot be read is a
// WARN only when asked for.
func (o *Options) asks(k ct.Kind) bool {
	return slices.Contains(o.Settings.Metrics, k)
}

// Level grades a finding.
type Level int

// The levels, in increasing order of gravity.
const (
	OK Level = iota
	Info
	Warn
	Fail
)

func (l Level) String() string {
	return [...]string{"OK", "INFO", "WARN", "FAIL"}[l]
}

// Finding is one line of the report.
type Finding struct {
	Level Level
	// Check names the area: config, chronyd, address, tracking, socket,
	// group, security, protocol, sync, error-bound, ref-time, sources,
	// activity, serverstats.
	Check string
	Msg   string
	// Fix says what to do; empty for OK and INFO.
	Fix string
}

// Result is the whole diagnosis.
type Result struct {
	// Who is the user the checks ran as.
	Who      string
	Findings []Finding
	// Snippet is the [[inputs.execd]] table for telegraf.conf.
	Snippet string
}

// OK reports whether there is no WARN and no FAIL.
func (r *Result) OK() bool {
	for _, f := range r.Findings {
		if f.Level >= Warn {
			return false
		}
	}
	return true
}

// Find returns the findings of a check, for tests and callers that act on
// one area.
func (r *Result) Find(check string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Check == check {
			out = append(out, f)
		}
	}
	return out
}

// Diagnose runs every check and returns the findings without printing.
func Diagnose(ctx context.Context, opts Options) *Result {
	return diagnose(ctx, opts, newHost())
}

// Write renders the report: one line per finding, the fix indented below
// it, the telegraf.conf snippet and a summary with the exit status.
func (r *Result) Write(w io.Writer) {
	fmt.Fprintf(w, "telegraf-chrony diagnose, as %s\n\n", r.Who)
	counts := map[Level]int{}
	for _, f := range r.Findings {
		counts[f.Level]++
		fmt.Fprintf(w, "%-4s  %-11s %s\n", f.Level, f.Check, f.Msg)
		if f.Fix != "" {
			fmt.Fprintf(w, "      %-11s fix: %s\n", "", f.Fix)
		}
	}
	fmt.Fprintf(w, "\ntelegraf.conf:\n%s\n", r.Snippet)
	status := "exit status 0"
	if !r.OK() {
		status = "exit status 1 (any WARN or FAIL)"
	}
	fmt.Fprintf(w, "summary: %d OK, %d INFO, %d WARN, %d FAIL: %s\n",
		counts[OK], counts[Info], counts[Warn], counts[Fail], status)
}

// diagnosis is one run of the checks: what it was given, the host it
// looks at, what it found there and by probing, and its findings so far.
type diagnosis struct {
	opts    Options
	host    *host
	targets []cmdmon.Address // the configured addresses, in order
	auto    bool             // no server configured: chronyc's order
	procs   []*chronydProc
	probes  []probe // one per target (when probed), then the found addresses
	// gather is, in chronyc's order, what the plugin's own client reads
	// trying the targets in turn: its address is the one the plugin uses.
	gather probe

	findings []Finding
}

func (d *diagnosis) add(l Level, check, fix, format string, args ...any) {
	d.findings = append(d.findings, Finding{Level: l, Check: check, Msg: fmt.Sprintf(format, args...), Fix: fix})
}

func diagnose(ctx context.Context, opts Options, h *host) *Result {
	if opts.MaxError <= 0 {
		opts.MaxError = DefaultMaxError
	}
	s := opts.Settings
	d := &diagnosis{opts: opts, host: h, targets: s.Addresses, auto: s.Auto}
	d.checkConfig()
	d.procs = h.chronyds()
	d.checkInstalled()
	d.checkRunning()
	d.runProbes(ctx)
	d.checkAddresses()
	d.checkSockets()
	d.checkSecurity()
	d.checkProtocol()
	d.checkSync()
	d.checkSources(ctx)
	return &Result{Who: h.self.describe(), Findings: d.findings, Snippet: opts.Snippet}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// msgOf is what went wrong, with its cause but without the code, address
// and hint, which the report prints in their own places; like hintOf, in
// the plugin's keys.
func msgOf(err error) string {
	var te *cmdmon.Error
	if !errors.As(ct.InKeys(err), &te) {
		return err.Error()
	}
	return te.Message()
}

func hintOf(err error) string {
	var te *cmdmon.Error
	if errors.As(ct.InKeys(err), &te) {
		return te.Hint
	}
	return ""
}

func joinFix(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}
