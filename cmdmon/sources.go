package cmdmon

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
)

// SourceState is what chronyd's source selection made of a source.
type SourceState uint16

// The states (candm.h RPY_SD_ST_*). The numbers are the same in every
// release; chrony 4.0 renamed them (SELECTED, NONSELECTABLE, FALSETICKER,
// JITTERY, UNSELECTED, SELECTABLE) and its 3.x names are the words
// Telegraf's inputs.chrony prints, which String returns.
const (
	StateSync        SourceState = 0 // selected: the clock follows it (chronyc '*')
	StateUnreach     SourceState = 1 // not selectable: unreachable or too few samples ('?')
	StateFalseticker SourceState = 2 // disagrees with the majority ('x')
	StateJittery     SourceState = 3 // too variable ('~')
	StateCandidate   SourceState = 4 // combined with the selected source ('+')
	StateOutlier     SourceState = 5 // selectable but not combined ('-')
)

var (
	stateWords   = [...]string{"sync", "unreach", "falseticker", "jittery", "candidate", "outlier"}
	stateSymbols = [...]byte{'*', '?', 'x', '~', '+', '-'}
)

// String returns inputs.chrony's word for the state.
func (s SourceState) String() string {
	if int(s) < len(stateWords) {
		return stateWords[s]
	}
	return "invalid"
}

// Symbol returns the character chronyc prints for the state.
func (s SourceState) Symbol() byte {
	if int(s) < len(stateSymbols) {
		return stateSymbols[s]
	}
	return ' '
}

// SourceMode is how chronyd talks to a source.
type SourceMode uint16

// The modes (candm.h RPY_SD_MD_*).
const (
	ModeClient   SourceMode = 0 // an NTP server (chronyc '^')
	ModePeer     SourceMode = 1 // an NTP peer ('=')
	ModeRefclock SourceMode = 2 // a reference clock ('#')
)

var modeWords = [...]string{"client", "peer", "reference clock"}

// String returns inputs.chrony's word for the mode.
func (m SourceMode) String() string {
	if int(m) < len(modeWords) {
		return modeWords[m]
	}
	return "invalid"
}

// NameOrigin says where a source's Name came from.
type NameOrigin uint8

// The origins of a name.
const (
	// NameFromChronyd: chronyd's NTP_SOURCE_NAME answer, the name as the
	// configuration gave it (chrony 4.0 and later).
	NameFromChronyd NameOrigin = iota + 1
	// NameFromRefID: a reference clock's reference ID as text (GPS, PPS0).
	NameFromRefID
	// NameFromAddress: the source's address, because chronyd before 4.0
	// cannot tell the name it was given.
	NameFromAddress
)

var originWords = [...]string{"", "sourcename", "refid", "address"}

func (o NameOrigin) String() string {
	if int(o) < len(originWords) {
		return originWords[o]
	}
	return "invalid"
}

// Ident is who a source is, as chronyd reports it in sources and
// sourcestats.
type Ident struct {
	// Index is the source's position in chronyd's table when it was read.
	// Positions move when sources come and go: Key does not.
	Index int
	// Addr is an NTP source's address when Family is inet4 or inet6.
	Addr netip.Addr
	// Family is the wire family of the address: inet4 or inet6 for an NTP
	// source, id for one whose name is not resolved yet (chrony 4.0 and
	// later), unspec for a reference clock in sourcestats.
	Family AddrFamily
	// RefID is a reference clock's reference ID (RefIDText renders it). In
	// sourcestats, chronyd's ref_id of every source.
	RefID uint32
	// ID is chronyd's number for an unresolved source (Family id).
	ID uint32
	// Name is the name chronyd was given for the source, or a reference
	// clock's reference ID as text, or (before chrony 4.0) the address;
	// NameFrom says which.
	Name     string
	NameFrom NameOrigin
}

func (id *Ident) ident() *Ident { return id }

// Refclock reports whether the source is a reference clock.
func (id *Ident) Refclock() bool {
	return id.Family != FamilyInet4 && id.Family != FamilyInet6 && id.Family != FamilyID
}

