package cmdmon

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeFloat(t *testing.T) {
	tests := []struct {
		raw  uint32
		want float64
	}{
		{0x00000000, 0},
		{0x00000001, math.Ldexp(1, -25)},                       // exp 0, smallest coefficient
		{0x01FFFFFF, -math.Ldexp(1, -25)},                      // exp 0, coefficient -1
		{0x01000000, -1},                                       // exp 0, most negative coefficient: -2^24 * 2^-25 = -0.5? see below
		{0x32000001, math.Ldexp(1, 25-25)},                     // exp 25: coefficient 1 -> 1.0
		{0xFE000001, math.Ldexp(1, -1-25)},                     // exp -1
		{0x80000001, math.Ldexp(1, -64-25)},                    // most negative exponent
		{0x7DFFFFFF, -math.Ldexp(1, 62-25)},                    // exp 62, coefficient -1
		{0x7C000000 | 0x00FFFFFF, math.Ldexp(0xFFFFFF, 62-25)}, // exp 62, largest coefficient
	}
	// 0x01000000 is exp 0 with coefficient -2^24.
	tests[3].want = math.Ldexp(-(1 << 24), -25)
	for _, tt := range tests {
		assert.Equal(t, tt.want, decodeFloat(tt.raw), "raw %#08x", tt.raw)
	}
}

// reply builds a well-formed tracking reply to seq from a golden body.
func reply(t testing.TB, seq uint32) []byte {
	p := readGolden(t, "synced_ipv4")
	binary.BigEndian.PutUint32(p[offSequence:], seq)
	return p
}

func set(p []byte, off int, v ...byte) []byte { copy(p[off:], v); return p }

func TestMatch(t *testing.T) {
	const seq = 0x01020304
	tests := []struct {
		name     string
		pkt      func() []byte
		verdict  verdict
		noteCode Code // 0: no note
	}{
		{"valid", func() []byte { return reply(t, seq) }, answer, 0},
		{"status reply", func() []byte { return set(reply(t, seq)[:replyHeaderLen], offStatus, 0, 2) }, answer, 0},
		{"empty", func() []byte { return nil }, discard, CodeIncompleteReply},
		{"19 bytes", func() []byte { return reply(t, seq)[:19] }, discard, CodeIncompleteReply},
		{"other sequence", func() []byte { return reply(t, seq+1) }, discard, 0},
		{"other sequence, other version", func() []byte { return set(reply(t, seq+1), offVersion, 5) }, discard, 0},
		{"packet type request", func() []byte { return set(reply(t, seq), offPktType, 1) }, discard, CodeInvalidData},
		{"res1", func() []byte { return set(reply(t, seq), offRes1, 1) }, discard, CodeInvalidData},
		{"res2", func() []byte { return set(reply(t, seq), offRes2, 9) }, discard, CodeInvalidData},
		{"command", func() []byte { return set(reply(t, seq), offCommand, 0, 34) }, discard, CodeInvalidData},
		{"version 5 success", func() []byte { return set(reply(t, seq), offVersion, 5) }, discard, CodeVersionMismatch},
		{"version 3 badpktversion", func() []byte { return set(set(reply(t, seq)[:replyHeaderLen], offVersion, 3), offStatus, 0, 18) }, discard, CodeVersionMismatch},
		{"version 5 badpktversion", func() []byte { return set(set(reply(t, seq)[:replyHeaderLen], offVersion, 5), offStatus, 0, 18) }, answer, CodeVersionMismatch},
		{"version 7 badpktversion", func() []byte { return set(set(reply(t, seq)[:replyHeaderLen], offVersion, 7), offStatus, 0, 18) }, answer, CodeVersionMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkt := tt.pkt()
			v, note := match(pkt, seq, cmdTracking.code)
			assert.Equal(t, tt.verdict, v)
			if tt.noteCode == 0 {
				assert.Nil(t, note)
				return
			}
			require.NotNil(t, note)
			assert.Equal(t, tt.noteCode, note.Code, note.Error())
			if note.Code == CodeVersionMismatch {
				assert.Equal(t, pkt[offVersion], note.ReplyVersion, "the reply's version is kept for the user")
			}
		})
	}
}

