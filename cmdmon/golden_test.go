package cmdmon

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fbchrony "github.com/facebook/time/ntp/chrony"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readGolden(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "golden", name+".hex"))
	require.NoError(t, err)
	pkt, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	require.NoError(t, err)
	return pkt
}

// fbReadWriter feeds one canned datagram to facebook/time's client, whose
// decoder serves as an independent oracle for ours.
type fbReadWriter struct{ reply []byte }

func (f *fbReadWriter) Write(p []byte) (int, error) { return len(p), nil }
func (f *fbReadWriter) Read(p []byte) (int, error)  { return copy(p, f.reply), nil }

func fbDecode(t testing.TB, pkt []byte) *fbchrony.ReplyTracking {
	t.Helper()
	return fbOracle[*fbchrony.ReplyTracking](t, pkt)
}

// fbOracle decodes pkt with facebook/time's client, which takes any reply
// whatever it asked for, and wants it to be a T.
func fbOracle[T fbchrony.ResponsePacket](t testing.TB, pkt []byte) T {
	t.Helper()
	c := fbchrony.Client{Connection: &fbReadWriter{reply: pkt}}
	resp, err := c.Communicate(fbchrony.NewTrackingPacket())
	require.NoError(t, err)
	r, ok := resp.(T)
	require.True(t, ok, "oracle decoded %T", resp)
	return r
}

func TestDecodeGolden(t *testing.T) {
	tests := []struct {
		file     string
		refID    uint32
		name     string
		family   AddrFamily
		stratum  uint16
		leap     LeapStatus
		synced   bool
		zeroTime bool
	}{
		{"synced_ipv4", 0x7F000001, "127.0.0.1", FamilyInet4, 9, LeapNormal, true, false},
		{"synced_ipv6", ipv6RefID("2001:db8::123"), "2001:db8::123", FamilyInet6, 3, LeapNormal, true, false},
		{"refclock_gps", 0x47505300, "GPS", FamilyUnspec, 1, LeapNormal, true, false},
		{"local_reference", LocalRefID, "", FamilyUnspec, 5, LeapNormal, false, false},
		{"unsynchronised", 0, "", FamilyUnspec, 0, LeapUnsynchronised, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			pkt := readGolden(t, tt.file)
			want := fbDecode(t, pkt)
			readAt := want.RefTime.Add(3 * time.Second)
			if tt.zeroTime {
				readAt = time.Unix(1795705317, 0)
			}
			got, err := decodeAnswer(pkt, readAt, nil)
			require.Nil(t, err)

			assert.Equal(t, tt.refID, got.ReferenceID)
			assert.Equal(t, tt.name, got.ReferenceName)
			assert.Equal(t, tt.family, got.Family)
			assert.Equal(t, tt.stratum, got.Stratum)
			assert.Equal(t, tt.leap, got.Leap)
			assert.Equal(t, tt.synced, got.Synchronised)
			assert.Equal(t, tt.zeroTime, got.RefTime.IsZero())
			assert.Equal(t, tt.family == FamilyInet4 || tt.family == FamilyInet6, got.ReferenceAddr.IsValid())

			// Every float and the time agree with the oracle to the bit.
			assert.Equal(t, want.CurrentCorrection, got.SystemTime)
			assert.Equal(t, want.LastOffset, got.LastOffset)
			assert.Equal(t, want.RMSOffset, got.RMSOffset)
			assert.Equal(t, want.FreqPPM, got.Frequency)
			assert.Equal(t, want.ResidFreqPPM, got.ResidualFreq)
			assert.Equal(t, want.SkewPPM, got.Skew)
			assert.Equal(t, want.RootDelay, got.RootDelay)
			assert.Equal(t, want.RootDispersion, got.RootDispersion)
			assert.Equal(t, want.LastUpdateInterval, got.UpdateInterval)
			if !tt.zeroTime {
				assert.True(t, want.RefTime.Equal(got.RefTime))
				assert.Equal(t, 3*time.Second, got.RefTimeAge)
			} else {
				assert.Zero(t, got.RefTimeAge)
				assert.Equal(t, 1.0, got.RootDelay)
				assert.Equal(t, 1.0, got.RootDispersion)
			}
			assert.InDelta(t, abs(got.SystemTime)+got.RootDispersion+got.RootDelay/2, got.ClockErrorBound, 0)
		})
	}
}

// ipv6RefID is the reference ID chronyd gives an IPv6 source: the first
// 4 bytes of the MD5 of its address.
func ipv6RefID(addr string) uint32 {
	a := netip.MustParseAddr(addr).As16()
	sum := md5.Sum(a[:])
	return binary.BigEndian.Uint32(sum[:4])
}

func TestRefIDHex(t *testing.T) {
	for id, want := range map[uint32]string{0: "00000000", LocalRefID: "7F7F0101", 0x47505300: "47505300", 0xDEADBEEF: "DEADBEEF"} {
		r := Tracking{ReferenceID: id}
		assert.Equal(t, want, r.RefIDHex())
		assert.Equal(t, fbchrony.RefidAsHEX(id), r.RefIDHex())
	}
}

func TestPutRequest(t *testing.T) {
	var b [maxRequestLen]byte
	b[50] = 0xFF // stale content from an earlier request must be cleared
	got := putRequest(&b, &cmdTracking, nil, 2, 0xA1B2C3D4)
	want := append([]byte{6, 1, 0, 0, 0, 33, 0, 2, 0xA1, 0xB2, 0xC3, 0xD4}, make([]byte, trackingLen-12)...)
	assert.True(t, bytes.Equal(want, got), "request % x", got)
}
