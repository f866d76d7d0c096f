// Command telegraf-chrony reads chronyd's tracking report and writes it as
// Telegraf metrics: run by Telegraf's inputs.execd, or once from a shell.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
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
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
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
		if diagnose.Run(context.Background(), o.diagnoseOptions(), stdout) {
			return exitOK
		}
		return exitFailed
	}
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
	return runExecd(p, o, log, stdout, stderr)
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{set: map[string]bool{}}
	fs := flag.NewFlagSet("telegraf-chrony", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by run
	fs.Usage = func() {}
	fs.StringVar(&o.configPath, "config", "", "")
	fs.DurationVar(&o.pollInterval, "poll_interval", time.Second, "")
	fs.BoolVar(&o.pollDisabled, "poll_interval_disabled", false, "")
	fs.BoolVar(&o.once, "once", false, "")
	fs.StringVar(&o.format, "format", "influx", "")
	fs.BoolVar(&o.debug, "debug", false, "")
	fs.BoolVar(&o.version, "version", false, "")
	fs.BoolVar(&o.sample, "sample-config", false, "")
	fs.BoolVar(&o.diagnose, "diagnose", false, "")
	fs.DurationVar(&o.maxError, "max-error", diagnose.DefaultMaxError, "")
	fs.StringVar(&o.server, "server", "", "")
	fs.DurationVar(&o.timeout, "timeout", 0, "")
	fs.IntVar(&o.retries, "retries", 0, "")
	fs.StringVar(&o.metrics, "metrics", "", "")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	switch o.format {
	case "influx", "json", "text":
	default:
		return nil, fmt.Errorf("--format %q: want influx, json or text", o.format)
	}
	if o.set["format"] && !o.once {
		return nil, errors.New("--format applies to --once only; under execd the output is line protocol")
	}
	if o.set["max-error"] && !o.diagnose {
		return nil, errors.New("--max-error applies to --diagnose only")
	}
	if o.maxError <= 0 {
		return nil, fmt.Errorf("--max-error %s: must be positive", o.maxError)
	}
	if o.diagnose && o.once {
		return nil, errors.New("--diagnose and --once exclude each other")
	}
	if !o.pollDisabled && o.pollInterval <= 0 {
		return nil, fmt.Errorf("--poll_interval %s: must be positive (or use --poll_interval_disabled)", o.pollInterval)
	}
	return o, nil
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
