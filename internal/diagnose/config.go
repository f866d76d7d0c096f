package diagnose

import (
	"fmt"
	"os"
	"strings"

	"github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking/tracking"
)

// checkConfig reports on --config and turns Options into the client's
// configuration and the addresses to probe (d.targets).
func (d *diagnosis) checkConfig() (tracking.Config, bool) {
	opts := d.opts
	cfg := tracking.Config{Timeout: opts.Timeout, Retries: opts.Retries,
		SocketDir: opts.SocketDir, SocketGroup: opts.SocketGroup}
	good := true
	switch {
	case opts.ConfigErr != nil:
		good = false
		d.add(Fail, "config", "correct the file (the message names the key and line); run --diagnose again",
			"%s does not load: %v", orDefault(opts.ConfigPath, "the configuration"), opts.ConfigErr)
	case opts.ConfigPath == "":
		d.add(Info, "config", "", "no --config given: checking the plugin's defaults (chronyc's address order, timeout %s)", opts.Timeout)
	}
	if opts.SocketPerms != "" {
		v, err := parseOctal(opts.SocketPerms)
		if err != nil {
			good = false
			d.add(Fail, "config", `write an octal string such as "0660" or "0666"`, "socket_perms = %q: %v", opts.SocketPerms, err)
		}
		cfg.SocketMode = v
	}
	var targets []tracking.Address
	if len(opts.Servers) == 0 {
		targets = append(targets, tracking.DefaultAddresses...)
	}
	for _, s := range opts.Servers {
		a, err := tracking.ParseAddress(s)
		if err != nil {
			good = false
			d.add(Fail, "config", hintOf(err), "server %q: %s", s, msgOf(err))
			continue
		}
		targets = append(targets, a)
	}
	if _, err := tracking.New(cfg); err != nil {
		good = false
		d.add(Fail, "config", hintOf(err), "%s", msgOf(err))
	}
	if good && opts.ConfigErr == nil {
		names := make([]string, len(targets))
		for i, a := range targets {
			names[i] = a.String()
		}
		where := "settings"
		if opts.ConfigPath != "" {
			where = opts.ConfigPath + " parses"
		}
		d.add(OK, "config", "", "%s: addresses %s; timeout %s, retries %d (a request gives up after %s)",
			where, strings.Join(names, ", "), cfg.Timeout, cfg.Retries, cfg.Bound())
	}
	d.targets = targets
	return cfg, good
}

func parseOctal(s string) (os.FileMode, error) {
	var v uint64
	t := strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
	if t == "" {
		return 0, fmt.Errorf("not an octal mode")
	}
	for _, c := range t {
		if c < '0' || c > '7' {
			return 0, fmt.Errorf("not an octal mode")
		}
		v = v*8 + uint64(c-'0')
		if v > 0o777 {
			return 0, fmt.Errorf("above 0777")
		}
	}
	if v == 0 {
		return 0, fmt.Errorf("mode 0 would lock chronyd out")
	}
	return os.FileMode(v), nil
}

// snippet is the telegraf.conf table that runs this binary under
// inputs.execd.
func snippet(opts Options) string {
	exe := opts.Executable
	if exe == "" {
		if p, err := os.Executable(); err == nil {
			exe = p
		} else {
			exe = "/usr/local/bin/telegraf-chrony"
		}
	}
	cmd := fmt.Sprintf("%q", exe)
	note := ""
	if opts.ConfigPath != "" {
		cmd += fmt.Sprintf(", \"--config\", %q", opts.ConfigPath)
	} else {
		note = "  ## add \"--config\", \"/etc/telegraf/telegraf-chrony.conf\" to set server, timeout...\n"
	}
	// STDIN lets the agent's interval drive the gathers; with "none" the
	// command would gather on its own --poll_interval instead.
	return "[[inputs.execd]]\n" + note +
		"  command = [" + cmd + ", \"--poll_interval_disabled\"]\n" +
		"  signal = \"STDIN\"\n" +
		"  data_format = \"influx\""
}
