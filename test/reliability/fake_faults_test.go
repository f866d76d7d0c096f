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

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
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
	want    cmdmon.Code
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

// fakeRun is one client against its own fake chronyd: run on a goroutine
// of its own, alongside the others (concurrently), and judged afterwards
// in a subtest.
type fakeRun struct {
	name string
	srv  *fc.Server
	cfg  cmdmon.Config

	err   error        // making the client, or syncing with the fake
	g     gathered     // the gather the fault is served to
	reqs  []fc.Request // the requests it sent
	clean error        // the next gather's on the same client, chronyd behaving again
}

// run gathers once; then, with clean, the fake answers as chronyd does and
// the client gathers again.
func (r *fakeRun) run(clean bool) {
	c, err := cmdmon.New(r.cfg)
	if err != nil {
		r.err = err
		return
	}
	defer c.Close()
	r.g = gather(c)
	// The call has sent its requests; the fake may not have read them all.
	if r.err = r.srv.Sync(); r.err != nil {
		return
	}
	r.reqs = r.srv.Requests()
	if clean {
		r.srv.SetHandler(chronyd())
		r.clean = gather(c).err
	}
}

// runAll runs every run at once: their waits overlap instead of adding up.
func runAll[R interface{ run(bool) }](runs []R, clean bool) {
	concurrently(len(runs), func(i int) { runs[i].run(clean) })
}

// runFaults runs each case on both transports: the fault gather must give
// the case's code within its timing, and the next gather, on the same
// client with chronyd behaving again, must succeed. Timing is judged by
// the attempts sent, which a late machine cannot blur: an answer acted on
// at once needs one request, and its client waits timing.LongTimeout so
// that no lateness makes it two; a fault that is never an answer uses
// every attempt and its wait, with the timeouts of timing.FirstTimeout so
// that every attempt is still sent on a late machine and the clean gather
// after it still has an attempt of timing.ReplyWait. The cases run at
// once, so a matrix costs about one bound, not one per case.
func runFaults(t *testing.T, retries int, cases []faultCase) map[string]*timings {
	type faultRun struct {
		*fakeRun
		tc faultCase
	}
	var runs []faultRun
	for _, tc := range cases {
		for name, srv := range fakes(t, tc.handler) {
			cfg := cmdmon.Config{Address: srv.URL(), Timeout: timing.LongTimeout, Retries: retries}
			if tc.wait == bound {
				cfg.Timeout = timing.FirstTimeout(retries)
			}
			runs = append(runs, faultRun{&fakeRun{name: tc.name + "/" + name, srv: srv, cfg: cfg}, tc})
		}
	}
	runAll(runs, true)
	seen := map[string]*timings{}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			require.NoError(t, r.err)
			g, cfg, tc := r.g, r.cfg, r.tc
			if tc.want == cmdmon.CodeSuccess {
				require.NoError(t, g.err)
			} else {
				e := requireCode(t, g.err, tc.want)
				assert.Equal(t, cfg.Address, e.Address)
				assert.Contains(t, g.err.Error(), tc.says)
			}
			switch tc.wait {
			case instant:
				assert.Len(t, r.reqs, 1, "acted on the first answer")
				timing.Before(t, g.took, cfg.Timeout, "an answer, not a wait")
			case bound:
				assert.Len(t, r.reqs, cfg.Retries+1, "every attempt sent")
				assert.GreaterOrEqual(t, g.took, cfg.Bound(), "waited out every attempt")
			}
			requireWithin(t, g.took, cfg)
			if seen[tc.name] == nil {
				seen[tc.name] = &timings{}
				t.Logf("%s in %v: %v", tc.want, g.took, g.err)
			}
			seen[tc.name].add(g.took)
			require.NoError(t, r.clean, "the next gather is clean")
		})
	}
	return seen
}

