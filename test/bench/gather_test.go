package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/facebook/time/ntp/chrony"
	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/config"
	"github.com/influxdata/telegraf/metric"
	tgtestutil "github.com/influxdata/telegraf/testutil"

	inputschrony "github.com/influxdata/telegraf/plugins/inputs/chrony"
	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	"github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
)

// echoLen is the size of a tracking request and of its reply.
const echoLen = 104

// syncWait bounds the wait for the lab's daemon to select its source. The
// benchmarks run without it (an unsynchronised report is as costly), but a
// synchronised one is what users see: it carries a source address.
const syncWait = 30 * time.Second

// startLab starts a Synced chrony lab (failing, not skipping, when
// TELEGRAF_CHRONY_REQUIRE_LAB=1 and chrony is missing) and waits for it to
// synchronise.
func startLab(tb testing.TB) *chronylab.Lab {
	tb.Helper()
	lab := chronylab.Start(tb, chronylab.Options{})
	if err := lab.WaitSynced(syncWait); err != nil {
		tb.Logf("lab not synchronised, measuring anyway: %v", err)
	}
	return lab
}

// latency runs op b.N times and reports allocations and the p50 and p99 of
// the per-op durations (as p50-ns and p99-ns) next to ns/op.
func latency(b *testing.B, op func() error) {
	b.Helper()
	lat := make([]time.Duration, b.N)
	if err := op(); err != nil { // warm up: dial, first-use allocations
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range lat {
		t0 := time.Now()
		if err := op(); err != nil {
			b.Fatalf("op %d: %v", i, err)
		}
		lat[i] = time.Since(t0)
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(pct(lat, 50)), "p50-ns")
	b.ReportMetric(float64(pct(lat, 99)), "p99-ns")
}

// pct is the nearest-rank percentile of sorted durations.
func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(i-1, 0)]
}

// sinkAcc is a telegraf.Accumulator that builds each point as Telegraf's
// agent accumulator does (metric.New, timestamp now unless given) and keeps
// only the last one, and the last whose result tag is not success, so a
// benchmark measures the plugin, not a growing list.
type sinkAcc struct {
	points int
	last   telegraf.Metric
	failed telegraf.Metric
	errs   int
	err    error
}

func (a *sinkAcc) add(name string, fields map[string]any, tags map[string]string, t []time.Time) {
	tm := time.Now()
	if len(t) > 0 {
		tm = t[0]
	}
	a.AddMetric(metric.New(name, tags, fields, tm))
}

func (a *sinkAcc) AddFields(n string, f map[string]any, t map[string]string, tm ...time.Time) {
	a.add(n, f, t, tm)
}
func (a *sinkAcc) AddGauge(n string, f map[string]any, t map[string]string, tm ...time.Time) {
	a.add(n, f, t, tm)
}
func (a *sinkAcc) AddCounter(n string, f map[string]any, t map[string]string, tm ...time.Time) {
	a.add(n, f, t, tm)
}
func (a *sinkAcc) AddSummary(n string, f map[string]any, t map[string]string, tm ...time.Time) {
	a.add(n, f, t, tm)
}
func (a *sinkAcc) AddHistogram(n string, f map[string]any, t map[string]string, tm ...time.Time) {
	a.add(n, f, t, tm)
}
func (a *sinkAcc) AddMetric(m telegraf.Metric) {
	a.last = m
	a.points++
	if r, ok := m.GetTag("result"); ok && r != "success" {
		a.failed = m
	}
}
func (*sinkAcc) SetPrecision(time.Duration) {}
func (a *sinkAcc) AddError(err error) {
	if err != nil {
		a.errs++
		a.err = err
	}
}
func (*sinkAcc) WithTracking(int) telegraf.TrackingAccumulator { panic("not supported") }

// gatherPoints calls gather and checks that it wrote exactly points good
// points.
func (a *sinkAcc) gatherPoints(gather func(telegraf.Accumulator) error, points int) error {
	before := a.points
	if err := gather(a); err != nil {
		return err
	}
	if a.errs > 0 {
		return fmt.Errorf("gather recorded %d error(s), last: %w", a.errs, a.err)
	}
	if a.points != before+points {
		return fmt.Errorf("gather wrote %d points, want %d", a.points-before, points)
	}
	if a.failed != nil {
		return fmt.Errorf("gather failed: %v", a.failed)
	}
	return nil
}

