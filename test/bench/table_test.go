package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
)

// Environment of TestTable (set by scripts/bench.sh).
const (
	envTable   = "BENCH_TABLE"     // "1" runs TestTable
	envOurs    = "BENCH_OURS_BIN"  // stripped telegraf-chrony
	envShim    = "BENCH_SHIM_BIN"  // stripped shim build of inputs.chrony
	envRounds  = "BENCH_ROUNDS"    // interleaved rounds of the gather benchmarks (12)
	envOnceN   = "BENCH_ONCE_N"    // runs of --once and of chronyc per transport (200)
	envGathers = "BENCH_GATHERS"   // gathers driven through each execd process (100000)
	envHello   = "BENCH_HELLO_BIN" // stripped Go hello world: Go's start-up floor
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestTable measures everything in one run against one lab chronyd and
// prints the table of BENCHMARKS.md. It is a measurement driver, not a test:
// it runs only with BENCH_TABLE=1 and never fails on a figure.
func TestTable(t *testing.T) {
	if os.Getenv(envTable) != "1" {
		t.Skipf("measurement driver: run scripts/bench.sh (or set %s=1)", envTable)
	}
	lab := startLab(t)
	tb := &table{}

	// Gather latency and allocations: the benchmarks of BenchmarkGather,
	// interleaved.
	var cases []benchCase
	for _, gc := range gatherCases {
		cases = append(cases, benchCase{gc.name, func(tb testing.TB) func() error { return gc.op(tb, lab) }})
	}
	res := interleaved(t, cases)
	p50, p99, allocs := res.p50, res.p99, res.allocs
	for _, tr := range []string{"udp", "unixgram"} {
		for _, q := range []struct {
			name string
			f    func(string) float64
		}{{"p50", p50}, {"p99", p99}} {
			tb.add(row{what: fmt.Sprintf("chronyd turnaround %s µs, %s (blocking exchange: the floor)", q.name, tr),
				anchor: q.f("chronyd/" + tr), anchorName: "chronyd", noOurs: true})
			tb.add(row{what: fmt.Sprintf("loopback echo %s µs, %s (no chronyd)", q.name, tr), anchor: q.f("echo/" + tr),
				anchorName: "echo", noOurs: true})
			for _, s := range []string{"client", "plugin"} {
				r := row{what: fmt.Sprintf("gather %s µs, %s, %s", q.name, tr, s), ours: q.f(s + "/" + tr),
					anchor: q.f("inputs.chrony/" + tr), anchorName: "inputs.chrony", floor: q.f("chronyd/" + tr)}
				if s == "plugin" {
					r.target, r.met = "≤1.0x", atMost(1)
				}
				tb.add(r)
			}
		}
		for _, s := range []string{"client", "plugin"} {
			r := row{what: fmt.Sprintf("allocs/gather, %s, %s", tr, s), ours: allocs(s + "/" + tr),
				anchor: allocs("inputs.chrony/" + tr), anchorName: "inputs.chrony", ints: true}
			if s == "plugin" {
				r.target, r.met = "≤0.5x", atMost(0.5)
			}
			tb.add(r)
		}
	}

	measureReports(t, tb)
	ours, shimBin := os.Getenv(envOurs), os.Getenv(envShim)
	measureOnce(t, tb, lab, ours)
	measureExecd(t, tb, lab, ours, shimBin)
	measureSize(tb, ours, shimBin)
	measureFleet(t, tb)
	tb.print(os.Stdout)
}

// atMost is a row's target: ours at most x times the anchor.
func atMost(x float64) func(row) bool { return func(r row) bool { return r.ours <= x*r.anchor } }

// benchCase is one benchmark of a table: a name and the op it measures.
type benchCase struct {
	name string
	op   func(testing.TB) func() error
}

// roundResults are each case's results, one per round.
type roundResults map[string][]testing.BenchmarkResult

// interleaved runs every case over many short rounds (BENCH_ROUNDS, 12),
// interleaved so that drift in the machine hits every row alike: on this
// VM an exchange on loopback takes about 15 or about 40 us for minutes at
// a time, whoever makes it (the vCPUs' idle and wake-up states), and a row
// measured in one mode only would be compared with anchors measured in the
// other.
func interleaved(t *testing.T, cases []benchCase) roundResults {
	rounds := envInt(envRounds, 12)
	res := roundResults{}
	for r := 0; r < rounds; r++ {
		for _, c := range cases {
			br := testing.Benchmark(func(b *testing.B) { latency(b, c.op(b)) })
			if br.N == 0 {
				t.Fatalf("%s: benchmark failed", c.name)
			}
			res[c.name] = append(res[c.name], br)
			fmt.Fprintf(os.Stderr, "round %d %-24s %s\n", r+1, c.name, br.String()+br.MemString())
		}
	}
	return res
}

// p50, p99 and allocs are the medians over the rounds of a case's p50
// and p99 (µs) and allocations per op.
func (res roundResults) p50(n string) float64 {
	return median(res[n], func(b testing.BenchmarkResult) float64 { return b.Extra["p50-ns"] / 1e3 })
}

func (res roundResults) p99(n string) float64 {
	return median(res[n], func(b testing.BenchmarkResult) float64 { return b.Extra["p99-ns"] / 1e3 })
}

func (res roundResults) allocs(n string) float64 {
	return median(res[n], func(b testing.BenchmarkResult) float64 { return float64(b.AllocsPerOp()) })
}

func median[T any](xs []T, f func(T) float64) float64 {
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = f(x)
	}
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	return v[len(v)/2]
}

