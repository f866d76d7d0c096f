package influxlab

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/telegraf-chrony/telegraf-chrony/internal/procnet"
)

// listeningAddrs lists the TCP sockets pid listens on and the UDP sockets
// it has bound, from /proc: the only way to see every listener, including
// ones the config does not mention.
func listeningAddrs(t *testing.T, pid int) []string {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d", pid)
	held := procnet.SocketInodes(filepath.Join(dir, "fd"))
	if held == nil {
		t.Skipf("no /proc to inspect the listeners of pid %d", pid)
	}
	tcp, err := procnet.TCP(dir)
	if err != nil {
		t.Fatal(err)
	}
	udp, err := procnet.UDP(dir)
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for _, table := range []struct {
		socks []procnet.Socket
		state uint8
	}{{tcp, procnet.Listen}, {udp, procnet.Unconnected}} {
		for _, s := range table.socks {
			if held[s.Inode] && s.State == table.state {
				addrs = append(addrs, s.Local.String())
			}
		}
	}
	if len(addrs) == 0 {
		t.Fatal("found no listeners at all; the /proc parsing is broken")
	}
	return addrs
}
