package cmdmon

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Client asks one chronyd (or the first of chronyc's default addresses that
// answers) for its reports. It is safe for concurrent use.
type Client struct {
	s     Settings
	addrs []Address     // tried in order
	urls  []string      // addrs[i].String(), made once: every report carries it
	sem   chan struct{} // held for a whole exchange; waiting respects ctx

	mu     sync.Mutex // guards the fields below against Close
	conn   net.Conn
	sysr   *syscallReader // reads conn in a blocking system call; nil: in the poller
	local  *clientSocket  // the unixgram client socket behind conn
	cur    int            // index in addrs of the address conn talks to
	closed bool

	// Buffers reused by every exchange (under sem), so a gather does not
	// allocate for the datagrams.
	req  [maxRequestLen]byte
	buf  [readBufLen]byte
	refs refMemo
	// names remembers the names of sources, so that a walk does not
	// allocate a name it already has (see walk.go).
	names nameMemo
	// noNames is set when this chronyd answered NTP_SOURCE_NAME with
	// INVALID (before 4.0); cleared when the client dials again, since the
	// chronyd behind the address may have been upgraded.
	noNames bool
	// inWalk is set during a walk's requests after its first; near once
	// chronyd has answered within spinWait on this connection (it runs on
	// this host); fresh from the dial of a connection to this host until
	// its first answer. They decide whether a reply is worth spinning for
	// (see spin).
	inWalk bool
	near   bool
	fresh  bool
}

// New checks cfg and returns a Client. It does not dial: the first call to
// Tracking does, so a Client can be made before chronyd is up.
func New(cfg Config) (*Client, error) {
	s, addrs, err := cfg.Resolve()
	if err != nil {
		return nil, err
	}
	return NewClient(s, addrs...), nil
}

// NewClient returns a Client with the settings Config.Resolve made, for
// addresses already parsed. With several addresses it tries them in order,
// as chronyc does its defaults, moving on from one only when it is plainly
// absent or closed to this user. Like New, it does not dial.
func NewClient(s Settings, addrs ...Address) *Client {
	urls := make([]string, len(addrs))
	for i, a := range addrs {
		urls[i] = a.String()
	}
	return &Client{s: s, addrs: addrs, urls: urls, sem: make(chan struct{}, 1)}
}

// Tracking asks chronyd for its tracking report. The error is always an
// *Error; the call returns within Config.Bound or when ctx ends.
func (c *Client) Tracking(ctx context.Context) (Tracking, error) {
	var r Tracking
	err := c.report(ctx, func(end time.Time) *Error {
		pkt, url, err := c.call(ctx, end, &cmdTracking, nil)
		if err != nil {
			return err
		}
		if r, err = decodeAnswer(pkt, time.Now(), &c.refs); err != nil {
			return err
		}
		r.Address = url
		return nil
	})
	return r, err
}

// report runs one report, of one request or a walk of many, holding the
// client for all of it under one deadline: Bound from now. On failure it
// hangs up, so the next report dials afresh.
func (c *Client) report(ctx context.Context, run func(end time.Time) *Error) error {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return &Error{Code: CodeTimeout, Address: c.label(), Msg: "gave up waiting for an earlier request to finish", Err: ctx.Err()}
	}
	defer func() { <-c.sem }()
	if err := ctx.Err(); err != nil {
		return &Error{Code: CodeTimeout, Address: c.label(), Msg: "cancelled before the request was sent", Err: err}
	}
	// One deadline for the whole report, so that resolving a name, trying
	// several default addresses or walking many sources never stretches it
	// past the bound.
	end := time.Now().Add(c.s.Bound())
	if err := run(end); err != nil {
		if err.Address == "" {
			err.Address = c.label()
		}
		c.hangUp()
		return err
	}
	return nil
}

// Address is the URL of the chronyd address the client talks to: the one
// that answered its last call, or its only one; empty while a client of
// several addresses has not found one.
func (c *Client) Address() string { return c.label() }

