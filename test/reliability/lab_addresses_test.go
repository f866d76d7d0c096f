package reliability

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// addressCase is a misconfigured or unreachable address: what the user
// must see, and how fast (every one of these is refused by the kernel, so
// the answer must come well before the first attempt's timeout, let alone
// the bound).
type addressCase struct {
	name    string
	addr    string
	code    cmdmon.Code
	says    []string // substrings of the message besides the address
	instant bool     // must fail before the first timeout ends
}

func checkAddressCases(t *testing.T, cases []addressCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkAddressCase(t, tc) })
	}
}

// checkAddressCase runs on the calling goroutine, so that inside inNetns
// (where t.Run's new goroutine would be on another thread, in the host's
// namespace) the client's socket is made in the private namespace.
func checkAddressCase(t *testing.T, tc addressCase) {
	cfg := cmdmon.Config{Address: tc.addr, Timeout: 200 * time.Millisecond, Retries: fastRetries}
	if tc.instant {
		cfg.Timeout = timing.LongTimeout // room to prove it was not waited out
	}
	c := newClient(t, cfg)
	for i := 0; i < 2; i++ { // the second gather takes the same path: no state left behind
		g := gather(c)
		e := requireCode(t, g.err, tc.code)
		assert.Equal(t, cfg.Address, e.Address)
		assert.Contains(t, g.err.Error(), cfg.Address, "the message names the address")
		for _, s := range tc.says {
			assert.Contains(t, g.err.Error(), s)
		}
		assert.NotEmpty(t, e.Hint, "every failure says what to do")
		requireWithin(t, g.took, cfg)
		if tc.instant {
			timing.Before(t, g.took, cfg.Timeout, "refused by the kernel, no wait")
		}
		if i == 0 {
			t.Logf("%s: %s in %v: %v", tc.name, tc.code, g.took, g.err)
		}
	}
}

// TestLabWrongAddress: addresses next to a running chronyd that are not
// its own. Every case is service_unavailable naming the address, at once.
func TestLabWrongAddress(t *testing.T) {
	lab := startLab(t)
	dir := filepath.Dir(lab.SocketPath)
	notSocket := filepath.Join(t.TempDir(), "chronyd.sock")
	require.NoError(t, os.WriteFile(notSocket, nil, 0o666))
	closedPort := closedUDPPort(t)
	checkAddressCases(t, []addressCase{
		{name: "socket missing", addr: "unixgram://" + filepath.Join(dir, "nosuch.sock"),
			code: cmdmon.CodeUnavailable, says: []string{"connect: no such file or directory"}, instant: true},
		{name: "socket directory missing", addr: "unixgram://" + filepath.Join(dir, "nosuchdir", "chronyd.sock"),
			code: cmdmon.CodeUnavailable, says: []string{"cannot create the client socket under " + filepath.Join(dir, "nosuchdir") + ": no such file or directory"}, instant: true},
		{name: "path is not a socket", addr: "unixgram://" + notSocket,
			code: cmdmon.CodeUnavailable, instant: true},
		{name: "wrong udp port", addr: "udp://127.0.0.1:" + strconv.Itoa(closedPort),
			code: cmdmon.CodeUnavailable, says: []string{"connection refused"}, instant: true},
	})
	// The right addresses still work after all that.
	for _, tr := range transports {
		require.NoError(t, gather(answerClient(t, labURL(lab, tr))).err, tr)
	}
}

// TestUnreachableAddress: a host with no route to it (a network namespace
// with only loopback) fails at once with service_unavailable naming the
// address; an unroutable IPv6 address likewise.
func TestUnreachableAddress(t *testing.T) {
	inNetns(t, func() {
		for _, tc := range []addressCase{
			{name: "ipv4 no route", addr: "udp://192.0.2.1:323", code: cmdmon.CodeUnavailable, says: []string{"network is unreachable"}, instant: true},
			{name: "ipv6 no route", addr: "udp://[2001:db8::1]:323", code: cmdmon.CodeUnavailable, says: []string{"network is unreachable"}, instant: true},
		} {
			checkAddressCase(t, tc)
		}
	})
}

// TestRemoteNotInCmdallow: chronyd 4.3 drops, without an answer, commands
// from an address that is not localhost and not in cmdallow, even the
// tracking command that is open over UDP. The client sees timeout after
// every attempt, and the hint names cmdallow. With `cmdallow` for that
// address the same client works. chronyd answers STT_UNAUTH only to
// commands that are closed over UDP, which the tracking client never
// sends; TestFakeStatus covers UNAUTH (permission_denied naming cmdallow).
//
// The remote address is 127.0.0.2: in a private network namespace the
// local route to 127.0.0.1 is given source 127.0.0.2, so the client's
// datagrams reach chronyd (bound to 127.0.0.1) from a non-localhost
// address, without NAT and without touching the host's routes.
func TestRemoteNotInCmdallow(t *testing.T) {
	inNetns(t, func() {
		denied := startLab(t)
		allowed := startLab(t, "cmdallow 127.0.0.2")
		// The labs' own readiness probes run from 127.0.0.1, so the route
		// changes only once both are up.
		netnsRun(t, "ip", "route", "replace", "local", "127.0.0.1", "dev", "lo", "table", "local",
			"proto", "kernel", "scope", "host", "src", "127.0.0.2")

		cfg := cmdmon.Config{Address: denied.UDPURL(), Timeout: fastTimeout, Retries: fastRetries}
		g := gather(newClient(t, cfg))
		e := requireCode(t, g.err, cmdmon.CodeTimeout)
		assert.Contains(t, e.Hint, "cmdallow")
		assert.GreaterOrEqual(t, g.took, cfg.Bound())
		requireWithin(t, g.took, cfg)
		t.Logf("not in cmdallow: %s after %v: %v", e.Code, g.took, g.err)

		g = gather(answerClient(t, allowed.UDPURL()))
		require.NoError(t, g.err, "with cmdallow 127.0.0.2")
		t.Logf("with cmdallow: success in %v", g.took)
	})
}

// TestUnauthNamesCmdallow: a chronyd that refuses the command (STT_UNAUTH,
// or NOHOSTACCESS) is permission_denied, and the hint names cmdallow and
// the unix socket, on both transports.
func TestUnauthNamesCmdallow(t *testing.T) {
	for _, st := range []uint16{fakechronyd.StatusUnauth, fakechronyd.StatusNoHostAccess} {
		for name, srv := range fakes(t, func() fakechronyd.Handler { return fakechronyd.Status(st) }) {
			t.Run(name+"/"+strconv.Itoa(int(st)), func(t *testing.T) {
				g := gather(newClient(t, cmdmon.Config{Address: srv.URL(), Timeout: timing.LongTimeout, Retries: fastRetries}))
				e := requireCode(t, g.err, cmdmon.CodePermissionDenied)
				assert.Equal(t, st, e.Status)
				assert.Contains(t, e.Hint, "cmdallow")
				assert.Contains(t, e.Hint, "unix socket")
				timing.Before(t, g.took, timing.LongTimeout, "an answer, not a wait")
			})
		}
	}
}
