package chrony_tracking

import (
	"context"

	"github.com/influxdata/telegraf"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
)

// Gather writes the points of every report of every server: one per
// server for tracking, activity and serverstats, one per source for
// sources and sourcestats, and one point with its code for a report that
// failed. It never returns an error: a failure is data (the point's result
// and result_code) plus one log line, because acc.AddError would count a
// stopped chronyd as a fault of the agent.
func (p *ChronyTracking) Gather(acc telegraf.Accumulator) error {
	for _, r := range p.Poll(context.Background()) {
		// A result cut short by Stop says nothing about chronyd.
		if p.stopped() {
			return nil
		}
		p.logResult(r)
		for _, m := range r.Metrics() {
			acc.AddMetric(m)
		}
	}
	return nil
}

// logResult logs a failure once at warning level when it starts or changes
// code, repeats of it at debug level, and the recovery at info level, so a
// chronyd that stays down for weeks does not flood the agent's log.
func (p *ChronyTracking) logResult(r Result) {
	if p.Log == nil || r.target == nil {
		return
	}
	code := r.Code()
	prev, failures := r.target.transition(r.Kind, code)
	m := r.Kind.Label()
	switch {
	case code == cmdmon.CodeSuccess && failures > 0:
		p.Log.Infof("%s%s: %s again after %d failed gather(s) (last: %s)", m, r.Server, code, failures, prev)
	case code == cmdmon.CodeSuccess:
	case failures > 0 && prev == code:
		p.Log.Debugf("%sresult=%s result_code=%d (failure %d in a row): %v", m, code, code, failures+1, r.Err)
	default:
		p.Log.Warnf("%sresult=%s result_code=%d: %v", m, code, code, r.Err)
	}
}
