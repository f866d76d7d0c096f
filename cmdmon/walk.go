package cmdmon

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"
)

// Sources asks chronyd for its sources report (chronyc sources -a: every
// source, the unresolved ones too), each with its name.
//
// It is a walk of 1 + N requests (N_SOURCES, then SOURCE_DATA for each
// index), and one NTP_SOURCE_NAME per NTP source from chrony 4.0 on: 1 + 2N
// in all. The whole walk runs under one deadline, Config.Bound, as a single
// request does, so a chronyd that answers slowly ends it with a timeout
// instead of stretching it; N beyond what chronyd can hold (MaxSources) is
// invalid_data before anything is asked, and the result grows only with
// the replies received. A source removed during the walk (NOSUCHSOURCE) is
// left out; any other failure fails the report, and the next call dials
// afresh. The error is always an *Error.
func (c *Client) Sources(ctx context.Context) ([]Source, error) {
	return walkReport(ctx, c, &cmdSourceData, decodeSourceData)
}

// SourceStats asks chronyd for its sourcestats report (chronyc sourcestats
// -a), each source with its name. It walks as Sources does, with the same
// bound and the same handling of a source removed during the walk.
func (c *Client) SourceStats(ctx context.Context) ([]SourceStats, error) {
	return walkReport(ctx, c, &cmdSourceStats, decodeSourceStats)
}

