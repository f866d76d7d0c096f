package fakechronyd

import (
	"encoding/binary"
	"net/netip"
)

// Commands and reply types of the other reports (candm.h).
const (
	ReqNSources    = 14
	ReqSourceData  = 15
	ReqSourceStats = 34
	ReqActivity    = 44
	ReqServerStats = 54
	ReqSourceName  = 65

	RpyNSources    = 2
	RpySourceData  = 3
	RpySourceStats = 6
	RpyActivity    = 12
	RpySourceName  = 19
)

// Reply lengths of the other reports; each request must be padded to its
// reply's length (for serverstats, this release's reply).
const (
	NSourcesLen    = 32
	SourceDataLen  = 76
	SourceStatsLen = 84
	ActivityLen    = 48
	SourceNameLen  = 284
)

// ServerStatsReplies gives, for each server stats reply version 1..4 (chrony
// 3.x, 4.0, 4.2, 4.4 on), its reply type, length and number of counters.
var ServerStatsReplies = [5]struct{ Type, Len, Counters int }{
	{},
	{14, 48, 5},
	{22, 60, 8},
	{24, 72, 11},
	{25, 196, 17},
}

// OffSourceIndex is where SOURCE_DATA and SOURCESTATS requests carry the
// index, and NTP_SOURCE_NAME the address.
const OffSourceIndex = RequestHeaderLen

// Source is one source of the fake's table, answering both SOURCE_DATA
// and SOURCESTATS.
type Source struct {
	// Addr is an NTP source's address; with Unresolved, an unresolved one
	// (family id, number ID); with Refclock, a reference clock (RefID).
	Addr       netip.Addr
	ID         uint32
	Unresolved bool
	Refclock   bool
	RefID      uint32
	// Name is what NTP_SOURCE_NAME answers for it.
	Name                                string
	Poll                                int16
	Stratum, State, Mode, Reachability  uint16
	SinceSample                         uint32
	OrigLatest, Latest, LatestErr       float64
	Samples, Runs, Span                 uint32
	StdDev, ResidFreq, Skew, Off, OffEr float64
}

// putIPAddr writes an IPAddr (16 bytes, family, padding) at b.
func putIPAddr(b []byte, s Source) {
	be := binary.BigEndian
	switch {
	case s.Refclock:
		be.PutUint32(b, s.RefID)
		be.PutUint16(b[16:], FamilyINet4)
	case s.Unresolved:
		be.PutUint32(b, s.ID)
		be.PutUint16(b[16:], FamilyID)
	case s.Addr.Is4():
		a := s.Addr.As4()
		copy(b, a[:])
		be.PutUint16(b[16:], FamilyINet4)
	case s.Addr.Is6():
		a := s.Addr.As16()
		copy(b, a[:])
		be.PutUint16(b[16:], FamilyINet6)
	}
}

// NSourcesReply answers N_SOURCES with n.
func NSourcesReply(req Request, n uint32) []byte {
	b := make([]byte, NSourcesLen)
	putReplyHeader(b, req, RpyNSources, StatusSuccess)
	binary.BigEndian.PutUint32(b[ReplyHeaderLen:], n)
	return b
}

// SourceDataReply answers SOURCE_DATA with s.
func SourceDataReply(req Request, s Source) []byte {
	be := binary.BigEndian
	b := make([]byte, SourceDataLen)
	putReplyHeader(b, req, RpySourceData, StatusSuccess)
	putIPAddr(b[28:], s)
	mode := s.Mode
	if s.Refclock {
		mode = 2
	}
	for i, v := range []uint16{uint16(s.Poll), s.Stratum, s.State, mode, 0, s.Reachability} {
		be.PutUint16(b[48+2*i:], v)
	}
	be.PutUint32(b[60:], s.SinceSample)
	for i, v := range []float64{s.OrigLatest, s.Latest, s.LatestErr} {
		be.PutUint32(b[64+4*i:], EncodeFloat(v))
	}
	return b
}

// SourceStatsReply answers SOURCESTATS with s. A reference clock has an
// unspecified address here and its reference ID in ref_id.
func SourceStatsReply(req Request, s Source) []byte {
	be := binary.BigEndian
	b := make([]byte, SourceStatsLen)
	putReplyHeader(b, req, RpySourceStats, StatusSuccess)
	ref := s.RefID
	if !s.Refclock {
		putIPAddr(b[32:], s)
		if s.Addr.Is4() {
			a := s.Addr.As4()
			ref = be.Uint32(a[:])
		}
	}
	be.PutUint32(b[28:], ref)
	for i, v := range []uint32{s.Samples, s.Runs, s.Span} {
		be.PutUint32(b[52+4*i:], v)
	}
	for i, v := range []float64{s.StdDev, s.ResidFreq, s.Skew, s.Off, s.OffEr} {
		be.PutUint32(b[64+4*i:], EncodeFloat(v))
	}
	return b
}

// SourceNameReply answers NTP_SOURCE_NAME with name, NUL-padded.
func SourceNameReply(req Request, name string) []byte {
	b := make([]byte, SourceNameLen)
	putReplyHeader(b, req, RpySourceName, StatusSuccess)
	copy(b[ReplyHeaderLen:], name)
	return b
}

// ActivityReply answers ACTIVITY with the five counts.
func ActivityReply(req Request, counts [5]int32) []byte {
	b := make([]byte, ActivityLen)
	putReplyHeader(b, req, RpyActivity, StatusSuccess)
	for i, v := range counts {
		binary.BigEndian.PutUint32(b[ReplyHeaderLen+4*i:], uint32(v))
	}
	return b
}

