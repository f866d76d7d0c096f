package cmdmon

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultSocketPath is where chronyd binds its command socket by default.
const DefaultSocketPath = "/run/chrony/chronyd.sock"

// DefaultPort is chronyd's command port (cmdport).
const DefaultPort = 323

// Address is a parsed chronyd command address.
type Address struct {
	// Network is "unixgram" or "udp".
	Network string
	// Path is the socket path, for unixgram.
	Path string
	// Host and Port, for udp. Host is a name or an IP address.
	Host string
	Port int
}

// DefaultAddresses are tried in chronyc's order when no address is given.
var DefaultAddresses = []Address{
	{Network: "unixgram", Path: DefaultSocketPath},
	{Network: "udp", Host: "127.0.0.1", Port: DefaultPort},
	{Network: "udp", Host: "::1", Port: DefaultPort},
}

// String renders the address as a URL that ParseAddress accepts.
func (a Address) String() string {
	if a.Network == "unixgram" {
		return (&url.URL{Scheme: "unixgram", Path: a.Path}).String()
	}
	// An IPv6 zone's "%" must be escaped in a URL.
	return "udp://" + net.JoinHostPort(strings.ReplaceAll(a.Host, "%", "%25"), strconv.Itoa(a.Port))
}

// Local reports whether a is on this host: a unix socket, localhost, a
// loopback address, or the unspecified address, which reaches this host.
func (a Address) Local() bool {
	if a.Network == "unixgram" || a.Host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(a.Host)
	return err == nil && (ip.IsLoopback() || ip.IsUnspecified())
}

// hostPort is the dial string of a udp address.
func (a Address) hostPort() string { return net.JoinHostPort(a.Host, strconv.Itoa(a.Port)) }

// checkHost accepts an IP address or a DNS name. url.Parse takes
// "udp://::1" for host ":" and port 1, and "udp://fe80::1:323" for host
// fe80::1, so the host needs a check of its own: an IPv6 address must be in
// brackets to say where the port starts.
func checkHost(raw, h string) error {
	if strings.Count(raw, ":") > 1 && !strings.HasPrefix(raw, "[") {
		return fmt.Errorf("IPv6 address %q without brackets", raw)
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return nil
	}
	if h == "" || len(h) > 253 {
		return fmt.Errorf("host %q is not a host name or an IP address", h)
	}
	for _, r := range h {
		if !(r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return fmt.Errorf("host %q is not a host name or an IP address", h)
		}
	}
	return nil
}

// ParseAddress parses "unixgram:///path/to/chronyd.sock" or
// "udp://host[:port]" (IPv6 literals in brackets; the port defaults to 323).
func ParseAddress(s string) (Address, error) {
	bad := func(why, hint string) (Address, error) {
		return Address{}, configError("Address", strconv.Quote(s), why, hint)
	}
	const forms = `write "unixgram:///run/chrony/chronyd.sock" or "udp://host[:port]"`
	if !strings.Contains(s, "://") {
		if scheme, rest, ok := strings.Cut(s, ":"); ok && knownScheme(scheme) {
			return bad(fmt.Sprintf(`"//" missing after %q`, scheme+":"), "write "+strconv.Quote(withSlashes(scheme, rest)))
		}
		return bad("no scheme", forms)
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad(err.Error(), forms)
	}
	switch u.Scheme {
	case "unixgram", "unix":
		p := u.Path
		if u.Host != "" || u.Opaque != "" || !filepath.IsAbs(p) {
			return bad("a unixgram address needs an absolute path", `write three slashes: "unixgram:///run/chrony/chronyd.sock"`)
		}
		if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return bad("unexpected query, fragment or user in a unixgram address", forms)
		}
		if strings.ContainsRune(p, 0) {
			return bad("a socket path cannot contain a NUL byte", forms)
		}
		return Address{Network: "unixgram", Path: filepath.Clean(p)}, nil
	case "udp4", "udp6":
		// Go's dialer would pick the family from these, the URL written back
		// (the server tag) would not say it: the host says the family.
		return bad(fmt.Sprintf("scheme %q is not supported", u.Scheme),
			`write "udp://" and an address of the family wanted: "udp://[::1]:323" for IPv6, "udp://127.0.0.1:323" for IPv4`)
	case "udp":
		if u.Host == "" {
			return bad("no host", `write "udp://127.0.0.1:323" or "udp://[::1]:323"`)
		}
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return bad("a udp address takes only host and port, no path, query or user", `write "udp://host[:port]"; a socket path needs the unixgram scheme`)
		}
		if err := checkHost(u.Host, u.Hostname()); err != nil {
			return bad(err.Error(), `write a host name or an IP address; IPv6 addresses go in brackets: "udp://[::1]:323"`)
		}
		port := DefaultPort
		if ps := u.Port(); ps != "" {
			p, err := strconv.Atoi(ps)
			if err != nil || p < 1 || p > 65535 {
				return bad(fmt.Sprintf("port %q is not 1..65535", ps), "chronyd's command port is 323 unless cmdport says otherwise")
			}
			port = p
		} else if strings.HasSuffix(u.Host, ":") {
			return bad("empty port", `drop the colon or give a port, e.g. "udp://127.0.0.1:323"`)
		}
		return Address{Network: "udp", Host: u.Hostname(), Port: port}, nil
	default:
		return bad(fmt.Sprintf("unknown scheme %q", u.Scheme), forms)
	}
}

func knownScheme(s string) bool {
	switch strings.ToLower(s) {
	case "unixgram", "unix", "udp", "udp4", "udp6":
		return true
	}
	return false
}

// withSlashes writes "unixgram:/tmp/x" or "udp:host" as the URL meant.
func withSlashes(scheme, rest string) string {
	rest = strings.TrimLeft(rest, "/")
	if strings.HasPrefix(strings.ToLower(scheme), "unix") {
		rest = "/" + rest
	}
	return scheme + "://" + rest
}
