package cmdmon

import (
	"fmt"
	"strconv"
	"time"
)

// Bounds for validation. chronyd's own limits are the source: strata run to
// NTP's 16 (unsynchronised), and the clock's frequency can be corrected by
// at most 10% through the kernel's tick and frequency together.
const (
	maxStratum = 16
	// maxFrequencyPPM bounds |frequency| and |residual frequency|.
	maxFrequencyPPM = 100000
	// RefTimeFutureTolerance is how far ahead of the local clock a reference
	// time may be before the reply is rejected; chronyd stamps it with the
	// same clock we read, so anything beyond a little slew is corruption.
	RefTimeFutureTolerance = 5 * time.Second
)

// validate checks a decoded report against the ranges and the states chronyd
// really reports, naming the first field at fault.
func validate(r *Tracking) *Error {
	if r.Stratum > maxStratum {
		return invalidField("stratum", strconv.Itoa(int(r.Stratum)), fmt.Sprintf("0..%d", maxStratum))
	}
	if r.Leap > LeapUnsynchronised {
		return invalidField("leap_status", strconv.Itoa(int(r.Leap)), "0..3 (normal, insert second, delete second, not synchronised)")
	}
	if r.Family > FamilyID {
		return invalidField("ip_addr.family", strconv.Itoa(int(r.Family)), "0..3 (unspec, inet4, inet6, id)")
	}
	if r.Stratum == 0 && r.Leap != LeapUnsynchronised {
		return invalidField("leap_status", r.Leap.String(), "not synchronised when stratum is 0")
	}
	if r.ReferenceID == 0 && r.Stratum != 0 {
		return invalidField("stratum", strconv.Itoa(int(r.Stratum)), "0 when ref_id is 0 (unsynchronised)")
	}
	if r.ReferenceID == 0 && r.Family != FamilyUnspec {
		return invalidField("ip_addr.family", r.Family.String(), "unspec when ref_id is 0 (unsynchronised)")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"rms_offset", r.RMSOffset}, {"skew_ppm", r.Skew}, {"root_delay", r.RootDelay},
		{"root_dispersion", r.RootDispersion}, {"last_update_interval", r.UpdateInterval},
	} {
		if f.v < 0 {
			return invalidField(f.name, formatFloat(f.v), "non-negative")
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"freq_ppm", r.Frequency}, {"resid_freq_ppm", r.ResidualFreq}} {
		if abs(f.v) > maxFrequencyPPM {
			return invalidField(f.name, formatFloat(f.v), fmt.Sprintf("within ±%d ppm", maxFrequencyPPM))
		}
	}
	if !r.RefTime.IsZero() && r.RefTime.Sub(r.ReadAt) > RefTimeFutureTolerance {
		return invalidField("ref_time", r.RefTime.UTC().Format(time.RFC3339Nano),
			fmt.Sprintf("not after the reading (%s) by more than %s", r.ReadAt.UTC().Format(time.RFC3339Nano), RefTimeFutureTolerance))
	}
	return nil
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
