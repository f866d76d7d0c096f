package diagnose

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// want is one line that must be in the report: its level, its check, and
// substrings of its message and of its fix.
type want struct {
	level Level
	check string
	msg   []string
	fix   []string
}

func assertFindings(t *testing.T, r *Result, wants []want) {
	t.Helper()
	for _, w := range wants {
		found := false
		for _, f := range r.Find(w.check) {
			if f.Level == w.level && containsAll(f.Msg, w.msg) && containsAll(f.Fix, w.fix) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no %s %s line with message %q and fix %q", w.level, w.check, w.msg, w.fix)
		}
	}
	if t.Failed() {
		var b bytes.Buffer
		r.Write(&b)
		t.Logf("report:\n%s", b.String())
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// fast are options for a lab on loopback: one attempt, which waits
// timing.ReplyWait because in most cases it must be answered (a loaded
// machine can run the client too late for a shorter one); the one case
// that waits it out, a paused chronyd, runs alongside the others.
func fast(t testing.TB, servers ...string) Options {
	t.Helper()
	o := ct.New().Options()
	o.Servers, o.Timeout, o.Retries = servers, timing.ReplyWait, 0
	s, err := o.Resolve()
	require.NoError(t, err)
	return Options{Settings: s, Snippet: testSnippet}
}

const testSnippet = "[[inputs.execd]]\n  command = [\"/usr/local/bin/telegraf-chrony\", \"--poll_interval_disabled\"]"

// TestDiagnoseLab runs the diagnosis against a real chronyd in a healthy
// state and in each broken state the reliability suite creates.
func TestDiagnoseLab(t *testing.T) {
	chronylab.Require(t)
	cases := []struct {
		name string
		lab  chronylab.Options
		// setup waits for or breaks the lab and returns the options to
		// diagnose with.
		setup  func(t *testing.T, l *chronylab.Lab) Options
		wantOK bool
		want   func(l *chronylab.Lab) []want
	}{
		{
			name: "healthy udp",
			setup: func(t *testing.T, l *chronylab.Lab) Options {
				waitSynced(t, l)
				return fast(t, l.UDPURL())
			},
			wantOK: true,
			want: func(l *chronylab.Lab) []want {
				return []want{
					{OK, "address", []string{l.UDPURL(), "is bound by chronyd pid " + strconv.Itoa(l.PID())}, nil},
					{OK, "tracking", []string{l.UDPURL(), "answers tracking", "ref ID 7F000001"}, nil},
					{OK, "protocol", []string{"protocol version 6"}, nil},
					{OK, "sync", []string{"synchronised to 127.0.0.1", "stratum 9"}, nil},
					{OK, "error-bound", []string{"clock error bound", "<= 100ms"}, nil},
					{OK, "ref-time", []string{"last clock update"}, nil},
					{OK, "chronyd", []string{"running: pid " + strconv.Itoa(l.PID()), "127.0.0.1:" + strconv.Itoa(l.CmdPort)}, nil},
				}
			},
		},
		{
			name: "healthy unix",
			setup: func(t *testing.T, l *chronylab.Lab) Options {
				waitSynced(t, l)
				return fast(t, l.UnixURL())
			},
			wantOK: true,
			want: func(l *chronylab.Lab) []want {
				return []want{
					{OK, "address", []string{l.UnixURL(), "socket exists", "bound by chronyd pid"}, nil},
					{OK, "tracking", []string{l.UnixURL(), "answers tracking"}, nil},
					{OK, "socket", []string{"can create its client socket under " + l.Dir}, nil},
					{OK, "socket", []string{"chronyd's user root can search " + l.Dir}, nil},
					{OK, "sync", []string{"synchronised to 127.0.0.1"}, nil},
					{OK, "error-bound", []string{"<= 100ms"}, nil},
				}
			},
		},
		{
			name: "error bound above threshold",
			setup: func(t *testing.T, l *chronylab.Lab) Options {
				waitSynced(t, l)
				o := fast(t, l.UDPURL())
				o.MaxError = time.Nanosecond
				return o
			},
			want: func(l *chronylab.Lab) []want {
				return []want{
					{OK, "sync", []string{"synchronised"}, nil},
					{Fail, "error-bound", []string{"exceeds --max-error 1ns", "root dispersion"}, []string{"--max-error"}},
				}
			},
		},
		{
			name: "chronyd stopped",
			setup: func(t *testing.T, l *chronylab.Lab) Options {
				if err := l.Stop(); err != nil {
					t.Fatal(err)
				}
				return fast(t, l.UDPURL(), l.UnixURL())
			},
			want: func(l *chronylab.Lab) []want {
				return []want{
					{Fail, "address", []string{l.UDPURL(), "nothing is bound"}, nil},
					{Fail, "tracking", []string{l.UDPURL(), "service_unavailable", "connection refused"}, []string{"start it"}},
					{Fail, "address", []string{l.UnixURL(), "socket does not exist"}, nil},
					{Fail, "tracking", []string{l.UnixURL(), "service_unavailable"}, []string{"start it"}},
					{Fail, "sync", []string{"not checked"}, nil},
				}
			},
		},
		{
			name: "chronyd paused",
			setup: func(t *testing.T, l *chronylab.Lab) Options {
				waitSynced(t, l)
				if err := l.Pause(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = l.Resume() })
				waitState(t, l.PID(), "T")
				return fast(t, l.UDPURL())
			},
			want: func(l *chronylab.Lab) []want {
				pid := strconv.Itoa(l.PID())
				return []want{
					{Warn, "chronyd", []string{"pid " + pid, "state T"}, []string{"kill -CONT " + pid}},
					{OK, "address", []string{l.UDPURL(), "bound by chronyd pid " + pid}, nil},
					{Fail, "tracking", []string{l.UDPURL(), "timeout", "no reply after 1 attempt"}, []string{"is stopped", "kill -CONT " + pid}},
				}
			},
		},
		{
			name: "socket path missing",
			// chronyd refuses a socket directory with bits outside 0770 and
			// serves UDP only.
			lab: chronylab.Options{SocketDirMode: 0o755},
			setup: func(t *testing.T, l *chronylab.Lab) Options {
				return fast(t, l.UnixURL())
			},
			want: func(l *chronylab.Lab) []want {
				return []want{
					{Fail, "address", []string{l.UnixURL(), "socket does not exist"}, []string{"Wrong permissions", "chmod 0750 " + l.Dir, l.UDPURL()}},
					{Fail, "tracking", []string{l.UnixURL(), "service_unavailable"}, nil},
					{Info, "tracking", []string{l.UDPURL(), "found: chronyd pid", "answers tracking"}, nil},
				}
			},
		},
		{
			name: "wrong udp port",
			setup: func(t *testing.T, l *chronylab.Lab) Options {
				return fast(t, "udp://127.0.0.1:"+strconv.Itoa(chronylab.FreeUDPPort(t)))
			},
			want: func(l *chronylab.Lab) []want {
				lab := fmt.Sprintf("127.0.0.1:%d (chronyd pid %d)", l.CmdPort, l.PID())
				return []want{
					{Fail, "address", []string{"nothing is bound"}, []string{lab}},
					{Fail, "tracking", []string{"service_unavailable"}, []string{strconv.Quote(l.UDPURL())}},
				}
			},
		},
		{
			name: "unsynchronised",
			lab:  chronylab.Options{Mode: chronylab.Unsynchronised},
			setup: func(t *testing.T, l *chronylab.Lab) Options {
				return fast(t, l.UDPURL())
			},
			want: func(l *chronylab.Lab) []want {
				return []want{
					{OK, "tracking", []string{"answers tracking"}, nil},
					{Fail, "sync", []string{"not synchronised", "ref ID 00000000", "stratum 0"}, []string{"chronyc sources"}},
					{Fail, "error-bound", []string{"exceeds --max-error 100ms"}, []string{"synchronise chronyd"}},
					{Info, "ref-time", []string{"never updated"}, nil},
				}
			},
		},
		{
			name: "local reference",
			lab:  chronylab.Options{Mode: chronylab.LocalReference},
			setup: func(t *testing.T, l *chronylab.Lab) Options {
				waitSynced(t, l)
				return fast(t, l.UDPURL())
			},
			want: func(l *chronylab.Lab) []want {
				return []want{
					{Warn, "sync", []string{"local reference (local stratum 8)", "not synchronised to a real time source"}, []string{"server or pool"}},
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := chronylab.Start(t, tc.lab)
			opts := tc.setup(t, l)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r := Diagnose(ctx, opts)
			assertFindings(t, r, tc.want(l))
			if r.OK() != tc.wantOK {
				var b bytes.Buffer
				r.Write(&b)
				t.Errorf("OK() = %v, want %v\n%s", r.OK(), tc.wantOK, b.String())
			}
			var b bytes.Buffer
			r.Write(&b)
			t.Logf("report:\n%s", b.String())
			wantStatus := "exit status 0"
			if !tc.wantOK {
				wantStatus = "exit status 1"
			}
			if !strings.Contains(b.String(), wantStatus) || !strings.Contains(b.String(), testSnippet) {
				t.Errorf("rendered report lacks %q or the snippet:\n%s", wantStatus, b.String())
			}
		})
	}
}

// waitState waits until /proc shows pid in state: SIGSTOP is delivered
// after kill returns.
func waitState(t *testing.T, pid int, state string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, st := procStatus(fmt.Sprintf("/proc/%d/status", pid))
		if strings.HasPrefix(st, state) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d: state %q, want %s", pid, st, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitSynced waits until the lab is synchronised and, for a Synced lab,
// until its error bound has settled: just after chronyd selects its source
// the root dispersion can still be hundreds of milliseconds.
func waitSynced(t *testing.T, l *chronylab.Lab) {
	t.Helper()
	if err := l.WaitSynced(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if l.Mode != chronylab.Synced {
		return
	}
	if _, err := l.WaitTracking(30*time.Second, func(tr chronylab.ChronycTracking) bool {
		return math.Abs(tr.SystemTime)+tr.RootDispersion+tr.RootDelay/2 < 0.01
	}); err != nil {
		t.Fatal(err)
	}
}

// TestDiagnoseVersionMismatch: a server that answers in another protocol
// version is a FAIL naming both versions.
func TestDiagnoseVersionMismatch(t *testing.T) {
	cases := []struct {
		name    string
		handler fakechronyd.Handler
		msg     []string
	}{
		{"reply in version 5", fakechronyd.Mutate(fakechronyd.Status(fakechronyd.StatusBadPktVersion), fakechronyd.Put8(0, 5)),
			[]string{"chronyd speaks protocol version 5, this client version 6"}},
		{"BADPKTVERSION in version 6", fakechronyd.Status(fakechronyd.StatusBadPktVersion),
			[]string{"rejected this client's version 6", "this client speaks version 6"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakechronyd.StartUDP(t, tc.handler)
			r := Diagnose(context.Background(), fast(t, srv.URL()))
			assertFindings(t, r, []want{
				{Fail, "protocol", append([]string{srv.URL()}, tc.msg...), []string{"upgrade chrony"}},
				{Fail, "tracking", []string{"version_mismatch"}, nil},
				{OK, "address", []string{"not chronyd"}, nil},
			})
			if r.OK() {
				t.Error("OK() = true with a version mismatch")
			}
		})
	}
}
