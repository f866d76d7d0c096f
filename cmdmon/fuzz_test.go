package cmdmon

import (
	"encoding/binary"
	"math"
	"testing"
	"time"
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
