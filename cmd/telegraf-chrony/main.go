// The command does one thing at a time: GOMAXPROCS only sizes the garbage
// collector's workers for a heap of a few hundred KiB. Following changes of
// the CPU limit costs a goroutine at each start (a thread woken: about
// 0.1 ms of a 2.5 ms --once) and, every second of an execd run, a re-read
// of the cgroup's files; the limit is still read once at start.

//go:debug updatemaxprocs=0

// Command telegraf-chrony reads chronyd's tracking report and writes it as
// Telegraf metrics: run by Telegraf's inputs.execd, or once from a shell.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/internal/diagnose"
	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
)

// Exit statuses, as documented in --help.
const (
	exitOK      = 0
	exitFailed  = 1 // --once: a server did not answer with a report
	exitUsage   = 2 // bad flags, bad config
	exitRuntime = 3 // the plugin could not run
)

type options struct {
	configPath   string
	pollInterval time.Duration
	pollDisabled bool
	once         bool
	format       string
	debug        bool
	version      bool
	sample       bool
	diagnose     bool
	maxError     time.Duration

	// Overrides of the config file, applied only when given.
	server  string
	timeout time.Duration
	retries int
	metrics string // comma-separated
	set     map[string]bool
}

func main() {
	growStack()
	// A write to a pipe nobody reads any more then fails with EPIPE, which
	// is reported and ends the run cleanly (client sockets removed),
	// instead of SIGPIPE killing the process in the middle of it.
	signal.Ignore(syscall.SIGPIPE)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// growStack grows the main goroutine's stack to 32 KiB in one step, while
// it holds two frames. A poll needs about 16 KiB at its deepest (the config
// reader's descent); grown on demand, the stack is copied at 8 and 16 KiB,
// each copy walking every frame on it through the function tables and
// taking a new span of stacks of its size, whose every stack the runtime
// links: 0.1 ms of a 2.5 ms --once (BENCHMARKS.md). The frame is zeroed,
// on pages the poll uses anyway.
//
//go:noinline
func growStack() {
	var frame [16 << 10]byte
	keep(frame[:])
}

//go:noinline
func keep([]byte) {}

// run runs the command. Every mode but execd's, which reports its own
// write errors as it goes, writes through a stdoutWriter: output that
// could not be written is an error, not a success with nothing said.
func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err == nil && !o.reports() {
		// Caught before the config is read and the server names resolved:
		// the agent may send the first as soon as the process runs.
		triggers, release := notifyGatherSignals()
		defer release()
		return runPlugin(o, triggers, stdout, stderr)
	}
	out := &stdoutWriter{w: stdout}
	code := report(o, err, out, stderr)
	if out.err != nil {
		fmt.Fprintf(stderr, "E! writing to stdout: %v; the output is incomplete\n", out.err)
		return exitRuntime
	}
	return code
}

// reports tells the modes that write one report and exit from execd's.
func (o *options) reports() bool { return o.version || o.sample || o.diagnose || o.once }

// report runs a mode that writes one report to stdout: the manual, the
// version, the sample config, a diagnosis or one poll.
func report(o *options, err error, stdout, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, manual)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "telegraf-chrony: %v\nRun telegraf-chrony --help for usage.\n", err)
		return exitUsage
	}
	switch {
	case o.version:
		fmt.Fprintln(stdout, versionString())
		return exitOK
	case o.sample:
		fmt.Fprint(stdout, (&ct.ChronyTracking{}).SampleConfig())
		return exitOK
	case o.diagnose:
		return runDiagnose(o, stdout, stderr)
	}
	return runPlugin(o, nil, stdout, stderr)
}