// udpEcho starts a loopback UDP echo server and returns a connected client.
// Neither side allocates per datagram.
func udpEcho(tb testing.TB) net.Conn {
	tb.Helper()
	srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Close() })
	go func() {
		buf := make([]byte, 2*echoLen)
		for {
			n, from, err := srv.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if _, err := srv.WriteToUDPAddrPort(buf[:n], from); err != nil {
				return
			}
		}
	}()
	c, err := net.DialUDP("udp4", nil, srv.LocalAddr().(*net.UDPAddr))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// unixEcho starts a unixgram echo server in dir and returns a client
// connected to it; the server is connected back to the client so that
// neither side allocates per datagram.
func unixEcho(tb testing.TB, dir string) net.Conn {
	tb.Helper()
	srvPath, cliPath := filepath.Join(dir, "echo.sock"), filepath.Join(dir, "echo-client.sock")
	srv, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: srvPath, Net: "unixgram"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Close(); os.Remove(srvPath) })
	c, err := net.DialUnix("unixgram", &net.UnixAddr{Name: cliPath, Net: "unixgram"}, &net.UnixAddr{Name: srvPath, Net: "unixgram"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close(); os.Remove(cliPath) })
	rc, err := srv.SyscallConn()
	if err != nil {
		tb.Fatal(err)
	}
	var cerr error
	if err := rc.Control(func(fd uintptr) {
		cerr = syscall.Connect(int(fd), &syscall.SockaddrUnix{Name: cliPath})
	}); err != nil || cerr != nil {
		tb.Fatalf("connect echo server back: %v %v", err, cerr)
	}
	go func() {
		buf := make([]byte, 2*echoLen)
		for {
			n, err := srv.Read(buf)
			if err != nil {
				return
			}
			if _, err := srv.Write(buf[:n]); err != nil {
				return
			}
		}
	}()
	return c
}

// echoOp is one request/reply round trip of a 104-byte datagram.
func echoOp(c net.Conn) func() error {
	req := make([]byte, echoLen)
	buf := make([]byte, 2*echoLen)
	return func() error {
		if _, err := c.Write(req); err != nil {
			return err
		}
		n, err := c.Read(buf)
		if err == nil && n != echoLen {
			err = fmt.Errorf("echo returned %d bytes", n)
		}
		return err
	}
}

