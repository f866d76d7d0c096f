package fakechronyd

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

// decodeFloat reads a chrony float straight from its definition,
// value = coef * 2^(exp-25) with both parts signed, independently of the
// encoder's arithmetic.
func decodeFloat(w uint32) (value float64, exp, coef int32) {
	exp = int32(w) >> 25    // top 7 bits, sign-extended
	coef = int32(w<<7) >> 7 // low 25 bits, sign-extended
	return float64(coef) * math.Pow(2, float64(exp-25)), exp, coef
}

var (
	maxChronyFloat = float64(1<<24-1) * math.Pow(2, 63-25)
	minChronyFloat = -float64(1<<24) * math.Pow(2, 63-25)
	chronyFloatLSB = math.Pow(2, -64-25) // smallest non-zero magnitude
)

func TestEncodeFloat(t *testing.T) {
	relTol := math.Pow(2, -24)
	tests := []struct {
		name string
		in   float64
		want float64
		// exact: want must come back bit for bit; otherwise within relTol.
		exact bool
	}{
		{"zero", 0, 0, true},
		{"negative zero", math.Copysign(0, -1), 0, true},
		{"one", 1, 1, true},
		{"minus one", -1, -1, true},
		{"nanosecond", 1e-9, 1e-9, false},
		{"small negative offset", -3.2e-5, -3.2e-5, false},
		{"frequency", 12.345, 12.345, false},
		{"negative frequency", -123.456789, -123.456789, false},
		{"update interval", 64.5, 64.5, true},
		{"just below a power of two rounds up", math.Nextafter(2, 0), 2, true},
		{"largest exact", maxChronyFloat, maxChronyFloat, true},
		{"most negative exact", minChronyFloat, minChronyFloat, true},
		{"huge saturates", 1e20, maxChronyFloat, true},
		{"huge negative saturates", -1e20, minChronyFloat, true},
		{"inf saturates", math.Inf(1), maxChronyFloat, true},
		{"minus inf saturates", math.Inf(-1), minChronyFloat, true},
		{"nan is zero", math.NaN(), 0, true},
		{"smallest step", chronyFloatLSB, chronyFloatLSB, true},
		{"below half the smallest step flushes", 0.49 * chronyFloatLSB, 0, true},
		{"tiny flushes", 1e-30, 0, true},
		{"tiny negative flushes", -1e-30, 0, true},
		{"subnormal keeps steps", 5 * chronyFloatLSB, 5 * chronyFloatLSB, true},
		{"smallest full precision", math.Pow(2, -66), math.Pow(2, -66), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := EncodeFloat(tc.in)
			got, _, _ := decodeFloat(w)
			if tc.exact {
				if got != tc.want {
					t.Fatalf("EncodeFloat(%g) = %#08x, decodes to %g, want %g", tc.in, w, got, tc.want)
				}
				return
			}
			if rel := math.Abs(got-tc.want) / math.Abs(tc.want); rel > relTol {
				t.Fatalf("EncodeFloat(%g) = %#08x, decodes to %g, relative error %g > 2^-24", tc.in, w, got, rel)
			}
		})
	}
	if w := EncodeFloat(0); w != 0 {
		t.Errorf("EncodeFloat(0) = %#08x, want 0", w)
	}
}

// TestEncodeFloatPrecision sweeps the normal range: every value must keep a
// coefficient of 24 magnitude bits (the most the format holds) and so stay
// within half a unit in the last place.
func TestEncodeFloatPrecision(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	relTol := math.Pow(2, -24)
	for range 100000 {
		v := math.Pow(10, rng.Float64()*36-18)
		if rng.IntN(2) == 0 {
			v = -v
		}
		w := EncodeFloat(v)
		got, _, coef := decodeFloat(w)
		if rel := math.Abs(got-v) / math.Abs(v); rel > relTol {
			t.Fatalf("EncodeFloat(%g) = %#08x, decodes to %g, relative error %g", v, w, got, rel)
		}
		if m := math.Abs(float64(coef)); m < 1<<23 || m > 1<<24 {
			t.Fatalf("EncodeFloat(%g) = %#08x has coefficient %d, not normalised", v, w, coef)
		}
	}
}

