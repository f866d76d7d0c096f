package procnet

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAddr(t *testing.T) {
	// /proc/net/udp on little-endian x86: 127.0.0.1:323.
	ap, err := ParseAddr("0100007F:0143")
	require.NoError(t, err)
	if ap != netip.MustParseAddrPort("127.0.0.1:323") && ap != netip.MustParseAddrPort("1.0.0.127:323") {
		t.Fatalf("got %v", ap)
	}
	ap, err = ParseAddr("00000000000000000000000001000000:0143")
	require.NoError(t, err)
	assert.Equal(t, uint16(323), ap.Port())
	for _, bad := range []string{"zz:1", "0100007F", "0100007F:zz", "01007F:0143"} {
		_, err = ParseAddr(bad)
		assert.Error(t, err, bad)
	}
}

// The tables of this very process: a socket it binds is listed with its
// address, uid and inode, and its descriptors name that inode.
func TestOwnSockets(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc socket tables are Linux's")
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer c.Close()
	addr := c.LocalAddr().(*net.UDPAddr).AddrPort()
	want := netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	u, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(t.TempDir(), "s.sock"), Net: "unixgram"})
	require.NoError(t, err)
	defer u.Close()

	self := fmt.Sprintf("/proc/%d", os.Getpid())
	inodes := SocketInodes(filepath.Join(self, "fd"))
	socks, err := UDP("/proc")
	require.NoError(t, err)
	var found *Socket
	for i := range socks {
		if socks[i].Local == want {
			found = &socks[i]
		}
	}
	require.NotNil(t, found, "127.0.0.1:%d in /proc/net/udp", want.Port())
	assert.False(t, found.Connected)
	assert.Equal(t, uint8(Unconnected), found.State)
	assert.Equal(t, os.Geteuid(), found.UID)
	assert.True(t, inodes[found.Inode], "our descriptors hold %s", found.Inode)

	paths := Unix(self)
	var names []string
	for inode, p := range paths {
		if p == u.LocalAddr().String() {
			assert.True(t, inodes[inode])
			names = append(names, p)
		}
	}
	assert.Len(t, names, 1)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	tcp, err := TCP(self)
	require.NoError(t, err)
	held := SocketInodes(filepath.Join(self, "fd"))
	listening := false
	for _, s := range tcp {
		listening = listening || (s.Local.String() == l.Addr().String() && s.State == Listen && held[s.Inode])
	}
	assert.True(t, listening, "%v listening in /proc/net/tcp, on a descriptor of ours", l.Addr())

	_, err = UDP(filepath.Join(t.TempDir(), "no-proc"))
	assert.Error(t, err)
	assert.Nil(t, SocketInodes(filepath.Join(t.TempDir(), "no-fd")))
}
