package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// restartDelay is the agent's wait before it starts the command again
// after an exit (Telegraf's default, written out so it is seen).
const restartDelay = "10s"

// executable is this program's path, for the execd table.
func executable() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return "/usr/bin/telegraf-chrony" // where the packages install it
}

// absPath makes a --config path absolute: Telegraf's working directory is
// not the user's.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// source says where the options come from, for --diagnose's config line.
func (o *options) source() string {
	s := "no --config: the plugin's defaults"
	if o.configPath != "" {
		s = absPath(o.configPath)
	}
	var flags []string
	for _, f := range o.given() {
		flags = append(flags, "--"+f.flag)
	}
	if len(flags) > 0 {
		s += " with " + strings.Join(flags, ", ")
	}
	return s
}

// execdTable is the telegraf.conf table that runs exe with exactly the
// options --diagnose checked: the config file by its absolute path, every
// flag given, and the way gathers are triggered. failed says the options
// did not resolve, so that the table is not pasted unread.
func (o *options) execdTable(exe string, failed bool) string {
	args := []string{exe}
	if o.configPath != "" {
		args = append(args, "--config", absPath(o.configPath))
	}
	for _, f := range o.given() {
		args = append(args, "--"+f.flag, f.arg)
	}
	if o.debug {
		args = append(args, "--debug")
	}
	// STDIN lets the agent's interval drive the gathers; a --poll_interval
	// given keeps the command's own timer, which needs signal "none".
	signal := "STDIN"
	if o.set["poll_interval"] && !o.pollDisabled {
		args = append(args, "--poll_interval", o.pollInterval.String())
		signal = "none"
	} else {
		args = append(args, "--poll_interval_disabled")
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = tomlString(a)
	}
	var b strings.Builder
	b.WriteString("[[inputs.execd]]\n")
	switch {
	case failed:
		b.WriteString("  ## telegraf-chrony stops at start-up with these options: fix the config line above first\n")
	case o.configPath == "":
		b.WriteString("  ## add \"--config\", \"/etc/telegraf/telegraf-chrony.conf\" to set server, timeout...\n")
	}
	fmt.Fprintf(&b, "  command = [%s]\n  signal = %s\n  restart_delay = %s\n  data_format = \"influx\"",
		strings.Join(quoted, ", "), tomlString(signal), tomlString(restartDelay))
	return b.String()
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
