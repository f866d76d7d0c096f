// Package fakechronyd is a stand-in for chronyd's command socket in tests.
//
// It exists for the cases a real chronyd cannot be made to produce on
// demand: corrupt, truncated, stale or wrong-version replies, silence, delay
// and duplicates. The reply builders here are pure functions so tests can
// start from a correct packet and break exactly one thing in it.
package fakechronyd

import (
	"crypto/md5"
	"encoding/binary"
	"math"
	"net"
	"net/netip"
	"time"
)

// Protocol numbers, named so tests read as the protocol does.
const (
	ProtoVersion   = 6
	PktTypeRequest = 1
	PktTypeReply   = 2
	ReqTracking    = 33
	// RpyNull is the reply code chronyd leaves in a header-only status reply.
	RpyNull     = 1
	RpyTracking = 5
)

// Lengths on the wire.
const (
	RequestHeaderLen = 20
	ReplyHeaderLen   = 28
	// TrackingLen is both the tracking reply length and the length a tracking
	// request must be padded to, because chronyd never sends a reply longer
	// than the request that asked for it.
	TrackingLen = 104
)

// Byte offsets, for tests that corrupt one field of a packet with Mutate.
const (
	OffVersion  = 0
	OffPktType  = 1
	OffRes1     = 2
	OffRes2     = 3
	OffCommand  = 4
	OffAttempt  = 6  // request only
	OffReply    = 6  // reply only
	OffStatus   = 8  // reply only
	OffReqSeq   = 8  // request only
	OffSequence = 16 // reply only

	OffRefID   = 28
	OffAddr    = 32
	OffFamily  = 48
	OffStratum = 52
	OffLeap    = 54
	OffRefTime = 56 // sec_high, sec_low, nsec

	// The nine chrony floats, 4 bytes each.
	OffSystemTime     = 68
	OffLastOffset     = 72
	OffRMSOffset      = 76
	OffFrequency      = 80
	OffResidualFreq   = 84
	OffSkew           = 88
	OffRootDelay      = 92
	OffRootDispersion = 96
	OffUpdateInterval = 100
)

// Status codes (STT_*). There is no 20.
const (
	StatusSuccess            = 0
	StatusFailed             = 1
	StatusUnauth             = 2
	StatusInvalid            = 3
	StatusNoSuchSource       = 4
	StatusInvalidTS          = 5
	StatusNotEnabled         = 6
	StatusBadSubnet          = 7
	StatusAccessAllowed      = 8
	StatusAccessDenied       = 9
	StatusNoHostAccess       = 10
	StatusSourceAlreadyKnown = 11
	StatusTooManySources     = 12
	StatusNoRTC              = 13
	StatusBadRTCFile         = 14
	StatusInactive           = 15
	StatusBadSample          = 16
	StatusInvalidAF          = 17
	StatusBadPktVersion      = 18
	StatusBadPktLength       = 19
	StatusInvalidName        = 21
)

// Address families of the tracking reply's IP address field.
const (
	FamilyUnspec = 0
	FamilyINet4  = 1
	FamilyINet6  = 2
	FamilyID     = 3
)

// NoHighSec in sec_high is how chrony marks a timestamp without high
// seconds; a reader must treat it as 0. The fake writes 0 there itself, so
// tests that want the marker put it in with Mutate(h, Put32(OffRefTime, NoHighSec)).
const NoHighSec = 0x7fffffff

// Request is one request as the fake received it. The header fields are
// decoded from whatever arrived, zero where the datagram was too short.
type Request struct {
	Version, PktType, Res1, Res2 uint8
	Command, Attempt             uint16
	Sequence                     uint32
	// Len is the datagram's length, so tests can check the client's padding.
	Len int
	// N counts requests the server received before this one.
	N int
	// Data is a copy of the whole datagram.
	Data []byte
	// From is the sender's address; empty for an unbound unix socket.
	From string

	replyTo net.Addr // where Send writes: From, nil when there is no way back
}

func parseRequest(data []byte) Request {
	var h [RequestHeaderLen]byte
	copy(h[:], data)
	return Request{
		Version:  h[0],
		PktType:  h[1],
		Res1:     h[2],
		Res2:     h[3],
		Command:  binary.BigEndian.Uint16(h[4:]),
		Attempt:  binary.BigEndian.Uint16(h[6:]),
		Sequence: binary.BigEndian.Uint32(h[8:]),
		Len:      len(data),
		Data:     append([]byte(nil), data...),
	}
}

// Tracking is the content of a tracking reply, in the units chronyc
// prints: seconds, and ppm for the frequencies.
type Tracking struct {
	RefID uint32
	// Addr is the source address; the zero Addr leaves the field all zero.
	Addr netip.Addr
	// Family is written as is when non-zero; zero means "derive it from
	// Addr" (unspecified when Addr is zero). Tests that need a family
	// contradicting the address set it here or patch OffFamily.
	Family         uint16
	Stratum, Leap  uint16
	RefTime        time.Time // the zero Time is sent as 0 s, 0 ns
	SystemTime     float64
	LastOffset     float64
	RMSOffset      float64
	Frequency      float64
	ResidualFreq   float64
	Skew           float64
	RootDelay      float64
	RootDispersion float64
	UpdateInterval float64
}

