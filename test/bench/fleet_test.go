package bench

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/influxdata/telegraf"

	"github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
)

// fleetSizes are the fleet rows: one gather over N loopback fake chronyd
// servers (testutil/fakechronyd, UDP), each answering a synchronised report.
var fleetSizes = []int{1, 10, 100, 1000}

// fleetAcc counts the points of a gather by result, on top of building
// each one as the agent does.
type fleetAcc struct {
	sinkAcc
	results map[string]int
}

func (a *fleetAcc) AddMetric(m telegraf.Metric) {
	a.sinkAcc.AddMetric(m)
	r, _ := m.GetTag("result")
	a.results[r]++
}

// quietLogger drops every line.
type quietLogger struct{}

func (quietLogger) Level() telegraf.LogLevel { return telegraf.Error }
func (quietLogger) AddAttribute(string, any) {}
func (quietLogger) Errorf(string, ...any)    {}
func (quietLogger) Error(...any)             {}
func (quietLogger) Warnf(string, ...any)     {}
func (quietLogger) Warn(...any)              {}
func (quietLogger) Infof(string, ...any)     {}
func (quietLogger) Info(...any)              {}
func (quietLogger) Debugf(string, ...any)    {}
func (quietLogger) Debug(...any)             {}
func (quietLogger) Tracef(string, ...any)    {}
func (quietLogger) Trace(...any)             {}

// fleetMix is the fleet of issue 6's scale test: every 10th server silent,
// every 20th (of the others) answering garbage (stratum 99), the rest
// healthy. want counts the results one gather must produce.
func fleetMix(n int, mixed bool) (handlers []fakechronyd.Handler, want map[string]int) {
	want = map[string]int{}
	synced := fakechronyd.SyncedIPv4()
	for i := range n {
		h, r := fakechronyd.Reply(synced), "success"
		switch {
		case mixed && i%10 == 3:
			h, r = fakechronyd.Silence(), "timeout"
		case mixed && i%20 == 7:
			h, r = fakechronyd.Mutate(h, fakechronyd.Put16(fakechronyd.OffStratum, 99)), "invalid_data"
		}
		handlers = append(handlers, h)
		want[r]++
	}
	return handlers, want
}

// fleetOp starts the fleet and a plugin with every server in its servers
// list (default max_in_flight, 256), and returns one gather, which fails
// unless each server gave the result it should. mixed: 10% silent, 5%
// garbage, timeout 1 s, no retries (issue 6); else all healthy, defaults.
func fleetOp(tb testing.TB, n int, mixed bool) func() error {
	tb.Helper()
	handlers, want := fleetMix(n, mixed)
	p := chrony_tracking.New()
	for _, h := range handlers {
		p.Servers = append(p.Servers, fakechronyd.StartUDP(tb, h).URL())
	}
	if mixed {
		p.Timeout, p.Retries = chrony_tracking.Duration(time.Second), 0
	}
	// The mixed fleet logs a warning per failing server: keep it off the
	// table's output.
	p.Log = quietLogger{}
	if err := p.Init(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Stop)
	acc := &fleetAcc{}
	return func() error {
		acc.results = map[string]int{}
		before := acc.points
		if err := p.Gather(acc); err != nil {
			return err
		}
		if acc.errs > 0 || acc.points-before != n {
			return fmt.Errorf("gather: %d points, %d errors (last %v), want %d points", acc.points-before, acc.errs, acc.err, n)
		}
		for r, c := range want {
			if acc.results[r] != c {
				return fmt.Errorf("gather: results %v, want %v", acc.results, want)
			}
		}
		return nil
	}
}

// BenchmarkFleet is one gather over N fake servers; "mixed" is the fleet of
// issue 6's scale test, whose gathers take one timeout (1 s) each.
func BenchmarkFleet(b *testing.B) {
	for _, n := range fleetSizes {
		b.Run("servers="+strconv.Itoa(n), func(b *testing.B) { latency(b, fleetOp(b, n, false)) })
	}
	b.Run("mixed/servers=1000", func(b *testing.B) { latency(b, fleetOp(b, 1000, true)) })
}

// envFleetMixed is how many gathers of the mixed fleet TestTable times.
const envFleetMixed = "BENCH_FLEET_MIXED" // default 3

// measureFleet adds the fleet rows: the median wall time of a gather over N
// healthy fake servers, and the slowest of a few gathers over the mixed
// fleet of 1,000 against issue 6's bound (timeout + 0.5 s).
func measureFleet(t *testing.T, tb *table) {
	timeGathers := func(t *testing.T, op func() error, k int) []time.Duration {
		if err := op(); err != nil { // warm up: dial every client
			t.Fatal(err)
		}
		d := make([]time.Duration, k)
		for i := range d {
			t0 := time.Now()
			if err := op(); err != nil {
				t.Fatal(err)
			}
			d[i] = time.Since(t0)
		}
		slices.Sort(d)
		return d
	}
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	us := func(d time.Duration) float64 { return float64(d) / 1e3 }
	var one float64 // µs of the N = 1 gather: the anchor is N of them in a row
	for _, n := range fleetSizes {
		t.Run(fmt.Sprintf("fleet/%d", n), func(t *testing.T) {
			k := min(max(20000/n, 50), 2000)
			d := timeGathers(t, fleetOp(t, n, false), k)
			fmt.Fprintf(os.Stderr, "fleet %4d servers: p50 %s p99 %s over %d gathers\n", n, pct(d, 50), pct(d, 99), k)
			p50 := us(pct(d, 50))
			if n == 1 {
				one = p50
			}
			tb.add(row{what: fmt.Sprintf("fleet gather wall µs (median of %d), N = %d fake servers, udp", k, n),
				ours: p50, anchor: float64(n) * one, anchorName: "N x the N = 1 gather"})
		})
	}
	t.Run("fleet/mixed", func(t *testing.T) {
		k := envInt(envFleetMixed, 3)
		d := timeGathers(t, fleetOp(t, 1000, true), k)
		fmt.Fprintf(os.Stderr, "fleet mixed 1000 servers: %v\n", d)
		tb.add(row{what: fmt.Sprintf("fleet gather wall ms (slowest of %d), N = 1000: 10%% silent, 5%% garbage, timeout 1s, retries 0", k),
			ours: ms(d[len(d)-1]), anchorName: "-", target: "≤1500 (timeout + 0.5 s)",
			met: func(r row) bool { return r.ours <= 1500 }})
	})
}
