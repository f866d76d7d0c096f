package tracking

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"time"

	fbchrony "github.com/facebook/time/ntp/chrony"
)

// ProtocolVersion is the cmdmon protocol version this client speaks
// (PROTO_VERSION_NUMBER in chrony 2.2 and later).
const ProtocolVersion = 6

// Protocol constants (chrony's candm.h). Requests must be padded to the
// length of the reply they ask for, or chronyd answers BADPKTLENGTH.
const (
	protoVersion   = ProtocolVersion
	pktTypeRequest = 1
	pktTypeReply   = 2
	reqTracking    = 33
	rpyTracking    = uint16(fbchrony.RpyTracking)
	replyHeaderLen = 28
	trackingLen    = 104
	requestLen     = trackingLen
	// readBufLen is larger than any valid reply so an oversized datagram is
	// seen as such instead of being silently cut to a valid length.
	readBufLen = 2 * trackingLen
)

// Reply header offsets.
const (
	offVersion  = 0
	offPktType  = 1
	offRes1     = 2
	offRes2     = 3
	offCommand  = 4
	offReply    = 6
	offStatus   = 8
	offSequence = 16
)

// Status codes chronyd puts in a reply (STT_*).
const (
	sttSuccess       = 0
	sttUnauth        = 2
	sttNoHostAccess  = 10
	sttBadPktVersion = 18
	sttBadPktLength  = 19
)

// statusName returns chrony's STT_ name for a status code.
func statusName(s uint16) string {
	switch {
	case int(s) < len(fbchrony.StatusDesc):
		return fbchrony.StatusDesc[s]
	case s == 21:
		// Newer than the table in facebook/time; 20 is unused by chrony.
		return "INVALIDNAME"
	default:
		return fmt.Sprintf("UNKNOWN(%d)", s)
	}
}

// putRequest writes a tracking request with the given attempt and sequence.
func putRequest(b *[requestLen]byte, attempt uint16, seq uint32) {
	*b = [requestLen]byte{}
	b[offVersion] = protoVersion
	b[offPktType] = pktTypeRequest
	binary.BigEndian.PutUint16(b[offCommand:], reqTracking)
	binary.BigEndian.PutUint16(b[6:], attempt)
	binary.BigEndian.PutUint32(b[8:], seq)
}

// verdict is what a received datagram means for the request waiting on it.
type verdict int

const (
	// discard: not an answer to this request (stale, foreign, mangled
	// header); keep waiting.
	discard verdict = iota
	// answer: the reply to this request; it is a report or an error.
	answer
)

// match decides whether pkt answers the request with sequence seq. For a
// discarded packet that carries this request's sequence (or is too short
// to tell), note explains what was wrong with it, so that a wait that ends
// without an answer can say more than "timeout".
func match(pkt []byte, seq uint32) (v verdict, note *Error) {
	if len(pkt) < offSequence+4 {
		return discard, &Error{Code: CodeIncompleteReply,
			Msg: fmt.Sprintf("received a %d-byte datagram, too short for a reply header (%d bytes)", len(pkt), replyHeaderLen)}
	}
	if binary.BigEndian.Uint32(pkt[offSequence:]) != seq {
		return discard, nil
	}
	if pkt[offVersion] != protoVersion {
		return versionVerdict(pkt)
	}
	if pkt[offPktType] != pktTypeReply || pkt[offRes1] != 0 || pkt[offRes2] != 0 ||
		binary.BigEndian.Uint16(pkt[offCommand:]) != reqTracking {
		return discard, &Error{Code: CodeInvalidData, Msg: fmt.Sprintf(
			"discarded a reply with a bad header (packet type %d, reserved %d/%d, command %d; want 2, 0/0, %d)",
			pkt[offPktType], pkt[offRes1], pkt[offRes2], binary.BigEndian.Uint16(pkt[offCommand:]), reqTracking)}
	}
	return answer, nil
}

