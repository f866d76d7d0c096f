package chrony_tracking

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// newPlugin makes an initialised plugin with a capturing logger; Stop runs
// when the test ends.
func newPlugin(t testing.TB, timeout time.Duration, retries int, modify func(*ChronyTracking)) (*ChronyTracking, *testutil.CaptureLogger) {
	t.Helper()
	log := &testutil.CaptureLogger{Name: "inputs." + Name}
	p := New()
	p.Timeout = Duration(timeout)
	p.Retries = retries
	p.Log = log
	if modify != nil {
		modify(p)
	}
	require.NoError(t, p.Init())
	t.Cleanup(p.Stop)
	return p, log
}

func gather(t testing.TB, p *ChronyTracking) *testutil.Accumulator {
	t.Helper()
	var acc testutil.Accumulator
	require.NoError(t, p.Gather(&acc))
	require.Empty(t, acc.Errors, "failures must be data, not accumulator errors")
	return &acc
}

func levels(log *testutil.CaptureLogger) string {
	var b strings.Builder
	for _, m := range log.Messages() {
		b.WriteByte(m.Level)
	}
	return b.String()
}

// A failed gather is a point with result and result_code only, logged once
// as a warning; repeats log at debug level; the recovery at info level.
// The recovery must be answered, so the one attempt waits
// timing.ReplyWait, which each failed gather then waits out.
func TestGatherFailureIsDataAndRecovers(t *testing.T) {
	srv := fakechronyd.StartUDP(t, fakechronyd.Silence())
	p, log := newPlugin(t, timing.FirstTimeout(0), 0, func(p *ChronyTracking) { p.Server = srv.URL() })

	for i := range 2 {
		acc := gather(t, p)
		require.Len(t, acc.Metrics, 1)
		m := acc.Metrics[0]
		require.Equal(t, map[string]string{"server": srv.URL(), "result": "timeout"}, m.Tags)
		require.Equal(t, map[string]any{"result_code": int64(cmdmon.CodeTimeout)}, m.Fields)
		require.Len(t, log.Messages(), i+1)
	}
	require.Equal(t, "WD", levels(log))
	require.Contains(t, log.Messages()[0].Text, "result=timeout result_code=2")
	require.Contains(t, log.Messages()[0].Text, "cmdallow", "the warning carries the hint")

	srv.SetHandler(fakechronyd.Reply(fakechronyd.SyncedIPv4()))
	acc := gather(t, p)
	require.Len(t, acc.Metrics, 1)
	m := acc.Metrics[0]
	require.Equal(t, "success", m.Tags["result"])
	require.Equal(t, "C0000211", m.Tags["reference_id"])
	require.Equal(t, "192.0.2.17", m.Tags["reference_name"])
	require.Equal(t, int64(3), m.Fields["stratum"])
	require.InDelta(t, -12.345, m.Fields["frequency"], 1e-3)
	require.Equal(t, true, m.Fields["synchronised"])
	require.Equal(t, "WDI", levels(log))
	require.Contains(t, log.Messages()[2].Text, "after 2 failed gather(s)")

	gather(t, p)
	require.Equal(t, "WDI", levels(log), "a healthy gather logs nothing")
}

// TestGatherResultCodes: each result is its point. The silent server's
// outcome is a wait, which a short timeout gives; every other one is an
// answer and gets timing.LongTimeout.
func TestGatherResultCodes(t *testing.T) {
	synced := fakechronyd.SyncedIPv4()
	tests := []struct {
		name    string
		handler fakechronyd.Handler
		want    cmdmon.Code
	}{
		{"success", fakechronyd.Reply(synced), cmdmon.CodeSuccess},
		{"silent", fakechronyd.Silence(), cmdmon.CodeTimeout},
		{"unauth", fakechronyd.Status(fakechronyd.StatusUnauth), cmdmon.CodePermissionDenied},
		{"bad version", fakechronyd.Status(fakechronyd.StatusBadPktVersion), cmdmon.CodeVersionMismatch},
		{"failed status", fakechronyd.Status(fakechronyd.StatusFailed), cmdmon.CodeServerError},
		{"truncated", fakechronyd.Mutate(fakechronyd.Reply(synced), fakechronyd.Truncate(60)), cmdmon.CodeIncompleteReply},
		{"stratum 99", fakechronyd.Mutate(fakechronyd.Reply(synced), fakechronyd.Put16(fakechronyd.OffStratum, 99)), cmdmon.CodeInvalidData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timeout := timing.LongTimeout
			if tt.want == cmdmon.CodeTimeout {
				timeout = 50 * time.Millisecond
			}
			srv := fakechronyd.StartUDP(t, tt.handler)
			p, _ := newPlugin(t, timeout, 0, func(p *ChronyTracking) { p.Server = srv.URL() })
			acc := gather(t, p)
			require.Len(t, acc.Metrics, 1)
			m := acc.Metrics[0]
			require.Equal(t, tt.want.String(), m.Tags["result"])
			require.Equal(t, int64(tt.want), m.Fields["result_code"])
			if tt.want != cmdmon.CodeSuccess {
				require.Len(t, m.Fields, 1)
				require.NotContains(t, m.Tags, "reference_id")
			}
		})
	}
}

