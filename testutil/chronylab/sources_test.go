package chronylab

import (
	"encoding/binary"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSockSample(t *testing.T) {
	now := time.Unix(1795704993, 275378172)
	b := sockSample(now, -0.25)
	ne := binary.NativeEndian
	if len(b) != 40 {
		t.Fatalf("%d bytes, struct sock_sample has 40", len(b))
	}
	for _, c := range []struct {
		name      string
		got, want uint64
	}{
		{"tv_sec", ne.Uint64(b[0:]), 1795704993},
		{"tv_usec", ne.Uint64(b[8:]), 275378},
		{"offset", ne.Uint64(b[16:]), math.Float64bits(-0.25)},
		{"pulse", uint64(ne.Uint32(b[24:])), 0},
		{"leap", uint64(ne.Uint32(b[28:])), 0},
		{"_pad", uint64(ne.Uint32(b[32:])), 0},
		{"magic", uint64(ne.Uint32(b[36:])), 0x534f434b},
	} {
		if c.got != c.want {
			t.Errorf("%s: %#x, want %#x", c.name, c.got, c.want)
		}
	}
}

func TestSourceKindString(t *testing.T) {
	for k, want := range map[SourceKind]string{SourceSelected: "selected", SourceReachable: "reachable",
		SourceSilent: "silent", SourceUnresolved: "unresolved", SourceRefclock: "refclock", SourceKind(9): "SourceKind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("%d: %q, want %q", int(k), got, want)
		}
	}
}

func TestAllSourcesNeedsSynced(t *testing.T) {
	Require(t)
	for _, m := range []Mode{Unsynchronised, LocalReference} {
		_, err := Launch(Options{Mode: m, AllSources: true})
		if err == nil || !strings.Contains(err.Error(), "AllSources needs a Synced lab") {
			t.Errorf("%v: %v", m, err)
		}
	}
	for _, o := range []Options{{ExtraSilent: 1}, {AllSources: true, ExtraSilent: -1}, {AllSources: true, ExtraSilent: 101}, {NoUnresolved: true}} {
		_, err := Launch(o)
		if err == nil || !strings.Contains(err.Error(), "ExtraSilent") && !strings.Contains(err.Error(), "NoUnresolved") {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

func TestQueryNTPNeedsAllSources(t *testing.T) {
	l := &Lab{}
	if err := l.QueryNTP(1); err == nil || !strings.Contains(err.Error(), "AllSources") {
		t.Fatal(err)
	}
}

// TestAllSourcesLab starts an AllSources lab of the installed chronyd and
// with three more silent sources (eight in all) and checks what it set up:
// sources on distinct addresses, the second server running, chronyc's
// settled picture, and the daemon under test answering NTP clients.
func TestAllSourcesLab(t *testing.T) {
	t.Parallel()
	l := Start(t, Options{AllSources: true, ExtraSilent: 3})
	plain := Start(t, Options{AllSources: true, NoUnresolved: true})
	if err := l.WaitSynced(syncTimeout); err != nil {
		t.Fatal(err)
	}
	kinds := map[SourceKind]Source{}
	addrs := map[netip.Addr]bool{}
	for _, s := range l.Configured {
		kinds[s.Kind] = s
		if s.Addr.IsValid() {
			if addrs[s.Addr.Addr()] {
				t.Errorf("two sources on %v", s.Addr.Addr())
			}
			addrs[s.Addr.Addr()] = true
		}
	}
	if len(l.Configured) != 8 || len(kinds) != 5 || len(addrs) != 6 {
		t.Fatalf("sources %+v", l.Configured)
	}
	if kinds[SourceSelected].Addr.Port() != uint16(l.NTPPort) || kinds[SourceRefclock].Name != RefclockRefID ||
		kinds[SourceUnresolved].Name != UnresolvedName {
		t.Fatalf("sources %+v, NTP port %d", l.Configured, l.NTPPort)
	}
	for _, l := range []*Lab{l, plain} {
		if _, err := l.WaitAllSources(2 * syncTimeout); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range plain.Configured {
		if s.Kind == SourceUnresolved {
			t.Fatalf("NoUnresolved: %+v", plain.Configured)
		}
	}
	if l.SecondServerPID() == 0 || l.ServePort == 0 || l.ServePort == l.CmdPort {
		t.Fatalf("second server pid %d, serve port %d, command port %d", l.SecondServerPID(), l.ServePort, l.CmdPort)
	}
	if err := l.QueryNTP(3); err != nil {
		t.Fatal(err)
	}
	out, err := l.ChronycUnix("-c", "serverstats")
	if err != nil {
		t.Fatal(err)
	}
	if hits, err := strconv.Atoi(strings.Split(out, ",")[0]); err != nil || hits < 3 {
		t.Fatalf("serverstats %q: NTP packets received after 3 requests", out)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l.SecondServerPID() != 0 {
		t.Fatal("Close left the second server running")
	}
}