// runPlugin polls once (--once) or runs under execd, gathering on triggers
// too there.
func runPlugin(o *options, triggers chan os.Signal, stdout, stderr io.Writer) int {
	log := newStderrLogger(stderr, o.debug)
	p, err := o.plugin()
	if err != nil {
		fmt.Fprintf(stderr, "telegraf-chrony: %v\n", err)
		return exitUsage
	}
	p.Log = log
	if err := p.Init(); err != nil {
		fmt.Fprintf(stderr, "telegraf-chrony: %v\n", err)
		return exitUsage
	}
	defer p.Stop()
	if o.once {
		return runOnce(p, o.format, stdout, stderr)
	}
	return runExecd(p, o, log, triggers, stdout, stderr)
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{set: map[string]bool{}}
	fs := flag.NewFlagSet("telegraf-chrony", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by run
	fs.Usage = func() {}
	o.pollInterval, o.maxError = time.Second, diagnose.DefaultMaxError
	fs.StringVar(&o.configPath, "config", "", "")
	fs.Var(durationFlag{&o.pollInterval}, "poll_interval", "")
	fs.BoolVar(&o.pollDisabled, "poll_interval_disabled", false, "")
	fs.BoolVar(&o.once, "once", false, "")
	fs.StringVar(&o.format, "format", "influx", "")
	fs.BoolVar(&o.debug, "debug", false, "")
	fs.BoolVar(&o.version, "version", false, "")
	fs.BoolVar(&o.sample, "sample-config", false, "")
	fs.BoolVar(&o.diagnose, "diagnose", false, "")
	fs.Var(durationFlag{&o.maxError}, "max-error", "")
	fs.StringVar(&o.server, "server", "", "")
	fs.Var(durationFlag{&o.timeout}, "timeout", "")
	fs.IntVar(&o.retries, "retries", 0, "")
	fs.StringVar(&o.metrics, "metrics", "", "")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	if err := o.check(); err != nil {
		return nil, err
	}
	return o, nil
}

// check refuses flags that would be ignored, or mean what was not meant.
func (o *options) check() error {
	// An empty value is an unset shell variable more often than a wish for
	// the defaults, which leaving the flag out gives.
	for _, f := range []struct{ name, value string }{{"config", o.configPath}, {"server", o.server}} {
		if o.set[f.name] && f.value == "" {
			return fmt.Errorf("--%s is empty: leave it out for the defaults", f.name)
		}
	}
	switch o.format {
	case "influx", "json", "text":
	default:
		return fmt.Errorf("--format %q: want influx, json or text", o.format)
	}
	switch {
	case o.set["format"] && !o.once:
		return errors.New("--format applies to --once only; under execd the output is line protocol")
	case o.set["max-error"] && !o.diagnose:
		return errors.New("--max-error applies to --diagnose only")
	case o.maxError <= 0:
		return fmt.Errorf("--max-error %s: must be positive", o.maxError)
	case o.diagnose && o.once:
		return errors.New("--diagnose and --once exclude each other")
	case o.once && (o.set["poll_interval"] || o.set["poll_interval_disabled"]):
		return errors.New("--poll_interval and --poll_interval_disabled apply to execd runs, not --once, which gathers once")
	case o.set["poll_interval"] && o.pollDisabled:
		return errors.New("--poll_interval and --poll_interval_disabled exclude each other")
	case !o.pollDisabled && o.pollInterval <= 0:
		return fmt.Errorf("--poll_interval %s: must be positive (or use --poll_interval_disabled)", o.pollInterval)
	}
	return nil
}

// durationFlag reads a duration as the config file does: "500ms", "2s",
// or a number of seconds ("2", "0.5").
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	var d ct.Duration
	if err := d.UnmarshalText([]byte(s)); err != nil {
		return err
	}
	*f.d = time.Duration(d)
	return nil
}

// plugin builds the plugin from the config file, or the defaults, with the
// command-line overrides on top.
func (o *options) plugin() (*ct.ChronyTracking, error) {
	p := ct.New()
	if o.configPath != "" {
		var err error
		if p, err = loadConfig(o.configPath); err != nil {
			return nil, err
		}
	}
	o.override(p)
	return p, nil
}

// override is a flag that replaces a config setting: how it applies to
// the plugin, and its value as written on a command line.
type override struct {
	flag  string
	apply func(*ct.ChronyTracking)
	arg   string
}

// overrides are the flags that replace config settings, whether given or
// not: one list for applying them, naming them and writing them back.
func (o *options) overrides() []override {
	return []override{
		{"server", func(p *ct.ChronyTracking) { p.Server, p.Servers = o.server, nil }, o.server},
		{"timeout", func(p *ct.ChronyTracking) { p.Timeout = ct.Duration(o.timeout) }, o.timeout.String()},
		{"retries", func(p *ct.ChronyTracking) { p.Retries = o.retries }, strconv.Itoa(o.retries)},
		// The plugin's Resolve checks the words, as it does the file's.
		{"metrics", func(p *ct.ChronyTracking) { p.Metrics = strings.Split(o.metrics, ",") }, o.metrics},
	}
}

// given are the overrides on the command line.
func (o *options) given() []override {
	var out []override
	for _, f := range o.overrides() {
		if o.set[f.flag] {
			out = append(out, f)
		}
	}
	return out
}

// override applies the command-line options that replace config settings.
func (o *options) override(p *ct.ChronyTracking) {
	for _, f := range o.given() {
		f.apply(p)
	}
}

// settings resolves the options a run would use, as Init does: the config
// file, or the defaults, with the flags on top.
func (o *options) settings() (ct.Settings, error) {
	p, err := o.plugin()
	if err != nil {
		return ct.Settings{}, err
	}
	return p.Options().Resolve()
}

// diagnoseOptions hands --diagnose the plugin's verdict on the options. A
// config error is a finding, not an early exit: the host checks still run,
// on the plugin's defaults.
func (o *options) diagnoseOptions() diagnose.Options {
	s, err := o.settings()
	if err != nil {
		s, _ = ct.New().Options().Resolve() // the defaults always resolve
	}
	return diagnose.Options{Settings: s, ConfigErr: err, Source: o.source(),
		MaxError: o.maxError, Snippet: o.execdTable(executable(), err != nil)}
}
