package fakechronyd

import (
	"encoding/binary"
	"sync"
	"time"
)

// Packet is one datagram the fake sends back, Delay after the request
// arrived. Packets of one request go out in order of Delay, and in slice
// order when delays are equal, so a stale reply placed first really arrives
// first.
type Packet struct {
	Delay time.Duration
	Data  []byte
}

// Handler decides the replies to one request: none (silence), one, or
// several. The server calls it from a single goroutine, one request at a
// time.
type Handler func(req Request) []Packet

// Reply answers every request with a correct tracking reply, whatever the
// request looked like; Chronyd is the one that validates.
func Reply(t Tracking) Handler {
	return func(req Request) []Packet {
		return []Packet{{Data: TrackingReply(req, t)}}
	}
}

// Status answers every request with a header-only reply carrying status.
func Status(status uint16) Handler {
	return func(req Request) []Packet {
		return []Packet{{Data: StatusReply(req, status)}}
	}
}

// Silence never answers.
func Silence() Handler {
	return func(Request) []Packet { return nil }
}

// Chronyd answers the way chronyd 4.3 does: it drops what chronyd drops
// (shorter than 28 or longer than 860 bytes, not a request, reserved bytes
// set, version 4 and below), answers versions 5 and 7 with BADPKTVERSION in
// its own version 6, short tracking requests with BADPKTLENGTH, other
// commands with INVALID (the fake implements no other command), and a good
// tracking request with t.
func Chronyd(t Tracking) Handler {
	return func(req Request) []Packet {
		if req.Len < ReplyHeaderLen || req.Len > 860 ||
			req.PktType != PktTypeRequest || req.Res1 != 0 || req.Res2 != 0 {
			return nil
		}
		if req.Version != ProtoVersion {
			if req.Version < 5 {
				return nil
			}
			own := req
			own.Version = ProtoVersion
			return []Packet{{Data: StatusReply(own, StatusBadPktVersion)}}
		}
		if req.Command != ReqTracking {
			return []Packet{{Data: StatusReply(req, StatusInvalid)}}
		}
		if req.Len < TrackingLen {
			return []Packet{{Data: StatusReply(req, StatusBadPktLength)}}
		}
		return []Packet{{Data: TrackingReply(req, t)}}
	}
}

// Delayed holds back every packet of h by d more.
func Delayed(d time.Duration, h Handler) Handler {
	return func(req Request) []Packet {
		ps := h(req)
		for i := range ps {
			ps[i].Delay += d
		}
		return ps
	}
}

// Duplicate sends every packet of h twice.
func Duplicate(h Handler) Handler {
	return func(req Request) []Packet {
		var out []Packet
		for _, p := range h(req) {
			out = append(out, p, Packet{Delay: p.Delay, Data: append([]byte(nil), p.Data...)})
		}
		return out
	}
}

// Stale sends, ahead of each of h's replies, a copy answering another
// sequence: the previous request's, as a late reply to it would be, or the
// request's own with every bit flipped when there is no distinct previous
// one. A client must ignore it and still take the right reply that follows.
func Stale(h Handler) Handler {
	var mu sync.Mutex
	var prev uint32
	var seen bool
	return func(req Request) []Packet {
		mu.Lock()
		other := prev
		if !seen || other == req.Sequence {
			other = ^req.Sequence
		}
		prev, seen = req.Sequence, true
		mu.Unlock()

		var out []Packet
		for _, p := range h(req) {
			if len(p.Data) >= OffSequence+4 {
				old := append([]byte(nil), p.Data...)
				binary.BigEndian.PutUint32(old[OffSequence:], other)
				out = append(out, Packet{Delay: p.Delay, Data: old})
			}
			out = append(out, p)
		}
		return out
	}
}

// Mutate passes each packet of h through f, given a copy so f may change it
// in place or return a different slice (see Put8, Truncate, Append...).
func Mutate(h Handler, f func([]byte) []byte) Handler {
	return func(req Request) []Packet {
		ps := h(req)
		for i := range ps {
			ps[i].Data = f(append([]byte(nil), ps[i].Data...))
		}
		return ps
	}
}

// DropFirst ignores the first n requests this handler sees, then hands the
// rest to h. It counts on its own rather than using Request.N so it still
// works when installed with SetHandler after earlier traffic.
func DropFirst(n int, h Handler) Handler {
	var mu sync.Mutex
	seen := 0
	return func(req Request) []Packet {
		mu.Lock()
		drop := seen < n
		seen++
		mu.Unlock()
		if drop {
			return nil
		}
		return h(req)
	}
}

// Steps hands the i-th request this handler sees to hs[i], and every
// request after the last to the last handler: a script for retry tests,
// such as Steps(Silence(), Mutate(r, Truncate(50)), r).
func Steps(hs ...Handler) Handler {
	if len(hs) == 0 {
		return Silence()
	}
	var mu sync.Mutex
	next := 0
	return func(req Request) []Packet {
		mu.Lock()
		i := min(next, len(hs)-1)
		next++
		mu.Unlock()
		return hs[i](req)
	}
}