// TestFakeFaults: every way a reply can be wrong that a real chronyd cannot
// be made to produce. The header faults that make a reply not an answer
// (wrong sequence, command, version, packet type, reserved bytes) are
// discarded while waiting, as chronyc does, so they cost the whole bound
// and are then reported by what was wrong rather than as a bare timeout.
func TestFakeFaults(t *testing.T) {
	cases := []faultCase{
		{"silence", fc.Silence, cmdmon.CodeTimeout, bound, "no reply after 3 attempt(s)"},
		{"stale before right", func() fc.Handler { return fc.Stale(chronyd()) }, cmdmon.CodeSuccess, instant, ""},
		{"duplicates", func() fc.Handler { return fc.Duplicate(chronyd()) }, cmdmon.CodeSuccess, instant, ""},
		{"wrong sequence", mutated(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[fc.OffSequence:], ^binary.BigEndian.Uint32(b[fc.OffSequence:]))
			return b
		}), cmdmon.CodeTimeout, bound, "stale or foreign datagram(s) discarded"},
		{"wrong command", mutated(fc.Put16(fc.OffCommand, 34)), cmdmon.CodeInvalidData, bound, "command 34"},
		{"packet type request", mutated(fc.Put8(fc.OffPktType, fc.PktTypeRequest)), cmdmon.CodeInvalidData, bound, "packet type 1"},
		{"reserved res1", mutated(fc.Put8(fc.OffRes1, 1)), cmdmon.CodeInvalidData, bound, "reserved 1/0"},
		{"reserved res2", mutated(fc.Put8(fc.OffRes2, 0x80)), cmdmon.CodeInvalidData, bound, "reserved 0/128"},
		{"version 5 success", mutated(fc.Put8(fc.OffVersion, 5)), cmdmon.CodeVersionMismatch, bound, "version 5"},
		{"version 7 success", mutated(fc.Put8(fc.OffVersion, 7)), cmdmon.CodeVersionMismatch, bound, "version 7"},
		{"version 5 BADPKTVERSION", withVersion(5, fc.StatusBadPktVersion), cmdmon.CodeVersionMismatch, instant, "version 5"},
		{"version 3 BADPKTVERSION", withVersion(3, fc.StatusBadPktVersion), cmdmon.CodeVersionMismatch, bound, "version 3"},
		{"reply code not tracking", mutated(fc.Put16(fc.OffReply, 6)), cmdmon.CodeInvalidData, instant, "reply type is 6"},
		{"success header only", mutated(fc.Truncate(fc.ReplyHeaderLen), fc.Put16(fc.OffReply, fc.RpyNull)), cmdmon.CodeInvalidData, instant, "reply type is 1"},
		{"oversized by 1", mutated(fc.Append(0)), cmdmon.CodeInvalidData, instant, "105 bytes"},
		{"oversized 64 KiB", mutated(fc.Append(make([]byte, 60000)...)), cmdmon.CodeInvalidData, instant, "want 104"},
		{"oversized status reply", mutated(fc.Truncate(fc.ReplyHeaderLen), fc.Put16(fc.OffStatus, fc.StatusFailed), fc.Append(make([]byte, 100)...)), cmdmon.CodeServerError, instant, "FAILED"},
		{"stratum 17", mutated(fc.Put16(fc.OffStratum, 17)), cmdmon.CodeInvalidData, instant, "stratum"},
		{"leap 4", mutated(fc.Put16(fc.OffLeap, 4)), cmdmon.CodeInvalidData, instant, "leap_status"},
		{"family 4", mutated(fc.Put16(fc.OffFamily, 4)), cmdmon.CodeInvalidData, instant, "family"},
		{"ref_time nsec 1e9", mutated(fc.Put32(fc.OffRefTime+8, 1e9)), cmdmon.CodeInvalidData, instant, "ref_time"},
		{"ref_time an hour ahead", mutated(fc.Put32(fc.OffRefTime+4, uint32(time.Now().Add(time.Hour).Unix()))), cmdmon.CodeInvalidData, instant, "ref_time"},
		{"negative root delay", mutated(fc.Put32(fc.OffRootDelay, fc.EncodeFloat(-1))), cmdmon.CodeInvalidData, instant, "root_delay"},
	}
	for name, tm := range runFaults(t, fastRetries, cases) {
		t.Logf("timing %-26s %v..%v (n=%d)", name, tm.min, tm.max, tm.n)
	}
	t.Logf("bound of the cases that wait out every attempt: %v", cmdmon.Config{Timeout: timing.FirstTimeout(fastRetries), Retries: fastRetries}.Bound())
}

