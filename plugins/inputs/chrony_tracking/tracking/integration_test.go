package tracking_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking/tracking"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
)

// chronycLeap maps our leap status to the word chronyc -c prints.
var chronycLeap = map[tracking.LeapStatus]string{
	tracking.LeapNormal:         chronylab.LeapNormal,
	tracking.LeapInsertSecond:   chronylab.LeapInsertSecond,
	tracking.LeapDeleteSecond:   chronylab.LeapDeleteSecond,
	tracking.LeapUnsynchronised: chronylab.LeapNotSynchronised,
}

// readBetween reads our report between two chronyc reads with no clock
// update in between (the lab updates up to 64 times a second), so that only
// the two fields chronyd computes at read time, system time and root
// dispersion, can differ. It gives up after a bounded number of tries.
func readBetween(t *testing.T, lab *chronylab.Lab, c *tracking.Client) (r tracking.Report, before, after chronylab.ChronycTracking) {
	t.Helper()
	for range 200 {
		var err error
		before, err = lab.Tracking()
		require.NoError(t, err)
		r, err = c.Tracking(context.Background())
		require.NoError(t, err)
		after, err = lab.Tracking()
		require.NoError(t, err)
		moving := after
		moving.SystemTime, moving.RootDispersion = before.SystemTime, before.RootDispersion
		if before == moving {
			return r, before, after
		}
	}
	t.Fatal("chronyd updated its clock during every one of 200 reads")
	return
}

// between asserts lo-tol <= v <= hi+tol with lo, hi in either order.
func between(t *testing.T, v, a, b, tol float64, name string) {
	t.Helper()
	lo, hi := math.Min(a, b), math.Max(a, b)
	assert.True(t, v >= lo-tol && v <= hi+tol, "%s: %g not within [%g, %g] ± %g", name, v, lo, hi, tol)
}

// assertMatchesChronyc compares every field with chronyc's before and
// after ours, within the precision chronyc prints it with.
func assertMatchesChronyc(t *testing.T, r tracking.Report, want, after chronylab.ChronycTracking) {
	t.Helper()
	assert.Equal(t, want.RefID, r.ReferenceID, "reference ID")
	assert.Equal(t, fmt.Sprintf("%08X", want.RefID), r.RefIDHex())
	assert.Equal(t, want.Name, r.ReferenceName, "reference name")
	assert.Equal(t, want.Stratum, int(r.Stratum), "stratum")
	assert.Equal(t, want.Leap, chronycLeap[r.Leap], "leap status")
	refTime := 0.0
	if !r.RefTime.IsZero() {
		refTime = float64(r.RefTime.UnixNano()) / 1e9
	}
	// %.9f of a double near 1.8e9 carries about 7 significant decimals.
	assert.InDelta(t, want.RefTime, refTime, 1e-6, "ref time")
	for _, f := range []struct {
		name            string
		got, want, then float64
		decimals        int
	}{
		{"system time", r.SystemTime, want.SystemTime, after.SystemTime, 9},
		{"last offset", r.LastOffset, want.LastOffset, after.LastOffset, 9},
		{"rms offset", r.RMSOffset, want.RMSOffset, after.RMSOffset, 9},
		{"frequency", r.Frequency, want.Frequency, after.Frequency, 3},
		{"residual frequency", r.ResidualFreq, want.ResidualFreq, after.ResidualFreq, 3},
		{"skew", r.Skew, want.Skew, after.Skew, 3},
		{"root delay", r.RootDelay, want.RootDelay, after.RootDelay, 9},
		{"root dispersion", r.RootDispersion, want.RootDispersion, after.RootDispersion, 9},
		{"update interval", r.UpdateInterval, want.UpdateInterval, after.UpdateInterval, 1},
	} {
		between(t, f.got, f.want, f.then, 0.5*math.Pow(10, -float64(f.decimals))+1e-12, f.name)
	}
}

func TestAgainstChronyc(t *testing.T) {
	modes := []struct {
		mode     chronylab.Mode
		synced   bool
		name     string
		family   tracking.AddrFamily
		zeroTime bool
	}{
		{chronylab.Synced, true, "127.0.0.1", tracking.FamilyInet4, false},
		{chronylab.Unsynchronised, false, "", tracking.FamilyUnspec, true},
		{chronylab.LocalReference, false, "", tracking.FamilyUnspec, false},
	}
	for _, m := range modes {
		t.Run(m.mode.String(), func(t *testing.T) {
			lab := chronylab.Start(t, chronylab.Options{Mode: m.mode})
			if m.mode != chronylab.Unsynchronised {
				require.NoError(t, lab.WaitSynced(10*time.Second))
			}
			for _, addr := range []string{lab.UDPURL(), lab.UnixURL()} {
				t.Run(addr[:3], func(t *testing.T) {
					cfg := tracking.DefaultConfig()
					cfg.Address = addr
					c, err := tracking.New(cfg)
					require.NoError(t, err)
					defer c.Close()
					r, before, after := readBetween(t, lab, c)
					assertMatchesChronyc(t, r, before, after)
					assert.Equal(t, addr, r.Address)
					assert.Equal(t, m.synced, r.Synchronised)
					assert.Equal(t, m.family, r.Family)
					assert.Equal(t, m.zeroTime, r.RefTime.IsZero())
					if !m.zeroTime {
						assert.Positive(t, r.RefTimeAge)
						assert.Less(t, r.RefTimeAge, time.Minute)
					}
					if m.mode == chronylab.Unsynchronised {
						assert.Equal(t, tracking.LeapUnsynchronised, r.Leap)
						assert.Equal(t, 1.0, r.RootDelay)
						assert.Equal(t, 1.0, r.RootDispersion)
					}
					if m.mode == chronylab.LocalReference {
						assert.Equal(t, tracking.LocalRefID, r.ReferenceID)
					}
				})
			}
		})
	}
}

// With no address, the client tries chronyc's order and reports which
// address answered.
func TestDefaultOrder(t *testing.T) {
	lab := chronylab.Start(t, chronylab.Options{Mode: chronylab.LocalReference})
	missing := tracking.Address{Network: "unixgram", Path: lab.Dir + "/missing.sock"}
	unix, err := tracking.ParseAddress(lab.UnixURL())
	require.NoError(t, err)
	udp, err := tracking.ParseAddress(lab.UDPURL())
	require.NoError(t, err)
	saved := tracking.DefaultAddresses
	t.Cleanup(func() { tracking.DefaultAddresses = saved })

	for _, tt := range []struct {
		order []tracking.Address
		want  string
	}{
		{[]tracking.Address{unix, udp}, lab.UnixURL()},
		{[]tracking.Address{missing, udp}, lab.UDPURL()},
	} {
		tracking.DefaultAddresses = tt.order
		c, err := tracking.New(tracking.DefaultConfig())
		require.NoError(t, err)
		r, err := c.Tracking(context.Background())
		c.Close()
		require.NoError(t, err)
		assert.Equal(t, tt.want, r.Address)
	}

	tracking.DefaultAddresses = []tracking.Address{missing}
	c, err := tracking.New(tracking.DefaultConfig())
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Tracking(context.Background())
	require.ErrorIs(t, err, tracking.ErrUnavailable)
	assert.Contains(t, err.Error(), "missing.sock")
}
