package chronylab

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronybuild"
)

// Outputs of a real AllSources lab (chrony 4.4, chronyc -c ... -a).
const (
	sourcesOut = "#,x,LAB,0,0,377,1,-0.001002013,-0.001002250,0.000000020\n" +
		"^,*,127.0.0.1,8,-2,377,0,-0.000000130,-0.000000192,0.000002606\n" +
		"^,-,127.0.0.2,8,-2,377,0,-0.000000554,-0.000000613,0.000003081\n" +
		"^,?,127.0.0.3,0,0,0,4294967295,0.000000000,0.000000000,0.000000000\n" +
		"^,?,ID#0000000001,0,6,0,4294967295,0.000000000,0.000000000,0.000000000\n"
	sourceStatsOut = "LAB,9,3,8,-0.015,0.000,-0.001002031,0.000000001\n" +
		"127.0.0.1,23,10,6,-0.005,0.329,-0.000000000,0.000000684\n" +
		"127.0.0.2,43,28,10,-0.028,0.062,-0.000000998,0.000000334\n" +
		"127.0.0.3,0,0,0,0.000,2000.000,0.000000000,4.000000000\n" +
		"ID#0000000001,0,0,0,0.000,2000.000,0.000000000,4.000000000\n"
)

func TestParseSources(t *testing.T) {
	srcs, err := ParseSources(sourcesOut)
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 5 {
		t.Fatalf("%d sources", len(srcs))
	}
	want := ChronycSource{Mode: '#', State: 'x', Address: "LAB", Stratum: 0, Poll: 0, Reach: 0o377, LastRx: 1,
		Offset: -0.001002013, MeasuredOffset: -0.001002250, Error: 0.00000002}
	if srcs[0] != want {
		t.Errorf("refclock %+v\nwant %+v", srcs[0], want)
	}
	if s := srcs[1]; s.State != '*' || s.Poll != -2 || s.Stratum != 8 {
		t.Errorf("selected %+v", s)
	}
	if s := srcs[4]; s.Address != "ID#0000000001" || s.LastRx != math.MaxUint32 || s.Reach != 0 {
		t.Errorf("unresolved %+v", s)
	}
	if srcs, err := ParseSources(""); err != nil || len(srcs) != 0 {
		t.Errorf("no sources: %v %v", srcs, err)
	}
	for _, bad := range []string{
		"^,*,127.0.0.1,8,-2,377,0,0,0",      // 9 columns
		"^,*,127.0.0.1,8,-2,378,0,0,0,0",    // not octal
		"^,*,127.0.0.1,8,-2,400,0,0,0,0",    // over 8 bits
		"!,*,127.0.0.1,8,-2,377,0,0,0,0",    // mode
		"^,!,127.0.0.1,8,-2,377,0,0,0,0",    // state
		"^^,*,127.0.0.1,8,-2,377,0,0,0,0",   // two characters
		"^,*,127.0.0.1,8,-2,377,-1,0,0,0",   // LastRx
		"^,*,127.0.0.1,8,-2,377,0,zero,0,0", // offset
		"506 Cannot talk to daemon",
	} {
		if _, err := ParseSources(bad); err == nil {
			t.Errorf("ParseSources(%q): no error", bad)
		}
	}
}

func TestParseSourceStats(t *testing.T) {
	st, err := ParseSourceStats(sourceStatsOut)
	if err != nil {
		t.Fatal(err)
	}
	want := ChronycSourceStats{Address: "127.0.0.2", Samples: 43, Runs: 28, Span: 10, ResidualFreq: -0.028,
		Skew: 0.062, Offset: -0.000000998, StdDev: 0.000000334}
	if len(st) != 5 || st[2] != want {
		t.Fatalf("%+v", st)
	}
	for _, bad := range []string{"LAB,9,3,8,-0.015,0.000,-0.001002031", "LAB,9,-3,8,-0.015,0.000,-0.001002031,0"} {
		if _, err := ParseSourceStats(bad); err == nil {
			t.Errorf("ParseSourceStats(%q): no error", bad)
		}
	}
}

func TestParseActivity(t *testing.T) {
	a, err := ParseActivity("3,1,2,4,5\n")
	if err != nil || a != (ChronycActivity{Online: 3, Offline: 1, BurstOnline: 2, BurstOffline: 4, Unresolved: 5}) {
		t.Fatalf("%+v %v", a, err)
	}
	for _, bad := range []string{"", "3,0,0,0", "3,0,0,0,1\n3,0,0,0,1", "3,0,0,x,1"} {
		if _, err := ParseActivity(bad); err == nil {
			t.Errorf("ParseActivity(%q): no error", bad)
		}
	}
}

func TestParseServerStats(t *testing.T) {
	for _, tc := range []struct {
		out  string
		cols int
	}{
		{"3,0,28,0,0", 5},
		{"3,0,35,0,0,0,0,0", 8},
		{"3,0,34,0,0,0,0,0,0,0,0", 11},
		{"3,0,40,0,0,0,0,0,0,0,0,0,3,3,0,0,17\n", 17},
	} {
		s, err := ParseServerStats(tc.out)
		if err != nil {
			t.Fatal(err)
		}
		if s.Columns != tc.cols || s.NTPHits != 3 || s.CmdHits == 0 || len(s.Values()) != tc.cols {
			t.Errorf("%q: %+v", tc.out, s)
		}
		if tc.cols == 17 && (s.NTPDaemonTxTimestamps != 3 || s.NTPKernelRxTimestamps != 3 || s.NTPHardwareTxTimestamps != 17) {
			t.Errorf("%q: %+v", tc.out, s)
		}
	}
	for _, bad := range []string{"", "1,2,3,4", "1,2,3,4,5,6", "1,2,3,4,5\n1,2,3,4,5", "1,2,3,4,-5", "501 Not authorised"} {
		if _, err := ParseServerStats(bad); err == nil {
			t.Errorf("ParseServerStats(%q): no error", bad)
		}
	}
}

