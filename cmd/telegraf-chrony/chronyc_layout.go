package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/influxdata/telegraf"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
)

// The layouts of chronyc's sources, sourcestats, activity and serverstats
// (client.c, the same from 3.4 to 4.8 but for serverstats' lines), drawn
// from the points, as textReport draws tracking.

// header prints a table's title and chronyc's line of '=' under it.
func header(b *strings.Builder, title string) {
	b.WriteString(title + "\n" + strings.Repeat("=", len(title)) + "\n")
}

// modeSymbol and stateSymbol are chronyc's characters for a source's mode
// and state words; ok is false for a word chronyc does not know. Functions,
// not maps, so that a --once that draws no table builds nothing for them.
func modeSymbol(w string) (c byte, ok bool) {
	switch w {
	case "client":
		return '^', true
	case "peer":
		return '=', true
	case "reference clock":
		return '#', true
	}
	return 0, false
}

func stateSymbol(w string) (c byte, ok bool) {
	for s := cmdmon.StateSync; s <= cmdmon.StateOutlier; s++ {
		if s.String() == w {
			return s.Symbol(), true
		}
	}
	return 0, false
}

// symbol is the character chronyc prints for a word, a space for one it
// does not know (as chronyc prints for a mode or state it does not know).
func symbol(of func(string) (byte, bool), m telegraf.Metric, field string) byte {
	w, _ := m.GetField(field)
	s, _ := w.(string)
	if c, ok := of(s); ok {
		return c
	}
	return ' '
}

// sourcesTable is `chronyc -N sources -a`: the name chronyd was given (the
// peer tag), so that pool members show as the pool's name.
func sourcesTable(b *strings.Builder, ms []telegraf.Metric) {
	header(b, "MS Name/IP address         Stratum Poll Reach LastRx Last sample               ")
	for _, m := range ms {
		peer, _ := m.GetTag("peer")
		fmt.Fprintf(b, "%c%c %-27s  %2d  %2d   %3o  %s  %s[%s] +/- %s\n",
			symbol(modeSymbol, m, "mode"), symbol(stateSymbol, m, "state"), peer,
			int64(num(m, "stratum")), int64(num(m, "poll")), int64(num(m, "reachability")),
			interval(uint64(num(m, "sample"))),
			signedNanoseconds(num(m, "latest_measurement")), signedNanoseconds(num(m, "original_measurement")),
			nanoseconds(num(m, "latest_measurement_error")))
	}
}

// sourceStatsTable is `chronyc -N sourcestats -a`.
func sourceStatsTable(b *strings.Builder, ms []telegraf.Metric) {
	header(b, "Name/IP Address            NP  NR  Span  Frequency  Freq Skew  Offset  Std Dev")
	for _, m := range ms {
		peer, _ := m.GetTag("peer")
		fmt.Fprintf(b, "%-25s %3d %3d  %s %s %s  %s  %s\n", peer,
			int64(num(m, "samples")), int64(num(m, "runs")), interval(uint64(num(m, "span_seconds"))),
			ppm(num(m, "residual_frequency"), true), ppm(num(m, "skew"), false),
			signedNanoseconds(num(m, "offset")), nanoseconds(num(m, "stddev")))
	}
}

// activityLines is `chronyc activity`.
func activityLines(b *strings.Builder, m telegraf.Metric) {
	b.WriteString("200 OK\n")
	for _, l := range [...]struct{ field, text string }{
		{"online", "sources online"}, {"offline", "sources offline"},
		{"burst_online", "sources doing burst (return to online)"},
		{"burst_offline", "sources doing burst (return to offline)"},
		{"unresolved", "sources with unknown address"},
	} {
		fmt.Fprintf(b, "%d %s\n", int64(num(m, l.field)), l.text)
	}
}

// serverStatsLabels are chronyc's, in cmdmon's Counter order.
var serverStatsLabels = [cmdmon.NumCounters]string{
	"NTP packets received", "NTP packets dropped", "Command packets received",
	"Command packets dropped", "Client log records dropped",
	"NTS-KE connections accepted", "NTS-KE connections dropped",
	"Authenticated NTP packets", "Interleaved NTP packets", "NTP timestamps held",
	"NTP timestamp span", "NTP daemon RX timestamps", "NTP daemon TX timestamps",
	"NTP kernel RX timestamps", "NTP kernel TX timestamps",
	"NTP hardware RX timestamps", "NTP hardware TX timestamps",
}

// serverStatsLines is `chronyc serverstats`: the counters the release
// reports, which are the point's.
func serverStatsLines(b *strings.Builder, m telegraf.Metric) {
	for c := cmdmon.Counter(0); int(c) < cmdmon.NumCounters; c++ {
		if v, ok := m.GetField(c.String()); ok {
			fmt.Fprintf(b, "%-27s: %v\n", serverStatsLabels[c], v)
		}
	}
}

// interval is chronyc's print_seconds: 4 characters, with a unit beyond
// 1200 s, and "-" for never.
func interval(s uint64) string {
	switch {
	case s == math.MaxUint32:
		return "   -"
	case s < 1200:
		return fmt.Sprintf("%4d", s)
	case s < 36000:
		return fmt.Sprintf("%3dm", s/60)
	case s < 345600:
		return fmt.Sprintf("%3dh", s/3600)
	case s/86400 > 999:
		return fmt.Sprintf("%3dy", s/86400/365)
	}
	return fmt.Sprintf("%3dd", s/86400)
}

// durationUnits are chronyc's steps for an offset: each unit applies below
// its limit, with its scale, one decimal for seconds below 999.5.
var durationUnits = [...]struct {
	limit, scale float64
	unit         string
	prec         int
}{
	{9999.5e-9, 1e-9, "ns", 0}, {9999.5e-6, 1e-6, "us", 0}, {9999.5e-3, 1e-3, "ms", 0},
	{999.5, 1, "s", 1}, {99999.5, 1, "s", 0}, {99999.5 * 60, 60, "m", 0},
	{99999.5 * 3600, 3600, "h", 0}, {99999.5 * 86400, 86400, "d", 0},
	{math.Inf(1), 86400 * 365, "y", 0},
}

// nanoseconds is chronyc's print_nanoseconds, signedNanoseconds its
// print_signed_nanoseconds: one more character and the sign.
func nanoseconds(s float64) string { return offset(math.Abs(s), false) }

func signedNanoseconds(s float64) string { return offset(s, true) }

func offset(s float64, signed bool) string {
	for i, u := range durationUnits {
		if math.Abs(s) >= u.limit && i < len(durationUnits)-1 {
			continue
		}
		width := 4
		if u.unit != "ns" && u.unit != "us" && u.unit != "ms" {
			width = 5
		}
		sign := ""
		if signed {
			width, sign = width+1, "+"
		}
		return fmt.Sprintf("%"+sign+"*.*f%s", width, u.prec, s/u.scale, u.unit)
	}
	return ""
}

// ppm is chronyc's print_freq_ppm and print_signed_freq_ppm.
func ppm(f float64, signed bool) string {
	prec, sign := 3, ""
	if math.Abs(f) >= 99999.5 {
		prec = 0
	}
	if signed {
		sign = "+"
	}
	return fmt.Sprintf("%"+sign+"10.*f", prec, f)
}
