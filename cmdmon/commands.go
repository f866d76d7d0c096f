package cmdmon

import (
	"encoding/binary"
	"fmt"
)

// A command is one request of the protocol and the replies it may get.
// Every exchange goes through the same path (Client.call); a command only
// says what to send and what to accept.
type command struct {
	// name is chronyc's word for the report, used in messages.
	name string
	code uint16 // REQ_*
	// reqLen is the request's length on the wire: chronyd wants a request
	// padded to the length of its reply (candm.h, pktlength.c), and answers
	// a shorter one BADPKTLENGTH. With several reply shapes (serverstats)
	// it is the longest, which older releases accept too.
	reqLen  int
	replies []shape
}

// A shape is one reply a command may get: its RPY_* type, length and
// fields, for messages about a reply that is cut short.
type shape struct {
	name   string // chronyd's RPY_ name
	typ    uint16
	length int
	fields []field
}

// field names a reply field by the offset it starts at.
type field struct {
	off  int
	name string
}

// The commands this package speaks (candm.h REQ_* and RPY_*; lengths from
// pktlength.c: 28-byte reply header plus the body without its EOR).
var (
	cmdTracking = command{name: "tracking", code: 33, reqLen: trackingLen,
		replies: []shape{{"RPY_TRACKING", 5, trackingLen, trackingFields}}}
	cmdNSources = command{name: "sources", code: 14, reqLen: nSourcesLen,
		replies: []shape{{"RPY_N_SOURCES", 2, nSourcesLen, []field{{offNSources, "n_sources"}}}}}
	cmdSourceData = command{name: "sources", code: 15, reqLen: sourceDataLen,
		replies: []shape{{"RPY_SOURCE_DATA", 3, sourceDataLen, sourceDataFields}}}
	cmdSourceStats = command{name: "sourcestats", code: 34, reqLen: sourceStatsLen,
		replies: []shape{{"RPY_SOURCESTATS", 6, sourceStatsLen, sourceStatsFields}}}
	cmdSourceName = command{name: "sourcename", code: 65, reqLen: sourceNameLen,
		replies: []shape{{"RPY_NTP_SOURCE_NAME", 19, sourceNameLen, []field{{offSourceName, "name"}}}}}
	cmdActivity = command{name: "activity", code: 44, reqLen: activityLen,
		replies: []shape{{"RPY_ACTIVITY", 12, activityLen, activityFields}}}
	cmdServerStats = command{name: "serverstats", code: 54, reqLen: serverStats4Len,
		replies: serverStatsShapes[:]}
)

// requestArg is the argument of a request: a source index (SOURCE_DATA,
// SOURCESTATS) or a source address (NTP_SOURCE_NAME).
type requestArg struct {
	index  uint32
	addr   [16]byte
	family AddrFamily
	isAddr bool
}

// put writes the argument at the start of the request body.
func (a *requestArg) put(b []byte) {
	if !a.isAddr {
		binary.BigEndian.PutUint32(b, a.index)
		return
	}
	copy(b, a.addr[:])
	binary.BigEndian.PutUint16(b[16:], uint16(a.family))
}

// checkReply checks what every reply to cmd must be before its body is
// read: a success status (else the error chronyd's status means), one of
// the reply types cmd may get, and exactly that type's length. It returns
// the shape the reply has.
func checkReply(pkt []byte, cmd *command) (*shape, *Error) {
	if len(pkt) < replyHeaderLen {
		return nil, &Error{Code: CodeIncompleteReply, Msg: fmt.Sprintf(
			"reply is %d bytes, shorter than the %d-byte reply header", len(pkt), replyHeaderLen)}
	}
	if st := binary.BigEndian.Uint16(pkt[offStatus:]); st != sttSuccess {
		return nil, statusError(st, pkt[offVersion], cmd.name)
	}
	rt := binary.BigEndian.Uint16(pkt[offReply:])
	var sh *shape
	for i := range cmd.replies {
		if cmd.replies[i].typ == rt {
			sh = &cmd.replies[i]
		}
	}
	if sh == nil {
		return nil, &Error{Code: CodeInvalidData, Msg: fmt.Sprintf(
			"reply type is %d, want %s", rt, cmd.wantTypes())}
	}
	if len(pkt) < sh.length {
		return nil, &Error{Code: CodeIncompleteReply, Msg: fmt.Sprintf(
			"%s reply is %d bytes, want %d: missing %s", cmd.name, len(pkt), sh.length, sh.missing(len(pkt)))}
	}
	if len(pkt) > sh.length {
		return nil, &Error{Code: CodeInvalidData, Msg: fmt.Sprintf(
			"%s reply is %d bytes, want %d (chronyd never sends more than was asked)", cmd.name, len(pkt), sh.length)}
	}
	return sh, nil
}

// wantTypes renders the reply types cmd accepts, for a message.
func (cmd *command) wantTypes() string {
	s := ""
	for i, sh := range cmd.replies {
		if i > 0 {
			s += " or "
		}
		s += fmt.Sprintf("%d (%s)", sh.typ, sh.name)
	}
	return s
}

// missing says which fields a reply of length n lacks, first to last.
func (sh *shape) missing(n int) string {
	fs := sh.fields
	for i, f := range fs {
		end := sh.length
		if i+1 < len(fs) {
			end = fs[i+1].off
		}
		if end <= n {
			continue
		}
		from := f.name
		if n > f.off {
			from = "part of " + f.name
		}
		if i == len(fs)-1 {
			return from
		}
		return from + " through " + fs[len(fs)-1].name
	}
	return "nothing"
}
