package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/telegraf-chrony/telegraf-chrony/internal/lineproto"
	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
)

// runOnce polls every configured server once and prints their points,
// failures included (they are data too). Each failure also goes to stderr
// with its advice, and makes the exit status non-zero.
func runOnce(p *ct.ChronyTracking, format string, stdout, stderr io.Writer) int {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	results := p.Poll(ctx)
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "telegraf-chrony: interrupted")
		return exitFailed
	}
	status := exitOK
	for i, r := range results {
		if format == "text" && i > 0 {
			io.WriteString(stdout, "\n") // one report per server, apart
		}
		out, err := render(format, r)
		if err != nil {
			fmt.Fprintf(stderr, "telegraf-chrony: %s: %v\n", r.Server, err)
			return exitRuntime
		}
		stdout.Write(out)
		if r.Err != nil {
			fmt.Fprintf(stderr, "telegraf-chrony: %v\n", r.Err)
			status = exitFailed
		}
	}
	return status
}

func render(format string, r ct.Result) ([]byte, error) {
	switch format {
	case "json":
		return jsonPoint(r)
	case "text":
		return []byte(textReport(r.Metric())), nil
	}
	return lineproto.Append(nil, r.Metric())
}

// jsonPoint writes the point as Telegraf's JSON serializer does with
// nanosecond timestamps, one object per line. encoding/json does it without
// that serializer's JSONata engine, a tenth of this binary.
func jsonPoint(r ct.Result) ([]byte, error) {
	tags, fields := ct.Point(r)
	b, err := json.Marshal(struct {
		Fields    map[string]any    `json:"fields"`
		Name      string            `json:"name"`
		Tags      map[string]string `json:"tags"`
		Timestamp int64             `json:"timestamp"`
	}{fields, ct.Name, tags, r.At.UnixNano()})
	return append(b, '\n'), err
}