// walkReport runs a walk of cmd as one report, decoding each reply into
// the next element of the result.
func walkReport[T any, P interface {
	*T
	ident() *Ident
}](ctx context.Context, c *Client, cmd *command, decode func([]byte, int, P) *Error) ([]T, error) {
	var out []T
	err := c.report(ctx, func(end time.Time) *Error {
		return c.walk(ctx, end, cmd, func(n int) { out = make([]T, 0, min(n, walkPrealloc)) },
			func(pkt []byte, i int) (*Ident, *Error) {
				out = append(out, *new(T))
				s := P(&out[len(out)-1])
				if err := decode(pkt, i, s); err != nil {
					return nil, err
				}
				return s.ident(), nil
			}, func() { out = out[:len(out)-1] })
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Activity asks chronyd for its activity report. The error is always an
// *Error; the call returns within Config.Bound or when ctx ends.
func (c *Client) Activity(ctx context.Context) (Activity, error) {
	var a Activity
	err := c.report(ctx, func(end time.Time) *Error {
		pkt, url, err := c.call(ctx, end, &cmdActivity, nil)
		if err != nil {
			return err
		}
		if a, err = decodeActivity(pkt); err != nil {
			return err
		}
		a.Address = url
		return nil
	})
	return a, err
}

// ServerStats asks chronyd for its serverstats report, whichever of the
// four replies its release sends. Over UDP chronyd refuses it unless
// opened (see ServerStats): that is a permission_denied *Error whose hint
// names the unix socket.
func (c *Client) ServerStats(ctx context.Context) (ServerStats, error) {
	var s ServerStats
	err := c.report(ctx, func(end time.Time) *Error {
		pkt, url, err := c.call(ctx, end, &cmdServerStats, nil)
		if err != nil {
			return err
		}
		s = decodeServerStats(pkt)
		s.Address = url
		return nil
	})
	return s, err
}

// walkPrealloc caps what a walk reserves up front from chronyd's count;
// beyond it the result grows with the replies that really come.
const walkPrealloc = 64

// walk reads N_SOURCES, then asks cmd for each index. begin gets the count;
// add decodes one reply into the caller's result and returns its identity,
// which walk then names; drop takes back the last add (a source removed
// before it was named, or one that failed to decode).
func (c *Client) walk(ctx context.Context, end time.Time, cmd *command,
	begin func(n int), add func(pkt []byte, i int) (*Ident, *Error), drop func()) *Error {
	pkt, _, err := c.call(ctx, end, &cmdNSources, nil)
	if err != nil {
		return err
	}
	n, err := decodeNSources(pkt)
	if err != nil {
		return err
	}
	begin(n)
	c.inWalk = true
	defer func() { c.inWalk = false }()
	for i := range n {
		arg := requestArg{index: uint32(i)}
		pkt, _, err := c.call(ctx, end, cmd, &arg)
		if gone(err) {
			continue
		}
		if err != nil {
			return inWalk(err, cmd, i, n)
		}
		id, err := add(pkt, i)
		if err != nil {
			drop()
			return inWalk(err, cmd, i, n)
		}
		if err := c.name(ctx, end, id); err != nil {
			drop()
			if gone(err) {
				continue
			}
			return inWalk(err, cmd, i, n)
		}
	}
	return nil
}

// gone reports whether err is chronyd saying that the source asked for no
// longer exists: it was removed (or its index moved) during the walk.
func gone(err *Error) bool { return err != nil && err.Status == sttNoSuchSource }

// inWalk says where in a walk an error happened.
func inWalk(err *Error, cmd *command, i, n int) *Error {
	err.Msg = fmt.Sprintf("%s: source %d of %d: %s", cmd.name, i, n, err.Msg)
	return err
}

// name fills id.Name: a reference clock's reference ID as text; an NTP
// source's name from NTP_SOURCE_NAME; the address when chronyd answers
// that INVALID (before 4.0) or UNAUTH (closed to this client).
func (c *Client) name(ctx context.Context, end time.Time, id *Ident) *Error {
	var text [64]byte
	switch {
	case id.Refclock():
		id.Name, id.NameFrom = c.names.lookup(nameKeyOf(id), appendRefID(text[:0], id.RefID)), NameFromRefID
		return nil
	case c.noNames:
		id.Name, id.NameFrom = c.names.lookup(nameKeyOf(id), appendIdent(text[:0], id)), NameFromAddress
		return nil
	}
	arg := requestArg{isAddr: true, family: id.Family}
	switch id.Family {
	case FamilyInet4, FamilyInet6:
		a := id.Addr.As16()
		if id.Family == FamilyInet4 {
			a4 := id.Addr.As4()
			a = [16]byte{}
			copy(a[:], a4[:])
		}
		arg.addr = a
	case FamilyID:
		binary.BigEndian.PutUint32(arg.addr[:], id.ID)
	}
	pkt, _, err := c.call(ctx, end, &cmdSourceName, &arg)
	if err != nil && (err.Status == sttInvalid || err.Status == sttUnauth) {
		// Before 4.0 the request does not exist; from 4.7 an operator may
		// close it to UDP clients (opencommands without sourcename). The
		// rest of the report is no less readable for it.
		c.noNames = true
		return c.name(ctx, end, id)
	}
	if err != nil {
		return err
	}
	b, err := sourceNameBytes(pkt)
	if err != nil {
		return err
	}
	id.Name, id.NameFrom = c.names.lookup(nameKeyOf(id), b), NameFromChronyd
	return nil
}

// appendRefID renders a reference ID as chrony does (UTI_RefidToString):
// its printable bytes.
func appendRefID(b []byte, ref uint32) []byte {
	for i := range 4 {
		if ch := byte(ref >> (24 - 8*i)); ch >= 0x20 && ch < 0x7f {
			b = append(b, ch)
		}
	}
	return b
}

// appendIdent renders an NTP source's address as chronyc -n does.
func appendIdent(b []byte, id *Ident) []byte {
	if id.Family == FamilyID {
		return fmt.Appendf(b, "ID#%010d", id.ID)
	}
	return id.Addr.AppendTo(b)
}

// nameKey is what a name is remembered by: the source's address, number
// or reference ID, and its family.
type nameKey struct {
	addr   [16]byte
	ref    uint32
	family AddrFamily
}

func nameKeyOf(id *Ident) nameKey {
	k := nameKey{addr: id.Addr.As16(), ref: id.ID, family: id.Family}
	if id.Refclock() {
		k.ref = id.RefID
	}
	return k
}

// nameMemo keeps the names of the sources seen, so that a walk of sources
// whose names have not changed allocates none. It forgets everything when
// it holds more names than a chronyd can have sources.
type nameMemo map[nameKey]string

func (m *nameMemo) lookup(k nameKey, b []byte) string {
	if s, ok := (*m)[k]; ok && s == string(b) {
		return s
	}
	if *m == nil || len(*m) > chronydMaxSources+MaxRefclocks {
		*m = nameMemo{}
	}
	s := string(b)
	(*m)[k] = s
	return s
}
