package compat

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronybuild"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
)

// report is one of chronyd's reports beyond tracking, checked against
// chronyc on one transport by the library and by the plugin.
type report struct {
	name           string
	client, plugin func(t *testing.T, d daemonUnderTest, addr string)
}

// reports are the reports in the table's order.
var reports = []report{
	{"sources", checkSources, pluginSources},
	{"sourcestats", checkSourceStats, pluginSourceStats},
	{"activity", checkActivity, pluginActivity},
	{"serverstats", checkServerStats, pluginServerStats},
}

// namesFromChronyd says whether chronyd tells a source's name
// (NTP_SOURCE_NAME, 4.0 on); before, the library names a source by its
// address and says so.
func (d daemonUnderTest) namesFromChronyd() bool {
	return chronybuild.CompareVersions(d.release, "4.0") >= 0
}

// sameExcept is a settled function for readings that must be equal but
// for the fields clear zeroes (those chronyd computes at read time).
func sameExcept[E comparable](clear func(*E)) func(before, after []E) bool {
	return func(before, after []E) bool {
		b, a := slices.Clone(before), slices.Clone(after)
		for i := range b {
			clear(&b[i])
		}
		for i := range a {
			clear(&a[i])
		}
		return slices.Equal(b, a)
	}
}

// sources is chronyc's sources: LastRx is the age of the last sample,
// computed at read time.
func (d daemonUnderTest) sources() oracle[[]chronylab.ChronycSource] {
	return oracle[[]chronylab.ChronycSource]{
		read:    func() ([]chronylab.ChronycSource, error) { return d.lab.Sources(context.Background()) },
		settled: sameExcept(func(s *chronylab.ChronycSource) { s.LastRx = 0 }),
	}
}

// sourceStats is chronyc's sourcestats: the estimated offset is
// extrapolated to the time of the request.
func (d daemonUnderTest) sourceStats() oracle[[]chronylab.ChronycSourceStats] {
	return oracle[[]chronylab.ChronycSourceStats]{
		read:    func() ([]chronylab.ChronycSourceStats, error) { return d.lab.SourceStats(context.Background()) },
		settled: sameExcept(func(s *chronylab.ChronycSourceStats) { s.Offset = 0 }),
	}
}

// modeSymbols are chronyc's mode characters by the library's mode.
var modeSymbols = map[cmdmon.SourceMode]byte{cmdmon.ModeClient: '^', cmdmon.ModePeer: '=', cmdmon.ModeRefclock: '#'}

// ident is who a source is, as the library or a plugin point says.
type ident struct {
	index            int
	ip, key, name    string
	from             cmdmon.NameOrigin
	refclock, family bool // family: the address family was checked (client only)
	familyID         bool
}

func identOf(id cmdmon.Ident) ident {
	return ident{index: id.Index, ip: id.IP(), key: id.Key(), name: id.Name, from: id.NameFrom,
		refclock: id.Refclock(), family: true, familyID: id.Family == cmdmon.FamilyID}
}

// checkIdent compares who a source is with chronyc's address and name
// columns: chronyc -N's name from 4.0, the address before (and where the
// name came from says so).
func checkIdent(t *testing.T, d daemonUnderTest, id ident, i int, address, name string) {
	t.Helper()
	assert.Equal(t, i, id.index, "index of %s", address)
	assert.Equal(t, address, id.ip, "address of source %d", i)
	assert.Equal(t, id.ip, id.key, "key of %s", address)
	switch {
	case id.refclock:
		assert.Equal(t, chronylab.RefclockRefID, address)
		assert.Equal(t, chronylab.RefclockRefID, id.name)
		assert.Equal(t, cmdmon.NameFromRefID, id.from)
	case d.namesFromChronyd():
		assert.Equal(t, name, id.name, "name of %s", address)
		assert.Equal(t, cmdmon.NameFromChronyd, id.from, "%s", address)
	default:
		assert.Equal(t, address, id.name, "name of %s before 4.0", address)
		assert.Equal(t, cmdmon.NameFromAddress, id.from, "%s", address)
	}
	if strings.HasPrefix(address, "ID#") {
		assert.True(t, !id.family || id.familyID, "%s: family id", address)
		assert.Equal(t, chronylab.UnresolvedName, id.name)
	}
}

// flags are what chronyd sends as a source's flags: from 4.0 always 0
// (they moved to selectdata), before 4.0 its options, of which the lab
// sets only prefer (0x2), on the server it selects.
func (d daemonUnderTest) flags(address string) uint16 {
	allSources := d.lab.ServePort != 0
	if !d.namesFromChronyd() && address == "127.0.0.1" && allSources {
		return 0x2
	}
	return 0
}

