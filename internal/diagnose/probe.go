package diagnose

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking/tracking"
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
	addr  tracking.Address
	found *chronydProc // set for an address found in /proc, not configured
	rep   tracking.Report
	err   error
	took  time.Duration
}

func (p *probe) code() tracking.Code { return tracking.CodeOf(p.err) }

// candidates are chronyd command addresses found in /proc that are not
// configured: probing them tells the user where chronyd really answers.
func candidates(procs []*chronydProc, targets []tracking.Address) []probe {
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
			a, err := tracking.ParseAddress(s)
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
// tracking client.
func (d *diagnosis) runProbes(ctx context.Context, cfg tracking.Config) {
	found := candidates(d.procs, d.targets)
	ps := make([]probe, 0, len(d.targets)+len(found))
	for _, a := range d.targets {
		ps = append(ps, probe{addr: a})
	}
	ps = append(ps, found...)
	var wg sync.WaitGroup
	for i := range ps {
		c := cfg
		c.Address = ps[i].addr.String()
		if ps[i].found != nil {
			c.Retries = 0
			c.Timeout = min(c.Timeout, foundTimeout)
		}
		wg.Add(1)
		go func(p *probe) {
			defer wg.Done()
			cl, err := tracking.New(c)
			if err != nil {
				p.err = err
				return
			}
			defer cl.Close()
			start := time.Now()
			p.rep, p.err = cl.Tracking(ctx)
			p.took = time.Since(start)
		}(&ps[i])
	}
	wg.Wait()
	d.probes = ps
}

// effective returns the index of the target the plugin would use: the
// first that answers in chronyc's order, stopping at the first failure
// other than "absent" or "permission denied", as the client does; -1 when
// none is decisive. With explicit servers every target is used.
func (d *diagnosis) effective() int {
	for i, p := range d.probes {
		if p.found != nil {
			break
		}
		if c := p.code(); c != tracking.CodeUnavailable && c != tracking.CodePermissionDenied {
			return i
		}
	}
	return -1
}

// levelFor grades a problem with target i: FAIL, unless in chronyc's
// automatic order another address the plugin will use answers.
func (d *diagnosis) levelFor(i int) (Level, string) {
	if !d.auto {
		return Fail, ""
	}
	ps := d.probes
	eff := d.effective()
	if eff < 0 || eff == i || ps[eff].err != nil {
		return Fail, ""
	}
	if i < eff {
		return Info, fmt.Sprintf(" (not needed: the plugin moves on to %s)", ps[eff].addr)
	}
	return Info, fmt.Sprintf(" (not used: the plugin stops at %s)", ps[eff].addr)
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
