package reliability

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	fc "github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// fuzzSeeds are the starting points of FuzzReplyOverSocket, also written to
// testdata/fuzz/FuzzReplyOverSocket by TestWriteFuzzCorpus: a correct reply
// of each kind and one of each fault the fault tests script.
func fuzzSeeds() [][]byte {
	req := fc.Request{Version: fc.ProtoVersion, PktType: fc.PktTypeRequest, Command: fc.ReqTracking}
	good := fc.TrackingReply(req, fc.Tracking{RefID: 0x7F7F0101, Stratum: 8, RefTime: time.Unix(1700000000, 5), RootDispersion: 0.001})
	mut := func(f func([]byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	seeds := [][]byte{
		good,
		fc.TrackingReply(req, fc.Unsynchronised()),
		fc.TrackingReply(req, fc.Tracking{RefID: 0x47505300, Stratum: 1, RefTime: time.Unix(1700000000, 0)}),
		fc.TrackingReply(req, fc.Tracking{RefID: 0xC0000211, Addr: mustAddr("192.0.2.17"), Stratum: 3, RefTime: time.Unix(1700000000, 0)}),
		fc.TrackingReply(req, fc.Tracking{RefID: 1, Addr: mustAddr("2001:db8::1"), Stratum: 2, RefTime: time.Unix(1700000000, 0)}),
		fc.StatusReply(req, fc.StatusUnauth),
		fc.StatusReply(req, fc.StatusBadPktVersion),
		fc.StatusReply(req, fc.StatusInvalidName),
		mut(fc.Truncate(0)), mut(fc.Truncate(19)), mut(fc.Truncate(20)), mut(fc.Truncate(28)), mut(fc.Truncate(103)),
		mut(fc.Append(0)),
		mut(fc.Put8(fc.OffVersion, 5)),
		mut(fc.Chain(fc.Truncate(28), fc.Put8(fc.OffVersion, 5), fc.Put16(fc.OffStatus, fc.StatusBadPktVersion))),
		mut(fc.Put8(fc.OffPktType, 1)),
		mut(fc.Put8(fc.OffRes1, 1)),
		mut(fc.Put16(fc.OffCommand, 34)),
		mut(fc.Put16(fc.OffReply, 6)),
		mut(fc.Put16(fc.OffStratum, 17)),
		mut(fc.Put16(fc.OffLeap, 4)),
		mut(fc.Put16(fc.OffFamily, 3)),
		mut(fc.Put32(fc.OffRefTime, fc.NoHighSec)),
		mut(fc.Put32(fc.OffRefTime+8, 1e9)),
		mut(fc.Put32(fc.OffFrequency, 0x7fffffff)),
		mut(fc.Put32(fc.OffRootDelay, 0xffffffff)),
	}
	return seeds
}

// fuzzRig is one fake chronyd per transport and one client for each, shared
// by every input a fuzz worker runs (inputs run one at a time per process).
type fuzzRig struct {
	mu      sync.Mutex
	input   []byte
	ownSeq  bool
	clients map[bool]*cmdmon.Client // by unixgram
	urls    map[bool]string
}

// handler sends the fuzz input, with the request's sequence written in when
// ownSeq is set, then a correct reply. Whatever the input is, the call must
// end in a report or a typed error; and when the input cannot be the answer
// (too short to carry a sequence, or another sequence) the call must
// succeed with the correct reply that follows it.
func (r *fuzzRig) handler(req fc.Request) []fc.Packet {
	r.mu.Lock()
	pkt := append([]byte(nil), r.input...)
	own := r.ownSeq
	r.mu.Unlock()
	if own && len(pkt) >= fc.OffSequence+4 {
		binary.BigEndian.PutUint32(pkt[fc.OffSequence:], req.Sequence)
	}
	good := fc.TrackingReply(req, fc.LocalReference(8))
	return []fc.Packet{{Data: pkt}, {Data: good}}
}

// fuzzTimeout is the clients' one attempt: see FuzzReplyOverSocket.
var fuzzTimeout = timing.ReplyWait

// FuzzReplyOverSocket drives the public client with arbitrary datagrams
// from a fake chronyd over real UDP and unixgram sockets. Invariants: no
// panic; a *cmdmon.Error or a report; no wait past the bound; a datagram
// that does not carry the request's sequence never decides the outcome.
func FuzzReplyOverSocket(f *testing.F) {
	for i, s := range fuzzSeeds() {
		f.Add(s, i%2 == 0, i%3 == 0)
	}
	rig := &fuzzRig{clients: map[bool]*cmdmon.Client{}, urls: map[bool]string{}}
	for unix, srv := range map[bool]*fc.Server{
		false: fc.StartUDP(f, rig.handler),
		true:  fc.StartUnixgram(f, filepath.Join(shortDir(f), "chronyd.sock"), rig.handler),
	} {
		// Every call is answered, by the input or by the correct reply
		// behind it, so the one attempt waits timing.ReplyWait: with
		// 200 ms a loaded machine could time out before reading the
		// correct reply, which would read as the input deciding.
		cfg := cmdmon.Config{Address: srv.URL(), Timeout: fuzzTimeout, Retries: 0}
		c, err := cmdmon.New(cfg)
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() { c.Close() })
		rig.clients[unix], rig.urls[unix] = c, srv.URL()
	}
	f.Fuzz(func(t *testing.T, data []byte, ownSeq, unix bool) {
		if len(data) > 1024 {
			data = data[:1024] // beyond the client's read buffer all sizes behave alike
		}
		rig.mu.Lock()
		rig.input, rig.ownSeq = data, ownSeq
		rig.mu.Unlock()
		c := rig.clients[unix]
		start := time.Now()
		r, err := c.Tracking(t.Context())
		took := time.Since(start)
		// The fuzzer saturates the CPUs, and a scheduling stall is not a
		// finding (one of 486 ms was seen); a client ignoring its deadline
		// would hang far longer.
		if !timing.Within(t, took, fuzzTimeout, "the call's bound") {
			return
		}
		if err != nil {
			te, ok := err.(*cmdmon.Error)
			if !ok {
				t.Fatalf("error %T is not a *cmdmon.Error: %v", err, err)
			}
			if te.Code == cmdmon.CodeSuccess || te.Code.String() == "" || te.Address != rig.urls[unix] {
				t.Fatalf("malformed error %#v", te)
			}
		} else if r.Address != rig.urls[unix] || r.Stratum > 16 || r.Leap > 3 {
			t.Fatalf("invalid report %+v", r)
		}
		// A datagram that cannot answer this request must be skipped, and
		// the correct reply after it taken.
		if !ownSeq || len(data) < fc.OffSequence+4 {
			if err != nil {
				t.Fatalf("a datagram with another sequence decided the outcome: %v (input %x)", err, data)
			}
		}
	})
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// TestFuzzCorpus checks that the checked-in seed corpus holds every seed
// fuzzSeeds makes, and rewrites it when TELEGRAF_CHRONY_WRITE_CORPUS=1.
// Inputs the fuzzer added to the directory are left alone.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzReplyOverSocket")
	write := os.Getenv("TELEGRAF_CHRONY_WRITE_CORPUS") == "1"
	if write {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range fuzzSeeds() {
		var b bytes.Buffer
		fmt.Fprintf(&b, "go test fuzz v1\n[]byte(%s)\nbool(%v)\nbool(%v)\n", strconv.Quote(string(s)), i%2 == 0, i%3 == 0)
		path := filepath.Join(dir, fmt.Sprintf("seed-%02d", i))
		if write {
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, b.Bytes()) {
			t.Errorf("%s is missing or stale (%v): run TELEGRAF_CHRONY_WRITE_CORPUS=1 go test -run TestFuzzCorpus ./test/reliability", path, err)
		}
	}
}