// label is the address of an error raised before an exchange: the one the
// client talks to, or its only one; none while it has several to try.
func (c *Client) label() string {
	if conn, i := c.current(); conn != nil {
		return c.urls[i]
	}
	if len(c.urls) == 1 {
		return c.urls[0]
	}
	return ""
}

// call sends one request of cmd and returns chronyd's reply, checked by
// checkReply (in c.buf: valid until the next call), and the address that
// answered. Without a connection it dials, trying the addresses in order.
func (c *Client) call(ctx context.Context, end time.Time, cmd *command, arg *requestArg) ([]byte, string, *Error) {
	if conn, i := c.current(); conn != nil {
		return c.exchange(ctx, conn, i, end, cmd, arg)
	}
	if len(c.addrs) == 0 {
		return nil, "", &Error{Code: CodeConfigError, Msg: "the client has no address to ask"}
	}
	var first, usable *Error
	for i := range c.addrs {
		conn, err := c.dial(ctx, i, end)
		if err == nil {
			var pkt []byte
			var url string
			if pkt, url, err = c.exchange(ctx, conn, i, end, cmd, arg); err == nil {
				return pkt, url, nil
			}
			c.hangUp()
		}
		// Like chronyc, move on to the next default address only when this
		// one is plainly absent or closed to us: waiting out a timeout on
		// each would break the bound on the call.
		if len(c.addrs) == 1 || (err.Code != CodeUnavailable && err.Code != CodePermissionDenied) {
			return nil, "", err
		}
		if first == nil {
			first = err
		}
		if usable == nil && err.Code != CodePermissionDenied {
			usable = err
		}
	}
	return nil, "", noChronyd(c.urls, first, usable)
}

// noChronyd is the error of a call that found no chronyd at any of urls,
// from the first problem and the first at an address this user can use.
// That one decides the code and the address (the server tag): it is where
// this user's points come from while chronyd runs, so an outage shows
// there, not as a permission problem at an address never used. The
// address closed to the user may still be the only one chronyd answers at
// (cmdport 0): the message and the hint say so.
func noChronyd(urls []string, first, usable *Error) *Error {
	all := strings.Join(urls, ", ")
	if usable == nil || usable == first {
		first.Msg = fmt.Sprintf("no chronyd at %s; first problem: %s", all, first.Msg)
		return first
	}
	usable.Msg = fmt.Sprintf("no chronyd at %s (%s is closed to this user: %s); first problem where it could answer: %s",
		all, first.Address, first.Message(), usable.Msg)
	usable.Hint += "; if chronyd runs without a command port (cmdport 0), this user must reach " + first.Address +
		": " + strings.Replace(first.Hint, orUDP, "", 1)
	return usable
}

func (c *Client) current() (net.Conn, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn, c.cur
}

// syscallReader is the blocking reader of the current connection, if any.
func (c *Client) syscallReader() *syscallReader {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sysr
}

// dial opens a connected socket to address i. For unixgram it first binds
// the client socket chronyd will answer to.
func (c *Client) dial(ctx context.Context, i int, end time.Time) (net.Conn, *Error) {
	a := c.addrs[i]
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, &Error{Code: CodeUnavailable, Address: a.String(), Msg: "client is closed"}
	}
	var (
		conn  net.Conn
		local *clientSocket
		err   *Error
	)
	if a.Network == "unixgram" {
		conn, local, err = c.dialUnix(a)
	} else {
		conn, err = c.dialUDP(ctx, a, end)
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		conn.Close()
		local.remove()
		return nil, &Error{Code: CodeUnavailable, Address: a.String(), Msg: "client is closed"}
	}
	c.conn, c.local, c.cur = conn, local, i
	c.sysr = nil
	c.noNames, c.near, c.fresh = false, false, a.Local()
	if c.inSyscall() {
		c.sysr = newSyscallReader(conn)
	}
	return conn, nil
}

// inSyscall says whether replies are read in ppoll(2) (Settings.WaitInSyscall,
// where honoured), on sockets dialled outside the network poller.
func (c *Client) inSyscall() bool { return syscallWait && c.s.WaitInSyscall }