// Stop abandons a gather stuck on a silent server at once, and the cut-short
// gather writes nothing: a shutdown says nothing about chronyd.
func TestStopAbandonsGather(t *testing.T) {
	srv := fakechronyd.StartUDP(t, fakechronyd.Silence())
	p, _ := newPlugin(t, timing.LongTimeout, 2, func(p *ChronyTracking) { p.Server = srv.URL() })
	done := make(chan *testutil.Accumulator)
	go func() {
		var acc testutil.Accumulator
		p.Gather(&acc)
		done <- &acc
	}()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	p.Stop()
	select {
	case acc := <-done:
		timing.Before(t, time.Since(start), timing.LongTimeout, "Stop did not wait for the attempt's timeout")
		require.Empty(t, acc.Metrics)
	case <-time.After(timing.LongTimeout):
		t.Fatal("Gather did not return after Stop")
	}
	p.Stop() // twice is fine
}

// fleet starts n fake servers: 10% silent, 5% answering garbage (an
// invalid stratum), the rest healthy.
func fleet(t testing.TB, n int) ([]string, map[string]cmdmon.Code) {
	urls := make([]string, n)
	want := make(map[string]cmdmon.Code, n)
	synced := fakechronyd.SyncedIPv4()
	for i := range n {
		h, code := fakechronyd.Reply(synced), cmdmon.CodeSuccess
		switch {
		case i%10 == 3:
			h, code = fakechronyd.Silence(), cmdmon.CodeTimeout
		case i%20 == 7:
			h, code = fakechronyd.Mutate(h, fakechronyd.Put16(fakechronyd.OffStratum, 99)), cmdmon.CodeInvalidData
		}
		urls[i] = fakechronyd.StartUDP(t, h).URL()
		want[urls[i]] = code
	}
	return urls, want
}

// One gather over 1,000 servers, 10% silent and 5% answering garbage,
// costs about one timeout, not one per silent server in sequence, and each
// server gets its own result. The assertion proves the concurrency (the
// silent servers' timeouts overlap); the figure is make bench's. The
// answering servers' one attempt waits timing.ReplyWait: with 1 s, a
// loaded machine once turned one of them into a timeout.
func TestGatherFleet(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 100
	}
	timeout := timing.ReplyWait
	urls, want := fleet(t, n)
	p, _ := newPlugin(t, timeout, 0, func(p *ChronyTracking) { p.Servers = urls; p.MaxInFlight = n })
	start := time.Now()
	acc := gather(t, p)
	took := time.Since(start)
	// In sequence the silent servers alone cost n/10 timeouts (100 s).
	sequential := time.Duration(n/10) * timeout
	timing.Before(t, took, min(sequential/2, 10*timeout), "the silent servers' timeouts overlap instead of adding up to %v", sequential)
	require.Len(t, acc.Metrics, n)
	for _, m := range acc.Metrics {
		code := want[m.Tags["server"]]
		require.Equal(t, code.String(), m.Tags["result"], m.Tags["server"])
	}
	t.Logf("%d servers in %s", n, took)
}

func BenchmarkGather(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("servers=%d", n), func(b *testing.B) {
			urls := make([]string, n)
			for i := range urls {
				urls[i] = fakechronyd.StartUDP(b, fakechronyd.Reply(fakechronyd.SyncedIPv4())).URL()
			}
			p, _ := newPlugin(b, time.Second, 0, func(p *ChronyTracking) { p.Servers = urls; p.MaxInFlight = n })
			for b.Loop() {
				var acc testutil.Accumulator
				p.Gather(&acc)
			}
		})
	}
}
