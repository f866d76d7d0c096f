package diagnose

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
)

// neverSampled is a source's SinceSample (chronyc's LastRx) when chronyd
// has never had a sample from it.
const neverSampled = math.MaxUint32

// health is what one chronyd says of its sources: its sources and activity
// reports, and its server statistics when the options ask for them.
type health struct {
	sources     []cmdmon.Source
	sourcesErr  error
	activity    cmdmon.Activity
	activityErr error
	stats       cmdmon.ServerStats
	statsErr    error
	askStats    bool
}

// readHealth reads the reports with the plugin's client settings.
func (d *diagnosis) readHealth(ctx context.Context, addr cmdmon.Address) health {
	c := cmdmon.NewClient(d.opts.Settings.Cmdmon, addr)
	defer c.Close()
	h := health{askStats: d.opts.asks(ct.KindServerStats)}
	h.sources, h.sourcesErr = c.Sources(ctx)
	h.activity, h.activityErr = c.Activity(ctx)
	if h.askStats {
		h.stats, h.statsErr = c.ServerStats(ctx)
	}
	return h
}

// checkSources says, for each chronyd the plugin reads, how many sources
// it has and how many are reachable, which one it follows, and what is
// wrong with the others, each with what to do.
func (d *diagnosis) checkSources(ctx context.Context) {
	for _, p := range d.used() {
		h := d.readHealth(ctx, p.addr)
		if h.sourcesErr != nil {
			d.notRead(p.addr, "sources", h.sourcesErr, ct.KindSources, ct.KindSourceStats)
		} else {
			d.judgeSources(p, h)
		}
		d.checkActivity(p.addr, h)
		d.checkServerStats(p.addr, h)
	}
}

// judgeSources writes the summary line, the selected source (or its
// absence) and a line for each source that is of no use to chronyd.
func (d *diagnosis) judgeSources(p probe, h health) {
	srcs := h.sources
	if len(srcs) == 0 {
		if h.activity.Unresolved == 0 {
			d.add(Warn, "sources", "add server or pool lines to chrony.conf (for example `pool pool.ntp.org iburst`) and restart chronyd",
				"%s: chronyd has no sources", p.addr)
		}
		d.noneSelected(p)
		return
	}
	reachable, selected := 0, -1
	for i, s := range srcs {
		if s.Reachability != 0 {
			reachable++
		}
		if s.State == cmdmon.StateSync {
			selected = i
		}
	}
	level, fix := OK, ""
	if reachable == 0 {
		level, fix = Fail, "no source answers: see each source's line"
	}
	d.add(level, "sources", fix, "%s: %s, %d reachable (a reach register not 0: an answer within the last 8 polls)",
		p.addr, plural(len(srcs), "source"), reachable)
	if selected < 0 {
		d.noneSelected(p)
	} else {
		s := &srcs[selected]
		d.add(OK, "sources", "", "%s: selected: %s, stratum %d, reach %03o, last offset %s +/- %s",
			p.addr, label(&s.Ident), s.Stratum, s.Reachability, secs(s.LatestMeas), secs(s.LatestMeasErr))
	}
	for i := range srcs {
		d.judgeSource(p.addr, &srcs[i])
	}
}

// noneSelected is a chronyd that follows no source: worst while its
// tracking report still says synchronised, as it does after losing its
// sources, since nothing then bounds the clock's drift.
func (d *diagnosis) noneSelected(p probe) {
	if p.rep.Synchronised {
		d.add(Fail, "sources", "make a source usable again (see the lines about each source, and `chronyc sources -v`): until then the clock drifts unchecked while every reader takes it for synchronised",
			"%s: no selectable source, yet the clock is still marked synchronised (to %s, leap status %s): chronyd is coasting on its last correction",
			p.addr, orDefault(p.rep.ReferenceName, p.rep.RefIDHex()), p.rep.Leap)
		return
	}
	d.add(Warn, "sources", "see the lines about each source, and sync", "%s: no source is selected", p.addr)
}

// label names a source as chronyc -N and -n together would: its name, and
// its address when that differs; a reference clock says it is one.
func label(id *cmdmon.Ident) string {
	switch {
	case id.Refclock():
		return "reference clock " + id.Key()
	case id.Name == "" || id.Name == id.Key():
		return id.Key()
	}
	return fmt.Sprintf("%s (%s)", id.Name, id.Key())
}