func TestDecodeAnswerStatus(t *testing.T) {
	for st := uint16(1); st <= 22; st++ {
		pkt := set(reply(t, 1)[:replyHeaderLen], offStatus, byte(st>>8), byte(st))
		_, err := decodeAnswer(pkt, time.Now(), nil)
		require.NotNil(t, err)
		want := CodeServerError
		switch st {
		case sttUnauth, 10: // UNAUTH, NOHOSTACCESS
			want = CodePermissionDenied
		case sttBadPktVersion:
			want = CodeVersionMismatch
		}
		assert.Equal(t, want, err.Code, "status %d: %v", st, err)
		assert.Equal(t, st, err.Status)
		assert.Contains(t, err.Error(), statusName(st))
	}
}

func TestDecodeAnswerLength(t *testing.T) {
	full := reply(t, 1)
	for n := 0; n < trackingLen; n++ {
		_, err := decodeAnswer(full[:n], time.Now(), nil)
		require.NotNil(t, err, "length %d", n)
		assert.Equal(t, CodeIncompleteReply, err.Code, "length %d", n)
	}
	_, err := decodeAnswer(append(full, 0, 0, 0, 0), time.Now(), nil)
	require.NotNil(t, err)
	assert.Equal(t, CodeInvalidData, err.Code)
	_, err = decodeAnswer(set(reply(t, 1), offReply, 0, 6), time.Now(), nil)
	require.NotNil(t, err)
	assert.Equal(t, CodeInvalidData, err.Code)
	assert.Contains(t, err.Msg, "reply type is 6")
}

func TestMissingFields(t *testing.T) {
	tests := map[int]string{
		28:  "ref_id through last_update_interval",
		30:  "part of ref_id through last_update_interval",
		52:  "stratum through last_update_interval",
		68:  "current_correction through last_update_interval",
		100: "last_update_interval",
		102: "part of last_update_interval",
	}
	for n, want := range tests {
		assert.Equal(t, want, cmdTracking.replies[0].missing(n), "length %d", n)
	}
}

func TestDecodeTimespec(t *testing.T) {
	p := make([]byte, 12)
	assert.True(t, decodeTimespec(p).IsZero())
	binary.BigEndian.PutUint32(p, 0x7fffffff)
	binary.BigEndian.PutUint32(p[4:], 1700000000)
	binary.BigEndian.PutUint32(p[8:], 5)
	assert.Equal(t, time.Unix(1700000000, 5), decodeTimespec(p))
	binary.BigEndian.PutUint32(p, 1)
	assert.Equal(t, time.Unix(1<<32+1700000000, 5), decodeTimespec(p))
}

func TestRefMemo(t *testing.T) {
	var m refMemo
	v4, v6 := readGolden(t, "synced_ipv4"), readGolden(t, "synced_ipv6")
	unresolved := set(readGolden(t, "synced_ipv4"), offIPAddr, 0, 0, 0, 42)
	set(unresolved, offFamily, 0, 3)
	for _, tt := range []struct {
		pkt  []byte
		name string
	}{
		{v4, "127.0.0.1"}, {v4, "127.0.0.1"}, {v6, "2001:db8::123"}, {v4, "127.0.0.1"},
		{unresolved, "ID#0000000042"},
	} {
		r, err := decodeAnswer(tt.pkt, time.Now(), &m)
		require.Nil(t, err)
		assert.Equal(t, tt.name, r.ReferenceName)
		_, uncached := (*refMemo)(nil).render(tt.pkt)
		assert.Equal(t, tt.name, uncached)
	}
	allocs := testing.AllocsPerRun(100, func() { m.render(v4) })
	assert.Zero(t, allocs, "a repeated reference is not rendered again")
}
