// Package chrony_tracking is the Telegraf input that reads chronyd's
// reports over chrony's native command protocol: tracking, one point per
// configured server per gather, and with the metrics option sources,
// sourcestats, serverstats and activity, as inputs.chrony names them; the
// outcome of every report is recorded as data (the result tag and
// result_code field).
package chrony_tracking

import (
	"context"
	_ "embed"
	"sync"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/plugins/inputs"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
)

//go:embed sample.conf
var sampleConfig string

// Name is the plugin's name in [[inputs.NAME]] and the measurement it writes.
const Name = "chrony_tracking"

// DefaultMaxInFlight bounds concurrent requests when max_in_flight is unset.
const DefaultMaxInFlight = 256

// ChronyTracking is the plugin. The exported fields are its options.
type ChronyTracking struct {
	Server      string   `toml:"server"`
	Servers     []string `toml:"servers"`
	MaxInFlight int      `toml:"max_in_flight"`
	Timeout     Duration `toml:"timeout"`
	Retries     int      `toml:"retries"`
	SocketDir   string   `toml:"socket_dir"`
	SocketGroup string   `toml:"socket_group"`
	SocketPerms string   `toml:"socket_perms"`
	DNSLookup   bool     `toml:"dns_lookup"`
	Metrics     []string `toml:"metrics"`

	Log telegraf.Logger `toml:"-"`

	settings Settings // the options as Init resolved them
	targets  []*target
	dns      *dnsCache

	// ctx ends when Stop is called, which abandons requests in flight so
	// that a shutdown is never held up by a silent chronyd.
	ctx      context.Context
	cancel   context.CancelFunc
	stopOnce sync.Once
}

// New returns the plugin with its defaults (chronyc's timeout and retries).
func New() *ChronyTracking {
	return &ChronyTracking{
		MaxInFlight: DefaultMaxInFlight,
		Timeout:     Duration(cmdmon.DefaultTimeout),
		Retries:     cmdmon.DefaultRetries,
	}
}

func init() {
	inputs.Add(Name, func() telegraf.Input { return New() })
}

// SampleConfig returns the documented default configuration.
func (*ChronyTracking) SampleConfig() string { return sampleConfig }

// Init resolves the options (see Options.Resolve) and makes one client per
// server. No socket is opened here: clients dial on first use, so chronyd
// may start later. Gathers use the options as Init resolved them.
func (p *ChronyTracking) Init() error {
	s, err := p.Options().Resolve()
	if err != nil {
		return err
	}
	p.settings = s
	p.targets = newTargets(s)
	p.dns = newDNSCache()
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return nil
}

// Settings are the options as Init resolved them, which gathers use.
func (p *ChronyTracking) Settings() Settings { return p.settings }

// Start makes the plugin a service input so that Telegraf, and the execd
// shim, call Stop on shutdown; nothing needs starting.
func (*ChronyTracking) Start(telegraf.Accumulator) error { return nil }

// Stop abandons requests in flight and closes every client, removing the
// unix client sockets. It is safe to call more than once, and concurrently
// with Gather.
func (p *ChronyTracking) Stop() {
	p.stopOnce.Do(func() {
		if p.cancel != nil {
			p.cancel()
		}
		closeTargets(p.targets)
	})
}

// stopped reports whether Stop was called (or Init never was).
func (p *ChronyTracking) stopped() bool { return p.ctx == nil || p.ctx.Err() != nil }