// Key is unique among the sources of one chronyd and stable while the
// source keeps its address: an NTP source's address (chronyd refuses two
// sources on one address, while pool members share their name and one name
// may be a source on IPv4 and IPv6), a reference clock's reference ID as
// text (chronyd's own name for it), and chronyd's ID#… for a source whose
// name is not resolved yet, which has no address and may share its name;
// once it resolves, its key is the address it got.
func (id *Ident) Key() string {
	switch {
	case id.Family == FamilyInet4 || id.Family == FamilyInet6:
		return id.Addr.String()
	case id.Family == FamilyID:
		return idString(id.ID)
	}
	if text := appendRefID(nil, id.RefID); len(text) > 0 {
		return string(text)
	}
	// A reference ID with no printable byte has no text to go by.
	return RefIDHex(id.RefID)
}

// IP is the address as chronyc -n prints it in its Name/IP column and
// inputs.chrony in its ip field: the IP address, the reference ID as text
// for a reference clock, ID#… for an unresolved source.
func (id *Ident) IP() string { return id.Key() }

func idString(n uint32) string { return fmt.Sprintf("ID#%010d", n) }

// Source is one entry of chronyd's sources report (chronyc sources).
type Source struct {
	Ident
	// Poll is log2 of the polling interval in seconds.
	Poll    int16
	Stratum uint16
	State   SourceState
	Mode    SourceMode
	// Flags are the source's options (noselect 0x1, prefer 0x2, trust 0x4,
	// require 0x8); chrony 4.x reports them in selectdata and sends 0 here.
	Flags uint16
	// Reachability is the register of the last 8 polls, newest in bit 0.
	Reachability uint16
	// SinceSample is the age of the last sample in seconds (chronyc LastRx).
	SinceSample uint32
	// OrigLatestMeas, LatestMeas and LatestMeasErr are the last sample's
	// measured offset, that offset adjusted for clock changes since, and
	// its error bound, in seconds, with chronyc's signs (positive: the
	// local clock is ahead of the source).
	OrigLatestMeas float64
	LatestMeas     float64
	LatestMeasErr  float64
}

// Source data reply offsets (RPY_Source_Data in candm.h).
const (
	offNSources       = 28
	nSourcesLen       = 32
	offSDAddr         = 28 // 16 bytes, then family and padding
	offSDFamily       = 44
	offSDPoll         = 48
	offSDStratum      = 50
	offSDState        = 52
	offSDMode         = 54
	offSDFlags        = 56
	offSDReach        = 58
	offSDSinceSample  = 60
	offSDOrigLatest   = 64
	offSDLatest       = 68
	offSDLatestErr    = 72
	sourceDataLen     = 76
	offSourceName     = 28
	sourceNameLen     = 284 // 256 bytes of name, NUL-padded
	maxPoll           = 32  // chrony's polls are -7..24; room for releases to come
	maxReachability   = 0xFF
	chronydMaxSources = 65536 // ntp_sources.c MAX_SOURCES
)

var sourceDataFields = []field{
	{offSDAddr, "ip_addr"}, {offSDPoll, "poll"}, {offSDStratum, "stratum"},
	{offSDState, "state"}, {offSDMode, "mode"}, {offSDFlags, "flags"},
	{offSDReach, "reachability"}, {offSDSinceSample, "since_sample"},
	{offSDOrigLatest, "orig_latest_meas"}, {offSDLatest, "latest_meas"},
	{offSDLatestErr, "latest_meas_err"},
}

// decodeAddr reads an IPAddr (16 bytes of address, family, padding) into
// id: an address for inet4/inet6, the number of an unresolved source, or a
// reference clock's reference ID carried as an IPv4 address (refclock).
func (id *Ident) decodeAddr(p []byte, refclock bool) *Error {
	be := binary.BigEndian
	id.Family = AddrFamily(be.Uint16(p[16:]))
	id.Addr, id.ID = netip.Addr{}, 0
	switch id.Family {
	case FamilyInet4:
		if refclock {
			id.RefID, id.Family = be.Uint32(p), FamilyUnspec
			return nil
		}
		id.Addr = netip.AddrFrom4([4]byte(p[:4]))
	case FamilyInet6:
		id.Addr = netip.AddrFrom16([16]byte(p[:16]))
	case FamilyID:
		id.ID = be.Uint32(p)
	case FamilyUnspec:
	default:
		return invalidField("ip_addr.family", strconv.Itoa(int(id.Family)), "0..3 (unspec, inet4, inet6, id)")
	}
	return nil
}

