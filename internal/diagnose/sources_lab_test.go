package diagnose

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
)

// TestDiagnoseAllSources: against a real chronyd with a source of every
// kind, the report counts its sources and the reachable ones as chronyc
// does, names the selected one, and gives each broken source its line and
// fix; serverstats is refused over UDP and read over the unix socket.
func TestDiagnoseAllSources(t *testing.T) {
	chronylab.Require(t)
	t.Parallel()
	l := chronylab.Start(t, chronylab.Options{AllSources: true})
	pic, err := l.WaitAllSources(60 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	reachable := 0
	for _, s := range pic.Sources {
		if s.Reach != 0 {
			reachable++
		}
	}
	counts := fmt.Sprintf("%d sources, %d reachable", len(pic.Sources), reachable)
	common := []want{
		{OK, "sources", []string{counts}, nil},
		{OK, "sources", []string{"selected: 127.0.0.1", "reach 377"}, nil},
		{Warn, "sources", []string{"127.0.0.3 never answered"}, []string{"UDP port 123 to 127.0.0.3"}},
		{Warn, "sources", []string{"reference clock", chronylab.RefclockRefID, "falseticker", "disagrees with the majority"}, []string{"at least 4 sources"}},
		{Info, "activity", []string{fmt.Sprintf("NTP sources: %d online", pic.Activity.Online)}, nil},
	}
	if strings.HasPrefix(l.Release, "3.") {
		common = append(common, want{Warn, "activity", []string{"not resolved yet"}, []string{"resolv.conf"}})
	} else {
		common = append(common, want{Warn, "sources", []string{"the name " + chronylab.UnresolvedName + " never resolved"}, []string{"getent hosts " + chronylab.UnresolvedName}})
	}
	cases := []struct {
		name string
		url  string
		want want
	}{
		{"udp", l.UDPURL(), want{Warn, "serverstats", []string{l.UDPURL(), "serverstats asked for over UDP", "unix socket only"}, []string{"unixgram:///run/chrony/chronyd.sock", "drop serverstats from metrics"}}},
		{"unix", l.UnixURL(), want{OK, "serverstats", []string{l.UnixURL(), "ntp_hits", "ntp_drops"}, nil}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := fast(t, tc.url)
			opts.Settings.Metrics = allMetrics
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r := Diagnose(ctx, opts)
			assertFindings(t, r, append(common, tc.want))
			if r.OK() {
				t.Error("OK() = true with a silent source, a falseticker and an unresolved name")
			}
		})
	}
}

// TestDiagnoseCoasting: a chronyd whose only server stops answering keeps
// its clock marked synchronised with no selectable source, which is a FAIL
// of its own, and the server's line says it is unreachable.
func TestDiagnoseCoasting(t *testing.T) {
	chronylab.Require(t)
	t.Parallel()
	l := chronylab.Start(t, chronylab.Options{})
	waitSynced(t, l)
	if err := l.StopServer(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		srcs, err := l.Sources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(srcs) == 1 && srcs[0].Reach == 0 && srcs[0].State != '*' {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	tr, err := l.Tracking()
	if err != nil {
		t.Fatal(err)
	}
	if tr.LeapCode() != 0 {
		t.Fatalf("chronyd %s no longer says synchronised (leap %q): this test needs one that coasts", l.Release, tr.Leap)
	}
	r := Diagnose(ctx, fast(t, l.UDPURL()))
	assertFindings(t, r, []want{
		{OK, "sync", []string{"synchronised to 127.0.0.1"}, nil},
		{Fail, "sources", []string{"1 source, 0 reachable"}, nil},
		{Fail, "sources", []string{"no selectable source, yet the clock is still marked synchronised", "to 127.0.0.1"}, []string{"drifts unchecked"}},
		{Warn, "sources", []string{"127.0.0.1 is unreachable", "none of its last 8 polls"}, []string{"still serves NTP"}},
	})
	if r.OK() {
		t.Error("OK() = true while coasting")
	}
	var b strings.Builder
	r.Write(&b)
	t.Logf("report:\n%s", b.String())
}