// sourceRow is one source as the library or the plugin reports it.
type sourceRow struct {
	ident
	mode, state                 byte // chronyc's symbols
	stratum, poll, reach        int
	flags                       uint16
	sinceSample                 uint32
	latest, original, latestErr float64
}

func sourceRowOf(s cmdmon.Source) sourceRow {
	return sourceRow{identOf(s.Ident), modeSymbols[s.Mode], s.State.Symbol(), int(s.Stratum), int(s.Poll),
		int(s.Reachability), s.Flags, s.SinceSample, s.LatestMeas, s.OrigLatestMeas, s.LatestMeasErr}
}

// compareSources compares every field of the sources read returns with
// chronyc's, read before and after.
func compareSources(t *testing.T, d daemonUnderTest, read func() []sourceRow) {
	got, want, after := readBetween(t, d.sources(), read)
	require.Len(t, got, len(want), "sources: ours %+v, chronyc's %+v", got, want)
	for i, w := range want {
		g := got[i]
		checkIdent(t, d, g.ident, i, w.Address, w.Name)
		assert.Equal(t, string(w.Mode), string(g.mode), "mode of %s", w.Address)
		assert.Equal(t, string(w.State), string(g.state), "state of %s", w.Address)
		assert.Equal(t, w.Stratum, g.stratum, "stratum of %s", w.Address)
		assert.Equal(t, w.Poll, g.poll, "poll of %s", w.Address)
		assert.Equal(t, int(w.Reach), g.reach, "reach of %s", w.Address)
		assert.Equal(t, d.flags(w.Address), g.flags, "flags of %s (chronyc does not print them)", w.Address)
		assertBetween(t, w.Address+" last rx", float64(g.sinceSample), float64(w.LastRx), float64(after[i].LastRx), 0)
		assertBetween(t, w.Address+" offset", g.latest, w.Offset, w.Offset, 9)
		assertBetween(t, w.Address+" measured offset", g.original, w.MeasuredOffset, w.MeasuredOffset, 9)
		assertBetween(t, w.Address+" error", g.latestErr, w.Error, w.Error, 9)
	}
}

// checkSources compares the library's sources with chronyc's.
func checkSources(t *testing.T, d daemonUnderTest, addr string) {
	compareSources(t, d, clientRows(t, newClient(t, addr).Sources, sourceRowOf))
}

// clientRows is a read of a report of the library as rows.
func clientRows[E, R any](t *testing.T, read func(context.Context) ([]E, error), row func(E) R) func() []R {
	return func() []R {
		entries, err := read(context.Background())
		require.NoError(t, err)
		rows := make([]R, len(entries))
		for i, e := range entries {
			rows[i] = row(e)
		}
		return rows
	}
}

// statsRow is one source's sourcestats as the library or the plugin
// reports it.
type statsRow struct {
	ident
	samples, runs, span                   uint32
	resid, skew, offset, offsetErr, stdev float64
}

func statsRowOf(s cmdmon.SourceStats) statsRow {
	return statsRow{identOf(s.Ident), s.Samples, s.Runs, s.SpanSeconds, s.ResidFreqPPM, s.SkewPPM,
		s.EstOffset, s.EstOffsetErr, s.StdDev}
}

// compareSourceStats compares every field of the sourcestats read
// returns with chronyc's, read before and after.
func compareSourceStats(t *testing.T, d daemonUnderTest, read func() []statsRow) {
	got, want, after := readBetween(t, d.sourceStats(), read)
	require.Len(t, got, len(want), "sourcestats: ours %+v, chronyc's %+v", got, want)
	for i, w := range want {
		g := got[i]
		checkIdent(t, d, g.ident, i, w.Address, w.Name)
		assert.Equal(t, w.Samples, g.samples, "samples of %s", w.Address)
		assert.Equal(t, w.Runs, g.runs, "runs of %s", w.Address)
		assert.Equal(t, w.Span, g.span, "span of %s", w.Address)
		assertBetween(t, w.Address+" residual frequency", g.resid, w.ResidualFreq, w.ResidualFreq, 3)
		assertBetween(t, w.Address+" skew", g.skew, w.Skew, w.Skew, 3)
		assertBetween(t, w.Address+" offset", g.offset, w.Offset, after[i].Offset, 9)
		assertBetween(t, w.Address+" std dev", g.stdev, w.StdDev, w.StdDev, 9)
		// chronyc does not print the offset's error bound.
		assert.True(t, g.offsetErr >= 0 && !math.IsInf(g.offsetErr, 0), "%s offset error %g", w.Address, g.offsetErr)
	}
}

