package cmdmon

import (
	"encoding/binary"
	"iter"
)

// Counter names one of chronyd's server statistics.
type Counter uint8

// The counters, in the order chronyc serverstats prints them (and chronyc
// -c its columns). Which of them a chronyd reports depends on its release:
// see ServerStats.Version.
const (
	NTPHits Counter = iota
	NTPDrops
	CmdHits
	CmdDrops
	LogDrops
	NKEHits
	NKEDrops
	NTPAuthHits
	NTPInterleavedHits
	NTPTimestamps
	NTPSpanSeconds
	NTPDaemonRxTimestamps
	NTPDaemonTxTimestamps
	NTPKernelRxTimestamps
	NTPKernelTxTimestamps
	NTPHwRxTimestamps
	NTPHwTxTimestamps
	NumCounters int = iota
)

// counterWords are inputs.chrony's field names.
var counterWords = [NumCounters]string{
	"ntp_hits", "ntp_drops", "cmd_hits", "cmd_drops", "log_drops",
	"nke_hits", "nke_drops", "ntp_auth_hits", "ntp_interleaved_hits",
	"ntp_timestamps", "ntp_span_seconds",
	"ntp_daemon_rx_timestamps", "ntp_daemon_tx_timestamps",
	"ntp_kernel_rx_timestamps", "ntp_kernel_tx_timestamps",
	"ntp_hardware_rx_timestamps", "ntp_hardware_tx_timestamps",
}

// String returns inputs.chrony's field name for the counter.
func (c Counter) String() string {
	if int(c) < NumCounters {
		return counterWords[c]
	}
	return "invalid"
}

// ServerStats is chronyd's serverstats report (chronyc serverstats): what
// its NTP server, NTS-KE server and command port have handled since it
// started. chronyd answers it only on its unix socket, unless chrony.conf
// opens it over UDP with opencommands (4.7 and later).
type ServerStats struct {
	// Address is the chronyd command address that answered, as a URL.
	Address string
	// Version is the generation of the reply chronyd sent, which fixes the
	// counters it has: 1 (RPY_SERVER_STATS, chrony 3.x: five 32-bit
	// counters), 2 (RPY_SERVER_STATS2, 4.0 and 4.1: eight, with NTS-KE and
	// authentication), 3 (RPY_SERVER_STATS3, 4.2 and 4.3: eleven, with
	// interleaving and timestamps), 4 (RPY_SERVER_STATS4, 4.4 and later:
	// all seventeen, 64-bit).
	Version int
	// Values holds every counter by its Counter; those the reply did not
	// carry are 0 and Has says so.
	Values [NumCounters]uint64
}

// Has reports whether the reply carried counter c.
func (s *ServerStats) Has(c Counter) bool {
	return s.Version >= 1 && s.Version <= len(serverStatsShapes) && int(c) < serverStatsCounts[s.Version-1]
}

// Get returns counter c and whether the reply carried it.
func (s *ServerStats) Get(c Counter) (uint64, bool) {
	if !s.Has(c) {
		return 0, false
	}
	return s.Values[c], true
}

// All yields the counters the reply carried, in chronyc's order.
func (s *ServerStats) All() iter.Seq2[Counter, uint64] {
	return func(yield func(Counter, uint64) bool) {
		for c := Counter(0); int(c) < NumCounters; c++ {
			if s.Has(c) && !yield(c, s.Values[c]) {
				return
			}
		}
	}
}

// The server stats replies. The counters chronyd sends in each are a
// prefix of chronyc's order (serverStatsCounts), but on the wire they are
// in the order of candm.h's struct, which wireOrder gives.
var (
	serverStatsShapes = [...]shape{
		{"RPY_SERVER_STATS", 14, replyHeaderLen + 5*4, nil},
		{"RPY_SERVER_STATS2", 22, replyHeaderLen + 8*4, nil},
		{"RPY_SERVER_STATS3", 24, replyHeaderLen + 11*4, nil},
		{"RPY_SERVER_STATS4", 25, serverStats4Len, nil},
	}
	serverStatsCounts = [...]int{5, 8, 11, NumCounters}
	// wireOrder is the counters as candm.h lays them out: 3.x's struct,
	// then from 4.0 the NTS-KE counters interleaved.
	wireOrder = [2][]Counter{
		{NTPHits, CmdHits, NTPDrops, CmdDrops, LogDrops},
		{NTPHits, NKEHits, CmdHits, NTPDrops, NKEDrops, CmdDrops, LogDrops, NTPAuthHits,
			NTPInterleavedHits, NTPTimestamps, NTPSpanSeconds,
			NTPDaemonRxTimestamps, NTPDaemonTxTimestamps, NTPKernelRxTimestamps,
			NTPKernelTxTimestamps, NTPHwRxTimestamps, NTPHwTxTimestamps},
	}
)

// serverStats4Len: seventeen 64-bit counters and four reserved ones.
const serverStats4Len = replyHeaderLen + (NumCounters+4)*8

func init() {
	for i := range serverStatsShapes {
		sh := &serverStatsShapes[i]
		order, width := wireOrder[min(i, 1)], 4
		if i == 3 {
			width = 8
		}
		for j := range serverStatsCounts[i] {
			sh.fields = append(sh.fields, field{replyHeaderLen + j*width, order[j].String()})
		}
		if i == 3 {
			sh.fields = append(sh.fields, field{replyHeaderLen + NumCounters*8, "reserved"})
		}
	}
}

// decodeServerStats reads a server stats reply that checkReply accepted.
// Counters cannot be invalid: every value is a count chronyd kept.
func decodeServerStats(p []byte) ServerStats {
	v, rt := 1, binary.BigEndian.Uint16(p[offReply:])
	for i := range serverStatsShapes {
		if serverStatsShapes[i].typ == rt {
			v = i + 1
		}
	}
	s := ServerStats{Version: v}
	be := binary.BigEndian
	for j := range serverStatsCounts[v-1] {
		c := wireOrder[min(v-1, 1)][j]
		if v == 4 {
			// Integer64: high word, then low word.
			s.Values[c] = be.Uint64(p[replyHeaderLen+8*j:])
		} else {
			s.Values[c] = uint64(be.Uint32(p[replyHeaderLen+4*j:]))
		}
	}
	return s
}
