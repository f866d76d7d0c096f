package compat

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronybuild"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
)

// refTimeMoves says whether chronyd stamps each reply with a new reference
// time: before 4.0, a chronyd on its local reference reports the time of the
// request less one second (reference.c, REF_GetReferenceParams); 4.0 and
// later keep one reference time for up to 64 s.
func refTimeMoves(release string, m chronylab.Mode) bool {
	return m == chronylab.LocalReference && chronybuild.CompareVersions(release, "4.0") < 0
}

// oracle is chronyc's reading of one report: read runs it, and settled
// says whether two readings differ only in what chronyd computes at read
// time (so that nothing chronyd keeps changed between them).
type oracle[O any] struct {
	read    func() (O, error)
	settled func(before, after O) bool
}

// readBetween calls read between two chronyc readings of o with nothing
// changed in between but what chronyd computes at read time, whose values
// the caller checks to lie between the two readings. It gives up after a
// bounded number of tries.
func readBetween[T, O any](t *testing.T, o oracle[O], read func() T) (got T, before, after O) {
	t.Helper()
	for range 200 {
		var err error
		before, err = o.read()
		require.NoError(t, err)
		got = read()
		after, err = o.read()
		require.NoError(t, err)
		if o.settled(before, after) {
			return got, before, after
		}
	}
	t.Fatal("chronyd changed the report during every one of 200 reads")
	return
}

// tracking is chronyc's tracking: the lab updates its clock up to 64
// times a second, and system time, root dispersion and, where
// refTimeMoves, the reference time are computed at read time.
func (d daemonUnderTest) tracking() oracle[chronylab.ChronycTracking] {
	return oracle[chronylab.ChronycTracking]{
		read: d.lab.Tracking,
		settled: func(before, after chronylab.ChronycTracking) bool {
			after.SystemTime, after.RootDispersion = before.SystemTime, before.RootDispersion
			if d.refTimeMoves() {
				after.RefTime = before.RefTime
			}
			return before == after
		},
	}
}

// daemonUnderTest is a lab and the release its chronyd is.
type daemonUnderTest struct {
	lab     *chronylab.Lab
	release string
}

func (d daemonUnderTest) refTimeMoves() bool { return refTimeMoves(d.release, d.lab.Mode) }

// numberFields are the number fields of the tracking report: chronyc's
// value, ours from the library, the plugin's field, and how many decimals
// chronyc -c prints (a value we read must round to chronyc's).
var numberFields = []struct {
	name, field string
	decimals    int
	chronyc     func(chronylab.ChronycTracking) float64
	client      func(cmdmon.Tracking) float64
}{
	// chronyc prints %.9f, but a float64 epoch time holds about 7 significant decimals.
	{"ref time", "ref_time", 6, func(c chronylab.ChronycTracking) float64 { return c.RefTime }, func(r cmdmon.Tracking) float64 {
		if r.RefTime.IsZero() {
			return 0
		}
		return float64(r.RefTime.UnixNano()) / 1e9
	}},
	{"system time", "system_time", 9, func(c chronylab.ChronycTracking) float64 { return c.SystemTime }, func(r cmdmon.Tracking) float64 { return r.SystemTime }},
	{"last offset", "last_offset", 9, func(c chronylab.ChronycTracking) float64 { return c.LastOffset }, func(r cmdmon.Tracking) float64 { return r.LastOffset }},
	{"rms offset", "rms_offset", 9, func(c chronylab.ChronycTracking) float64 { return c.RMSOffset }, func(r cmdmon.Tracking) float64 { return r.RMSOffset }},
	{"frequency", "frequency", 3, func(c chronylab.ChronycTracking) float64 { return c.Frequency }, func(r cmdmon.Tracking) float64 { return r.Frequency }},
	{"residual frequency", "residual_freq", 3, func(c chronylab.ChronycTracking) float64 { return c.ResidualFreq }, func(r cmdmon.Tracking) float64 { return r.ResidualFreq }},
	{"skew", "skew", 3, func(c chronylab.ChronycTracking) float64 { return c.Skew }, func(r cmdmon.Tracking) float64 { return r.Skew }},
	{"root delay", "root_delay", 9, func(c chronylab.ChronycTracking) float64 { return c.RootDelay }, func(r cmdmon.Tracking) float64 { return r.RootDelay }},
	{"root dispersion", "root_dispersion", 9, func(c chronylab.ChronycTracking) float64 { return c.RootDispersion }, func(r cmdmon.Tracking) float64 { return r.RootDispersion }},
	{"update interval", "update_interval", 1, func(c chronylab.ChronycTracking) float64 { return c.UpdateInterval }, func(r cmdmon.Tracking) float64 { return r.UpdateInterval }},
}

// assertNumbers asserts that each number we read (got, by field index)
// lies between chronyc's readings before and after ours, widened by half a
// unit of the last decimal chronyc prints.
func assertNumbers(t *testing.T, got func(i int) float64, before, after chronylab.ChronycTracking) {
	t.Helper()
	for i, f := range numberFields {
		assertBetween(t, f.name, got(i), f.chronyc(before), f.chronyc(after), f.decimals)
	}
}

