package reliability

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking/tracking"
	fc "github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// shortDir is a private directory with a short path: the client's socket
// chain (<dir>/telegraf-chrony.<pid>/<random>/sock) must fit in sun_path,
// which t.TempDir's test-named paths may not.
func shortDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "rel")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// fakes starts a fake chronyd on each transport, each with its own handler
// from mk (handlers such as DropFirst and Steps keep state).
func fakes(t testing.TB, mk func() fc.Handler) map[string]*fc.Server {
	t.Helper()
	return map[string]*fc.Server{
		"udp":      fc.StartUDP(t, mk()),
		"unixgram": fc.StartUnixgram(t, filepath.Join(shortDir(t), "chronyd.sock"), mk()),
	}
}

// How long a fault may take: an answer the client acts on at once, or the
// whole bound because nothing acceptable ever arrived.
const (
	instant = "instant"
	bound   = "bound"
)

type faultCase struct {
	name    string
	handler func() fc.Handler
	want    tracking.Code
	wait    string
	says    string // a substring of the error message
}

var good = fc.SyncedIPv4

func chronyd() fc.Handler { return fc.Chronyd(good()) }

func mutated(fs ...func([]byte) []byte) func() fc.Handler {
	return func() fc.Handler { return fc.Mutate(chronyd(), fc.Chain(fs...)) }
}

func withVersion(v uint8, status uint16) func() fc.Handler {
	return mutated(fc.Truncate(fc.ReplyHeaderLen), fc.Put8(fc.OffVersion, v), fc.Put16(fc.OffStatus, status), fc.Put16(fc.OffReply, fc.RpyNull))
}

// runFaults runs each case on both transports with cfg's waits: the fault
// gather must give the case's code within its timing, and the next gather,
// on the same client with chronyd behaving again, must succeed.
func runFaults(t *testing.T, cfg tracking.Config, cases []faultCase) map[string]*timings {
	seen := map[string]*timings{}
	for _, tc := range cases {
		for name, srv := range fakes(t, tc.handler) {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				cfg := cfg
				cfg.Address = srv.URL()
				c := newClient(t, cfg)
				g := gather(c)
				if tc.want == tracking.CodeSuccess {
					require.NoError(t, g.err)
				} else {
					e := requireCode(t, g.err, tc.want)
					assert.Equal(t, cfg.Address, e.Address)
					assert.Contains(t, g.err.Error(), tc.says)
				}
				// Timing by attempts sent, which scheduling cannot blur:
				// an answer acted on at once needs one request; a fault
				// that is never an answer uses every attempt and its wait.
				switch n := len(srv.Requests()); tc.wait {
				case instant:
					assert.Equal(t, 1, n, "acted on the first answer")
					timing.Within(t, g.took, cfg.Bound())
				case bound:
					assert.Equal(t, cfg.Retries+1, n, "every attempt sent")
					assert.GreaterOrEqual(t, g.took, cfg.Bound(), "waited out every attempt")
				}
				requireWithin(t, g.took, cfg)
				key := tc.name
				if seen[key] == nil {
					seen[key] = &timings{}
					t.Logf("%s in %v: %v", tc.want, g.took, g.err)
				}
				seen[key].add(g.took)

				srv.SetHandler(chronyd())
				require.NoError(t, gather(c).err, "the next gather is clean")
			})
		}
	}
	return seen
}