// run is one finished process: wall time and peak RSS (KiB, from wait4).
type run struct {
	wall   time.Duration
	maxRSS int64
}

func runProc(dir string, name string, args ...string) (run, []byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0)
	if err != nil {
		return run{}, nil, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, errb.String())
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	r := run{wall: wall}
	if ru != nil {
		r.maxRSS = ru.Maxrss
	}
	return r, out.Bytes(), nil
}

// measureOnce compares `telegraf-chrony --once` with `chronyc -c tracking`
// (-n: no name lookups, which only favours chronyc), alternating runs.
func measureOnce(t *testing.T, tb *table, lab *chronylab.Lab, ours string) {
	if ours == "" {
		tb.add(row{what: "--once wall ms", pending: "pending (" + envOurs + " unset)"})
		return
	}
	chronyc, err := exec.LookPath("chronyc")
	if err != nil {
		chronyc = "/usr/bin/chronyc"
	}
	// 200 runs: a median of 50 moved by ±0.05x from one run to the next.
	n := envInt(envOnceN, 200)
	for _, tr := range []struct{ name, url string }{
		{"udp", lab.UDPURL()}, {"unixgram", lab.UnixURL()},
	} {
		conf := writeFile(t, "once-"+tr.name+".conf", fmt.Sprintf("[[inputs.chrony_tracking]]\n  server = %q\n", tr.url))
		var cargs []string
		if tr.name == "udp" {
			cargs = []string{"-n", "-c", "-h", "127.0.0.1", "-p", strconv.Itoa(lab.CmdPort), "tracking"}
		} else {
			cargs = []string{"-n", "-c", "-h", lab.SocketPath, "tracking"}
		}
		hello := os.Getenv(envHello)
		var o, c, h []run
		for i := 0; i < n; i++ {
			if hello != "" {
				r, _, err := runProc(lab.Dir, hello)
				if err != nil {
					t.Fatal(err)
				}
				h = append(h, r)
			}
			r, out, err := runProc(lab.Dir, ours, "--once", "--config", conf)
			if err != nil || !bytes.Contains(out, []byte("result=success")) {
				t.Fatalf("--once: %v %s", err, out)
			}
			o = append(o, r)
			if r, _, err = runProc(lab.Dir, chronyc, cargs...); err != nil {
				t.Fatalf("chronyc: %v", err)
			}
			c = append(c, r)
		}
		wall := func(r run) float64 { return float64(r.wall) / 1e6 }
		rss := func(r run) float64 { return float64(r.maxRSS) / 1024 }
		// wait4's ru_maxrss of a child that Go started holds the test's own
		// RSS (the child shares our memory until exec); GNU time forks from
		// a small process, so ask it for the peak RSS.
		helloMS := 0.0
		if len(h) > 0 {
			helloMS = median(h, wall)
			tb.add(row{what: "Go hello-world wall ms (Go start-up floor), " + tr.name, anchor: helloMS, anchorName: "go hello", noOurs: true})
		}
		oR, cR := o, c
		if _, err := os.Stat(gnuTime); err == nil {
			oR, cR = peakRSS(t, lab.Dir, o, ours, "--once", "--config", conf), peakRSS(t, lab.Dir, c, chronyc, cargs...)
		}
		tb.add(row{what: "--once wall ms (median of " + strconv.Itoa(n) + "), " + tr.name, ours: median(o, wall),
			anchor: median(c, wall), anchorName: "chronyc -c", target: "≤1.3x; ≤2x go hello",
			met: func(r row) bool { return r.ours <= 1.3*r.anchor && (helloMS == 0 || r.ours <= 2*helloMS) }})
		tb.add(row{what: "--once peak RSS MiB, " + tr.name, ours: median(oR, rss),
			anchor: median(cR, rss), anchorName: "chronyc -c"})
	}
}

