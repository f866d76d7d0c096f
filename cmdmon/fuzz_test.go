package cmdmon

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	fbchrony "github.com/facebook/time/ntp/chrony"
)

// FuzzReply feeds arbitrary datagrams to the reply handling a Client runs
// on every packet: each gives a validated report or a typed error, never a
// panic, and every report agrees with facebook/time's decoder.
func FuzzReply(f *testing.F) {
	for _, name := range []string{"synced_ipv4", "synced_ipv6", "refclock_gps", "local_reference", "unsynchronised"} {
		p := readGolden(f, name)
		f.Add(p)
		f.Add(p[:replyHeaderLen])
		f.Add(p[:60])
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		const seq = 0x5EED
		if len(pkt) >= offSequence+4 {
			// Most inputs should reach the decoder, not stop at the sequence.
			binary.BigEndian.PutUint32(pkt[offSequence:], seq)
		}
		readAt := time.Unix(1795705317, 0)
		v, why := match(pkt, seq, cmdTracking.code)
		if v == discard {
			return
		}
		if why != nil {
			checkError(t, why)
			return
		}
		r, err := decodeAnswer(pkt, readAt, nil)
		if err != nil {
			checkError(t, err)
			return
		}
		if len(pkt) != trackingLen {
			t.Fatalf("report from a %d-byte reply", len(pkt))
		}
		if verr := validate(&r); verr != nil {
			t.Fatalf("returned report fails validation: %v", verr)
		}
		want := fbDecode(t, pkt)
		for _, pair := range [][2]float64{
			{want.CurrentCorrection, r.SystemTime}, {want.LastOffset, r.LastOffset},
			{want.RMSOffset, r.RMSOffset}, {want.FreqPPM, r.Frequency},
			{want.ResidFreqPPM, r.ResidualFreq}, {want.SkewPPM, r.Skew},
			{want.RootDelay, r.RootDelay}, {want.RootDispersion, r.RootDispersion},
			{want.LastUpdateInterval, r.UpdateInterval},
		} {
			if pair[0] != pair[1] || math.IsNaN(pair[1]) || math.IsInf(pair[1], 0) {
				t.Fatalf("float decodes to %g, oracle %g", pair[1], pair[0])
			}
		}
		if r.Synchronised && (r.Leap == LeapUnsynchronised || r.ReferenceID == 0 || r.ReferenceID == LocalRefID) {
			t.Fatalf("synchronised with leap %v ref %08X", r.Leap, r.ReferenceID)
		}
	})
}

func checkError(t *testing.T, err *Error) {
	t.Helper()
	if err.Code == CodeSuccess || int(err.Code) >= len(codeWords) || err.Msg == "" {
		t.Fatalf("malformed error: %#v", err)
	}
}

// The reply fuzzers of the other reports feed arbitrary datagrams to the
// checks and decoder a Client runs on each reply to one command: each gives
// a validated result or a typed error, never a panic, and what decodes
// agrees with facebook/time's decoder where it has one.
func FuzzNSources(f *testing.F) { fuzzReplies(f, &cmdNSources, "n_sources_5") }
func FuzzSourceData(f *testing.F) {
	fuzzReplies(f, &cmdSourceData, "source_refclock", "source_selected", "source_unresolved", "source_selected_3.4")
}
func FuzzSourceStats(f *testing.F) {
	fuzzReplies(f, &cmdSourceStats, "sourcestats_refclock", "sourcestats_selected", "sourcestats_unresolved")
}
func FuzzSourceName(f *testing.F) { fuzzReplies(f, &cmdSourceName) }
func FuzzActivity(f *testing.F)   { fuzzReplies(f, &cmdActivity, "activity") }
func FuzzServerStats(f *testing.F) {
	fuzzReplies(f, &cmdServerStats, "serverstats1_3.4", "serverstats2_4.0", "serverstats3_4.3", "serverstats4_4.8")
}

func fuzzReplies(f *testing.F, cmd *command, golden ...string) {
	for _, name := range golden {
		p := readGolden(f, name)
		f.Add(p)
		f.Add(p[:len(p)-1])
	}
	if cmd == &cmdSourceName {
		name := make([]byte, sourceNameLen)
		copy(name, readGolden(f, "n_sources_5")[:replyHeaderLen])
		binary.BigEndian.PutUint16(name[offReply:], cmd.replies[0].typ)
		copy(name[offSourceName:], "pool.ntp.org")
		f.Add(name)
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if len(pkt) >= offSequence+4 {
			// Most inputs should reach the decoder, not stop at the header.
			binary.BigEndian.PutUint16(pkt[offCommand:], cmd.code)
			binary.BigEndian.PutUint32(pkt[offSequence:], 0x5EED)
		}
		v, why := match(pkt, 0x5EED, cmd.code)
		if v == discard || why != nil {
			if why != nil {
				checkError(t, why)
			}
			return
		}
		sh, err := checkReply(pkt, cmd)
		if err != nil {
			checkError(t, err)
			return
		}
		if len(pkt) != sh.length {
			t.Fatalf("%s: accepted a %d-byte reply of %s", cmd.name, len(pkt), sh.name)
		}
		fuzzDecode(t, cmd, pkt)
	})
}

func fuzzDecode(t *testing.T, cmd *command, pkt []byte) {
	var err *Error
	switch cmd {
	case &cmdNSources:
		_, err = decodeNSources(pkt)
	case &cmdSourceData:
		var s Source
		if err = decodeSourceData(pkt, 0, &s); err == nil {
			if s.validate() != nil || s.Key() == "" && !s.Refclock() {
				t.Fatalf("invalid source returned: %+v", s)
			}
			if o := fbOracle[*fbchrony.ReplySourceData](t, pkt); o.LatestMeas != s.LatestMeas || o.LatestMeasErr != s.LatestMeasErr {
				t.Fatalf("latest_meas %g±%g, oracle %g±%g", s.LatestMeas, s.LatestMeasErr, o.LatestMeas, o.LatestMeasErr)
			}
		}
	case &cmdSourceStats:
		var s SourceStats
		if err = decodeSourceStats(pkt, 0, &s); err == nil {
			if o := fbOracle[*fbchrony.ReplySourceStats](t, pkt); o.EstimatedOffset != s.EstOffset || o.StandardDeviation != s.StdDev || s.StdDev < 0 {
				t.Fatalf("offset %g sd %g, oracle %g %g", s.EstOffset, s.StdDev, o.EstimatedOffset, o.StandardDeviation)
			}
		}
	case &cmdSourceName:
		var b []byte
		if b, err = sourceNameBytes(pkt); err == nil && len(b) == 0 {
			t.Fatal("empty name accepted")
		}
	case &cmdActivity:
		var a Activity
		if a, err = decodeActivity(pkt); err == nil && (a.Online < 0 || a.Unresolved < 0) {
			t.Fatalf("negative count returned: %+v", a)
		}
	case &cmdServerStats:
		s := decodeServerStats(pkt)
		if s.Version < 1 || s.Version > 4 {
			t.Fatalf("version %d", s.Version)
		}
	}
	if err != nil {
		checkError(t, err)
	}
}
