package pipelines

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/test/testutil/influxlab"
	"github.com/telegraf-chrony/telegraf-chrony/test/testutil/kafkalab"
	"github.com/telegraf-chrony/telegraf-chrony/test/testutil/promlab"
	"github.com/telegraf-chrony/telegraf-chrony/test/testutil/telegrafagent"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/cmdbin"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/freeport"
)

// Bounds of the waits. Data flows every second, so a healthy pipeline
// meets each within seconds; alertWait covers the longest alert window
// (10 minutes scaled: 60 s) after Prometheus starts, with room for a
// loaded machine: a CI run with other tests beside it saw 120 s pass
// before the two 10-minute source alerts fired in Prometheus.
const (
	syncWait  = 30 * time.Second
	flowWait  = 45 * time.Second
	alertWait = 240 * time.Second
	pollTick  = 250 * time.Millisecond
)

// agentTable is the test's own [agent] table: the examples leave the
// agent's settings to the user. Telegraf's default interval of 10 s is
// scaled to 1 s; omit_hostname keeps the points' tags exactly those
// telegraf-chrony --once prints.
const agentTable = `[agent]
  interval = "1s"
  flush_interval = "1s"
  omit_hostname = true
  debug = true

`

// The Kafka topics of examples/telegraf/kafka.conf and kafka-json.conf.
const (
	topicLP   = "chrony"
	topicJSON = "chrony-json"
)

// server is one chronyd the pipeline watches.
type server struct {
	role string
	url  string
	tol  tolerance
}

// pipeline is everything TestPipelines runs: five chronyd, one agent
// running the example configs, and the servers they ship to.
type pipeline struct {
	healthy, unsynchronised, stratum16, leap, sources server
	lab                                               *chronylab.Lab // healthy's, stopped for the outage
	// sourcesLab has sources of every kind; sourceAddrs are their address
	// tags as chronyc lists them.
	sourcesLab  *chronylab.Lab
	sourceAddrs []string

	agent     *telegrafagent.Agent
	kafkaLP   *kafkalab.Consumer
	kafkaJSON *kafkalab.Consumer
	influx    *influxlab.Server
	prom      *promlab.Server
	promV1URL string // a metric_version = 1 endpoint beside the example's
	start     time.Time
	outageAt  time.Time // when the healthy chronyd was stopped
}

func (p *pipeline) servers() []server {
	return []server{p.healthy, p.unsynchronised, p.stratum16, p.leap, p.sources}
}

// pipelineMetrics is the metrics option of the pipeline's agent: every
// report, of every server.
const pipelineMetrics = `["tracking", "sources", "sourcestats", "serverstats", "activity"]`

// startPipeline starts the chronyd the alerts are about: a healthy one, an
// unsynchronised one, one following a stratum-15 server (stratum 16), a
// fake announcing a leap second, which a real chronyd does only on the
// last day of June or December (with the fake's table of sources of every
// kind), and one with sources of every kind. Then the servers, the agent
// and Prometheus.
func startPipeline(t *testing.T) *pipeline {
	p := &pipeline{start: time.Now()}
	p.lab = chronylab.Start(t, chronylab.Options{})
	unsync := chronylab.Start(t, chronylab.Options{Mode: chronylab.Unsynchronised})
	s16 := chronylab.Start(t, chronylab.Options{LocalStratum: 15})
	// It serves NTP with a rate limit that floodNTP exceeds, so that its
	// ntp_drops keep rising (ChronyServerDropsRising).
	p.sourcesLab = chronylab.Start(t, chronylab.Options{AllSources: true, ExtraConfig: []string{"ratelimit interval 1 burst 1 leak 0"}})
	for _, l := range []*chronylab.Lab{p.lab, s16} {
		if err := l.WaitSynced(syncWait); err != nil {
			t.Fatal(err)
		}
	}
	pic, err := p.sourcesLab.WaitAllSources(2 * syncWait)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range pic.Sources {
		p.sourceAddrs = append(p.sourceAddrs, s.Address)
	}
	floodNTP(t, p.sourcesLab.ServePort)
	leapReport := fakechronyd.SyncedIPv4()
	leapReport.Leap = 1
	fake := fakechronyd.StartUDP(t, fakechronyd.Reports(fakechronyd.Daemon{Tracking: leapReport, Sources: fakechronyd.Pool(), Activity: [5]int32{4, 1, 0, 0, 1}}))
	p.healthy = server{"healthy", p.lab.UnixURL(), withDrift}
	p.unsynchronised = server{"unsynchronised", unsync.UDPURL(), withDrift}
	p.stratum16 = server{"stratum16", s16.UDPURL(), withDrift}
	p.leap = server{"leap", fake.URL(), exactlyButAge}
	p.sources = server{"sources", p.sourcesLab.UnixURL(), withDrift}

	kafka := kafkalab.Start(t, topicLP, topicJSON)
	p.kafkaLP, p.kafkaJSON = kafka.Consume(t, topicLP), kafka.Consume(t, topicJSON)
	p.influx = influxlab.Start(t)
	ports, err := freeport.TCP(2)
	if err != nil {
		t.Fatal(err)
	}
	p.promV1URL = fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[1])
	p.agent = telegrafagent.StartWithTags(t, p.agentConfig(t, kafka.Addrs(), ports), telegrafagent.PipelineTags...)

	promYAML := substitute(t, scaled(example(t, "prometheus/prometheus.yml")),
		`"localhost:9273"`, fmt.Sprintf(`"127.0.0.1:%d"`, ports[0]))
	p.prom = promlab.Start(t, promlab.Config{
		YAML:  promYAML,
		Files: map[string]string{"chrony.rules.yml": scaled(example(t, "prometheus/chrony.rules.yml"))},
	})
	return p
}

