package cmdmon

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// synced is a valid report that each case breaks in one field.
func synced() Tracking {
	now := time.Unix(1795705317, 0)
	return Tracking{ReferenceID: 0x7F000001, Family: FamilyInet4, Stratum: 9, Leap: LeapNormal,
		RefTime: now.Add(-time.Second), ReadAt: now, RMSOffset: 1e-6, Skew: 0.1,
		RootDelay: 1e-5, RootDispersion: 1e-5, UpdateInterval: 1, Frequency: -12.3}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(r *Tracking)
		field string // "" = valid
	}{
		{"synced", func(r *Tracking) {}, ""},
		{"stratum 16", func(r *Tracking) { r.Stratum = 16 }, ""},
		{"stratum 17", func(r *Tracking) { r.Stratum = 17 }, "stratum"},
		{"leap 3 with a source", func(r *Tracking) { r.Leap = 3 }, ""},
		{"leap 4", func(r *Tracking) { r.Leap = 4 }, "leap_status"},
		{"family id", func(r *Tracking) { r.Family = FamilyID }, ""},
		{"family 4", func(r *Tracking) { r.Family = 4 }, "ip_addr.family"},
		{"stratum 0 leap normal", func(r *Tracking) { r.Stratum = 0 }, "leap_status"},
		{"ref id 0 stratum 9", func(r *Tracking) { r.ReferenceID = 0; r.Leap = 3 }, "stratum"},
		{"ref id 0 family inet4", func(r *Tracking) { r.ReferenceID = 0; r.Leap = 3; r.Stratum = 0 }, "ip_addr.family"},
		{"unsynchronised", func(r *Tracking) {
			*r = Tracking{Leap: 3, RootDelay: 1, RootDispersion: 1, ReadAt: r.ReadAt}
		}, ""},
		{"rms offset 0", func(r *Tracking) { r.RMSOffset = 0 }, ""},
		{"rms offset negative", func(r *Tracking) { r.RMSOffset = -1e-9 }, "rms_offset"},
		{"skew negative", func(r *Tracking) { r.Skew = -1e-9 }, "skew_ppm"},
		{"root delay negative", func(r *Tracking) { r.RootDelay = -1e-9 }, "root_delay"},
		{"root dispersion negative", func(r *Tracking) { r.RootDispersion = -1e-9 }, "root_dispersion"},
		{"update interval negative", func(r *Tracking) { r.UpdateInterval = -1 }, "last_update_interval"},
		{"system time negative", func(r *Tracking) { r.SystemTime = -3600 }, ""},
		{"frequency at bound", func(r *Tracking) { r.Frequency = -maxFrequencyPPM }, ""},
		{"frequency beyond bound", func(r *Tracking) { r.Frequency = maxFrequencyPPM + 1 }, "freq_ppm"},
		{"residual beyond bound", func(r *Tracking) { r.ResidualFreq = -maxFrequencyPPM - 1 }, "resid_freq_ppm"},
		{"ref time at tolerance", func(r *Tracking) { r.RefTime = r.ReadAt.Add(RefTimeFutureTolerance) }, ""},
		{"ref time beyond tolerance", func(r *Tracking) { r.RefTime = r.ReadAt.Add(RefTimeFutureTolerance + time.Nanosecond) }, "ref_time"},
		{"ref time long ago", func(r *Tracking) { r.RefTime = r.ReadAt.Add(-365 * 24 * time.Hour) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := synced()
			tt.edit(&r)
			err := validate(&r)
			if tt.field == "" {
				assert.Nil(t, err)
				return
			}
			require.NotNil(t, err)
			assert.Equal(t, CodeInvalidData, err.Code)
			assert.Contains(t, err.Msg, "field "+tt.field+" is ")
		})
	}
}

func TestDecodeAnswerRejectsBadNanoseconds(t *testing.T) {
	p := reply(t, 1)
	set(p, offRefTime+tsNsec, 0x3B, 0x9A, 0xCA, 0x00) // 1e9 ns
	_, err := decodeAnswer(p, time.Now(), nil)
	require.NotNil(t, err)
	assert.Equal(t, CodeInvalidData, err.Code)
	assert.Contains(t, err.Msg, "field ref_time is nanoseconds 1000000000")
}