func TestTrackingReply(t *testing.T) {
	req := Request{Version: 6, PktType: 1, Command: ReqTracking, Attempt: 2, Sequence: 0xA1B2C3D4}
	tr := Tracking{
		RefID:          0xC0000211,
		Addr:           netip.MustParseAddr("192.0.2.17"),
		Stratum:        3,
		Leap:           2,
		RefTime:        time.Unix(1<<32+5, 123456789),
		SystemTime:     1e-6,
		LastOffset:     -2e-6,
		RMSOffset:      3e-6,
		Frequency:      -12.5,
		ResidualFreq:   0.25,
		Skew:           0.125,
		RootDelay:      0.0625,
		RootDispersion: 0.03125,
		UpdateInterval: 64,
	}
	b := TrackingReply(req, tr)
	if len(b) != TrackingLen {
		t.Fatalf("len = %d, want %d", len(b), TrackingLen)
	}
	u16 := func(off int) uint64 { return uint64(binary.BigEndian.Uint16(b[off:])) }
	u32 := func(off int) uint64 { return uint64(binary.BigEndian.Uint32(b[off:])) }
	fields := []struct {
		name string
		got  uint64
		want uint64
	}{
		{"version", uint64(b[0]), 6},
		{"pkt_type", uint64(b[1]), 2},
		{"res1", uint64(b[2]), 0},
		{"res2", uint64(b[3]), 0},
		{"command", u16(4), 33},
		{"reply", u16(6), 5},
		{"status", u16(8), 0},
		{"pad1..pad3", u16(10) | u16(12) | u16(14), 0},
		{"sequence", u32(16), 0xA1B2C3D4},
		{"pad4, pad5", u32(20) | u32(24), 0},
		{"ref_id", u32(28), 0xC0000211},
		{"ipv4 address", u32(32), 0xC0000211},
		{"rest of address", u32(36) | u32(40) | u32(44), 0},
		{"family", u16(48), 1},
		{"address pad", u16(50), 0},
		{"stratum", u16(52), 3},
		{"leap", u16(54), 2},
		{"ref_time sec_high", u32(56), 1},
		{"ref_time sec_low", u32(60), 5},
		{"ref_time nsec", u32(64), 123456789},
	}
	for _, f := range fields {
		if f.got != f.want {
			t.Errorf("%s = %#x, want %#x", f.name, f.got, f.want)
		}
	}
	floats := []struct {
		name string
		off  int
		want float64
	}{
		{"current_correction", 68, 1e-6},
		{"last_offset", 72, -2e-6},
		{"rms_offset", 76, 3e-6},
		{"freq_ppm", 80, -12.5},
		{"resid_freq_ppm", 84, 0.25},
		{"skew_ppm", 88, 0.125},
		{"root_delay", 92, 0.0625},
		{"root_dispersion", 96, 0.03125},
		{"last_update_interval", 100, 64},
	}
	for _, f := range floats {
		got, _, _ := decodeFloat(binary.BigEndian.Uint32(b[f.off:]))
		if math.Abs(got-f.want) > math.Abs(f.want)*math.Pow(2, -24) {
			t.Errorf("%s at %d = %g, want %g", f.name, f.off, got, f.want)
		}
	}
}