const gnuTime = "/usr/bin/time"

// peakRSS sets maxRSS of runs (up to 10 of them) from GNU time's %M.
func peakRSS(t *testing.T, dir string, runs []run, name string, args ...string) []run {
	runs = slices.Clone(runs)
	runs = runs[:min(len(runs), 10)]
	for i := range runs {
		_, out, err := runProc(dir, gnuTime, append([]string{"-f", "%M", "-o", "/dev/stdout", "--", name}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		kb, err := strconv.ParseInt(lines[len(lines)-1], 10, 64)
		if err != nil {
			t.Fatalf("%s: %q", gnuTime, out)
		}
		runs[i].maxRSS = kb
	}
	return runs
}

func writeFile(t *testing.T, name, content string) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// execdStats is what driving one execd process yields.
type execdStats struct {
	rss10k, rssEnd float64 // MiB
	cpuPer1k       float64 // ms of utime+stime per 1,000 gathers
	gathers        int
}

// driveExecd runs bin as inputs.execd would with signal = "STDIN" and sends
// a newline whenever the previous point has arrived, reading VmRSS after
// 10,000 gathers and at the end, and the CPU time between the two.
func driveExecd(t *testing.T, bin, conf string, gathers int) execdStats {
	cmd := exec.Command(bin, "--config", conf, "--poll_interval_disabled")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	defer func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill() // only the process this test started
			<-done
		}
	}()
	rd := bufio.NewReader(stdout)
	nl := []byte("\n")
	var st execdStats
	var cpu10k float64
	mark := min(10000, gathers/2)
	for i := 1; i <= gathers; i++ {
		if _, err := stdin.Write(nl); err != nil {
			t.Fatalf("%s: write: %v; stderr: %s", bin, err, errb.String())
		}
		line, err := rd.ReadBytes('\n')
		if err != nil {
			t.Fatalf("%s: gather %d: %v; stderr: %s", bin, i, err, errb.String())
		}
		if i == 1 && bytes.Contains(line, []byte("result=")) && !bytes.Contains(line, []byte("result=success")) {
			t.Fatalf("%s: %s", bin, line)
		}
		if i == mark {
			st.rss10k = vmRSS(t, pid)
			cpu10k = cpuMS(t, pid)
		}
	}
	st.rssEnd = vmRSS(t, pid)
	st.cpuPer1k = (cpuMS(t, pid) - cpu10k) / float64(gathers-mark) * 1000
	st.gathers = gathers
	return st
}

func vmRSS(t *testing.T, pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	t.Fatalf("no VmRSS for pid %d", pid)
	return 0
}

// cpuMS is utime+stime of pid in ms (USER_HZ is 100 on Linux).
func cpuMS(t *testing.T, pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // fields from 3 (state) on
	ut, _ := strconv.ParseFloat(f[11], 64)                   // field 14
	st, _ := strconv.ParseFloat(f[12], 64)                   // field 15
	return (ut + st) * 10
}

