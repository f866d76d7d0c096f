package cmdmon

import (
	"fmt"
	"math"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// chronyc's defaults and limits for its timeout and retries commands.
const (
	DefaultTimeout = time.Second
	DefaultRetries = 2
	MaxRetries     = 30
	// MinTimeout is far below chronyc's 100 ms floor so that tests and
	// loopback fleets can use short waits; chronyd answers in microseconds.
	MinTimeout = time.Millisecond
)

// The client socket's mode when Config.SocketMode is zero: with a group,
// chronyd answers through it; without one, the chain's random directory
// name keeps other users from finding the socket, as with chronyc 4.8.
const (
	DefaultSocketMode      os.FileMode = 0o666
	DefaultGroupSocketMode os.FileMode = 0o660
)

// Config configures a Client. Start from DefaultConfig.
type Config struct {
	// Address is the chronyd command address as a URL (see ParseAddress);
	// empty tries DefaultAddresses in chronyc's order.
	Address string
	// Timeout is the wait for the first attempt; each retry waits twice as
	// long as the one before.
	Timeout time.Duration
	// Retries is how many times a request is sent again after a wait ends
	// without an answer (0..MaxRetries).
	Retries int
	// SocketDir is where a unixgram client creates its private socket
	// chain. Empty means the directory of chronyd's socket, as chronyc does.
	// chronyd's user must be able to traverse it.
	SocketDir string
	// SocketMode is the client socket's permission bits. Zero means
	// DefaultGroupSocketMode when SocketGroup is set, else DefaultSocketMode.
	SocketMode os.FileMode
	// SocketGroup, a group name or number, is given the client socket when
	// chronyd must reach it through group permissions.
	SocketGroup string
	// WaitInSyscall: see Settings.WaitInSyscall.
	WaitInSyscall bool
}

// DefaultConfig returns chronyc's defaults: chronyc's address order, 1 s
// first timeout, 2 retries.
func DefaultConfig() Config {
	return Config{Timeout: DefaultTimeout, Retries: DefaultRetries}
}

// Bound is the longest a Tracking call with c can take: the sum of every
// attempt's wait.
func (c Config) Bound() time.Duration { return bound(c.Timeout, c.Retries) }

// Settings are a Config checked and resolved, less its address: what a
// Client runs with. Config.Resolve makes them; several Clients, one per
// address, can share them.
type Settings struct {
	Timeout   time.Duration
	Retries   int
	SocketDir string
	// SocketMode is the client socket's mode, its default filled in.
	SocketMode os.FileMode
	// SocketGroup is the group as configured, SocketGID its number: -1
	// leaves the socket's group alone.
	SocketGroup string
	SocketGID   int
	// WaitInSyscall makes a call wait for each reply in a system call that
	// blocks its thread, on a socket Go's network poller never sees,
	// instead of in the poller: no goroutine is parked and no other thread
	// woken, which takes a third off an exchange's latency and CPU. Each
	// call in progress then holds an OS thread, so it suits a client asked
	// by one goroutine at a time; Close, and the end of the call's context,
	// still end a call at once (by shutting the socket down: the next call
	// dials again). A UDP server named by a host name (or an IPv6 address
	// with a zone) is dialled through the poller, which resolves it, and
	// read the same way. Within a walk, on a connection where chronyd has
	// answered within 100 µs (it runs on this host), each reply is first
	// awaited awake for up to that long, the thread yielding its CPU between
	// tries, since waking a sleeping thread costs more than chronyd's
	// turnaround there. On systems other than Linux every call uses the
	// poller.
	WaitInSyscall bool
}

// Bound is the longest a Tracking call can take: the sum of every
// attempt's wait.
func (s Settings) Bound() time.Duration { return bound(s.Timeout, s.Retries) }

// SocketBase is the directory a unixgram client makes its socket chain in
// to talk to a: SocketDir, or the directory of chronyd's socket.
func (s Settings) SocketBase(a Address) string {
	if s.SocketDir != "" {
		return s.SocketDir
	}
	return filepath.Dir(a.Path)
}

// maxDuration is the longest time.Duration, about 292 years.
const maxDuration = time.Duration(math.MaxInt64)

// bound is the sum of the waits of 1+retries attempts, each twice as long
// as the one before: the one place the bound of a request is computed. A
// sum past maxDuration is maxDuration (Resolve refuses such a config; a
// Settings made by hand then waits as long as a deadline can be).
func bound(timeout time.Duration, retries int) time.Duration {
	if timeout <= 0 || retries < 0 {
		return max(timeout, 0)
	}
	if !boundFits(timeout, retries) {
		return maxDuration
	}
	return timeout * attempts(retries)
}

// boundFits reports whether a duration holds the bound of a positive
// timeout and retries.
func boundFits(timeout time.Duration, retries int) bool {
	return retries < 62 && timeout <= maxDuration/attempts(retries)
}

// attempts is the bound in units of the first wait: 2^(retries+1) - 1,
// for retries below 62.
func attempts(retries int) time.Duration { return time.Duration(1)<<(retries+1) - 1 }

// boundError refuses a timeout and retries whose bound no duration holds:
// every request would end before it began.
func boundError(timeout time.Duration, retries int) *Error {
	maxRetries := 0
	for maxRetries < MaxRetries && boundFits(timeout, maxRetries+1) {
		maxRetries++
	}
	return configError("Timeout", timeout.String(),
		fmt.Sprintf("with Config.Retries = %d a request may wait Config.Timeout × (2^%d - 1), more than the %s (about 292 years) a Go duration holds",
			retries, retries+1, maxDuration),
		fmt.Sprintf("lower Config.Timeout to at most %s, or Config.Retries to at most %d", maxDuration/attempts(retries), maxRetries))
}

// configError names the Config field at fault and its value.
func configError(key, value, why, hint string) *Error {
	return &Error{Code: CodeConfigError, Key: key, Value: value, Msg: why, Hint: hint}
}

// Resolve checks c and returns the Settings it describes and the addresses
// a Client made from it tries, in order: c.Address, or DefaultAddresses.
// An error is a config_error naming the key and the value at fault.
func (c Config) Resolve() (Settings, []Address, error) {
	addrs := slices.Clone(DefaultAddresses) // the caller's to keep
	if c.Address != "" {
		a, err := ParseAddress(c.Address)
		if err != nil {
			return Settings{}, nil, err
		}
		addrs = []Address{a}
	}
	s := Settings{Timeout: c.Timeout, Retries: c.Retries, SocketDir: c.SocketDir,
		SocketMode: c.SocketMode, SocketGroup: c.SocketGroup, SocketGID: -1, WaitInSyscall: c.WaitInSyscall}
	if c.Timeout < MinTimeout {
		return Settings{}, nil, configError("Timeout", c.Timeout.String(), fmt.Sprintf("must be at least %s", MinTimeout),
			fmt.Sprintf("write a duration such as %q (chronyc's default)", DefaultTimeout.String()))
	}
	if c.Retries < 0 || c.Retries > MaxRetries {
		return Settings{}, nil, configError("Retries", strconv.Itoa(c.Retries), fmt.Sprintf("out of range 0..%d", MaxRetries),
			fmt.Sprintf("chronyc's default is %d", DefaultRetries))
	}
	if !boundFits(c.Timeout, c.Retries) {
		return Settings{}, nil, boundError(c.Timeout, c.Retries)
	}
	if err := checkSocketDir(c.SocketDir); err != nil {
		return Settings{}, nil, err
	}
	if c.SocketMode&^os.ModePerm != 0 {
		return Settings{}, nil, configError("SocketMode", fmt.Sprintf("%#o", c.SocketMode), "not permission bits", "only permission bits, 0o777 at most, make a socket mode")
	}
	if c.SocketGroup != "" {
		gid, err := lookupGroup(c.SocketGroup)
		if err != nil {
			return Settings{}, nil, configError("SocketGroup", strconv.Quote(c.SocketGroup), err.Error(),
				`name a group that exists here: "_chrony" on Debian and Ubuntu, "chrony" on RHEL and Fedora`)
		}
		s.SocketGID = gid
	}
	if s.SocketMode == 0 {
		s.SocketMode = DefaultSocketMode
		if s.SocketGID >= 0 {
			s.SocketMode = DefaultGroupSocketMode
		}
	}
	for _, a := range addrs {
		if err := s.CheckAddress(a); err != nil {
			return Settings{}, nil, err
		}
	}
	return s, addrs, nil
}

func lookupGroup(name string) (int, error) {
	if gid, err := strconv.Atoi(name); err == nil && gid >= 0 {
		return gid, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return -1, fmt.Errorf("no such group")
	}
	return strconv.Atoi(g.Gid)
}
