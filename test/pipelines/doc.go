// Package pipelines proves each pipeline docs/pipelines.md shows, end to end:
// chronyd labs (and a fake chronyd for the one state a real chronyd cannot
// be put in: a leap second pending), telegraf-chrony under a real Telegraf
// agent running the example configs of examples/telegraf, and the servers
// those ship to, all started by the tests on loopback: InfluxDB 1.x,
// Prometheus scraping outputs.prometheus_client, a Kafka-protocol cluster.
// The alert rules (examples/prometheus, examples/influxdb) and the Grafana
// dashboards' queries (examples/grafana) run against what arrived.
//
// The examples are run as they are written except for addresses (loopback
// ports picked at run time, temporary paths) and time: every duration is
// divided by timeScale, so a 10 s agent interval is 1 s and a 5 minute
// alert window 30 s.
package pipelines
