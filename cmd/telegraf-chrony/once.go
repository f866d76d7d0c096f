package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/config"
	"github.com/influxdata/telegraf/plugins/serializers/influx"
	"github.com/influxdata/telegraf/plugins/serializers/json"

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
	for _, r := range results {
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
	m := r.Metric()
	switch format {
	case "json":
		return serialize(&json.Serializer{TimestampUnits: config.Duration(time.Nanosecond)}, m)
	case "text":
		return []byte(textReport(m)), nil
	}
	return serialize(&influx.Serializer{}, m)
}

type serializer interface {
	Init() error
	Serialize(telegraf.Metric) ([]byte, error)
}

func serialize(s serializer, m telegraf.Metric) ([]byte, error) {
	if err := s.Init(); err != nil {
		return nil, err
	}
	return s.Serialize(m)
}
