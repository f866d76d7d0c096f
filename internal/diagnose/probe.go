package diagnose

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
)

// Bounds of the probes.
const (
	// maxFound bounds how many chronyd command addresses found in /proc,
	// beyond the configured ones, are probed.
	maxFound = 16
	// foundTimeout is the single wait for a found address.
	foundTimeout = 500 * time.Millisecond
)

// probe is one tracking request to one address.
type probe struct {
	addr  cmdmon.Address
	found *chronydProc // set for an address found in /proc, not configured
	rep   cmdmon.Tracking
	err   error
	took  time.Duration
}

func (p *probe) code() cmdmon.Code { return cmdmon.CodeOf(p.err) }

// candidates are chronyd command addresses found in /proc that are not
// configured: probing them tells the user where chronyd really answers.
func candidates(procs []*chronydProc, targets []cmdmon.Address) []probe {
	seen := map[string]bool{}
	for _, t := range targets {
		seen[t.String()] = true
	}
	var out []probe
	for _, p := range procs {
		if p.stopped() {
			continue
		}
		for _, s := range p.addresses() {
			a, err := cmdmon.ParseAddress(s)
			if err != nil || seen[a.String()] || len(out) == maxFound {
				continue
			}
			seen[a.String()] = true
			out = append(out, probe{addr: a, found: p})
		}
	}
	return out
}

// runProbes asks every target (with the plugin's settings) and every found
// address (one short attempt) for tracking, concurrently, through the
// tracking client. In chronyc's order it also makes the plugin's own
// gather, one client trying the targets in turn, to learn which one the
// plugin uses: that choice is the client's alone.
func (d *diagnosis) runProbes(ctx context.Context) {
	s := d.opts.Settings.Cmdmon
	found := candidates(d.procs, d.targets)
	ps := make([]probe, 0, len(d.targets)+len(found))
	for _, a := range d.targets {
		ps = append(ps, probe{addr: a})
	}
	ps = append(ps, found...)
	var wg sync.WaitGroup
	for i := range ps {
		c := s
		if ps[i].found != nil {
			c.Retries = 0
			c.Timeout = min(c.Timeout, foundTimeout)
		}
		wg.Go(func() { ps[i].ask(ctx, cmdmon.NewClient(c, ps[i].addr)) })
	}
	if d.auto {
		wg.Go(func() { d.gather.ask(ctx, cmdmon.NewClient(s, d.targets...)) })
	}
	wg.Wait()
	d.probes = ps
}

// ask makes one tracking request with c, then closes it.
func (p *probe) ask(ctx context.Context, c *cmdmon.Client) {
	defer c.Close()
	start := time.Now()
	p.rep, p.err = c.Tracking(ctx)
	p.took = time.Since(start)
}

// effective returns the index of the target the plugin uses in chronyc's
// order: the one its gather read; -1 when the gather failed.
func (d *diagnosis) effective() int {
	if d.gather.err != nil {
		return -1
	}
	for i, a := range d.targets {
		if a.String() == d.gather.rep.Address {
			return i
		}
	}
	return -1
}

// used are the tracking reports the plugin would record: every
// configured server's that answered, or in chronyc's order the one its
// client reads.
func (d *diagnosis) used() []probe {
	var use []probe
	if d.auto {
		if e := d.effective(); e >= 0 {
			g := d.gather
			g.addr = d.targets[e]
			use = append(use, g)
		}
		return use
	}
	for _, p := range d.probes {
		if p.found == nil && p.err == nil {
			use = append(use, p)
		}
	}
	return use
}

// levelFor grades a problem with target i: FAIL, unless in chronyc's
// automatic order the plugin reads another target.
func (d *diagnosis) levelFor(i int) (Level, string) {
	eff := -1
	if d.auto {
		eff = d.effective()
	}
	switch {
	case eff < 0 || eff == i:
		return Fail, ""
	case i < eff:
		return Info, fmt.Sprintf(" (not needed: the plugin moves on to %s)", d.targets[eff])
	default:
		return Info, fmt.Sprintf(" (not used: the plugin stops at %s)", d.targets[eff])
	}
}

// answering lists found addresses that answered, as advice.
func (d *diagnosis) answering() string {
	var as []string
	for _, p := range d.probes {
		if p.found != nil && p.err == nil {
			as = append(as, fmt.Sprintf("%q (chronyd pid %d)", p.addr.String(), p.found.pid))
		}
	}
	if len(as) == 0 {
		return ""
	}
	return "chronyd answers tracking at " + strings.Join(as, ", ") + ": use that as server"
}