func (t Tracking) family() uint16 {
	switch {
	case t.Family != 0:
		return t.Family
	case t.Addr.Is4():
		return FamilyINet4
	case t.Addr.Is6():
		return FamilyINet6
	}
	return FamilyUnspec
}

// recentRefTime keeps the canned reports fresh, so a client checking the age
// of the last clock update sees a healthy daemon.
func recentRefTime() time.Time { return time.Now().Add(-37 * time.Second) }

// SyncedIPv4 is a daemon synchronised to an IPv4 server at stratum 3.
func SyncedIPv4() Tracking {
	addr := netip.MustParseAddr("192.0.2.17")
	a4 := addr.As4()
	return Tracking{
		RefID:          binary.BigEndian.Uint32(a4[:]), // chronyd uses the IPv4 address itself
		Addr:           addr,
		Family:         FamilyINet4,
		Stratum:        3,
		RefTime:        recentRefTime(),
		SystemTime:     0.000012345,
		LastOffset:     -0.000003456,
		RMSOffset:      0.000005123,
		Frequency:      -12.345,
		ResidualFreq:   0.002,
		Skew:           0.045,
		RootDelay:      0.023456,
		RootDispersion: 0.001234,
		UpdateInterval: 64.5,
	}
}

// SyncedIPv6 is a daemon synchronised to an IPv6 server at stratum 2.
func SyncedIPv6() Tracking {
	addr := netip.MustParseAddr("2001:db8::123")
	a16 := addr.As16()
	// chronyd derives an IPv6 source's refid from a hash of the address.
	sum := md5.Sum(a16[:])
	return Tracking{
		RefID:          binary.BigEndian.Uint32(sum[:4]),
		Addr:           addr,
		Family:         FamilyINet6,
		Stratum:        2,
		RefTime:        recentRefTime(),
		SystemTime:     -0.000000789,
		LastOffset:     0.000001234,
		RMSOffset:      0.000002345,
		Frequency:      3.217,
		ResidualFreq:   -0.001,
		Skew:           0.012,
		RootDelay:      0.004567,
		RootDispersion: 0.000345,
		UpdateInterval: 128.2,
	}
}

// Refclock is a stratum 1 daemon fed by a GPS reference clock, whose refid
// is ASCII text and whose address is unspecified.
func Refclock() Tracking {
	return Tracking{
		RefID:          0x47505300, // "GPS\0"
		Stratum:        1,
		RefTime:        recentRefTime(),
		SystemTime:     0.000000021,
		LastOffset:     -0.000000015,
		RMSOffset:      0.000000042,
		Frequency:      -7.891,
		ResidualFreq:   0.0001,
		Skew:           0.003,
		RootDelay:      0.000000001,
		RootDispersion: 0.000010,
		UpdateInterval: 16.0,
	}
}

// LocalReference is a daemon serving its own clock with `local stratum N`;
// stratum 0 picks chrony's default of 8.
func LocalReference(stratum uint16) Tracking {
	if stratum == 0 {
		stratum = 8
	}
	return Tracking{
		RefID:          0x7F7F0101,
		Stratum:        stratum,
		RefTime:        recentRefTime(),
		Frequency:      -12.345,
		Skew:           0.0,
		RootDispersion: 0.000001,
		UpdateInterval: 0.0,
	}
}

// Unsynchronised is a daemon that has not selected a source yet.
func Unsynchronised() Tracking {
	return Tracking{
		Leap:           3,
		Frequency:      -12.345,
		RootDelay:      1.0,
		RootDispersion: 1.0,
	}
}

func putReplyHeader(b []byte, req Request, reply, status uint16) {
	b[OffVersion] = req.Version
	b[OffPktType] = PktTypeReply
	binary.BigEndian.PutUint16(b[OffCommand:], req.Command)
	binary.BigEndian.PutUint16(b[OffReply:], reply)
	binary.BigEndian.PutUint16(b[OffStatus:], status)
	binary.BigEndian.PutUint32(b[OffSequence:], req.Sequence)
}

