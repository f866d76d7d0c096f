package diagnose

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
)

// minStaleAge is the least ref-time age that is called stale: chronyd's
// default maxpoll is 1024 s, so a healthy server can be quiet that long.
const minStaleAge = 20 * time.Minute

// versionMessage names both protocol versions of a version_mismatch.
func versionMessage(err error) string {
	var te *cmdmon.Error
	if errors.As(err, &te) && te.ReplyVersion != 0 && te.ReplyVersion != cmdmon.ProtocolVersion {
		return fmt.Sprintf("chronyd speaks protocol version %d, this client version %d (%s)", te.ReplyVersion, cmdmon.ProtocolVersion, msgOf(err))
	}
	return fmt.Sprintf("%s; this client speaks version %d", msgOf(err), cmdmon.ProtocolVersion)
}

// checkProtocol reports version agreement from the probes' results, once
// per chronyd that answered, naming its release when it runs here.
func (d *diagnosis) checkProtocol() {
	var order []string
	agreed := map[string][]string{} // who -> addresses that answered
	mismatch := false
	for _, p := range d.probes {
		if p.found != nil {
			continue
		}
		who := "chronyd"
		if o := d.owner(p.addr); o != nil {
			who = fmt.Sprintf("%s (pid %d)", o.describe(), o.pid)
		}
		switch {
		case p.code() == cmdmon.CodeVersionMismatch:
			mismatch = true
			d.add(Fail, "protocol", hintOf(p.err), "%s at %s: %s", who, p.addr, versionMessage(p.err))
		case p.err == nil:
			if agreed[who] == nil {
				order = append(order, who)
			}
			agreed[who] = append(agreed[who], p.addr.String())
		}
	}
	if len(order) == 0 && !mismatch {
		d.add(Info, "protocol", "", "not checked: no configured address answered")
	}
	for _, who := range order {
		d.add(OK, "protocol", "", "%s at %s speaks protocol version %d, as this client does", who, strings.Join(agreed[who], ", "), cmdmon.ProtocolVersion)
	}
}

// checkSync judges the reports the plugin would record: every server's,
// or in chronyc's order the one it would use.
func (d *diagnosis) checkSync() {
	maxErr := d.opts.MaxError
	use := d.used()
	if len(use) == 0 {
		d.add(Fail, "sync", "fix the failures above first", "not checked: no configured address answered tracking")
		return
	}
	for _, p := range use {
		r := p.rep
		switch {
		case r.Synchronised:
			d.add(OK, "sync", "", "%s: synchronised to %s (ref ID %s), stratum %d, leap status %s", p.addr, orDefault(r.ReferenceName, "?"), r.RefIDHex(), r.Stratum, r.Leap)
		case r.ReferenceID == cmdmon.LocalRefID:
			d.add(Warn, "sync", "add a server or pool line to chrony.conf and check `chronyc sources` shows a selected (*) source; `local stratum` alone is only for isolated networks",
				"%s: running on its local reference (local stratum %d), not synchronised to a real time source: nothing bounds its error", p.addr, r.Stratum)
		default:
			d.add(Fail, "sync", "check `chronyc sources -v` and `chronyc activity`: are the servers reachable on UDP 123 (firewall, DNS)? A chronyd that just started needs a few polls",
				"%s: not synchronised (ref ID %s, stratum %d, leap status %s): chronyd has no usable source", p.addr, r.RefIDHex(), r.Stratum, r.Leap)
		}
		bound := time.Duration(r.ClockErrorBound * float64(time.Second))
		detail := fmt.Sprintf("|system time| %s + root dispersion %s + root delay/2 %s",
			secs(abs(r.SystemTime)), secs(r.RootDispersion), secs(r.RootDelay/2))
		switch {
		case r.ReferenceID == cmdmon.LocalRefID:
			d.add(Info, "error-bound", "", "%s: clock error bound %s means nothing on a local reference (see sync)", p.addr, bound.Round(time.Microsecond))
		case bound <= maxErr:
			d.add(OK, "error-bound", "", "%s: clock error bound %s <= %s (%s)", p.addr, bound.Round(time.Microsecond), maxErr, detail)
		default:
			fix := "use closer or better sources (lower root delay and dispersion), or pass a larger --max-error if this bound is acceptable"
			if !r.Synchronised {
				fix = "synchronise chronyd to a real source first (see sync)"
			}
			d.add(Fail, "error-bound", fix, "%s: clock error bound %s exceeds --max-error %s (%s)", p.addr, bound.Round(time.Microsecond), maxErr, detail)
		}
		switch {
		case r.RefTime.IsZero():
			d.add(Info, "ref-time", "", "%s: chronyd has never updated the clock from a source", p.addr)
		default:
			stale := max(minStaleAge, time.Duration(4*r.UpdateInterval*float64(time.Second)))
			if r.RefTimeAge > stale {
				d.add(Warn, "ref-time", "chronyd is losing its sources: check `chronyc sources` and the network to them",
					"%s: last clock update %s ago, more than %s (update interval %.1f s)", p.addr, r.RefTimeAge.Round(time.Second), stale, r.UpdateInterval)
			} else {
				d.add(OK, "ref-time", "", "%s: last clock update %s ago (update interval %.1f s)", p.addr, r.RefTimeAge.Round(time.Millisecond), r.UpdateInterval)
			}
		}
	}
}

func secs(v float64) string {
	return time.Duration(v * float64(time.Second)).Round(time.Microsecond).String()
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