// TestFakeFaults: every way a reply can be wrong that a real chronyd cannot
// be made to produce. The header faults that make a reply not an answer
// (wrong sequence, command, version, packet type, reserved bytes) are
// discarded while waiting, as chronyc does, so they cost the whole bound
// and are then reported by what was wrong rather than as a bare timeout.
func TestFakeFaults(t *testing.T) {
	cfg := tracking.Config{Timeout: fastTimeout, Retries: fastRetries}
	cases := []faultCase{
		{"silence", fc.Silence, tracking.CodeTimeout, bound, "no reply after 3 attempt(s)"},
		{"stale before right", func() fc.Handler { return fc.Stale(chronyd()) }, tracking.CodeSuccess, instant, ""},
		{"duplicates", func() fc.Handler { return fc.Duplicate(chronyd()) }, tracking.CodeSuccess, instant, ""},
		{"wrong sequence", mutated(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[fc.OffSequence:], ^binary.BigEndian.Uint32(b[fc.OffSequence:]))
			return b
		}), tracking.CodeTimeout, bound, "stale or foreign datagram(s) discarded"},
		{"wrong command", mutated(fc.Put16(fc.OffCommand, 34)), tracking.CodeInvalidData, bound, "command 34"},
		{"packet type request", mutated(fc.Put8(fc.OffPktType, fc.PktTypeRequest)), tracking.CodeInvalidData, bound, "packet type 1"},
		{"reserved res1", mutated(fc.Put8(fc.OffRes1, 1)), tracking.CodeInvalidData, bound, "reserved 1/0"},
		{"reserved res2", mutated(fc.Put8(fc.OffRes2, 0x80)), tracking.CodeInvalidData, bound, "reserved 0/128"},
		{"version 5 success", mutated(fc.Put8(fc.OffVersion, 5)), tracking.CodeVersionMismatch, bound, "version 5"},
		{"version 7 success", mutated(fc.Put8(fc.OffVersion, 7)), tracking.CodeVersionMismatch, bound, "version 7"},
		{"version 5 BADPKTVERSION", withVersion(5, fc.StatusBadPktVersion), tracking.CodeVersionMismatch, instant, "version 5"},
		{"version 3 BADPKTVERSION", withVersion(3, fc.StatusBadPktVersion), tracking.CodeVersionMismatch, bound, "version 3"},
		{"reply code not tracking", mutated(fc.Put16(fc.OffReply, 6)), tracking.CodeInvalidData, instant, "reply type is 6"},
		{"success header only", mutated(fc.Truncate(fc.ReplyHeaderLen), fc.Put16(fc.OffReply, fc.RpyNull)), tracking.CodeInvalidData, instant, "reply type is 1"},
		{"oversized by 1", mutated(fc.Append(0)), tracking.CodeInvalidData, instant, "105 bytes"},
		{"oversized 64 KiB", mutated(fc.Append(make([]byte, 60000)...)), tracking.CodeInvalidData, instant, "want 104"},
		{"oversized status reply", mutated(fc.Truncate(fc.ReplyHeaderLen), fc.Put16(fc.OffStatus, fc.StatusFailed), fc.Append(make([]byte, 100)...)), tracking.CodeServerError, instant, "FAILED"},
		{"stratum 17", mutated(fc.Put16(fc.OffStratum, 17)), tracking.CodeInvalidData, instant, "stratum"},
		{"leap 4", mutated(fc.Put16(fc.OffLeap, 4)), tracking.CodeInvalidData, instant, "leap_status"},
		{"family 4", mutated(fc.Put16(fc.OffFamily, 4)), tracking.CodeInvalidData, instant, "family"},
		{"ref_time nsec 1e9", mutated(fc.Put32(fc.OffRefTime+8, 1e9)), tracking.CodeInvalidData, instant, "ref_time"},
		{"ref_time an hour ahead", mutated(fc.Put32(fc.OffRefTime+4, uint32(time.Now().Add(time.Hour).Unix()))), tracking.CodeInvalidData, instant, "ref_time"},
		{"negative root delay", mutated(fc.Put32(fc.OffRootDelay, fc.EncodeFloat(-1))), tracking.CodeInvalidData, instant, "root_delay"},
	}
	for name, tm := range runFaults(t, cfg, cases) {
		t.Logf("timing %-26s %v..%v (n=%d, bound %v)", name, tm.min, tm.max, tm.n, cfg.Bound())
	}
}