// decodeSourceData reads a checked RPY_SOURCE_DATA into s, without
// allocating, and validates it. The name is the walk's to fill.
func decodeSourceData(p []byte, index int, s *Source) *Error {
	be := binary.BigEndian
	float := func(off int) float64 { return decodeFloat(be.Uint32(p[off:])) }
	*s = Source{
		Ident:          Ident{Index: index},
		Poll:           int16(be.Uint16(p[offSDPoll:])),
		Stratum:        be.Uint16(p[offSDStratum:]),
		State:          SourceState(be.Uint16(p[offSDState:])),
		Mode:           SourceMode(be.Uint16(p[offSDMode:])),
		Flags:          be.Uint16(p[offSDFlags:]),
		Reachability:   be.Uint16(p[offSDReach:]),
		SinceSample:    be.Uint32(p[offSDSinceSample:]),
		OrigLatestMeas: float(offSDOrigLatest),
		LatestMeas:     float(offSDLatest),
		LatestMeasErr:  float(offSDLatestErr),
	}
	if s.Mode > ModeRefclock {
		return invalidField("mode", strconv.Itoa(int(s.Mode)), "0..2 (client, peer, reference clock)")
	}
	if err := s.decodeAddr(p[offSDAddr:], s.Mode == ModeRefclock); err != nil {
		return err
	}
	return s.validate()
}

// validate checks a decoded source against what chronyd really reports.
func (s *Source) validate() *Error {
	switch {
	case s.Mode == ModeRefclock && s.Family != FamilyUnspec:
		return invalidField("ip_addr.family", s.Family.String(), "inet4 (the reference ID) for a reference clock")
	case s.Mode != ModeRefclock && s.Family == FamilyUnspec:
		return invalidField("ip_addr.family", s.Family.String(), "inet4, inet6 or id for an NTP source")
	case s.State > StateOutlier:
		return invalidField("state", strconv.Itoa(int(s.State)), "0..5 (sync, unreach, falseticker, jittery, candidate, outlier)")
	case s.Stratum > maxStratum:
		return invalidField("stratum", strconv.Itoa(int(s.Stratum)), fmt.Sprintf("0..%d", maxStratum))
	case s.Poll > maxPoll || s.Poll < -maxPoll:
		return invalidField("poll", strconv.Itoa(int(s.Poll)), fmt.Sprintf("-%d..%d", maxPoll, maxPoll))
	case s.Reachability > maxReachability:
		return invalidField("reachability", strconv.Itoa(int(s.Reachability)), "0..255 (an 8-bit register)")
	case s.LatestMeasErr < 0:
		return invalidField("latest_meas_err", formatFloat(s.LatestMeasErr), "non-negative")
	}
	return nil
}

// decodeNSources reads a checked RPY_N_SOURCES.
func decodeNSources(p []byte) (int, *Error) {
	n := binary.BigEndian.Uint32(p[offNSources:])
	if n > chronydMaxSources+MaxRefclocks {
		return 0, invalidField("n_sources", strconv.FormatUint(uint64(n), 10),
			fmt.Sprintf("at most %d (chronyd's %d NTP sources and %d reference clocks)", chronydMaxSources+MaxRefclocks, chronydMaxSources, MaxRefclocks))
	}
	return int(n), nil
}

// MaxRefclocks is how many reference clocks a walk allows for beyond
// chronyd's limit of 65536 NTP sources; chronyd has no limit of its own,
// but each needs a device or socket.
const MaxRefclocks = 256

// sourceNameBytes returns the NUL-terminated name of a checked
// RPY_NTP_SOURCE_NAME, or an error when it is empty or not text.
func sourceNameBytes(p []byte) ([]byte, *Error) {
	b := p[offSourceName:sourceNameLen]
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	if len(b) == 0 {
		return nil, invalidField("name", `""`, "a source name")
	}
	for _, c := range b {
		if c < 0x21 || c > 0x7e {
			return nil, invalidField("name", strconv.QuoteToASCII(string(b)), "printable ASCII without spaces (a host name or address)")
		}
	}
	return b, nil
}