// TestFakeDelayedLateReply: the reply to the first attempt comes after its
// wait ended: the fake holds it back and sends it right behind the second
// attempt's answer, so packet order, not a race of delays, decides what
// the client reads. The first call takes the second attempt's answer; the
// late reply then sits in the socket, and the next call must discard it
// (its sequence is old) and take its own. The three replies differ in
// stratum, so taking the wrong one shows. The first attempt is lost and
// the next call's first attempt answered, so every attempt waits at least
// timing.ReplyWait.
func TestFakeDelayedLateReply(t *testing.T) {
	late, second, third := fc.LocalReference(5), fc.SyncedIPv6(), fc.Refclock()
	for name, srv := range fakes(t, func() fc.Handler {
		var first fc.Request
		return fc.Steps(
			func(req fc.Request) []fc.Packet { first = req; return nil },
			func(req fc.Request) []fc.Packet {
				return []fc.Packet{{Data: fc.TrackingReply(req, second)}, {Data: fc.TrackingReply(first, late)}}
			},
			fc.Chronyd(third))
	}) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := cmdmon.Config{Address: srv.URL(), Timeout: timing.FirstTimeout(0), Retries: fastRetries}
			c := newClient(t, cfg)
			g := gather(c)
			require.NoError(t, g.err)
			assert.Equal(t, second.Stratum, g.r.Stratum, "took the second attempt's reply")
			assert.GreaterOrEqual(t, g.took, cfg.Timeout, "waited out the first attempt")
			g = gather(c)
			require.NoError(t, g.err)
			assert.Equal(t, third.Stratum, g.r.Stratum, "the late reply to an earlier request was not taken")
			assert.Len(t, srv.Requests(), 3)
		})
	}
}

// TestFakeReplyAfterTimeout: with no retry left, a reply that comes after
// the wait is a timeout within the bound, and the client drops its socket:
// the reply, sent once the call has returned, finds no socket on unixgram
// (a closed port on UDP), and the next gather takes its own answer, not
// that one. The attempts are counted, so the wait is timing.ReplyWait.
func TestFakeReplyAfterTimeout(t *testing.T) {
	late := fc.LocalReference(5)
	for name, srv := range fakes(t, func() fc.Handler { return fc.Steps(fc.Silence(), chronyd()) }) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := cmdmon.Config{Address: srv.URL(), Timeout: timing.FirstTimeout(0), Retries: 0}
			c := newClient(t, cfg)
			g := gather(c)
			requireCode(t, g.err, cmdmon.CodeTimeout)
			assert.Contains(t, g.err.Error(), "no reply after 1 attempt(s)")
			assert.GreaterOrEqual(t, g.took, cfg.Bound())
			requireWithin(t, g.took, cfg)
			require.NoError(t, srv.Sync())
			reqs := srv.Requests()
			require.Len(t, reqs, 1)

			err := srv.Send(reqs[0], fc.TrackingReply(reqs[0], late))
			if name == "unixgram" {
				assert.ErrorIs(t, err, os.ErrNotExist, "the client's socket is gone")
			} else {
				assert.NoError(t, err)
			}
			g = gather(c)
			require.NoError(t, g.err, "the next gather is clean")
			assert.Equal(t, good().Stratum, g.r.Stratum, "the late reply was not taken")
			assert.Len(t, srv.Requests(), 2)
		})
	}
}

// TestFakeTruncated: a tracking reply cut at every length from 0 to 103.
// Below 20 bytes the sequence cannot be read, so the datagram cannot be
// an answer and is discarded: incomplete_reply after the whole bound.
// From 20 bytes it carries this request's sequence: incomplete_reply at
// once, naming what is missing.
func TestFakeTruncated(t *testing.T) {
	var cases []faultCase
	for n := 0; n < fc.TrackingLen; n++ {
		wait, says := instant, "missing"
		switch {
		case n < fc.OffSequence+4:
			wait, says = bound, fmt.Sprintf("received a %d-byte datagram", n)
		case n < fc.ReplyHeaderLen:
			says = "shorter than the 28-byte reply header"
		}
		cases = append(cases, faultCase{fmt.Sprintf("%03d bytes", n), mutated(fc.Truncate(n)), cmdmon.CodeIncompleteReply, wait, says})
	}
	runFaults(t, 1, cases)
}

