// Package procnet reads Linux's socket tables under /proc: the UDP, TCP and
// unix sockets bound in a network namespace, and the sockets a process holds.
// --diagnose uses it to say who holds a chronyd command address, the chrony
// lab to know that its chronyd has bound its ports.
package procnet

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Socket is one row of /proc/net/udp, udp6, tcp or tcp6.
type Socket struct {
	Local     netip.AddrPort
	Connected bool  // it has a remote address
	State     uint8 // the kernel's TCP state number: Listen, Unconnected, ...
	UID       int
	Inode     string // "socket:[N]", as a process's descriptors name it
}

// The two states a listener is in: a listening TCP socket (TCP_LISTEN), and
// a bound UDP socket with no remote address (TCP_CLOSE to the kernel).
const (
	Listen      = 10
	Unconnected = 7
)

// UDP reads dir/net/udp and dir/net/udp6, where dir is /proc (this
// process's network namespace) or /proc/PID (that process's). A missing
// udp6 table (IPv6 disabled) is skipped; any other failure is returned
// with the sockets read so far.
func UDP(dir string) ([]Socket, error) { return table(dir, "udp") }

// TCP reads dir/net/tcp and dir/net/tcp6, as UDP does the UDP tables.
func TCP(dir string) ([]Socket, error) { return table(dir, "tcp") }

func table(dir, proto string) ([]Socket, error) {
	var out []Socket
	for _, name := range []string{proto, proto + "6"} {
		b, err := os.ReadFile(filepath.Join(dir, "net", name))
		if name == proto+"6" && errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return out, err
		}
		lines := strings.Split(string(b), "\n")
		for _, line := range lines[1:] {
			f := strings.Fields(line)
			if len(f) < 10 {
				continue
			}
			local, err1 := ParseAddr(f[1])
			remote, err2 := ParseAddr(f[2])
			state, err3 := strconv.ParseUint(f[3], 16, 8)
			if err1 != nil || err2 != nil || err3 != nil {
				continue
			}
			uid, _ := strconv.Atoi(f[7])
			out = append(out, Socket{Local: local, Connected: remote.Port() != 0, State: uint8(state), UID: uid, Inode: "socket:[" + f[9] + "]"})
		}
	}
	return out, nil
}

// ParseAddr reads "0100007F:0143" (IPv4) or 32 hex digits and a port
// (IPv6); the address words are in the kernel's native byte order.
func ParseAddr(s string) (netip.AddrPort, error) {
	a, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("no port in %q", s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	raw, err := hex.DecodeString(a)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", a)
	}
	var ip netip.Addr
	if len(raw) == 4 {
		var b [4]byte
		binary.NativeEndian.PutUint32(b[:], binary.BigEndian.Uint32(raw))
		ip = netip.AddrFrom4(b)
	} else {
		var b [16]byte
		for i := 0; i < 4; i++ {
			binary.NativeEndian.PutUint32(b[4*i:], binary.BigEndian.Uint32(raw[4*i:]))
		}
		ip = netip.AddrFrom16(b).Unmap()
	}
	return netip.AddrPortFrom(ip, uint16(port)), nil
}

// Unix maps "socket:[N]" to the path of each unix socket bound to one in
// dir/net/unix (dir as for UDP); empty when the table cannot be read.
func Unix(dir string) map[string]string {
	m := map[string]string{}
	b, err := os.ReadFile(filepath.Join(dir, "net", "unix"))
	if err != nil {
		return m
	}
	lines := strings.Split(string(b), "\n")
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) >= 8 && strings.HasPrefix(f[7], "/") {
			m["socket:["+f[6]+"]"] = f[7]
		}
	}
	return m
}

// SocketInodes lists the "socket:[N]" targets of the descriptors in fdDir
// (/proc/PID/fd); nil when they cannot be read (an exited process, or
// another user's without root).
func SocketInodes(fdDir string) map[string]bool {
	ents, err := os.ReadDir(fdDir)
	if err != nil {
		return nil
	}
	m := map[string]bool{}
	for _, e := range ents {
		if t, err := os.Readlink(filepath.Join(fdDir, e.Name())); err == nil && strings.HasPrefix(t, "socket:[") {
			m[t] = true
		}
	}
	return m
}