// agentConfig is the examples' tables, as docs/pipelines.md shows them, pointed
// at this test's binary, chronyd and servers.
func (p *pipeline) agentConfig(t *testing.T, brokers []string, ports []int) string {
	var urls []string
	for _, s := range p.servers() {
		urls = append(urls, strconv.Quote(s.url))
	}
	pluginConf := filepath.Join(t.TempDir(), "telegraf-chrony.conf")
	if err := os.WriteFile(pluginConf, []byte(fmt.Sprintf(
		"[[inputs.chrony_tracking]]\n  servers = [%s]\n  metrics = %s\n",
		strings.Join(urls, ", "), pipelineMetrics)), 0o644); err != nil {
		t.Fatal(err)
	}
	brokerList := `["` + strings.Join(brokers, `", "`) + `"]`
	return agentTable +
		substitute(t, scaled(example(t, dropIn)),
			`"/usr/bin/telegraf-chrony"`, strconv.Quote(cmdbin.Path(t)),
			`"/etc/telegraf/telegraf-chrony.conf"`, strconv.Quote(pluginConf)) + "\n" +
		substitute(t, example(t, "telegraf/influxdb.conf"), `"http://127.0.0.1:8086"`, strconv.Quote(p.influx.URL)) + "\n" +
		substitute(t, example(t, "telegraf/kafka.conf"), `["localhost:9092"]`, brokerList) + "\n" +
		substitute(t, example(t, "telegraf/kafka-json.conf"), `["localhost:9092"]`, brokerList) + "\n" +
		substitute(t, scaled(example(t, "telegraf/prometheus.conf")),
			`listen = ":9273"`, fmt.Sprintf(`listen = "127.0.0.1:%d"`, ports[0])) + "\n" +
		// Not an example: the default metric_version, for docs/pipelines.md's
		// claim that it loses synchronised.
		fmt.Sprintf("[[outputs.prometheus_client]]\n  listen = \"127.0.0.1:%d\"\n  metric_version = 1\n", ports[1])
}

// waitFor polls cond until it holds, failing the test after timeout with
// cond's last account of what it saw.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last seen: %s", what, timeout, state)
		}
		time.Sleep(pollTick)
	}
}

// TestPipelines runs every pipeline of docs/pipelines.md at once, in three acts:
// all chronyd answering, the healthy one stopped (the outage), and it
// started again. The alerts' windows make it last about a minute.
func TestPipelines(t *testing.T) {
	p := startPipeline(t)
	t.Run("healthy", func(t *testing.T) {
		t.Run("kafka", p.checkKafka)
		t.Run("prometheus", p.checkPrometheus)
		t.Run("prometheus metric_version 1", p.checkPrometheusV1)
		t.Run("influxdb", p.checkInfluxDB)
		t.Run("reports", func(t *testing.T) {
			t.Run("kafka", p.checkKafkaReports)
			t.Run("influxdb", p.checkInfluxDBReports)
			t.Run("prometheus", p.checkPrometheusReports)
		})
	})
	if err := p.lab.Stop(); err != nil {
		t.Fatal(err)
	}
	p.outageAt = time.Now()
	t.Run("outage", func(t *testing.T) {
		t.Run("kafka", p.checkKafkaOutage)
		t.Run("prometheus", p.checkPrometheusOutage)
		t.Run("influxdb", p.checkInfluxDBOutage)
		t.Run("alerts", func(t *testing.T) {
			p.checkAlerts(t, p.expectedAlerts(true))
		})
	})
	if err := p.lab.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Run("recovered", func(t *testing.T) {
		t.Run("alerts", func(t *testing.T) {
			p.checkAlerts(t, p.expectedAlerts(false))
		})
		t.Run("only the outage failed", p.checkOnlyOutageFailed)
	})
	t.Run("grafana", func(t *testing.T) {
		t.Run("influxdb", p.checkInfluxDBDashboard)
		t.Run("prometheus", p.checkPrometheusDashboard)
	})
	t.Run("readme influx command", p.checkInfluxCommand)
}

// floodNTP sends an NTP client request to 127.0.0.1:port every 50 ms until
// the test ends, without reading the replies: a client beyond any server's
// rate limit.
func floodNTP(t *testing.T, port int) {
	c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		t.Fatal(err)
	}
	request := make([]byte, 48)
	request[0] = 0x23 // NTPv4, client
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				c.Write(request) // a lost request is as good as a dropped one
			}
		}
	}()
	t.Cleanup(func() {
		close(done)
		<-stopped
		c.Close()
	})
}