// TestFakeStatus: each STT status chronyd can answer with, including the
// unused 20 and values past chrony's table. UNAUTH and NOHOSTACCESS are
// permission_denied, BADPKTVERSION version_mismatch, the rest
// chronyd_error with the status name; all at once, with Status set.
func TestFakeStatus(t *testing.T) {
	var cases []faultCase
	for st := uint16(1); st <= 23; st++ {
		want, says := cmdmon.CodeServerError, "status"
		switch st {
		case fc.StatusUnauth, fc.StatusNoHostAccess:
			want, says = cmdmon.CodePermissionDenied, "cmdallow"
		case fc.StatusBadPktVersion:
			want, says = cmdmon.CodeVersionMismatch, "BADPKTVERSION"
		case 21:
			says = "INVALIDNAME"
		case 20, 22, 23:
			says = "UNKNOWN"
		}
		st := st
		cases = append(cases, faultCase{fmt.Sprintf("STT %02d", st), func() fc.Handler { return fc.Status(st) }, want, instant, says})
	}
	runFaults(t, fastRetries, cases)
}

// TestFakePacketLoss: the first N attempts get no answer. While attempts
// remain the call succeeds, after waiting each lost attempt's timeout;
// when all are lost it is a timeout. Every attempt has its own sequence.
// Attempt N is answered (or, all lost, counted), so it waits
// timing.ReplyWait; the cases run at once.
func TestFakePacketLoss(t *testing.T) {
	const retries = 3
	type lossRun struct {
		*fakeRun
		drop int
	}
	var runs []lossRun
	for drop := 0; drop <= retries+1; drop++ {
		for name, srv := range fakes(t, func() fc.Handler { return fc.DropFirst(drop, chronyd()) }) {
			cfg := cmdmon.Config{Address: srv.URL(), Timeout: timing.FirstTimeout(min(drop, retries)), Retries: retries}
			runs = append(runs, lossRun{&fakeRun{name: fmt.Sprintf("drop %d/%s", drop, name), srv: srv, cfg: cfg}, drop})
		}
	}
	runAll(runs, false)
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			require.NoError(t, r.err)
			cfg, g, reqs := r.cfg, r.g, r.reqs
			waited := cfg.Timeout * time.Duration(1<<r.drop-1)
			if r.drop > cfg.Retries {
				requireCode(t, g.err, cmdmon.CodeTimeout)
				assert.Len(t, reqs, cfg.Retries+1)
			} else {
				require.NoError(t, g.err)
				assert.Len(t, reqs, r.drop+1)
			}
			assert.GreaterOrEqual(t, g.took, min(waited, cfg.Bound()))
			requireWithin(t, g.took, cfg)
			seqs := map[uint32]bool{}
			for i, q := range reqs {
				assert.EqualValues(t, i, q.Attempt)
				seqs[q.Sequence] = true
			}
			assert.Len(t, seqs, len(reqs), "a new sequence per attempt")
		})
	}
}

// TestFakeGarbage: seeded random datagrams, half of them given the
// request's sequence so they get past the first check. Every one ends in
// a report or a typed *cmdmon.Error within the bound, and the client
// keeps working: the next gather on it, against a healthy chronyd, is
// clean. The seed is fixed so a failure reproduces. A datagram that is
// discarded costs the whole wait and one that is taken none, and the
// clean gather must be answered, so the one attempt waits
// timing.ReplyWait; each datagram has its own fake and client, and they
// all run at once.
func TestFakeGarbage(t *testing.T) {
	const count = 150
	rng := rand.New(rand.NewPCG(4, 2026))
	type garbageRun struct {
		*fakeRun
		pkt []byte
	}
	var runs []garbageRun
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
		for name, srv := range fakes(t, func() fc.Handler { return h }) {
			cfg := cmdmon.Config{Address: srv.URL(), Timeout: timing.FirstTimeout(0), Retries: 0}
			runs = append(runs, garbageRun{&fakeRun{name: fmt.Sprintf("%s %d", name, i), srv: srv, cfg: cfg}, pkt})
		}
	}
	runAll(runs, true)
	codes := map[cmdmon.Code]int{}
	for _, r := range runs {
		require.NoError(t, r.err)
		codes[cmdmon.CodeOf(r.g.err)]++
		if r.g.err != nil {
			requireCode(t, r.g.err, cmdmon.CodeOf(r.g.err))
		}
		requireWithin(t, r.g.took, r.cfg)
		require.NoError(t, r.clean, "%s: clean after garbage (%x)", r.name, r.pkt)
	}
	t.Logf("%d garbage datagrams per transport, outcomes: %v", count, codes)
}