// serverStatsColumnsOf is how many serverstats columns each release's
// chronyc prints (client.c, process_cmd_serverstats).
func serverStatsColumnsOf(release string) int {
	switch {
	case chronybuild.CompareVersions(release, "4.0") < 0:
		return 5
	case chronybuild.CompareVersions(release, "4.2") < 0:
		return 8
	case chronybuild.CompareVersions(release, "4.4") < 0:
		return 11
	}
	return 17
}

func TestCheckPicture(t *testing.T) {
	srcs, err := ParseSources(sourcesOut)
	if err != nil {
		t.Fatal(err)
	}
	st, err := ParseSourceStats(sourceStatsOut)
	if err != nil {
		t.Fatal(err)
	}
	for i := range srcs {
		srcs[i].Name, st[i].Name = srcs[i].Address, st[i].Address
	}
	srcs[4].Name, st[4].Name = UnresolvedName, UnresolvedName
	good := Picture{srcs, st, ChronycActivity{Online: 3, Unresolved: 1}}
	l := &Lab{Release: "4.4", Configured: []Source{{Kind: SourceSelected, Name: "127.0.0.1"},
		{Kind: SourceReachable, Name: "127.0.0.2"}, {Kind: SourceSilent, Name: "127.0.0.3"},
		{Kind: SourceUnresolved, Name: UnresolvedName}, {Kind: SourceRefclock, Name: RefclockRefID}}}
	if err := l.Check(good); err != nil {
		t.Fatal(err)
	}
	for name, spoil := range map[string]func(p *Picture){
		"second selected":   func(p *Picture) { p.Sources[2].State = '*' },
		"refclock offset":   func(p *Picture) { p.Sources[0].Offset = RefclockOffset },
		"silent reached":    func(p *Picture) { p.Sources[3].Reach = 1 },
		"unresolved named":  func(p *Picture) { p.Sources[4].Name = "x" },
		"missing":           func(p *Picture) { p.Sources, p.Stats = p.Sources[1:], p.Stats[1:] },
		"stats order":       func(p *Picture) { p.Stats[1], p.Stats[2] = p.Stats[2], p.Stats[1] },
		"activity online":   func(p *Picture) { p.Activity.Online = 4 },
		"activity burst":    func(p *Picture) { p.Activity.BurstOnline = 1 },
		"activity unresolv": func(p *Picture) { p.Activity.Unresolved = 0 },
	} {
		p := Picture{append([]ChronycSource(nil), good.Sources...), append([]ChronycSourceStats(nil), good.Stats...), good.Activity}
		spoil(&p)
		if err := l.Check(p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestAllSourcesChronyc runs an AllSources lab of every release and checks
// with that release's chronyc that the daemon under test has every kind
// of source, in the states the lab promises, that activity agrees with
// them, and that serverstats counts the NTP clients the lab played.
func TestAllSourcesChronyc(t *testing.T) {
	for name, opts := range programs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := findTools(opts)
			need(t, opts, err)
			opts.AllSources = true
			l := Start(t, opts)
			p, err := l.WaitAllSources(2 * syncTimeout)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("chronyd %s: %+v", l.Release, p)
			if err := l.QueryNTP(3); err != nil {
				t.Fatal(err)
			}
			s, err := l.ServerStats(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if s.Columns != serverStatsColumnsOf(l.Release) || s.NTPHits < 3 || s.CmdHits == 0 {
				t.Fatalf("serverstats of %s: %+v", l.Release, s)
			}
			// Over UDP chronyd refuses serverstats: the oracle uses the socket.
			if out, err := l.Chronyc("-c", "serverstats"); err == nil || !strings.Contains(err.Error(), "authorised") {
				t.Fatalf("serverstats over UDP: %q, %v", out, err)
			}
		})
	}
}

// FuzzParseReports feeds any text to the oracle's parsers: they must never
// panic, and what they accept must have the shape chronyc prints.
func FuzzParseReports(f *testing.F) {
	for _, s := range []string{sourcesOut, sourceStatsOut, "3,0,0,0,1", "3,0,40,0,0,0,0,0,0,0,0,0,3,3,0,0,17", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, out string) {
		if srcs, err := ParseSources(out); err == nil {
			for _, s := range srcs {
				if !strings.ContainsRune("^=#", rune(s.Mode)) || !strings.ContainsRune("*+-?x~", rune(s.State)) {
					t.Fatalf("accepted %+v", s)
				}
			}
		}
		lines := strings.TrimRight(out, "\n")
		if st, err := ParseSourceStats(out); err == nil && lines != "" && len(st) != strings.Count(lines, "\n")+1 {
			t.Fatalf("%d entries of %q", len(st), out)
		}
		_, _ = ParseActivity(out)
		if s, err := ParseServerStats(out); err == nil && len(s.Values()) != s.Columns {
			t.Fatalf("%d values of %d columns", len(s.Values()), s.Columns)
		}
	})
}
