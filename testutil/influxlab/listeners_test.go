package influxlab

import (
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// listeningAddrs lists the TCP sockets pid listens on and the UDP sockets
// it has bound, from /proc: the only way to see every listener, including
// ones the config does not mention.
func listeningAddrs(t *testing.T, pid int) []string {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Skipf("no /proc to inspect listeners: %v", err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join(fmt.Sprintf("/proc/%d/fd", pid), fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	var addrs []string
	for _, table := range []struct{ file, state string }{
		{"tcp", "0A"}, {"tcp6", "0A"}, // LISTEN
		{"udp", "07"}, {"udp6", "07"}, // unconnected
	} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table.file))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != table.state || !inodes[f[9]] {
				continue
			}
			addrs = append(addrs, table.file+" "+procAddr(t, f[1]))
		}
	}
	if len(addrs) == 0 {
		t.Fatal("found no listeners at all; the /proc parsing is broken")
	}
	for i, a := range addrs {
		addrs[i] = strings.SplitN(a, " ", 2)[1]
	}
	return addrs
}

// procAddr decodes /proc/net's HEXIP:HEXPORT, where the IP is stored as
// host-order 32-bit words.
func procAddr(t *testing.T, s string) string {
	ipHex, portHex, _ := strings.Cut(s, ":")
	raw, err := hex.DecodeString(ipHex)
	if err != nil || len(raw)%4 != 0 {
		t.Fatalf("bad /proc/net address %q", s)
	}
	ip := make(net.IP, len(raw))
	for i := 0; i < len(raw); i += 4 {
		ip[i], ip[i+1], ip[i+2], ip[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		t.Fatalf("bad /proc/net port %q", s)
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(int(port)))
}