// assertBetween asserts that v lies between chronyc's readings a and b,
// widened by half a unit of the last of the decimals chronyc prints.
func assertBetween(t *testing.T, name string, v, a, b float64, decimals int) {
	t.Helper()
	tol := 0.5*math.Pow10(-decimals) + 1e-12
	lo, hi := math.Min(a, b), math.Max(a, b)
	assert.True(t, v >= lo-tol && v <= hi+tol, "%s: %g not within [%g, %g] ± %g", name, v, lo, hi, tol)
}

// modeFacts are what a lab in each mode reports whatever its release.
var modeFacts = map[chronylab.Mode]struct {
	synced   bool
	family   cmdmon.AddrFamily
	zeroTime bool
}{
	chronylab.Synced:         {true, cmdmon.FamilyInet4, false},
	chronylab.Unsynchronised: {false, cmdmon.FamilyUnspec, true},
	chronylab.LocalReference: {false, cmdmon.FamilyUnspec, false},
}

// newClient is a library client of addr with the default settings, closed
// when the test ends.
func newClient(t *testing.T, addr string) *cmdmon.Client {
	cfg := cmdmon.DefaultConfig()
	cfg.Address = addr
	c, err := cmdmon.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// checkClient reads tracking with the library at addr and compares every
// field with the lab's chronyc, read before and after ours.
func checkClient(t *testing.T, d daemonUnderTest, addr string) {
	c := newClient(t, addr)
	r, want, after := readBetween(t, d.tracking(), func() cmdmon.Tracking {
		r, err := c.Tracking(context.Background())
		require.NoError(t, err)
		return r
	})

	assert.Equal(t, want.RefID, r.ReferenceID, "reference ID")
	assert.Equal(t, fmt.Sprintf("%08X", want.RefID), r.RefIDHex())
	assert.Equal(t, want.Name, r.ReferenceName, "reference name")
	assert.Equal(t, want.Stratum, int(r.Stratum), "stratum")
	assert.Equal(t, want.LeapCode(), int(r.Leap), "leap status %s", want.Leap)
	assertNumbers(t, func(i int) float64 { return numberFields[i].client(r) }, want, after)

	m := modeFacts[d.lab.Mode]
	assert.Equal(t, addr, r.Address)
	assert.Equal(t, m.synced, r.Synchronised)
	assert.Equal(t, m.family, r.Family)
	assert.Equal(t, m.zeroTime, r.RefTime.IsZero())
	if !m.zeroTime {
		assert.Positive(t, r.RefTimeAge)
		assert.Less(t, r.RefTimeAge, time.Minute)
	}
	if d.refTimeMoves() {
		assert.InDelta(t, 1.0, r.RefTimeAge.Seconds(), 0.5, "reference time: the request's less one second")
	}
	switch d.lab.Mode {
	case chronylab.Unsynchronised:
		assert.Equal(t, cmdmon.LeapUnsynchronised, r.Leap)
		assert.Equal(t, 1.0, r.RootDelay)
		assert.Equal(t, 1.0, r.RootDispersion)
	case chronylab.LocalReference:
		assert.Equal(t, cmdmon.LocalRefID, r.ReferenceID)
	}
}

// checkPlugin gathers one point with the plugin reading url and compares
// every field with the lab's chronyc, read before and after the gather.
func checkPlugin(t *testing.T, d daemonUnderTest, url string) {
	p, log := newPlugin(t, url)
	m, want, after := readBetween(t, d.tracking(), func() *testutil.Metric {
		var acc testutil.Accumulator
		require.NoError(t, p.Gather(&acc))
		require.Empty(t, acc.Errors, "failures must be data, not accumulator errors")
		require.Len(t, acc.Metrics, 1)
		return acc.Metrics[0]
	})

	require.Equal(t, "success", m.Tags["result"], "fields %v, log %+v", m.Fields, log.Messages())
	assert.Equal(t, url, m.Tags["server"])
	assert.Equal(t, fmt.Sprintf("%08X", want.RefID), m.Tags["reference_id"])
	assert.Equal(t, want.Name, m.Tags["reference_name"])
	assert.Equal(t, int64(want.Stratum), m.Fields["stratum"])
	assert.Equal(t, int64(want.LeapCode()), m.Fields["leap_status"], "leap status %s", want.Leap)
	f := func(k string) float64 {
		v, ok := m.Fields[k].(float64)
		require.True(t, ok, "%s is a float", k)
		return v
	}
	assertNumbers(t, func(i int) float64 { return f(numberFields[i].field) }, want, after)
	assert.Equal(t, modeFacts[d.lab.Mode].synced, m.Fields["synchronised"])
	bound := math.Abs(f("system_time")) + f("root_dispersion") + f("root_delay")/2
	assert.InDelta(t, bound, f("clock_error_bound"), 1e-8)
	age := 0.0
	if want.RefTime != 0 {
		age = time.Since(ct.RefTimeOf(want.RefTime)).Seconds()
	}
	assert.InDelta(t, age, f("ref_time_age"), 1.0)
	assert.Empty(t, log.Messages())
}
