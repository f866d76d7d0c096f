//go:build chrony_tracking

package main

// Built with -tags chrony_tracking, the same shim also runs this
// repository's plugin, as a user would build it to run under Telegraf's
// execd shim instead of the telegraf-chrony command (test/telegrafshim).
// The measured build leaves it out, so that it stays inputs.chrony's alone.
import _ "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