// ServerStatsReply answers SERVER_STATS with reply version v (1..4),
// counters in candm.h's order for that version (32-bit before 4, then
// Integer64 with four reserved counters of all ones, as 4.8 sends).
func ServerStatsReply(req Request, v int, counters []uint64) []byte {
	r := ServerStatsReplies[v]
	b := make([]byte, r.Len)
	putReplyHeader(b, req, uint16(r.Type), StatusSuccess)
	for i := range r.Counters {
		var c uint64
		if i < len(counters) {
			c = counters[i]
		}
		if v == 4 {
			binary.BigEndian.PutUint64(b[ReplyHeaderLen+8*i:], c)
		} else {
			binary.BigEndian.PutUint32(b[ReplyHeaderLen+4*i:], uint32(c))
		}
	}
	for i := ReplyHeaderLen + 8*r.Counters; v == 4 && i < r.Len; i++ {
		b[i] = 0xff
	}
	return b
}

// Daemon is the state a Reports handler answers from: a source table and
// counters, of a 4.x chronyd, or of a 3.x one with Before4.
type Daemon struct {
	Tracking Tracking
	Sources  []Source
	// NSources, when not nil, is what N_SOURCES answers instead of
	// len(Sources): an index beyond Sources then answers NOSUCHSOURCE.
	NSources *uint32
	Activity [5]int32
	// ServerStats is the reply version (1..4, 0 for 4) and its counters.
	ServerStats        int
	ServerStatsCounter []uint64
	// Before4 answers NTP_SOURCE_NAME INVALID, as chrony 3.x does.
	Before4 bool
}

// Reports answers every report the way chronyd does from d, requests
// padded short of their reply's length with BADPKTLENGTH, and commands it
// does not know with INVALID; tracking as Chronyd(d.Tracking) does.
func Reports(d Daemon) Handler {
	tracking := Chronyd(d.Tracking)
	return func(req Request) []Packet {
		reply := func(want int, data func() []byte) []Packet {
			if req.Len < want {
				return []Packet{{Data: StatusReply(req, StatusBadPktLength)}}
			}
			return []Packet{{Data: data()}}
		}
		index := int(binary.BigEndian.Uint32(append(req.Data, make([]byte, 24)...)[OffSourceIndex:]))
		source := func(want int, f func(Request, Source) []byte) []Packet {
			if index >= len(d.Sources) {
				return []Packet{{Data: StatusReply(req, StatusNoSuchSource)}}
			}
			return reply(want, func() []byte { return f(req, d.Sources[index]) })
		}
		switch {
		case req.Version != ProtoVersion || req.Command == ReqTracking:
			return tracking(req)
		case req.Command == ReqNSources:
			n := uint32(len(d.Sources))
			if d.NSources != nil {
				n = *d.NSources
			}
			return reply(NSourcesLen, func() []byte { return NSourcesReply(req, n) })
		case req.Command == ReqSourceData:
			return source(SourceDataLen, SourceDataReply)
		case req.Command == ReqSourceStats:
			return source(SourceStatsLen, SourceStatsReply)
		case req.Command == ReqSourceName && !d.Before4:
			return reply(SourceNameLen, func() []byte { return d.sourceName(req) })
		case req.Command == ReqActivity:
			return reply(ActivityLen, func() []byte { return ActivityReply(req, d.Activity) })
		case req.Command == ReqServerStats:
			v := d.ServerStats
			if v == 0 {
				v = 4
			}
			return reply(ServerStatsReplies[v].Len, func() []byte { return ServerStatsReply(req, v, d.ServerStatsCounter) })
		}
		return []Packet{{Data: StatusReply(req, StatusInvalid)}}
	}
}

// sourceName answers NTP_SOURCE_NAME for the NTP source with the address
// asked for, or NOSUCHSOURCE.
func (d Daemon) sourceName(req Request) []byte {
	for _, s := range d.Sources {
		if s.Refclock {
			continue
		}
		var want [20]byte
		putIPAddr(want[:], s)
		if string(req.Data[OffSourceIndex:OffSourceIndex+20]) == string(want[:]) {
			return SourceNameReply(req, s.Name)
		}
	}
	return StatusReply(req, StatusNoSuchSource)
}

// Pool is a source table of every kind: two members of one pool name on
// IPv4 and one on IPv6, a server, a refclock and an unresolved name.
func Pool() []Source {
	return []Source{
		{Addr: netip.MustParseAddr("192.0.2.1"), Name: "pool.example", Poll: 6, Stratum: 2, State: 0, Reachability: 0o377, SinceSample: 12,
			OrigLatest: 0.000123, Latest: 0.000120, LatestErr: 0.0021, Samples: 8, Runs: 5, Span: 450, StdDev: 0.00005, ResidFreq: -0.012, Skew: 0.25, Off: -0.0000123, OffEr: 0.00004},
		{Addr: netip.MustParseAddr("192.0.2.2"), Name: "pool.example", Poll: 6, Stratum: 2, State: 4, Reachability: 0o177, SinceSample: 40,
			Latest: -0.0003, LatestErr: 0.004, Samples: 6, Runs: 3, Span: 300, StdDev: 0.0001, Skew: 1.5},
		{Addr: netip.MustParseAddr("2001:db8::1"), Name: "pool.example", Poll: 7, Stratum: 3, State: 5, Reachability: 0o17, SinceSample: 100},
		{Addr: netip.MustParseAddr("192.0.2.9"), Name: "ntp.example", Mode: 1, State: 1},
		{Refclock: true, RefID: 0x50505330, Poll: 4, State: 2, Reachability: 0o377, Latest: 0.001, LatestErr: 0.00001, Samples: 8, Runs: 3, Span: 16},
		{Unresolved: true, ID: 1, Name: "never.invalid", Poll: 6, State: 1, SinceSample: 0xffffffff, StdDev: 4, Skew: 2000},
	}
}