// versionVerdict handles a reply of another protocol version. Like chronyc,
// only a BADPKTVERSION reply of version 4 or later is taken as an answer;
// anything else of a foreign version is discarded but remembered.
func versionVerdict(pkt []byte) (verdict, *Error) {
	e := &Error{Code: CodeVersionMismatch, ReplyVersion: pkt[offVersion], Msg: fmt.Sprintf(
		"chronyd answered with protocol version %d; this client speaks version %d", pkt[offVersion], protoVersion),
		Hint: "upgrade chrony to 2.2 or later (protocol 6), or report the chronyd version"}
	if len(pkt) >= replyHeaderLen && pkt[offVersion] >= 4 &&
		binary.BigEndian.Uint16(pkt[offStatus:]) == sttBadPktVersion {
		return answer, statusError(sttBadPktVersion, pkt[offVersion])
	}
	return discard, e
}

// decodeAnswer turns a datagram that match accepted into a Report, or the
// error it carries.
// names, when not nil, remembers the last reference's rendering.
func decodeAnswer(pkt []byte, readAt time.Time, names *nameCache) (Report, *Error) {
	if len(pkt) < replyHeaderLen {
		return Report{}, &Error{Code: CodeIncompleteReply, Msg: fmt.Sprintf(
			"reply is %d bytes, shorter than the %d-byte reply header", len(pkt), replyHeaderLen)}
	}
	if st := binary.BigEndian.Uint16(pkt[offStatus:]); st != sttSuccess {
		return Report{}, statusError(st, pkt[offVersion])
	}
	if rt := binary.BigEndian.Uint16(pkt[offReply:]); rt != rpyTracking {
		return Report{}, &Error{Code: CodeInvalidData, Msg: fmt.Sprintf(
			"reply type is %d, want %d (RPY_TRACKING)", rt, rpyTracking)}
	}
	if len(pkt) < trackingLen {
		return Report{}, &Error{Code: CodeIncompleteReply, Msg: fmt.Sprintf(
			"tracking reply is %d bytes, want %d: missing %s", len(pkt), trackingLen, missingFields(len(pkt)))}
	}
	if len(pkt) > trackingLen {
		return Report{}, &Error{Code: CodeInvalidData, Msg: fmt.Sprintf(
			"tracking reply is %d bytes, want %d (chronyd never sends more than was asked)", len(pkt), trackingLen)}
	}
	if ns := rawNsec(pkt); ns >= 1e9 {
		return Report{}, invalidField("ref_time", fmt.Sprintf("nanoseconds %d", ns), "below 1000000000")
	}
	r := decodeTracking(pkt, readAt, names)
	if err := validate(&r); err != nil {
		return Report{}, err
	}
	return r, nil
}

// trackingFields names the body fields by the offset they start at.
var trackingFields = [...]struct {
	off  int
	name string
}{
	{28, "ref_id"}, {32, "ip_addr"}, {52, "stratum"}, {54, "leap_status"},
	{56, "ref_time"}, {68, "current_correction"}, {72, "last_offset"},
	{76, "rms_offset"}, {80, "freq_ppm"}, {84, "resid_freq_ppm"},
	{88, "skew_ppm"}, {92, "root_delay"}, {96, "root_dispersion"},
	{100, "last_update_interval"},
}

// missingFields says which fields a reply of length n lacks, first to last.
func missingFields(n int) string {
	for i, f := range trackingFields {
		end := trackingLen
		if i+1 < len(trackingFields) {
			end = trackingFields[i+1].off
		}
		if end <= n {
			continue
		}
		from := f.name
		if n > f.off {
			from = "part of " + f.name
		}
		if i == len(trackingFields)-1 {
			return from
		}
		return from + " through last_update_interval"
	}
	return "nothing"
}

