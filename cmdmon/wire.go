package cmdmon

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

// Protocol constants (chrony's candm.h).
const (
	protoVersion   = ProtocolVersion
	pktTypeRequest = 1
	pktTypeReply   = 2
	requestHeadLen = 20
	replyHeaderLen = 28
	trackingLen    = 104
	// maxRequestLen is the longest request any command here sends: the
	// source-name request, padded to its 284-byte reply.
	maxRequestLen = sourceNameLen
	// readBufLen is larger than any valid reply so an oversized datagram is
	// seen as such instead of being silently cut to a valid length.
	readBufLen = 2 * maxRequestLen
)

// Header offsets shared by requests and replies (CMD_Request and
// CMD_Reply in candm.h).
const (
	offVersion = 0
	offPktType = 1
	offRes1    = 2
	offRes2    = 3
	offCommand = 4
)

// Request header offsets.
const (
	offReqAttempt  = 6
	offReqSequence = 8
)

// Reply header offsets.
const (
	offReply    = 6
	offStatus   = 8
	offSequence = 16
)

// Tracking reply body offsets (RPY_Tracking in candm.h).
const (
	offRefID          = 28
	offIPAddr         = 32 // 16 bytes of address, then its family
	offFamily         = 48
	offStratum        = 52
	offLeapStatus     = 54
	offRefTime        = 56 // a Timespec, see decodeTimespec
	offCorrection     = 68 // current_correction: Tracking.SystemTime
	offLastOffset     = 72
	offRMSOffset      = 76
	offFreqPPM        = 80
	offResidFreqPPM   = 84
	offSkewPPM        = 88
	offRootDelay      = 92
	offRootDispersion = 96
	offUpdateInterval = 100
)

// Offsets within chrony's Timespec: seconds (high and low words), then
// nanoseconds.
const (
	tsSecHigh = 0
	tsSecLow  = 4
	tsNsec    = 8
	tsLen     = 12
)

