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
	name   string
	client func(t *testing.T, d daemonUnderTest, addr string)
}

// reports are the reports in the table's order.
var reports = []report{
	{"sources", checkSources},
	{"sourcestats", checkSourceStats},
	{"activity", checkActivity},
	{"serverstats", checkServerStats},
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

// modes are chronyc's mode characters by the library's mode.
var modeSymbols = map[cmdmon.SourceMode]byte{cmdmon.ModeClient: '^', cmdmon.ModePeer: '=', cmdmon.ModeRefclock: '#'}

// checkIdent compares who a source is with chronyc's address and name
// columns: chronyc -N's name from 4.0, the address before (and the
// library says where its name came from).
func checkIdent(t *testing.T, d daemonUnderTest, id cmdmon.Ident, i int, address, name string) {
	t.Helper()
	assert.Equal(t, i, id.Index, "index of %s", address)
	assert.Equal(t, address, id.IP(), "address of source %d", i)
	assert.Equal(t, id.IP(), id.Key(), "key of %s", address)
	switch {
	case id.Refclock():
		assert.Equal(t, chronylab.RefclockRefID, address)
		assert.Equal(t, chronylab.RefclockRefID, id.Name)
		assert.Equal(t, cmdmon.NameFromRefID, id.NameFrom)
	case d.namesFromChronyd():
		assert.Equal(t, name, id.Name, "name of %s", address)
		assert.Equal(t, cmdmon.NameFromChronyd, id.NameFrom, "%s", address)
	default:
		assert.Equal(t, address, id.Name, "name of %s before 4.0", address)
		assert.Equal(t, cmdmon.NameFromAddress, id.NameFrom, "%s", address)
	}
	if strings.HasPrefix(address, "ID#") {
		assert.Equal(t, cmdmon.FamilyID, id.Family, "%s", address)
		assert.Equal(t, chronylab.UnresolvedName, id.Name)
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

// checkSources compares every field of the library's sources with
// chronyc's, read before and after.
func checkSources(t *testing.T, d daemonUnderTest, addr string) {
	c := newClient(t, addr)
	got, want, after := readBetween(t, d.sources(), func() []cmdmon.Source {
		s, err := c.Sources(context.Background())
		require.NoError(t, err)
		return s
	})
	require.Len(t, got, len(want), "sources: ours %+v, chronyc's %+v", got, want)
	for i, w := range want {
		g := got[i]
		checkIdent(t, d, g.Ident, i, w.Address, w.Name)
		assert.Equal(t, string(w.Mode), string(modeSymbols[g.Mode]), "mode of %s", w.Address)
		assert.Equal(t, string(w.State), string(g.State.Symbol()), "state of %s", w.Address)
		assert.Equal(t, w.Stratum, int(g.Stratum), "stratum of %s", w.Address)
		assert.Equal(t, w.Poll, int(g.Poll), "poll of %s", w.Address)
		assert.Equal(t, int(w.Reach), int(g.Reachability), "reach of %s", w.Address)
		assert.Equal(t, d.flags(w.Address), g.Flags, "flags of %s (chronyc does not print them)", w.Address)
		assertBetween(t, w.Address+" last rx", float64(g.SinceSample), float64(w.LastRx), float64(after[i].LastRx), 0)
		assertBetween(t, w.Address+" offset", g.LatestMeas, w.Offset, w.Offset, 9)
		assertBetween(t, w.Address+" measured offset", g.OrigLatestMeas, w.MeasuredOffset, w.MeasuredOffset, 9)
		assertBetween(t, w.Address+" error", g.LatestMeasErr, w.Error, w.Error, 9)
	}
}

// checkSourceStats compares every field of the library's sourcestats with
// chronyc's, read before and after.
func checkSourceStats(t *testing.T, d daemonUnderTest, addr string) {
	c := newClient(t, addr)
	got, want, after := readBetween(t, d.sourceStats(), func() []cmdmon.SourceStats {
		s, err := c.SourceStats(context.Background())
		require.NoError(t, err)
		return s
	})
	require.Len(t, got, len(want), "sourcestats: ours %+v, chronyc's %+v", got, want)
	for i, w := range want {
		g := got[i]
		checkIdent(t, d, g.Ident, i, w.Address, w.Name)
		assert.Equal(t, w.Samples, g.Samples, "samples of %s", w.Address)
		assert.Equal(t, w.Runs, g.Runs, "runs of %s", w.Address)
		assert.Equal(t, w.Span, g.SpanSeconds, "span of %s", w.Address)
		assertBetween(t, w.Address+" residual frequency", g.ResidFreqPPM, w.ResidualFreq, w.ResidualFreq, 3)
		assertBetween(t, w.Address+" skew", g.SkewPPM, w.Skew, w.Skew, 3)
		assertBetween(t, w.Address+" offset", g.EstOffset, w.Offset, after[i].Offset, 9)
		assertBetween(t, w.Address+" std dev", g.StdDev, w.StdDev, w.StdDev, 9)
		// chronyc does not print the offset's error bound.
		assert.True(t, g.EstOffsetErr >= 0 && !math.IsInf(g.EstOffsetErr, 0), "%s offset error %g", w.Address, g.EstOffsetErr)
	}
}

// checkActivity compares the library's activity with chronyc's, which must
// not change between the two readings.
func checkActivity(t *testing.T, d daemonUnderTest, addr string) {
	c := newClient(t, addr)
	o := oracle[chronylab.ChronycActivity]{
		read:    func() (chronylab.ChronycActivity, error) { return d.lab.Activity(context.Background()) },
		settled: func(before, after chronylab.ChronycActivity) bool { return before == after },
	}
	got, want, _ := readBetween(t, o, func() cmdmon.Activity {
		a, err := c.Activity(context.Background())
		require.NoError(t, err)
		return a
	})
	assert.Equal(t, addr, got.Address)
	assert.Equal(t, want, chronylab.ChronycActivity{Online: uint32(got.Online), Offline: uint32(got.Offline),
		BurstOnline: uint32(got.BurstOnline), BurstOffline: uint32(got.BurstOffline), Unresolved: uint32(got.Unresolved)})
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

// checkServerStats compares the library's serverstats with chronyc's over
// the unix socket: every counter only grows, so ours lies between
// chronyc's readings (our own request is in the second). Over UDP chronyd
// refuses it, and the library says that it needs the unix socket.
func checkServerStats(t *testing.T, d daemonUnderTest, addr string) {
	c := newClient(t, addr)
	if !strings.HasPrefix(addr, "unixgram://") {
		_, err := c.ServerStats(context.Background())
		var e *cmdmon.Error
		require.True(t, errors.As(err, &e), "serverstats over UDP: %v", err)
		assert.Equal(t, cmdmon.CodePermissionDenied, e.Code, "%v", err)
		assert.Contains(t, err.Error(), "unix socket")
		return
	}
	if d.lab.ServePort != 0 {
		require.NoError(t, d.lab.QueryNTP(2))
	}
	o := oracle[chronylab.ChronycServerStats]{
		read:    func() (chronylab.ChronycServerStats, error) { return d.lab.ServerStats(context.Background()) },
		settled: func(before, after chronylab.ChronycServerStats) bool { return true },
	}
	got, want, after := readBetween(t, o, func() cmdmon.ServerStats {
		s, err := c.ServerStats(context.Background())
		require.NoError(t, err)
		return s
	})
	assert.Equal(t, addr, got.Address)
	assert.Equal(t, serverStatsVersion(d.release), got.Version)
	lo, hi := want.Values(), after.Values()
	for i := range cmdmon.NumCounters {
		v, ok := got.Get(cmdmon.Counter(i))
		if i >= len(lo) {
			assert.False(t, ok, "chronyd %s has no %v", d.release, cmdmon.Counter(i))
			continue
		}
		require.True(t, ok, "chronyd %s has %v", d.release, cmdmon.Counter(i))
		assert.True(t, v >= lo[i] && v <= hi[i], "%v: %d not within [%d, %d]", cmdmon.Counter(i), v, lo[i], hi[i])
	}
	if d.lab.ServePort != 0 {
		assert.GreaterOrEqual(t, got.Values[cmdmon.NTPHits], uint64(2), "the lab's NTP client requests")
	}
}