func (c *Client) dialUDP(ctx context.Context, a Address, end time.Time) (net.Conn, *Error) {
	if ip, err := netip.ParseAddr(a.Host); err == nil && ip.Zone() == "" && c.inSyscall() {
		// An IP literal has nothing to resolve: no step can block.
		conn, err := dialOutside(nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(a.Port))))
		if err != nil {
			return nil, classify(err, a, "dial")
		}
		return conn, nil
	}
	// Resolving a name is the only step that can block before the first
	// send; give it the first attempt's wait, within the call's bound.
	dl := time.Now().Add(c.s.Timeout)
	if end.Before(dl) {
		dl = end
	}
	dctx, cancel := context.WithDeadline(ctx, dl)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(dctx, "udp", a.hostPort())
	if err != nil {
		// With an IP literal nothing in a UDP dial can time out but the
		// deadline itself: the caller's context ended (its timer may not
		// have fired yet, so ctx.Err() can still be nil). A slow resolver
		// is a *net.DNSError and stays dns_error.
		var dnsErr *net.DNSError
		if !errors.As(err, &dnsErr) && (ctx.Err() != nil || isTimeout(err) || errors.Is(err, context.Canceled)) {
			return nil, &Error{Code: CodeTimeout, Address: a.String(), Msg: "cancelled before the request was sent", Err: err}
		}
		return nil, classify(err, a, "dial")
	}
	return conn, nil
}

// hangUp drops the connection so the next call dials afresh: after any
// failure, chronyd may have restarted and recreated its socket.
func (c *Client) hangUp() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropLocked()
}

func (c *Client) dropLocked() {
	if c.conn != nil {
		if c.sysr != nil {
			c.sysr.wake()
		}
		c.conn.Close()
		c.conn, c.sysr = nil, nil
	}
	c.local.remove()
	c.local = nil
}

// Close releases the socket and removes the client socket files. A call in
// progress ends with an error.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.dropLocked()
	return nil
}

// exchange sends the request up to 1+Retries times, each attempt with a new
// random sequence and twice the wait of the one before, all before end, and
// returns the checked reply and the address that answered.
func (c *Client) exchange(ctx context.Context, conn net.Conn, i int, end time.Time, cmd *command, arg *requestArg) ([]byte, string, *Error) {
	a := c.addrs[i]
	sysr := c.syscallReader()
	if ctx.Done() != nil {
		// Wake a blocked read when ctx ends without a deadline (SIGTERM).
		wake := func() { conn.SetReadDeadline(time.Unix(1, 0)) }
		if sysr != nil {
			wake = sysr.wake // the socket is shut down: the next call dials again
		}
		stop := context.AfterFunc(ctx, wake)
		defer func() {
			if !stop() && sysr != nil {
				c.hangUp()
			}
		}()
	}
	start := time.Now()
	wait := c.s.Timeout
	var (
		note      *Error
		discarded int
		cut       bool // the last wait was cut well short by the report's bound
	)
	attempts := 0
	for ; attempts <= c.s.Retries && time.Now().Before(end); attempts++ {
		seq := rand.Uint32()
		req := putRequest(&c.req, cmd, arg, uint16(attempts), seq)
		if _, err := conn.Write(req); err != nil {
			return nil, "", classify(err, a, "send")
		}
		sent := time.Now()
		deadline := sent.Add(wait)
		// A single request's last wait ends at the bound give or take the
		// time spent sending; a walk's can lose most of it.
		cut = deadline.Sub(end) > wait/4
		if end.Before(deadline) {
			deadline = end
		}
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		spin := c.spin(attempts)
		for {
			var (
				n   int
				err error
			)
			if sysr != nil {
				n, err = sysr.Read(c.buf[:], deadline, spin)
				spin = 0
			} else {
				if err := conn.SetReadDeadline(deadline); err != nil {
					return nil, "", classify(err, a, "receive")
				}
				// Setting the deadline may have undone the wake-up of a
				// cancellation that came first; check after setting it.
				if ctx.Err() != nil {
					return nil, "", cancelled(ctx, a, start, attempts+1)
				}
				n, err = conn.Read(c.buf[:])
			}
			if err != nil {
				if isTimeout(err) {
					break
				}
				if ctx.Err() != nil {
					return nil, "", cancelled(ctx, a, start, attempts+1)
				}
				return nil, "", classify(err, a, "receive")
			}
			v, why := match(c.buf[:n], seq, cmd.code)
			if v == answer {
				c.near = c.near || time.Since(sent) <= spinWait
				c.fresh = false
				return c.answer(why, n, c.urls[i], cmd)
			}
			discarded++
			if why != nil && note == nil {
				note = why
			}
		}
		if ctx.Err() != nil {
			return nil, "", cancelled(ctx, a, start, attempts+1)
		}
		wait *= 2
	}
	e := exhausted(note, a, attempts, time.Since(start), discarded)
	switch {
	case attempts == 0:
		e.Msg = fmt.Sprintf("the report's bound of %s ran out before this request was sent", c.s.Bound())
	case cut || attempts <= c.s.Retries:
		// The report's deadline, not the retries, ended the wait: say so,
		// since the request itself waited less than its own schedule.
		e.Msg += fmt.Sprintf("; the report's bound of %s ran out", c.s.Bound())
	}
	return nil, "", e
}