// Status codes chronyd puts in a reply (STT_*).
const (
	sttSuccess       = 0
	sttUnauth        = 2
	sttInvalid       = 3
	sttNoSuchSource  = 4
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

// putRequest writes the request of cmd with the given attempt and
// sequence, and its argument (a source index or address), padded to the
// length chronyd wants for it. It returns the bytes to send.
func putRequest(b *[maxRequestLen]byte, cmd *command, arg *requestArg, attempt uint16, seq uint32) []byte {
	*b = [maxRequestLen]byte{}
	b[offVersion] = protoVersion
	b[offPktType] = pktTypeRequest
	binary.BigEndian.PutUint16(b[offCommand:], cmd.code)
	binary.BigEndian.PutUint16(b[offReqAttempt:], attempt)
	binary.BigEndian.PutUint32(b[offReqSequence:], seq)
	if arg != nil {
		arg.put(b[requestHeadLen:])
	}
	return b[:cmd.reqLen]
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
func match(pkt []byte, seq uint32, cmd uint16) (v verdict, note *Error) {
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
		binary.BigEndian.Uint16(pkt[offCommand:]) != cmd {
		return discard, &Error{Code: CodeInvalidData, Msg: fmt.Sprintf(
			"discarded a reply with a bad header (packet type %d, reserved %d/%d, command %d; want 2, 0/0, %d)",
			pkt[offPktType], pkt[offRes1], pkt[offRes2], binary.BigEndian.Uint16(pkt[offCommand:]), cmd)}
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
		return answer, statusError(sttBadPktVersion, pkt[offVersion], "")
	}
	return discard, e
}

// decodeAnswer turns a datagram that match accepted into a Tracking, or the
// error it carries.
// refs, when not nil, remembers the last reference's rendering.
func decodeAnswer(pkt []byte, readAt time.Time, refs *refMemo) (Tracking, *Error) {
	if _, err := checkReply(pkt, &cmdTracking); err != nil {
		return Tracking{}, err
	}
	if ns := rawNsec(pkt); ns >= 1e9 {
		return Tracking{}, invalidField("ref_time", fmt.Sprintf("nanoseconds %d", ns), "below 1000000000")
	}
	r := decodeTracking(pkt, readAt, refs)
	if err := validate(&r); err != nil {
		return Tracking{}, err
	}
	return r, nil
}

// trackingFields names the body fields by the offset they start at.
var trackingFields = []field{
	{offRefID, "ref_id"}, {offIPAddr, "ip_addr"}, {offStratum, "stratum"},
	{offLeapStatus, "leap_status"}, {offRefTime, "ref_time"},
	{offCorrection, "current_correction"}, {offLastOffset, "last_offset"},
	{offRMSOffset, "rms_offset"}, {offFreqPPM, "freq_ppm"},
	{offResidFreqPPM, "resid_freq_ppm"}, {offSkewPPM, "skew_ppm"},
	{offRootDelay, "root_delay"}, {offRootDispersion, "root_dispersion"},
	{offUpdateInterval, "last_update_interval"},
}

// decodeTracking reads the fixed offsets of a 104-byte RPY_TRACKING.
func decodeTracking(p []byte, readAt time.Time, refs *refMemo) Tracking {
	be := binary.BigEndian
	float := func(off int) float64 { return decodeFloat(be.Uint32(p[off:])) }
	r := Tracking{
		ReferenceID:    be.Uint32(p[offRefID:]),
		Family:         AddrFamily(be.Uint16(p[offFamily:])),
		Stratum:        be.Uint16(p[offStratum:]),
		Leap:           LeapStatus(be.Uint16(p[offLeapStatus:])),
		RefTime:        decodeTimespec(p[offRefTime : offRefTime+tsLen]),
		SystemTime:     float(offCorrection),
		LastOffset:     float(offLastOffset),
		RMSOffset:      float(offRMSOffset),
		Frequency:      float(offFreqPPM),
		ResidualFreq:   float(offResidFreqPPM),
		Skew:           float(offSkewPPM),
		RootDelay:      float(offRootDelay),
		RootDispersion: float(offRootDispersion),
		UpdateInterval: float(offUpdateInterval),
		ReadAt:         readAt,
	}
	r.ReferenceAddr, r.ReferenceName = refs.render(p)
	r.derive()
	return r
}

// refMemo remembers how the last reference seen was rendered: it rarely
// changes, and rendering an address is the only allocation of a reading.
type refMemo struct {
	key  [refKeyLen]byte // ref_id, ip_addr and family as on the wire
	addr netip.Addr
	name string
	ok   bool
}

// The reference's wire fields, ref_id through the address family.
const refKeyLen = offFamily + 2 - offRefID

// render renders the reference of tracking reply p, from the memo when the
// reference is unchanged. A nil memo renders every time.
func (m *refMemo) render(p []byte) (netip.Addr, string) {
	key := [refKeyLen]byte(p[offRefID : offRefID+refKeyLen])
	if m != nil && m.ok && m.key == key {
		return m.addr, m.name
	}
	be := binary.BigEndian
	addr, name := referenceName(p[offIPAddr:offFamily], AddrFamily(be.Uint16(p[offFamily:])), be.Uint32(p[offRefID:]))
	if m != nil {
		*m = refMemo{key: key, addr: addr, name: name, ok: true}
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
	hi, lo, ns := be.Uint32(p[tsSecHigh:]), be.Uint32(p[tsSecLow:]), be.Uint32(p[tsNsec:])
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
func rawNsec(p []byte) uint32 { return binary.BigEndian.Uint32(p[offRefTime+tsNsec:]) }

// decodeFloat reads chrony's 32-bit float: a 7-bit signed exponent above a
// 25-bit signed coefficient, value = coef * 2^(exp-25).
func decodeFloat(x uint32) float64 {
	exp := int32(x) >> 25    // arithmetic shift keeps the sign
	coef := int32(x<<7) >> 7 // sign-extend the low 25 bits
	return math.Ldexp(float64(coef), int(exp)-25)
}