func TestTrackingReplyAddress(t *testing.T) {
	v6 := netip.MustParseAddr("2001:db8::123")
	v6bytes := v6.As16()
	tests := []struct {
		name       string
		tr         Tracking
		wantAddr   []byte
		wantFamily uint16
	}{
		{"no address", Tracking{}, make([]byte, 16), FamilyUnspec},
		{"ipv4 derives family", Tracking{Addr: netip.MustParseAddr("10.1.2.3")},
			[]byte{10, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, FamilyINet4},
		{"ipv6 derives family", Tracking{Addr: v6}, v6bytes[:], FamilyINet6},
		{"explicit id family", Tracking{Addr: netip.MustParseAddr("0.0.0.7"), Family: FamilyID},
			[]byte{0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, FamilyID},
		{"explicit family contradicting address", Tracking{Addr: v6, Family: FamilyINet4}, v6bytes[:], FamilyINet4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := TrackingReply(Request{}, tc.tr)
			if got := b[32:48]; !bytes.Equal(got, tc.wantAddr) {
				t.Errorf("address = % x, want % x", got, tc.wantAddr)
			}
			if got := binary.BigEndian.Uint16(b[48:]); got != tc.wantFamily {
				t.Errorf("family = %d, want %d", got, tc.wantFamily)
			}
		})
	}
}

func TestTrackingReplyZeroRefTime(t *testing.T) {
	b := TrackingReply(Request{}, Tracking{})
	if got := b[56:68]; !bytes.Equal(got, make([]byte, 12)) {
		t.Errorf("ref_time = % x, want zeros", got)
	}
}

func TestStatusReply(t *testing.T) {
	for _, status := range []uint16{StatusFailed, StatusUnauth, StatusBadPktVersion, StatusBadPktLength, StatusInvalidName} {
		req := Request{Version: 5, PktType: 1, Command: 33, Sequence: 77}
		b := StatusReply(req, status)
		want := []byte{
			5, 2, 0, 0, // version echoed, reply, res1, res2
			0, 33, 0, RpyNull, byte(status >> 8), byte(status), 0, 0, 0, 0, 0, 0,
			0, 0, 0, 77, // sequence
			0, 0, 0, 0, 0, 0, 0, 0,
		}
		if !bytes.Equal(b, want) {
			t.Errorf("StatusReply(status %d) =\n% x\nwant\n% x", status, b, want)
		}
	}
}

func TestCannedReports(t *testing.T) {
	recent := func(ts time.Time) bool { age := time.Since(ts); return age > 0 && age < 5*time.Minute }
	tests := []struct {
		name       string
		tr         Tracking
		refID      uint32
		family     uint16
		stratum    uint16
		leap       uint16
		wantRecent bool
	}{
		{"synced ipv4", SyncedIPv4(), 0xC0000211, FamilyINet4, 3, 0, true},
		{"synced ipv6", SyncedIPv6(), SyncedIPv6().RefID, FamilyINet6, 2, 0, true},
		{"refclock", Refclock(), 0x47505300, FamilyUnspec, 1, 0, true},
		{"local default stratum", LocalReference(0), 0x7F7F0101, FamilyUnspec, 8, 0, true},
		{"local stratum 10", LocalReference(10), 0x7F7F0101, FamilyUnspec, 10, 0, true},
		{"unsynchronised", Unsynchronised(), 0, FamilyUnspec, 0, 3, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := TrackingReply(Request{}, tc.tr)
			if got := binary.BigEndian.Uint32(b[28:]); got != tc.refID {
				t.Errorf("ref_id = %#08x, want %#08x", got, tc.refID)
			}
			if got := binary.BigEndian.Uint16(b[48:]); got != tc.family {
				t.Errorf("family = %d, want %d", got, tc.family)
			}
			if got := binary.BigEndian.Uint16(b[52:]); got != tc.stratum {
				t.Errorf("stratum = %d, want %d", got, tc.stratum)
			}
			if got := binary.BigEndian.Uint16(b[54:]); got != tc.leap {
				t.Errorf("leap = %d, want %d", got, tc.leap)
			}
			if got := recent(tc.tr.RefTime); got != tc.wantRecent {
				t.Errorf("ref time %v recent = %v, want %v", tc.tr.RefTime, got, tc.wantRecent)
			}
		})
	}
	u := Unsynchronised()
	if u.RootDelay != 1 || u.RootDispersion != 1 || !u.RefTime.IsZero() {
		t.Errorf("Unsynchronised() = %+v, want root delay and dispersion 1 s, zero ref time", u)
	}
	if v6 := SyncedIPv6(); v6.RefID == 0 || !v6.Addr.Is6() {
		t.Errorf("SyncedIPv6() = %+v, want a hashed refid and an IPv6 address", v6)
	}
}

func TestMutations(t *testing.T) {
	base := func() []byte { return []byte{0, 1, 2, 3, 4, 5, 6, 7} }
	tests := []struct {
		name string
		f    func([]byte) []byte
		want []byte
	}{
		{"put8", Put8(1, 0xff), []byte{0, 0xff, 2, 3, 4, 5, 6, 7}},
		{"put16", Put16(2, 0xabcd), []byte{0, 1, 0xab, 0xcd, 4, 5, 6, 7}},
		{"put32", Put32(4, 0xdeadbeef), []byte{0, 1, 2, 3, 0xde, 0xad, 0xbe, 0xef}},
		{"truncate", Truncate(3), []byte{0, 1, 2}},
		{"truncate to nothing", Truncate(0), []byte{}},
		{"append", Append(9, 9), []byte{0, 1, 2, 3, 4, 5, 6, 7, 9, 9}},
		{"chain", Chain(Put8(0, 6), Truncate(2), Append(1)), []byte{6, 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.f(base()); !bytes.Equal(got, tc.want) {
				t.Errorf("got % x, want % x", got, tc.want)
			}
		})
	}
}

func TestParseRequest(t *testing.T) {
	full := make([]byte, 104)
	copy(full, []byte{6, 1, 0, 0, 0, 33, 0, 2, 0xA1, 0xB2, 0xC3, 0xD4})
	got := parseRequest(full)
	want := Request{Version: 6, PktType: 1, Command: 33, Attempt: 2, Sequence: 0xA1B2C3D4, Len: 104}
	if !bytes.Equal(got.Data, full) {
		t.Errorf("Data is not a copy of the datagram")
	}
	got.Data = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseRequest = %+v, want %+v", got, want)
	}
	short := parseRequest([]byte{6, 1, 0, 0, 0})
	if short.Len != 5 || short.Version != 6 || short.Command != 0 {
		t.Errorf("parseRequest(short) = %+v", short)
	}
}
