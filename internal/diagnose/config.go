package diagnose

import (
	"fmt"
	"strings"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
)

// checkConfig reports the plugin's verdict on the options: the key and
// value at fault, or what they resolved to.
func (d *diagnosis) checkConfig() {
	if err := d.opts.ConfigErr; err != nil {
		d.add(Fail, "config", joinFix(hintOf(err), "fix it and run --diagnose again; the checks below use the plugin's defaults"), "%s", msgOf(err))
		return
	}
	s := d.opts.Settings
	names := make([]string, len(s.Addresses))
	unix := ""
	for i, a := range s.Addresses {
		names[i] = a.String()
		if a.Network == "unixgram" && unix == "" {
			unix = "; client socket " + clientSocket(s.Cmdmon, a)
		}
	}
	order := ""
	if s.Auto {
		order = " (chronyc's order)"
	}
	c := s.Cmdmon
	metrics := make([]string, len(s.Metrics))
	for i, k := range s.Metrics {
		metrics[i] = k.String()
	}
	d.add(OK, "config", "", "%s: addresses %s%s; metrics %s; timeout %s, retries %d (a request gives up after %s)%s",
		orDefault(d.opts.Source, "settings"), strings.Join(names, ", "), order, strings.Join(metrics, ", "), c.Timeout, c.Retries, c.Bound(), unix)
}

// clientSocket says where and how a unixgram client makes its socket.
func clientSocket(s cmdmon.Settings, a cmdmon.Address) string {
	group := ""
	if s.SocketGID >= 0 {
		group = fmt.Sprintf(", group %s (gid %d)", s.SocketGroup, s.SocketGID)
	}
	return fmt.Sprintf("under %s, mode %#o%s", s.SocketBase(a), s.SocketMode, group)
}