// TrackingReply is a correct 104-byte reply to req: it echoes req's version,
// command and sequence, so a client sees it as the answer to that request.
func TrackingReply(req Request, t Tracking) []byte {
	b := make([]byte, TrackingLen)
	putReplyHeader(b, req, RpyTracking, StatusSuccess)
	binary.BigEndian.PutUint32(b[OffRefID:], t.RefID)
	switch {
	case t.Addr.Is4():
		a := t.Addr.As4()
		copy(b[OffAddr:], a[:])
	case t.Addr.Is6():
		a := t.Addr.As16()
		copy(b[OffAddr:], a[:])
	}
	binary.BigEndian.PutUint16(b[OffFamily:], t.family())
	binary.BigEndian.PutUint16(b[OffStratum:], t.Stratum)
	binary.BigEndian.PutUint16(b[OffLeap:], t.Leap)
	if !t.RefTime.IsZero() {
		sec := uint64(t.RefTime.Unix())
		binary.BigEndian.PutUint32(b[OffRefTime:], uint32(sec>>32))
		binary.BigEndian.PutUint32(b[OffRefTime+4:], uint32(sec))
		binary.BigEndian.PutUint32(b[OffRefTime+8:], uint32(t.RefTime.Nanosecond()))
	}
	for i, v := range []float64{
		t.SystemTime, t.LastOffset, t.RMSOffset, t.Frequency, t.ResidualFreq,
		t.Skew, t.RootDelay, t.RootDispersion, t.UpdateInterval,
	} {
		binary.BigEndian.PutUint32(b[OffSystemTime+4*i:], EncodeFloat(v))
	}
	return b
}

// StatusReply is a 28-byte header-only reply to req carrying status, the
// shape of every non-success answer from chronyd.
func StatusReply(req Request, status uint16) []byte {
	b := make([]byte, ReplyHeaderLen)
	putReplyHeader(b, req, RpyNull, status)
	return b
}

// chrony float layout: a 7-bit signed exponent over a 25-bit signed
// coefficient, value = coef * 2^(exp-25).
const (
	floatExpBits  = 7
	floatCoefBits = 25
	floatExpMin   = -(1 << (floatExpBits - 1))
	floatExpMax   = 1<<(floatExpBits-1) - 1
	floatCoefMax  = 1<<(floatCoefBits-1) - 1
)

// EncodeFloat converts v to chrony's 32-bit float with the most precision
// the format allows. Like chronyd it sends NaN as 0, saturates magnitudes
// beyond the largest exponent and flushes ones below the smallest to 0.
func EncodeFloat(v float64) uint32 {
	if v == 0 || math.IsNaN(v) {
		return 0
	}
	neg := v < 0
	mag := math.Abs(v)
	// A negative coefficient reaches one further than a positive one in
	// two's complement, and chronyd uses that extra step.
	limit := int64(floatCoefMax)
	if neg {
		limit++
	}

	var exp int
	var coef int64
	if math.IsInf(mag, 1) {
		exp, coef = floatExpMax+1, limit
	} else {
		// mag = frac * 2^e with frac in [0.5, 1); exp = e+1 scales frac into
		// the coefficient's 24 magnitude bits, so it lands in [2^23, 2^24].
		frac, e := math.Frexp(mag)
		exp = e + 1
		coef = int64(math.Round(math.Ldexp(frac, floatCoefBits-1)))
		if coef > limit {
			// Rounding carried into bit 24, which only a negative value may keep.
			coef >>= 1
			exp++
		}
	}

	switch {
	case exp > floatExpMax:
		exp, coef = floatExpMax, limit
	case exp < floatExpMin:
		// Give up leading precision rather than the value, down to the
		// smallest step the format has.
		exp = floatExpMin
		coef = int64(math.Round(math.Ldexp(mag, floatCoefBits-floatExpMin)))
		if coef == 0 {
			return 0
		}
	}
	if neg {
		coef = -coef
	}
	return uint32(exp)<<floatCoefBits | uint32(coef)&(1<<floatCoefBits-1)
}

// Mutations for Mutate. They panic on an offset outside the packet, which
// the server reports as a test error: a mutation that silently did nothing
// would let a test pass without testing anything.

// Put8 sets the byte at off.
func Put8(off int, v uint8) func([]byte) []byte {
	return func(b []byte) []byte { b[off] = v; return b }
}

// Put16 sets the big-endian uint16 at off.
func Put16(off int, v uint16) func([]byte) []byte {
	return func(b []byte) []byte { binary.BigEndian.PutUint16(b[off:], v); return b }
}

// Put32 sets the big-endian uint32 at off.
func Put32(off int, v uint32) func([]byte) []byte {
	return func(b []byte) []byte { binary.BigEndian.PutUint32(b[off:], v); return b }
}

// Truncate cuts the packet to n bytes.
func Truncate(n int) func([]byte) []byte {
	return func(b []byte) []byte { return b[:n] }
}

// Append adds extra bytes after the packet, making it oversized.
func Append(extra ...byte) func([]byte) []byte {
	return func(b []byte) []byte { return append(b, extra...) }
}

// Chain applies several mutations in order.
func Chain(fs ...func([]byte) []byte) func([]byte) []byte {
	return func(b []byte) []byte {
		for _, f := range fs {
			b = f(b)
		}
		return b
	}
}