// judgeSource writes the line of a source chronyd cannot use, if it is one.
func (d *diagnosis) judgeSource(addr cmdmon.Address, s *cmdmon.Source) {
	name := label(&s.Ident)
	switch {
	case s.Family == cmdmon.FamilyID:
		d.add(Warn, "sources", fmt.Sprintf("DNS on this host: `getent hosts %s` must answer; check /etc/resolv.conf, and the name's spelling in chrony.conf", s.Name),
			"%s: the name %s never resolved: chronyd keeps trying and has no address to poll", addr, s.Name)
	case s.Reachability == 0 && s.Refclock():
		d.add(Warn, "sources", "check the reference clock's driver and device (gpsd, the PPS device, the SOCK or SHM writer) and the refclock line of chrony.conf",
			"%s: %s gives no samples", addr, name)
	case s.Reachability == 0 && s.SinceSample == neverSampled:
		d.add(Warn, "sources", fmt.Sprintf("UDP port 123 to %s must be open both ways: check the firewalls here and on the way (nft list ruleset, a cloud security group), and that it serves NTP (`chronyd -Q 'server %s iburst'`)", s.Key(), s.Key()),
			"%s: %s never answered", addr, name)
	case s.Reachability == 0:
		d.add(Warn, "sources", fmt.Sprintf("check that %s still serves NTP and that UDP port 123 to it is still open; chronyd keeps polling it", s.Key()),
			"%s: %s is unreachable: none of its last 8 polls answered (last sample %ds ago)", addr, name, s.SinceSample)
	case s.State == cmdmon.StateFalseticker:
		d.add(Warn, "sources", fmt.Sprintf("chronyd needs a majority that agree to tell a wrong source: use at least 4 sources; if %s stays a falseticker, correct it (a refclock's offset or delay) or remove it", name),
			"%s: %s is a falseticker: its time disagrees with the majority and chronyd ignores it (offset %s +/- %s)", addr, name, secs(s.LatestMeas), secs(s.LatestMeasErr))
	case s.State == cmdmon.StateJittery:
		d.add(Warn, "sources", fmt.Sprintf("use a closer or less loaded server, or fix the network path to %s (`chronyc ntpdata %s` shows its delays)", s.Key(), s.Key()),
			"%s: %s is jittery: its measurements vary too much and chronyd ignores it", addr, name)
	case s.State == cmdmon.StateOutlier:
		d.add(Info, "sources", "", "%s: %s is an outlier: selectable, but too far from the selected source to be combined with it", addr, name)
	case s.State == cmdmon.StateUnreach:
		d.add(Info, "sources", "", "%s: %s is not selectable yet: it has answered, but chronyd has too few samples of it", addr, name)
	}
}

// checkActivity reports the activity counts, and names left unresolved
// that the sources report cannot show (chronyd before 4.0 lists no source
// for them).
func (d *diagnosis) checkActivity(addr cmdmon.Address, h health) {
	if h.activityErr != nil {
		d.notRead(addr, "activity", h.activityErr, ct.KindActivity)
		return
	}
	a := h.activity
	d.add(Info, "activity", "", "%s: NTP sources: %d online, %d offline, %d in a burst, %d unresolved",
		addr, a.Online, a.Offline, a.BurstOnline+a.BurstOffline, a.Unresolved)
	listed := 0
	for _, s := range h.sources {
		if s.Family == cmdmon.FamilyID {
			listed++
		}
	}
	if h.sourcesErr == nil && int(a.Unresolved) > listed {
		d.add(Warn, "activity", "DNS on this host: check /etc/resolv.conf and `getent hosts NAME` for each server and pool name of chrony.conf",
			"%s: %s not resolved yet, and this chronyd does not list them as sources (before 4.0)", addr, plural(int(a.Unresolved)-listed, "source name"))
	}
}

// notRead reports a report that failed: a WARN when the options ask for
// it (as one of metrics), else a fact.
func (d *diagnosis) notRead(addr cmdmon.Address, report string, err error, metrics ...ct.Kind) {
	for _, m := range metrics {
		if d.opts.asks(m) {
			d.add(Warn, report, hintOf(err), "%s: %s not read: %s: %s", addr, report, cmdmon.CodeOf(err), msgOf(err))
			return
		}
	}
	d.add(Info, report, "", "%s: %s not read (%s: %s); metrics does not ask for it", addr, report, cmdmon.CodeOf(err), msgOf(err))
}

// checkServerStats reports the server statistics when the options ask for
// them: chronyd answers them on its unix socket only.
func (d *diagnosis) checkServerStats(addr cmdmon.Address, h health) {
	switch {
	case !h.askStats:
	case cmdmon.CodeOf(h.statsErr) == cmdmon.CodePermissionDenied && addr.Network != "unixgram":
		d.add(Warn, "serverstats", "read chronyd through its unix socket (server = \"unixgram:///run/chrony/chronyd.sock\") as root or with socket_group (docs/troubleshooting.md, Socket permissions), or drop serverstats from metrics",
			"%s: serverstats asked for over UDP, where chronyd refuses it (%s): it answers serverstats on its unix socket only", addr, msgOf(h.statsErr))
	case h.statsErr != nil:
		d.notRead(addr, "serverstats", h.statsErr, ct.KindServerStats)
	default:
		d.add(OK, "serverstats", "", "%s: %s", addr, statsLine(&h.stats))
	}
}

// statsLine renders the NTP counters of a server stats report.
func statsLine(s *cmdmon.ServerStats) string {
	var parts []string
	for _, c := range []cmdmon.Counter{cmdmon.NTPHits, cmdmon.NTPDrops, cmdmon.CmdHits, cmdmon.CmdDrops} {
		if v, ok := s.Get(c); ok {
			parts = append(parts, fmt.Sprintf("%s %d", c, v))
		}
	}
	return strings.Join(parts, ", ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
