package cmdmon

import (
	"encoding/binary"
	"strconv"
)

// SourceStats is one entry of chronyd's sourcestats report (chronyc
// sourcestats): the regression chronyd runs over a source's samples.
type SourceStats struct {
	Ident
	// Samples is the number of samples kept, Runs the number of runs of
	// residuals with one sign (few runs for many samples: a poor fit), and
	// SpanSeconds the time from the oldest sample to the newest.
	Samples     uint32
	Runs        uint32
	SpanSeconds uint32
	// StdDev is the standard deviation of the samples, seconds.
	StdDev float64
	// ResidFreqPPM is the source's estimated residual frequency and SkewPPM
	// its error bound, ppm (chronyc's Freq and Freq Skew).
	ResidFreqPPM float64
	SkewPPM      float64
	// EstOffset is the source's estimated offset and EstOffsetErr its error
	// bound, seconds; as chronyc prints it, positive means the local clock
	// is ahead of the source.
	EstOffset    float64
	EstOffsetErr float64
}

// Sourcestats reply offsets (RPY_Sourcestats in candm.h).
const (
	offSSRefID     = 28
	offSSAddr      = 32 // 16 bytes, then family and padding
	offSSSamples   = 52
	offSSRuns      = 56
	offSSSpan      = 60
	offSSStdDev    = 64
	offSSResidFreq = 68
	offSSSkew      = 72
	offSSOffset    = 76
	offSSOffsetErr = 80
	sourceStatsLen = 84
)

var sourceStatsFields = []field{
	{offSSRefID, "ref_id"}, {offSSAddr, "ip_addr"}, {offSSSamples, "n_samples"},
	{offSSRuns, "n_runs"}, {offSSSpan, "span_seconds"}, {offSSStdDev, "sd"},
	{offSSResidFreq, "resid_freq_ppm"}, {offSSSkew, "skew_ppm"},
	{offSSOffset, "est_offset"}, {offSSOffsetErr, "est_offset_err"},
}

// decodeSourceStats reads a checked RPY_SOURCESTATS into s, without
// allocating, and validates it. A reference clock has no address here
// (family unspec); its ref_id names it.
func decodeSourceStats(p []byte, index int, s *SourceStats) *Error {
	be := binary.BigEndian
	float := func(off int) float64 { return decodeFloat(be.Uint32(p[off:])) }
	*s = SourceStats{
		Ident:        Ident{Index: index, RefID: be.Uint32(p[offSSRefID:])},
		Samples:      be.Uint32(p[offSSSamples:]),
		Runs:         be.Uint32(p[offSSRuns:]),
		SpanSeconds:  be.Uint32(p[offSSSpan:]),
		StdDev:       float(offSSStdDev),
		ResidFreqPPM: float(offSSResidFreq),
		SkewPPM:      float(offSSSkew),
		EstOffset:    float(offSSOffset),
		EstOffsetErr: float(offSSOffsetErr),
	}
	if err := s.decodeAddr(p[offSSAddr:], false); err != nil {
		return err
	}
	switch {
	case s.Runs > s.Samples:
		return invalidField("n_runs", strconv.FormatUint(uint64(s.Runs), 10), "at most n_samples ("+strconv.FormatUint(uint64(s.Samples), 10)+")")
	case s.StdDev < 0:
		return invalidField("sd", formatFloat(s.StdDev), "non-negative")
	case s.SkewPPM < 0:
		return invalidField("skew_ppm", formatFloat(s.SkewPPM), "non-negative")
	case s.EstOffsetErr < 0:
		return invalidField("est_offset_err", formatFloat(s.EstOffsetErr), "non-negative")
	}
	return nil
}