// TestFakeDelayedLateReply: the reply to the first attempt arrives just
// after its wait ended, while the client is waiting for the second
// attempt's reply. The first call takes the second attempt's answer; the
// late reply then sits in the socket and the next call must discard it
// (its sequence is old) and take its own. The three replies differ in
// stratum, so taking the wrong one shows.
func TestFakeDelayedLateReply(t *testing.T) {
	late, second, third := fc.LocalReference(5), fc.SyncedIPv6(), fc.Refclock()
	for name, srv := range fakes(t, func() fc.Handler {
		return fc.Steps(fc.Delayed(fastTimeout+15*time.Millisecond, fc.Chronyd(late)), fc.Chronyd(second), fc.Chronyd(third))
	}) {
		t.Run(name, func(t *testing.T) {
			c := fastClient(t, srv.URL())
			g := gather(c)
			require.NoError(t, g.err)
			assert.Equal(t, second.Stratum, g.r.Stratum, "took the second attempt's reply")
			assert.GreaterOrEqual(t, g.took, fastTimeout)
			time.Sleep(3 * fastTimeout) // the late reply lands in the open socket
			g = gather(c)
			require.NoError(t, g.err)
			assert.Equal(t, third.Stratum, g.r.Stratum, "the late reply to an earlier request was not taken")
			assert.Len(t, srv.Requests(), 3)
		})
	}
}

// TestFakeDelayJustOverTimeout: with no retry left, a reply just after the
// wait is a timeout within the bound; it then arrives to a closed socket,
// and the next gather is clean.
func TestFakeDelayJustOverTimeout(t *testing.T) {
	cfg := tracking.Config{Timeout: fastTimeout, Retries: 0}
	runFaults(t, cfg, []faultCase{{"delay timeout+10ms",
		func() fc.Handler { return fc.Delayed(fastTimeout+10*time.Millisecond, chronyd()) },
		tracking.CodeTimeout, bound, "no reply after 1 attempt(s)"}})
}

// TestFakeTruncated: a tracking reply cut at every length from 0 to 103.
// Below 20 bytes the sequence cannot be read, so the datagram cannot be
// an answer and is discarded: incomplete_reply after the whole bound.
// From 20 bytes it carries this request's sequence: incomplete_reply at
// once, naming what is missing.
func TestFakeTruncated(t *testing.T) {
	cfg := tracking.Config{Timeout: 20 * time.Millisecond, Retries: 1}
	var cases []faultCase
	for n := 0; n < fc.TrackingLen; n++ {
		wait, says := instant, "missing"
		switch {
		case n < fc.OffSequence+4:
			wait, says = bound, fmt.Sprintf("received a %d-byte datagram", n)
		case n < fc.ReplyHeaderLen:
			says = "shorter than the 28-byte reply header"
		}
		cases = append(cases, faultCase{fmt.Sprintf("%03d bytes", n), mutated(fc.Truncate(n)), tracking.CodeIncompleteReply, wait, says})
	}
	runFaults(t, cfg, cases)
}

// TestFakeStatus: each STT status chronyd can answer with, including the
// unused 20 and values past chrony's table. UNAUTH and NOHOSTACCESS are
// permission_denied, BADPKTVERSION version_mismatch, the rest
// chronyd_error with the status name; all at once, with Status set.
func TestFakeStatus(t *testing.T) {
	var cases []faultCase
	for st := uint16(1); st <= 23; st++ {
		want, says := tracking.CodeServerError, "status"
		switch st {
		case fc.StatusUnauth, fc.StatusNoHostAccess:
			want, says = tracking.CodePermissionDenied, "cmdallow"
		case fc.StatusBadPktVersion:
			want, says = tracking.CodeVersionMismatch, "BADPKTVERSION"
		case 21:
			says = "INVALIDNAME"
		case 20, 22, 23:
			says = "UNKNOWN"
		}
		st := st
		cases = append(cases, faultCase{fmt.Sprintf("STT %02d", st), func() fc.Handler { return fc.Status(st) }, want, instant, says})
	}
	runFaults(t, tracking.Config{Timeout: fastTimeout, Retries: fastRetries}, cases)
}

