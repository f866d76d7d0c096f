package bench

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
)

// reportsLabSources is how many sources the reports' chronyd has: the
// AllSources lab's kinds but the unresolved name (inputs.chrony fails on
// it: chronylab.Options.NoUnresolved) and four more silent ones.
const reportsLabSources = 8

// startReportsLab starts a chronyd with eight sources (its NTP server, a
// second one, five silent ones and a reference clock) and waits until
// chronyc shows them settled.
func startReportsLab(tb testing.TB) *chronylab.Lab {
	tb.Helper()
	lab := chronylab.Start(tb, chronylab.Options{AllSources: true, NoUnresolved: true, ExtraSilent: reportsLabSources - 4})
	if _, err := lab.WaitAllSources(syncWait); err != nil {
		tb.Fatal(err)
	}
	return lab
}

// allMetrics are the five reports, in inputs.chrony's words. Over UDP
// chronyd refuses serverstats, so a gather there reads the other four.
func allMetrics(transport string) []string {
	if transport == "udp" {
		return []string{"tracking", "sources", "sourcestats", "activity"}
	}
	return []string{"tracking", "sources", "sourcestats", "activity", "serverstats"}
}

// reportPoints is how many points a gather of metrics writes: one per
// source for sources and sourcestats, one for each other report.
func reportPoints(metrics []string, sources int) int {
	n := 0
	for _, m := range metrics {
		switch m {
		case "sources", "sourcestats":
			n += sources
		default:
			n++
		}
	}
	return n
}

// allClientOp reads metrics with our library, one report after another as
// the plugin reads them for a single server (waiting in a system call).
func allClientOp(tb testing.TB, url string, metrics []string) func() error {
	c := newClient(tb, url)
	ctx := context.Background()
	reads := map[string]func() (int, error){
		"tracking":    func() (int, error) { _, err := c.Tracking(ctx); return 1, err },
		"sources":     func() (int, error) { s, err := c.Sources(ctx); return len(s), err },
		"sourcestats": func() (int, error) { s, err := c.SourceStats(ctx); return len(s), err },
		"activity":    func() (int, error) { _, err := c.Activity(ctx); return 1, err },
		"serverstats": func() (int, error) { _, err := c.ServerStats(ctx); return 1, err },
	}
	want := reportPoints(metrics, reportsLabSources)
	return func() error {
		n := 0
		for _, m := range metrics {
			k, err := reads[m]()
			if err != nil {
				return fmt.Errorf("%s: %w", m, err)
			}
			n += k
		}
		if n != want {
			return fmt.Errorf("read %d entries, want %d", n, want)
		}
		return nil
	}
}

// allPluginOp is one Gather of our plugin with metrics.
func allPluginOp(tb testing.TB, url string, metrics []string) func() error {
	return inputOp(tb, plugin(url, metrics), reportPoints(metrics, reportsLabSources))
}

// allBuiltinOp is one Gather of Telegraf v1.37.2's inputs.chrony with
// metrics.
func allBuiltinOp(tb testing.TB, url string, metrics []string) func() error {
	return inputOp(tb, builtin(url, metrics), reportPoints(metrics, reportsLabSources))
}

// reportCase is one row of the all-reports table.
type reportCase struct {
	name string // subject/transport
	op   func(tb testing.TB, url string, metrics []string) func() error
}

// reportOps are our subjects and the anchor of the all-reports table.
var reportOps = map[string]func(testing.TB, string, []string) func() error{
	"client":        allClientOp,
	"plugin":        allPluginOp,
	"inputs.chrony": allBuiltinOp,
}

// reportSubjects are ours, in the table's order.
var reportSubjects = []string{"client", "plugin"}

// reportCases gather every report a transport serves from the eight-source
// chronyd: each of ours, and inputs.chrony.
var reportCases = func() []reportCase {
	var cs []reportCase
	for _, s := range append(slices.Clone(reportSubjects), "inputs.chrony") {
		for _, tr := range []string{"udp", "unixgram"} {
			cs = append(cs, reportCase{s + "/" + tr, reportOps[s]})
		}
	}
	return cs
}()

// transportOf is the transport of a case name ("client/udp": "udp").
func transportOf(name string) string {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '/' {
			return name[i+1:]
		}
	}
	return name
}

// reportOp is the op of a case against lab.
func (rc reportCase) reportOp(tb testing.TB, lab *chronylab.Lab) func() error {
	tr := transportOf(rc.name)
	url := lab.UnixURL()
	if tr == "udp" {
		url = lab.UDPURL()
	}
	return rc.op(tb, url, allMetrics(tr))
}

// BenchmarkGatherAll measures one gather of every report the transport
// serves (five over the unix socket, four over UDP) from one chronyd with
// eight sources, by each subject in the same run.
func BenchmarkGatherAll(b *testing.B) {
	lab := startReportsLab(b)
	for _, rc := range reportCases {
		b.Run(rc.name, func(b *testing.B) { latency(b, rc.reportOp(b, lab)) })
	}
}

// measureReports adds the rows of a gather of every report from the
// eight-source chronyd: ours against inputs.chrony with the same metrics,
// p50, p99 and allocations, over each transport.
func measureReports(t *testing.T, tb *table) {
	lab := startReportsLab(t)
	var cases []benchCase
	for _, rc := range reportCases {
		cases = append(cases, benchCase{rc.name, func(tb testing.TB) func() error { return rc.reportOp(tb, lab) }})
	}
	res := interleaved(t, cases)
	for _, tr := range []string{"udp", "unixgram"} {
		what := fmt.Sprintf("%d reports, %d sources, %s", len(allMetrics(tr)), reportsLabSources, tr)
		for _, q := range []struct {
			name string
			f    func(string) float64
		}{{"p50", res.p50}, {"p99", res.p99}} {
			for _, s := range reportSubjects {
				r := row{what: fmt.Sprintf("gather of %s %s µs, %s", what, q.name, s), ours: q.f(s + "/" + tr),
					anchor: q.f("inputs.chrony/" + tr), anchorName: "inputs.chrony"}
				if s == "plugin" {
					r.target, r.met = "≤1.0x", atMost(1)
				}
				tb.add(r)
			}
		}
		for _, s := range reportSubjects {
			r := row{what: fmt.Sprintf("allocs/gather of %s, %s", what, s), ours: res.allocs(s + "/" + tr),
				anchor: res.allocs("inputs.chrony/" + tr), anchorName: "inputs.chrony", ints: true}
			if s == "plugin" {
				r.target, r.met = "≤0.5x", atMost(0.5)
			}
			tb.add(r)
		}
	}
}