// newClient is our client of url, made as the plugin makes it for a
// single server (waiting in a system call), closed when tb ends.
func newClient(tb testing.TB, url string) *cmdmon.Client {
	tb.Helper()
	c, err := cmdmon.New(cmdmon.Config{Address: url, Timeout: time.Second, Retries: 2, WaitInSyscall: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// clientOp is one Tracking call of our client, on its own.
func clientOp(tb testing.TB, url string) func() error {
	c := newClient(tb, url)
	ctx := context.Background()
	return func() error {
		_, err := c.Tracking(ctx)
		return err
	}
}

// pluginOp is one Gather of our Telegraf plugin into an accumulator.
func pluginOp(tb testing.TB, url string) func() error {
	return inputOp(tb, plugin(url, nil), 1)
}

// plugin is our Telegraf plugin reading metrics (nil: tracking) from url.
func plugin(url string, metrics []string) *chrony_tracking.ChronyTracking {
	p := chrony_tracking.New()
	p.Server = url
	p.Metrics = metrics
	p.Log = tgtestutil.Logger{Name: "inputs.chrony_tracking", Quiet: true}
	return p
}

// builtinOp is one Gather of Telegraf v1.37.2's inputs.chrony into an
// accumulator.
func builtinOp(tb testing.TB, url string) func() error {
	return inputOp(tb, builtin(url, nil), 1)
}

// builtin is Telegraf v1.37.2's inputs.chrony reading metrics (nil:
// tracking) from url.
func builtin(url string, metrics []string) *inputschrony.Chrony {
	return &inputschrony.Chrony{
		Server:      url,
		Timeout:     config.Duration(time.Second),
		SocketGroup: ownGroup(),
		Metrics:     metrics,
		Log:         tgtestutil.Logger{Name: "inputs.chrony", Quiet: true},
	}
}

// inputOp starts a service input as Telegraf does and returns one Gather
// of it into an accumulator, which must write points good points; the
// input stops when tb ends.
func inputOp(tb testing.TB, p interface {
	telegraf.ServiceInput
	Init() error
}, points int) func() error {
	tb.Helper()
	if err := p.Init(); err != nil {
		tb.Fatal(err)
	}
	acc := &sinkAcc{}
	if err := p.Start(acc); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Stop)
	return func() error { return acc.gatherPoints(p.Gather, points) }
}

// ownGroup names this process's group, for inputs.chrony's socket_group
// (its default "chrony" rarely exists).
func ownGroup() string {
	if g, err := user.LookupGroupId(strconv.Itoa(os.Getgid())); err == nil {
		return g.Name
	}
	return strconv.Itoa(os.Getgid())
}

// floorSockets numbers the floor's unix client sockets.
var floorSockets atomic.Int64

// chronydOp is chronyd's own turnaround, the floor of any client: one
// tracking request and its reply on a socket read with a blocking recv
// (SO_RCVTIMEO), outside Go's netpoller, and nothing else.
func chronydOp(tb testing.TB, network string, lab *chronylab.Lab) func() error {
	tb.Helper()
	var buf bytes.Buffer
	if err := binary.Write(&buf, binary.BigEndian, chrony.NewTrackingPacket()); err != nil {
		tb.Fatal(err)
	}
	req := buf.Bytes()
	var (
		fd  int
		err error
		to  syscall.Sockaddr
	)
	switch network {
	case "udp":
		fd, err = syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
		to = &syscall.SockaddrInet4{Port: lab.CmdPort, Addr: [4]byte{127, 0, 0, 1}}
	default:
		fd, err = syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
		to = &syscall.SockaddrUnix{Name: lab.SocketPath}
		local := filepath.Join(filepath.Dir(lab.SocketPath), fmt.Sprintf("floor-%d-%d.sock", os.Getpid(), floorSockets.Add(1)))
		if err == nil {
			err = syscall.Bind(fd, &syscall.SockaddrUnix{Name: local})
			tb.Cleanup(func() { os.Remove(local) })
		}
	}
	if err != nil {
		tb.Fatalf("floor socket: %v", err)
	}
	tb.Cleanup(func() { syscall.Close(fd) })
	tv := syscall.Timeval{Sec: 1}
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		tb.Fatal(err)
	}
	if err := syscall.Connect(fd, to); err != nil {
		tb.Fatalf("floor connect: %v", err)
	}
	reply := make([]byte, 2*echoLen)
	seq := uint32(0)
	return func() error {
		seq++
		binary.BigEndian.PutUint32(req[8:], seq)
		if _, err := syscall.Write(fd, req); err != nil {
			return fmt.Errorf("floor write: %w", err)
		}
		for {
			n, err := syscall.Read(fd, reply)
			if err == syscall.EINTR {
				// The runtime's preemption signals interrupt a read with a
				// timeout; it is not restarted.
				continue
			}
			if err != nil {
				return fmt.Errorf("floor read: %w", err)
			}
			if n == echoLen && binary.BigEndian.Uint32(reply[fakechronyd.OffSequence:]) == seq {
				return nil
			}
		}
	}
}

// gatherCase is one row of the latency table.
type gatherCase struct {
	name string // subject/transport, the sub-benchmark name
	op   func(testing.TB, *chronylab.Lab) func() error
}

// gatherCases are the rows, floors first: chronyd's own turnaround, and a
// bare loopback echo without chronyd. Every case gets a fresh
// client/plugin but all share one lab.
var gatherCases = []gatherCase{
	{"chronyd/udp", func(tb testing.TB, l *chronylab.Lab) func() error { return chronydOp(tb, "udp", l) }},
	{"chronyd/unixgram", func(tb testing.TB, l *chronylab.Lab) func() error { return chronydOp(tb, "unixgram", l) }},
	{"echo/udp", func(tb testing.TB, _ *chronylab.Lab) func() error { return echoOp(udpEcho(tb)) }},
	{"echo/unixgram", func(tb testing.TB, _ *chronylab.Lab) func() error { return echoOp(unixEcho(tb, tb.TempDir())) }},
	{"client/udp", func(tb testing.TB, l *chronylab.Lab) func() error { return clientOp(tb, l.UDPURL()) }},
	{"client/unixgram", func(tb testing.TB, l *chronylab.Lab) func() error { return clientOp(tb, l.UnixURL()) }},
	{"plugin/udp", func(tb testing.TB, l *chronylab.Lab) func() error { return pluginOp(tb, l.UDPURL()) }},
	{"plugin/unixgram", func(tb testing.TB, l *chronylab.Lab) func() error { return pluginOp(tb, l.UnixURL()) }},
	{"inputs.chrony/udp", func(tb testing.TB, l *chronylab.Lab) func() error { return builtinOp(tb, l.UDPURL()) }},
	{"inputs.chrony/unixgram", func(tb testing.TB, l *chronylab.Lab) func() error { return builtinOp(tb, l.UnixURL()) }},
}

// BenchmarkGather measures one gather of each subject against one lab
// chronyd, and the loopback echo floor, in the same run.
func BenchmarkGather(b *testing.B) {
	lab := startLab(b)
	for _, gc := range gatherCases {
		b.Run(gc.name, func(b *testing.B) { latency(b, gc.op(b, lab)) })
	}
}
