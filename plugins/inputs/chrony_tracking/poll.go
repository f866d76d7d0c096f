package chrony_tracking

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
)

// Result is the outcome of asking one server for one report.
type Result struct {
	// Server is the address that answered, or the one tried when none did.
	Server string
	// Kind is the report asked for; of the fields below, its own is valid
	// when Err is nil: Report for tracking, Sources, SourceStats, Activity
	// or ServerStats.
	Kind        Kind
	Report      cmdmon.Tracking
	Sources     []cmdmon.Source
	SourceStats []cmdmon.SourceStats
	Activity    cmdmon.Activity
	ServerStats cmdmon.ServerStats
	// Err is nil or a *cmdmon.Error, whose Hint says what to do.
	Err error
	// At is when the outcome was known.
	At time.Time

	target *target
}

// Code is the result's code: cmdmon.CodeSuccess when Err is nil.
func (r Result) Code() cmdmon.Code { return cmdmon.CodeOf(r.Err) }

// Poll asks every configured server concurrently, at most max_in_flight at
// a time, for each report of the metrics option in turn, and returns one
// Result per server and report, server by server in configuration order.
// Each report is bounded by the server's timeout and retries, so a silent
// server costs only the slot it holds; a failed report does not keep the
// next from being asked. It returns early with the results so far marked
// as cancelled when ctx ends or the plugin stops.
func (p *ChronyTracking) Poll(ctx context.Context) []Result {
	if p.ctx == nil {
		return nil // not initialised: nothing to poll
	}
	if len(p.targets) == 1 && ctx.Done() == nil && !p.stopped() {
		// The usual single-server gather needs no goroutine and no merged
		// context, which cost as much as the exchange itself. Stop still
		// ends it: closing the client wakes the blocked read.
		results := make([]Result, len(p.settings.Metrics))
		p.pollTarget(context.Background(), p.targets[0], results)
		return results
	}
	ctx, cancel := mergeCancel(ctx, p.ctx)
	defer cancel()
	kinds := len(p.settings.Metrics)
	results := make([]Result, len(p.targets)*kinds)
	sem := make(chan struct{}, p.settings.MaxInFlight)
	var wg sync.WaitGroup
	for i, t := range p.targets {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			for j, k := range p.settings.Metrics {
				results[i*kinds+j] = cancelled(t, k, ctx.Err())
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			p.pollTarget(ctx, t, results[i*kinds:(i+1)*kinds])
		}()
	}
	wg.Wait()
	return results
}

// pollTarget asks t for each report of the metrics option, into results.
func (p *ChronyTracking) pollTarget(ctx context.Context, t *target, results []Result) {
	for j, k := range p.settings.Metrics {
		results[j] = p.pollOne(ctx, t, k)
	}
}

// pollOne never panics: a panic in the client would otherwise take down
// the whole agent, and the issue is better reported as this server's result.
func (p *ChronyTracking) pollOne(ctx context.Context, t *target, k Kind) (res Result) {
	defer func() {
		if v := recover(); v != nil {
			res = Result{Server: t.label(), Kind: k, target: t, At: time.Now(), Err: &cmdmon.Error{
				Code: cmdmon.CodeInvalidData, Address: t.url,
				Msg:  fmt.Sprintf("internal error while reading the reply: %v", v),
				Hint: "please report this as a bug in telegraf-chrony, with the chronyd version",
			}}
		}
	}()
	if k != KindTracking {
		res = Result{Kind: k, target: t}
		res.Err = res.read(ctx, t.client)
		res.Server, res.At = serverOf(t, t.client.Address(), res.Err), time.Now()
		return res
	}
	start := time.Now()
	r, err := t.client.Tracking(ctx)
	res = Result{Server: serverOf(t, r.Address, err), Report: r, Err: err, At: time.Now(), target: t}
	if err == nil && p.settings.DNSLookup {
		res.Report.ReferenceName = p.dns.name(ctx, r, p.lookupDeadline(start))
	}
	return res
}

// read asks the client for the result's report, other than tracking.
func (r *Result) read(ctx context.Context, c *cmdmon.Client) (err error) {
	switch r.Kind {
	case KindSources:
		r.Sources, err = c.Sources(ctx)
	case KindSourceStats:
		r.SourceStats, err = c.SourceStats(ctx)
	case KindActivity:
		r.Activity, err = c.Activity(ctx)
	case KindServerStats:
		r.ServerStats, err = c.ServerStats(ctx)
	}
	return err
}

// lookupDeadline keeps the reverse lookup within the timeout and within the
// server's own bound, so dns_lookup never lengthens a gather.
func (p *ChronyTracking) lookupDeadline(start time.Time) time.Time {
	c := p.settings.Client
	d, bound := time.Now().Add(c.Timeout), start.Add(c.Bound())
	if bound.Before(d) {
		return bound
	}
	return d
}

// serverOf is the server tag: the address that answered or was tried.
func serverOf(t *target, answered string, err error) string {
	if err == nil && answered != "" {
		return answered
	}
	// Declared here, not above: errors.As makes it escape, an allocation
	// every successful gather would pay for.
	var te *cmdmon.Error
	if errors.As(err, &te) && te.Address != "" {
		return te.Address
	}
	return t.label()
}

func cancelled(t *target, k Kind, cause error) Result {
	return Result{Server: t.label(), Kind: k, target: t, At: time.Now(), Err: &cmdmon.Error{
		Code: cmdmon.CodeTimeout, Address: t.url, Msg: "not polled: the gather was cancelled", Err: cause}}
}

// mergeCancel returns a context that ends when either a or b does.
func mergeCancel(a, b context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(a)
	stop := context.AfterFunc(b, cancel)
	return ctx, func() { stop(); cancel() }
}