// checkSourceStats compares the library's sourcestats with chronyc's.
func checkSourceStats(t *testing.T, d daemonUnderTest, addr string) {
	compareSourceStats(t, d, clientRows(t, newClient(t, addr).SourceStats, statsRowOf))
}

// compareActivity compares the activity read returns with chronyc's,
// which must not change between the two readings.
func compareActivity(t *testing.T, d daemonUnderTest, read func() chronylab.ChronycActivity) {
	o := oracle[chronylab.ChronycActivity]{
		read:    func() (chronylab.ChronycActivity, error) { return d.lab.Activity(context.Background()) },
		settled: func(before, after chronylab.ChronycActivity) bool { return before == after },
	}
	got, want, _ := readBetween(t, o, read)
	assert.Equal(t, want, got)
}

// checkActivity compares the library's activity with chronyc's.
func checkActivity(t *testing.T, d daemonUnderTest, addr string) {
	c := newClient(t, addr)
	compareActivity(t, d, func() chronylab.ChronycActivity {
		a, err := c.Activity(context.Background())
		require.NoError(t, err)
		assert.Equal(t, addr, a.Address)
		return chronylab.ChronycActivity{Online: uint32(a.Online), Offline: uint32(a.Offline),
			BurstOnline: uint32(a.BurstOnline), BurstOffline: uint32(a.BurstOffline), Unresolved: uint32(a.Unresolved)}
	})
}

// serverStatsVersion is the serverstats reply each release sends.
func serverStatsVersion(release string) int {
	for v, from := range []string{"4.4", "4.2", "4.0"} {
		if chronybuild.CompareVersions(release, from) >= 0 {
			return 4 - v
		}
	}
	return 1
}

// isUnix says whether addr is a unix socket URL: chronyd answers
// serverstats there only.
func isUnix(addr string) bool { return strings.HasPrefix(addr, "unixgram://") }

// compareServerStats compares the counters read returns (those the reply
// carried) with chronyc's over the unix socket: every counter only grows,
// so ours lies between chronyc's readings (our own request is in the
// second), and ours are the ones this release's chronyc prints.
func compareServerStats(t *testing.T, d daemonUnderTest, read func() map[cmdmon.Counter]uint64) {
	if d.lab.ServePort != 0 {
		require.NoError(t, d.lab.QueryNTP(2))
	}
	o := oracle[chronylab.ChronycServerStats]{
		read:    func() (chronylab.ChronycServerStats, error) { return d.lab.ServerStats(context.Background()) },
		settled: func(before, after chronylab.ChronycServerStats) bool { return true },
	}
	got, want, after := readBetween(t, o, read)
	lo, hi := want.Values(), after.Values()
	require.Len(t, got, len(lo), "chronyd %s: ours %v, chronyc's %v", d.release, got, lo)
	for i := range lo {
		v, ok := got[cmdmon.Counter(i)]
		require.True(t, ok, "chronyd %s has %v", d.release, cmdmon.Counter(i))
		assert.True(t, v >= lo[i] && v <= hi[i], "%v: %d not within [%d, %d]", cmdmon.Counter(i), v, lo[i], hi[i])
	}
	if d.lab.ServePort != 0 {
		assert.GreaterOrEqual(t, got[cmdmon.NTPHits], uint64(2), "the lab's NTP client requests")
	}
}

// checkServerStats compares the library's serverstats with chronyc's over
// the unix socket. Over UDP chronyd refuses it, and the library says that
// it needs the unix socket.
func checkServerStats(t *testing.T, d daemonUnderTest, addr string) {
	c := newClient(t, addr)
	if !isUnix(addr) {
		_, err := c.ServerStats(context.Background())
		var e *cmdmon.Error
		require.True(t, errors.As(err, &e), "serverstats over UDP: %v", err)
		assert.Equal(t, cmdmon.CodePermissionDenied, e.Code, "%v", err)
		assert.Contains(t, err.Error(), "unix socket")
		return
	}
	compareServerStats(t, d, func() map[cmdmon.Counter]uint64 {
		s, err := c.ServerStats(context.Background())
		require.NoError(t, err)
		assert.Equal(t, addr, s.Address)
		assert.Equal(t, serverStatsVersion(d.release), s.Version)
		got := map[cmdmon.Counter]uint64{}
		for c, v := range s.All() {
			got[c] = v
		}
		return got
	})
}
