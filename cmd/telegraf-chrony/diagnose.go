package main

import (
	"context"
	"fmt"
	"io"
	"os/signal"

	"github.com/telegraf-chrony/telegraf-chrony/internal/diagnose"
)

// runDiagnose writes the diagnosis and exits 0 only when every check
// passed. A probe of a silent chronyd can take the whole bound of a request
// (7 s by default), and people interrupt it: stopSignals end the probes,
// whose clients then remove their sockets, and nothing is reported.
func runDiagnose(o *options, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	r := diagnose.Diagnose(ctx, o.diagnoseOptions())
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "telegraf-chrony: interrupted")
		return exitFailed
	}
	r.Write(stdout)
	if !r.OK() {
		return exitFailed
	}
	return exitOK
}
