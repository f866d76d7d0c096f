package chrony_tracking

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
)

func TestPointMapsEveryField(t *testing.T) {
	refTime := time.Unix(1700000000, 123456789)
	synced := cmdmon.Tracking{
		Address: "udp://127.0.0.1:323", ReferenceID: 0xC0000211, ReferenceName: "192.0.2.17",
		ReferenceAddr: netip.MustParseAddr("192.0.2.17"), Family: cmdmon.FamilyInet4,
		Stratum: 3, Leap: cmdmon.LeapInsertSecond, RefTime: refTime,
		SystemTime: -1.5e-5, LastOffset: 2e-6, RMSOffset: 3e-6, Frequency: -12.5, ResidualFreq: 0.25,
		Skew: 0.05, RootDelay: 0.02, RootDispersion: 0.001, UpdateInterval: 64.2,
		ReadAt: refTime.Add(37 * time.Second), Synchronised: true, ClockErrorBound: 0.011015, RefTimeAge: 37 * time.Second,
	}
	unsynced := cmdmon.Tracking{Address: "unixgram:///run/chrony/chronyd.sock", Leap: cmdmon.LeapUnsynchronised, RootDelay: 1, RootDispersion: 1, ClockErrorBound: 1.5}
	tests := []struct {
		name       string
		result     Result
		wantTags   map[string]string
		wantFields map[string]any
	}{
		{
			name:   "synchronised",
			result: Result{Server: synced.Address, Report: synced},
			wantTags: map[string]string{"server": "udp://127.0.0.1:323", "reference_id": "C0000211",
				"reference_name": "192.0.2.17", "result": "success"},
			wantFields: map[string]any{
				"system_time": -1.5e-5, "last_offset": 2e-6, "rms_offset": 3e-6, "frequency": -12.5,
				"residual_freq": 0.25, "skew": 0.05, "root_delay": 0.02, "root_dispersion": 0.001,
				"update_interval": 64.2, "stratum": int64(3), "leap_status": int64(1),
				"ref_time": 1700000000.123456789, "ref_time_age": 37.0, "clock_error_bound": 0.011015,
				"synchronised": true, "result_code": int64(0),
			},
		},
		{
			name:     "unsynchronised: no reference_name, ref_time 0",
			result:   Result{Server: unsynced.Address, Report: unsynced},
			wantTags: map[string]string{"server": "unixgram:///run/chrony/chronyd.sock", "reference_id": "00000000", "result": "success"},
			wantFields: map[string]any{
				"system_time": 0.0, "last_offset": 0.0, "rms_offset": 0.0, "frequency": 0.0,
				"residual_freq": 0.0, "skew": 0.0, "root_delay": 1.0, "root_dispersion": 1.0,
				"update_interval": 0.0, "stratum": int64(0), "leap_status": int64(3),
				"ref_time": 0.0, "ref_time_age": 0.0, "clock_error_bound": 1.5,
				"synchronised": false, "result_code": int64(0),
			},
		},
		{
			name:       "failure: result only",
			result:     Result{Server: "udp://127.0.0.1:323", Report: synced, Err: &cmdmon.Error{Code: cmdmon.CodeTimeout}},
			wantTags:   map[string]string{"server": "udp://127.0.0.1:323", "result": "timeout"},
			wantFields: map[string]any{"result_code": int64(2)},
		},
		{
			name:       "failure of another kind counts as chronyd_error",
			result:     Result{Server: "auto", Err: errString("boom")},
			wantTags:   map[string]string{"server": "auto", "result": "chronyd_error"},
			wantFields: map[string]any{"result_code": int64(7)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tags, fields := Point(tt.result)
			require.Equal(t, tt.wantTags, tags)
			require.Len(t, fields, len(tt.wantFields))
			for k, want := range tt.wantFields {
				if f, ok := want.(float64); ok {
					require.InDelta(t, f, fields[k], 1e-9, k)
					continue
				}
				require.Equal(t, want, fields[k], k)
			}
			m := tt.result.Metric()
			require.Equal(t, Name, m.Name())
		})
	}
}

func TestRefTimeRoundTrip(t *testing.T) {
	for _, ts := range []time.Time{{}, time.Unix(1700000000, 5e8), time.Unix(1, 1)} {
		got := RefTimeOf(epochSeconds(ts))
		if ts.IsZero() {
			require.True(t, got.IsZero())
			continue
		}
		require.WithinDuration(t, ts, got, time.Microsecond)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