// decodeTracking reads the fixed offsets of a 104-byte RPY_TRACKING.
func decodeTracking(p []byte, readAt time.Time, names *nameCache) Report {
	be := binary.BigEndian
	r := Report{
		ReferenceID:    be.Uint32(p[28:]),
		Family:         AddrFamily(be.Uint16(p[48:])),
		Stratum:        be.Uint16(p[52:]),
		Leap:           LeapStatus(be.Uint16(p[54:])),
		RefTime:        decodeTimespec(p[56:68]),
		SystemTime:     decodeFloat(be.Uint32(p[68:])),
		LastOffset:     decodeFloat(be.Uint32(p[72:])),
		RMSOffset:      decodeFloat(be.Uint32(p[76:])),
		Frequency:      decodeFloat(be.Uint32(p[80:])),
		ResidualFreq:   decodeFloat(be.Uint32(p[84:])),
		Skew:           decodeFloat(be.Uint32(p[88:])),
		RootDelay:      decodeFloat(be.Uint32(p[92:])),
		RootDispersion: decodeFloat(be.Uint32(p[96:])),
		UpdateInterval: decodeFloat(be.Uint32(p[100:])),
		ReadAt:         readAt,
	}
	r.ReferenceAddr, r.ReferenceName = names.lookup(p)
	r.derive()
	return r
}

// nameCache keeps the rendering of the last reference seen: it rarely
// changes, and rendering an address is the only allocation of a reading.
type nameCache struct {
	key  [refKeyLen]byte // ref_id, ip_addr and family as on the wire
	addr netip.Addr
	name string
	ok   bool
}

const refKeyOff, refKeyLen = 28, 22

// lookup renders the reference of tracking reply p, from the cache when the
// reference is unchanged. A nil cache renders every time.
func (nc *nameCache) lookup(p []byte) (netip.Addr, string) {
	key := [refKeyLen]byte(p[refKeyOff : refKeyOff+refKeyLen])
	if nc != nil && nc.ok && nc.key == key {
		return nc.addr, nc.name
	}
	be := binary.BigEndian
	addr, name := referenceName(p[32:48], AddrFamily(be.Uint16(p[48:])), be.Uint32(p[28:]))
	if nc != nil {
		*nc = nameCache{key: key, addr: addr, name: name, ok: true}
	}
	return addr, name
}

// referenceName renders the reference as chronyc -c tracking does.
func referenceName(ip []byte, fam AddrFamily, refID uint32) (netip.Addr, string) {
	switch fam {
	case FamilyInet4:
		a := netip.AddrFrom4([4]byte(ip[:4]))
		return a, a.String()
	case FamilyInet6:
		a := netip.AddrFrom16([16]byte(ip))
		return a, a.String()
	case FamilyID:
		// A source whose name is not resolved yet: chrony renders its ID in
		// decimal (UTI_IPToString).
		return netip.Addr{}, fmt.Sprintf("ID#%010d", binary.BigEndian.Uint32(ip))
	}
	if refID == 0 || refID == LocalRefID {
		return netip.Addr{}, ""
	}
	return netip.Addr{}, fbchrony.RefidToString(refID)
}

// decodeTimespec reads chrony's Timespec; a high word of 0x7fffffff stands
// for 0 (32-bit time_t senders), and an all-zero value means "never".
func decodeTimespec(p []byte) time.Time {
	be := binary.BigEndian
	hi, lo, ns := be.Uint32(p), be.Uint32(p[4:]), be.Uint32(p[8:])
	if hi == 0x7fffffff {
		hi = 0
	}
	if hi == 0 && lo == 0 && ns == 0 {
		return time.Time{}
	}
	return time.Unix(int64(hi)<<32|int64(lo), int64(ns))
}

// rawNsec returns the nanoseconds word of the ref_time field, which
// validate checks before time.Unix normalises it away.
func rawNsec(p []byte) uint32 { return binary.BigEndian.Uint32(p[64:]) }

// decodeFloat reads chrony's 32-bit float: a 7-bit signed exponent above a
// 25-bit signed coefficient, value = coef * 2^(exp-25).
func decodeFloat(x uint32) float64 {
	exp := int32(x) >> 25    // arithmetic shift keeps the sign
	coef := int32(x<<7) >> 7 // sign-extend the low 25 bits
	return math.Ldexp(float64(coef), int(exp)-25)
}
