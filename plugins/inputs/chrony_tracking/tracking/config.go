package tracking

import (
	"fmt"
	"os"
	"os/user"
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
	// SocketMode is the client socket's permission bits. Zero means 0660
	// when SocketGroup is set, else 0666: the chain's random directory name
	// keeps other users from finding the socket, as with chronyc 4.8.
	SocketMode os.FileMode
	// SocketGroup, a group name or number, is given the client socket when
	// chronyd must reach it through group permissions.
	SocketGroup string
}

// DefaultConfig returns chronyc's defaults: chronyc's address order, 1 s
// first timeout, 2 retries.
func DefaultConfig() Config {
	return Config{Timeout: DefaultTimeout, Retries: DefaultRetries}
}

// Bound is the longest a Tracking call can take: the sum of every
// attempt's wait.
func (c Config) Bound() time.Duration {
	return c.Timeout * time.Duration(1<<(c.Retries+1)-1)
}

// settings is a Config checked and resolved for use.
type settings struct {
	Config
	addrs []Address
	urls  []string // addrs[i].String(), made once: every report carries it
	mode  os.FileMode
	gid   int // -1: leave the socket's group alone
}

func configError(key string, value any, why, hint string) *Error {
	return &Error{Code: CodeConfigError, Msg: fmt.Sprintf("%s = %v: %s", key, value, why), Hint: hint}
}

func (c Config) resolve() (settings, error) {
	s := settings{Config: c, gid: -1, addrs: DefaultAddresses}
	if c.Address != "" {
		a, err := ParseAddress(c.Address)
		if err != nil {
			return s, err
		}
		s.addrs = []Address{a}
	}
	for _, a := range s.addrs {
		s.urls = append(s.urls, a.String())
	}
	if c.Timeout < MinTimeout {
		return s, configError("timeout", c.Timeout, "too short", fmt.Sprintf("use %s or more; chronyc's default is %s", MinTimeout, DefaultTimeout))
	}
	if c.Retries < 0 || c.Retries > MaxRetries {
		return s, configError("retries", c.Retries, fmt.Sprintf("out of range 0..%d", MaxRetries), "chronyc's default is 2")
	}
	if c.SocketMode&^os.ModePerm != 0 {
		return s, configError("socket_perms", fmt.Sprintf("%#o", c.SocketMode), "not permission bits", `write an octal mode such as "0660"`)
	}
	s.mode = c.SocketMode
	if c.SocketGroup != "" {
		gid, err := lookupGroup(c.SocketGroup)
		if err != nil {
			return s, configError("socket_group", c.SocketGroup, err.Error(),
				`name a group that exists here: "_chrony" on Debian and Ubuntu, "chrony" on RHEL and Fedora`)
		}
		s.gid = gid
		if s.mode == 0 {
			s.mode = 0o660
		}
	}
	if s.mode == 0 {
		s.mode = 0o666
	}
	return s, nil
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