// spinWait is how long a walk's exchange waiting in a system call tries
// for its reply before it sleeps (spinRead): several of chronyd's
// turnarounds on the same host (13-45 µs here), so that its reply is taken
// awake, while a later one costs at most this much CPU.
const spinWait = 100 * time.Microsecond

// spin is how long the first read of an attempt spins: spinWait in a walk
// (chronyd is awake: it has just answered) on a connection where chronyd
// has answered within spinWait before, and for the first request on a
// new connection to this host, whose reply a one-shot run (--once, a
// program asking once) would otherwise wait for asleep, its thread woken
// by the reply (0.07 ms of a 2.5 ms --once), for at most spinWait of CPU
// per connection. None for a retry (the
// attempt before went unanswered), the later single requests of a
// connection (nothing says chronyd is awake: execd's gathers, seconds
// apart, stay at three system calls) or a chronyd farther away (across a
// network, spinning would only burn CPU).
func (c *Client) spin(attempt int) time.Duration {
	if attempt == 0 && (c.fresh || c.inWalk && c.near) {
		return spinWait
	}
	return 0
}

// cancelled is the error of an exchange whose context ended.
func cancelled(ctx context.Context, a Address, start time.Time, attempts int) *Error {
	return &Error{Code: CodeTimeout, Address: a.String(), Err: ctx.Err(),
		Msg: fmt.Sprintf("cancelled after %s and %d attempt(s)", time.Since(start).Round(time.Millisecond), attempts)}
}

// answer checks a reply that match accepted (or returns why it failed).
func (c *Client) answer(why *Error, n int, url string, cmd *command) ([]byte, string, *Error) {
	if why == nil {
		_, why = checkReply(c.buf[:n], cmd)
	}
	if why != nil {
		why.Address = url
		return nil, "", why
	}
	return c.buf[:n], url, nil
}

// exhausted builds the error for a wait that ended without an answer. A
// discarded packet that carried this request's sequence says more than
// "timeout" does, so it wins.
func exhausted(note *Error, a Address, attempts int, took time.Duration, discarded int) *Error {
	if note != nil {
		note.Address = a.String()
		note.Msg = fmt.Sprintf("no valid reply after %d attempt(s) in %s; %s", attempts, took.Round(time.Millisecond), note.Msg)
		return note
	}
	e := &Error{Code: CodeTimeout, Address: a.String(),
		Msg: fmt.Sprintf("no reply after %d attempt(s) in %s", attempts, took.Round(time.Millisecond))}
	if discarded > 0 {
		e.Msg += fmt.Sprintf(" (%d stale or foreign datagram(s) discarded)", discarded)
	}
	e.Hint = timeoutHint(a)
	return e
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