// TestFakePacketLoss: the first N attempts get no answer. While attempts
// remain the call succeeds, after waiting each lost attempt's timeout;
// when all are lost it is a timeout. Every attempt has its own sequence.
func TestFakePacketLoss(t *testing.T) {
	cfg := tracking.Config{Timeout: 30 * time.Millisecond, Retries: 3}
	for drop := 0; drop <= cfg.Retries+1; drop++ {
		for name, srv := range fakes(t, func() fc.Handler { return fc.DropFirst(drop, chronyd()) }) {
			t.Run(fmt.Sprintf("drop %d/%s", drop, name), func(t *testing.T) {
				cfg := cfg
				cfg.Address = srv.URL()
				g := gather(newClient(t, cfg))
				waited := cfg.Timeout * time.Duration(1<<drop-1)
				reqs := srv.Requests()
				if drop > cfg.Retries {
					requireCode(t, g.err, tracking.CodeTimeout)
					assert.Len(t, reqs, cfg.Retries+1)
				} else {
					require.NoError(t, g.err)
					assert.Len(t, reqs, drop+1)
				}
				assert.GreaterOrEqual(t, g.took, min(waited, cfg.Bound()))
				requireWithin(t, g.took, cfg)
				seqs := map[uint32]bool{}
				for i, r := range reqs {
					assert.EqualValues(t, i, r.Attempt)
					seqs[r.Sequence] = true
				}
				assert.Len(t, seqs, len(reqs), "a new sequence per attempt")
			})
		}
	}
}

// TestFakeGarbage: seeded random datagrams, half of them given the
// request's sequence so they get past the first check. Every one ends in
// a report or a typed *tracking.Error within the bound, and the client
// keeps working. The seed is fixed so a failure reproduces. The bound
// covers the re-dial after each failure too (one deadline per call): at
// 10 ms a loaded make test spent it all on creating the unix client
// socket and sent nothing (the bound ran out before the first request).
func TestFakeGarbage(t *testing.T) {
	const count = 150
	rng := rand.New(rand.NewPCG(4, 2026))
	cfg := tracking.Config{Timeout: 50 * time.Millisecond, Retries: 0}
	srvs := fakes(t, fc.Silence)
	codes := map[tracking.Code]int{}
	for i := 0; i < count; i++ {
		pkt := make([]byte, rng.IntN(2*fc.TrackingLen+1))
		for j := range pkt {
			pkt[j] = byte(rng.Uint32())
		}
		if rng.IntN(2) == 0 && len(pkt) >= 8 {
			// Start from a plausible header so the body checks are reached.
			copy(pkt, []byte{fc.ProtoVersion, fc.PktTypeReply, 0, 0, 0, fc.ReqTracking, 0, fc.RpyTracking})
		}
		ownSeq := rng.IntN(2) == 0
		h := func(req fc.Request) []fc.Packet {
			p := append([]byte(nil), pkt...)
			if ownSeq && len(p) >= fc.OffSequence+4 {
				binary.BigEndian.PutUint32(p[fc.OffSequence:], req.Sequence)
			}
			return []fc.Packet{{Data: p}}
		}
		for name, srv := range srvs {
			srv.SetHandler(h)
			cfg := cfg
			cfg.Address = srv.URL()
			c, err := tracking.New(cfg)
			require.NoError(t, err)
			g := gather(c)
			codes[tracking.CodeOf(g.err)]++
			if g.err != nil {
				requireCode(t, g.err, tracking.CodeOf(g.err))
			}
			requireWithin(t, g.took, cfg)
			srv.SetHandler(chronyd())
			require.NoError(t, gather(c).err, "%s: clean after garbage %d (%x)", name, i, pkt)
			c.Close()
		}
	}
	t.Logf("%d garbage datagrams per transport, outcomes: %v", count, codes)
}