func measureExecd(t *testing.T, tb *table, lab *chronylab.Lab, ours, shimBin string) {
	n := envInt(envGathers, 100000)
	var o, s *execdStats
	if ours != "" {
		conf := writeFile(t, "execd.conf", fmt.Sprintf("[[inputs.chrony_tracking]]\n  server = %q\n", lab.UDPURL()))
		st := driveExecd(t, ours, conf, n)
		o = &st
	}
	if shimBin != "" {
		conf := writeFile(t, "shim.conf", fmt.Sprintf("[[inputs.chrony]]\n  server = %q\n", lab.UDPURL()))
		st := driveExecd(t, shimBin, conf, n)
		s = &st
	}
	get := func(st *execdStats, f func(execdStats) float64) (float64, bool) {
		if st == nil {
			return 0, false
		}
		return f(*st), true
	}
	add := func(what, target string, f func(execdStats) float64, met func(row) bool) {
		r := row{what: what, anchorName: "inputs.chrony shim", target: target, met: met}
		var ok bool
		if r.ours, ok = get(o, f); !ok {
			r.pending = "pending (" + envOurs + " unset)"
		}
		if r.anchor, ok = get(s, f); !ok {
			r.anchorName = "-"
		}
		tb.add(r)
	}
	k := func(n int) string { return strconv.Itoa(n/1000) + "k" }
	add("execd RSS MiB after "+k(min(10000, n/2))+" gathers, udp", "≤10", func(s execdStats) float64 { return s.rss10k },
		func(r row) bool { return r.ours <= 10 })
	add("execd RSS MiB after "+k(n)+" gathers, udp", "≤10, flat", func(s execdStats) float64 { return s.rssEnd },
		func(r row) bool { return r.ours <= 10 && o != nil && o.rssEnd <= o.rss10k*1.05+0.5 })
	add("execd CPU ms per 1,000 gathers, udp", "≤0.5x", func(s execdStats) float64 { return s.cpuPer1k },
		func(r row) bool { return r.ours <= 0.5*r.anchor })
}

func measureSize(tb *table, ours, shimBin string) {
	size := func(p string) (float64, bool) {
		st, err := os.Stat(p)
		if p == "" || err != nil {
			return 0, false
		}
		return float64(st.Size()) / 1e6, true
	}
	r := row{what: "binary MB, stripped (-s -w)", anchorName: "inputs.chrony shim", target: "≤6",
		met: func(r row) bool { return r.ours <= 6 }}
	var ok bool
	if r.ours, ok = size(ours); !ok {
		r.pending = "pending (" + envOurs + " unset)"
	}
	if r.anchor, ok = size(shimBin); !ok {
		r.anchorName, r.met = "-", nil
	}
	tb.add(r)
}

// row is one line of the table: ours against an anchor (inputs.chrony,
// chronyc or the shim build) and, for latency, chronyd's own turnaround.
type row struct {
	what       string
	ours       float64
	anchor     float64
	anchorName string
	floor      float64
	target     string
	met        func(row) bool
	ints       bool
	pending    string
	noOurs     bool // an anchor-only row
}

type table struct{ rows []row }

func (t *table) add(r row) { t.rows = append(t.rows, r) }

func (t *table) print(w io.Writer) {
	num := func(v float64, ints bool) string {
		switch {
		case ints:
			return strconv.FormatFloat(v, 'f', 0, 64)
		case v >= 100:
			return strconv.FormatFloat(v, 'f', 0, 64)
		case v >= 10:
			return strconv.FormatFloat(v, 'f', 1, 64)
		}
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	ratio := func(a, b float64) string {
		if b == 0 {
			return "-"
		}
		return strconv.FormatFloat(a/b, 'f', 2, 64) + "x"
	}
	fmt.Fprintln(w, "| measurement | ours | anchor | anchor value | ours / anchor | chronyd floor | ours / floor | target | met |")
	fmt.Fprintln(w, "|---|---:|---|---:|---:|---:|---:|---|---|")
	for _, r := range t.rows {
		ours, anc, rat, fl, rfl, met := "-", "-", "-", "-", "-", "-"
		if r.pending != "" {
			ours = r.pending
		} else if !r.noOurs {
			ours = num(r.ours, r.ints)
		}
		if r.anchorName != "" && r.anchorName != "-" || r.anchor != 0 {
			anc = num(r.anchor, r.ints)
		}
		if r.pending == "" && !r.noOurs && r.anchorName != "-" && r.anchorName != "" {
			rat = ratio(r.ours, r.anchor)
		}
		if r.floor != 0 {
			fl = num(r.floor, false)
			rfl = ratio(r.ours, r.floor)
		}
		if r.met != nil && r.pending == "" {
			met = "no"
			if r.met(r) {
				met = "yes"
			}
		}
		name := r.anchorName
		if name == "" {
			name = "-"
		}
		target := r.target
		if target == "" {
			target = "-"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.what, ours, name, anc, rat, fl, rfl, target, met)
	}
}
