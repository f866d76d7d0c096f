package diagnose

import (
	"net/netip"
	"testing"

	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
)

// TestSourceFindings: what a real chronyd cannot be made to show on
// demand, from the fake's source tables: a jittery source, a reference
// clock without samples, a source unreachable after it answered, no
// sources at all, a chronyd before 4.0 with names it has not resolved, a
// sources report that fails, and no selectable source with the clock
// unsynchronised.
func TestSourceFindings(t *testing.T) {
	ntp := func(ip string, state, reach uint16, since uint32) fakechronyd.Source {
		return fakechronyd.Source{Addr: netip.MustParseAddr(ip), Name: ip, Poll: 6, Stratum: 2, State: state, Reachability: reach, SinceSample: since}
	}
	selected := ntp("192.0.2.1", 0, 0o377, 10)
	tests := []struct {
		name    string
		handler fakechronyd.Handler
		want    []want
	}{
		{"jittery, refclock without samples, unreachable after answering", fakechronyd.Reports(fakechronyd.Daemon{
			Tracking: fakechronyd.SyncedIPv4(),
			Sources: []fakechronyd.Source{
				selected,
				ntp("192.0.2.2", 3, 0o376, 30),
				{Refclock: true, RefID: 0x47505300, Poll: 4, State: 1, SinceSample: 0xffffffff},
				ntp("192.0.2.3", 1, 0, 4000),
				ntp("192.0.2.4", 4, 0o377, 12),
			},
			Activity: [5]int32{3, 0, 0, 0, 0},
		}), []want{
			{OK, "sources", []string{"5 sources, 3 reachable"}, nil},
			{OK, "sources", []string{"selected: 192.0.2.1, stratum 2, reach 377"}, nil},
			{Warn, "sources", []string{"192.0.2.2 is jittery"}, []string{"closer or less loaded server", "chronyc ntpdata 192.0.2.2"}},
			{Warn, "sources", []string{"reference clock GPS gives no samples"}, []string{"driver and device"}},
			{Warn, "sources", []string{"192.0.2.3 is unreachable", "last sample 4000s ago"}, []string{"192.0.2.3 still serves NTP"}},
			{Info, "activity", []string{"NTP sources: 3 online"}, nil},
		}},
		{"no sources", fakechronyd.Reports(fakechronyd.Daemon{Tracking: fakechronyd.Unsynchronised()}), []want{
			{Warn, "sources", []string{"chronyd has no sources"}, []string{"server or pool lines"}},
			{Warn, "sources", []string{"no source is selected"}, nil},
		}},
		{"before 4.0, names not resolved", fakechronyd.Reports(fakechronyd.Daemon{
			Tracking: fakechronyd.SyncedIPv4(),
			Sources:  []fakechronyd.Source{selected},
			Activity: [5]int32{1, 0, 0, 0, 2},
			Before4:  true,
		}), []want{
			{OK, "sources", []string{"1 source, 1 reachable"}, nil},
			{Warn, "activity", []string{"2 source names not resolved yet", "before 4.0"}, []string{"resolv.conf"}},
		}},
		{"not synchronised, nothing selectable", fakechronyd.Reports(fakechronyd.Daemon{
			Tracking: fakechronyd.Unsynchronised(),
			Sources:  []fakechronyd.Source{ntp("192.0.2.5", 1, 0, 0xffffffff)},
		}), []want{
			{Fail, "sources", []string{"1 source, 0 reachable"}, []string{"no source answers"}},
			{Warn, "sources", []string{"no source is selected"}, nil},
			{Warn, "sources", []string{"192.0.2.5 never answered"}, []string{"UDP port 123 to 192.0.2.5"}},
		}},
		{"sources refused", trackingOnly, []want{
			{Warn, "sources", []string{"sources not read: permission_denied"}, nil},
			{Warn, "activity", []string{"activity not read: permission_denied"}, nil},
			{Warn, "serverstats", []string{"serverstats asked for over UDP"}, nil},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakechronyd.StartUDP(t, tc.handler)
			opts := fast(t, srv.URL())
			opts.Settings.Metrics = allMetrics
			r := diagnose(t.Context(), opts, &host{proc: t.TempDir(), sys: t.TempDir()})
			assertFindings(t, r, tc.want)
			if r.OK() {
				t.Error("OK() = true")
			}
		})
	}
}

var allMetrics = []ct.Kind{ct.KindTracking, ct.KindSources, ct.KindSourceStats, ct.KindServerStats, ct.KindActivity}

// A report the options do not ask for is only a fact when it cannot be
// read: a chronyd that answers tracking alone is healthy for tracking.
func TestReportsNotAskedFor(t *testing.T) {
	srv := fakechronyd.StartUDP(t, trackingOnly)
	opts := fast(t, srv.URL())
	opts.Settings.Metrics = []ct.Kind{ct.KindTracking}
	r := diagnose(t.Context(), opts, &host{proc: t.TempDir(), sys: t.TempDir()})
	assertFindings(t, r, []want{
		{Info, "sources", []string{"sources not read (permission_denied", "metrics does not ask for it"}, nil},
		{Info, "activity", []string{"activity not read (permission_denied"}, nil},
	})
	if len(r.Find("serverstats")) != 0 {
		t.Errorf("serverstats not asked for, yet read: %+v", r.Find("serverstats"))
	}
	opts.Settings.Metrics = []ct.Kind{ct.KindTracking, ct.KindSourceStats}
	r = diagnose(t.Context(), opts, &host{proc: t.TempDir(), sys: t.TempDir()})
	assertFindings(t, r, []want{{Warn, "sources", []string{"sources not read: permission_denied"}, nil}})
}

// trackingOnly answers tracking and refuses every other report.
func trackingOnly(req fakechronyd.Request) []fakechronyd.Packet {
	if req.Command == fakechronyd.ReqTracking {
		return fakechronyd.Chronyd(fakechronyd.SyncedIPv4())(req)
	}
	return fakechronyd.Status(fakechronyd.StatusUnauth)(req)
}
