package chronylab

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronybuild"
)

// ChronycSource is one line of `chronyc -c sources`: every column, in
// chronyc's order (client.c, process_cmd_sources; the same ten columns in
// 3.4 to 4.8).
type ChronycSource struct {
	Mode  byte // '^' server, '=' peer, '#' reference clock
	State byte // '*' selected, '+' combined, '-' not combined, '?' unusable, 'x' falseticker, '~' too variable
	// Address is the source's IP address, "ID#NNNNNNNNNN" for a name not
	// resolved yet (4.0 on, with -a), the refid for a reference clock.
	Address string
	Stratum int
	Poll    int   // log2 seconds
	Reach   uint8 // reachability register (chronyc prints it in octal)
	// LastRx is the age of the last sample in seconds; 4294967295 when
	// there is none.
	LastRx         uint32
	Offset         float64 // adjusted offset of the last sample, seconds
	MeasuredOffset float64 // measured offset of the last sample, seconds
	Error          float64 // its estimated error, seconds
	// Name is the name chronyd was given for the source (chronyc -N, from
	// 4.0; the refid for a reference clock); empty before 4.0, whose
	// chronyc cannot ask.
	Name string
}

// ChronycSourceStats is one line of `chronyc -c sourcestats` (client.c,
// process_cmd_sourcestats; eight columns in 3.4 to 4.8).
type ChronycSourceStats struct {
	Address      string // as ChronycSource.Address
	Samples      uint32
	Runs         uint32
	Span         uint32  // seconds
	ResidualFreq float64 // ppm
	Skew         float64 // ppm
	Offset       float64 // estimated offset, seconds (chronyd computes it at the time of the request)
	StdDev       float64 // seconds
	Name         string  // as ChronycSource.Name
}

// ChronycActivity is `chronyc -c activity` (five columns in 3.4 to 4.8).
type ChronycActivity struct {
	Online, Offline, BurstOnline, BurstOffline, Unresolved uint32
}

// ChronycServerStats is `chronyc -c serverstats`: 5 columns before 4.0, 8
// in 4.0 and 4.1, 11 in 4.2 and 4.3, 17 from 4.4 (client.c,
// process_cmd_serverstats). Columns says how many this release printed; the
// counters it did not print are 0.
type ChronycServerStats struct {
	Columns int

	NTPHits, NTPDrops, CmdHits, CmdDrops, LogDrops uint64
	// 4.0 on
	NTSKEHits, NTSKEDrops, NTPAuthHits uint64
	// 4.2 on
	NTPInterleavedHits, NTPTimestamps, NTPSpanSeconds uint64
	// 4.4 on
	NTPDaemonRxTimestamps, NTPDaemonTxTimestamps     uint64
	NTPKernelRxTimestamps, NTPKernelTxTimestamps     uint64
	NTPHardwareRxTimestamps, NTPHardwareTxTimestamps uint64
}

// Values are the counters this release printed, in chronyc's column order.
func (s ChronycServerStats) Values() []uint64 {
	var v []uint64
	for _, p := range s.counters()[:s.Columns] {
		v = append(v, *p)
	}
	return v
}

// counters point to the serverstats counters in chronyc's column order.
func (s *ChronycServerStats) counters() []*uint64 {
	return []*uint64{&s.NTPHits, &s.NTPDrops, &s.CmdHits, &s.CmdDrops, &s.LogDrops,
		&s.NTSKEHits, &s.NTSKEDrops, &s.NTPAuthHits,
		&s.NTPInterleavedHits, &s.NTPTimestamps, &s.NTPSpanSeconds,
		&s.NTPDaemonRxTimestamps, &s.NTPDaemonTxTimestamps,
		&s.NTPKernelRxTimestamps, &s.NTPKernelTxTimestamps,
		&s.NTPHardwareRxTimestamps, &s.NTPHardwareTxTimestamps}
}

// serverStatsColumns are the column counts chronyc prints, by release.
var serverStatsColumns = map[int]bool{5: true, 8: true, 11: true, 17: true}

// csvLines splits chronyc -c output into lines of want columns each (any
// number when want is -1).
func csvLines(report, out string, want int) ([][]string, error) {
	out = strings.TrimRight(out, "\n")
	if out == "" {
		return nil, nil
	}
	var rows [][]string
	for i, line := range strings.Split(out, "\n") {
		f := strings.Split(line, ",")
		if want >= 0 && len(f) != want {
			return nil, fmt.Errorf("chronylab: %s: line %d: want %d columns, got %d in %q", report, i+1, want, len(f), line)
		}
		rows = append(rows, f)
	}
	return rows, nil
}

// columns parses a line's columns into the pointers, by their type.
func columns(report string, f []string, into ...any) error {
	for i, p := range into {
		var err error
		switch p := p.(type) {
		case *string:
			*p = f[i]
		case *byte:
			if len(f[i]) != 1 {
				err = fmt.Errorf("want one character")
			} else {
				*p = f[i][0]
			}
		case *int:
			*p, err = strconv.Atoi(f[i])
		case *uint32:
			var v uint64
			v, err = strconv.ParseUint(f[i], 10, 32)
			*p = uint32(v)
		case *uint64:
			*p, err = strconv.ParseUint(f[i], 10, 64)
		case *float64:
			*p, err = strconv.ParseFloat(f[i], 64)
		default:
			panic(fmt.Sprintf("chronylab: columns: %T", p))
		}
		if err != nil {
			return fmt.Errorf("chronylab: %s: column %d %q: %w", report, i+1, f[i], err)
		}
	}
	return nil
}

// ParseSources parses `chronyc -c sources` output (Name stays empty).
func ParseSources(out string) ([]ChronycSource, error) {
	rows, err := csvLines("sources", out, 10)
	if err != nil {
		return nil, err
	}
	srcs := make([]ChronycSource, len(rows))
	for i, f := range rows {
		s := &srcs[i]
		var reach string
		if err := columns("sources", f, &s.Mode, &s.State, &s.Address, &s.Stratum, &s.Poll, &reach,
			&s.LastRx, &s.Offset, &s.MeasuredOffset, &s.Error); err != nil {
			return nil, err
		}
		r, err := strconv.ParseUint(reach, 8, 8)
		if err != nil {
			return nil, fmt.Errorf("chronylab: sources: reach %q: %w", reach, err)
		}
		s.Reach = uint8(r)
		if !strings.ContainsRune("^=#", rune(s.Mode)) || !strings.ContainsRune("*+-?x~", rune(s.State)) {
			return nil, fmt.Errorf("chronylab: sources: unknown mode %q or state %q in %q", s.Mode, s.State, strings.Join(f, ","))
		}
	}
	return srcs, nil
}

// ParseSourceStats parses `chronyc -c sourcestats` output (Name stays
// empty).
func ParseSourceStats(out string) ([]ChronycSourceStats, error) {
	rows, err := csvLines("sourcestats", out, 8)
	if err != nil {
		return nil, err
	}
	st := make([]ChronycSourceStats, len(rows))
	for i, f := range rows {
		s := &st[i]
		if err := columns("sourcestats", f, &s.Address, &s.Samples, &s.Runs, &s.Span,
			&s.ResidualFreq, &s.Skew, &s.Offset, &s.StdDev); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// ParseActivity parses `chronyc -c activity` output.
func ParseActivity(out string) (ChronycActivity, error) {
	var a ChronycActivity
	rows, err := csvLines("activity", out, 5)
	if err == nil && len(rows) != 1 {
		err = fmt.Errorf("chronylab: activity: want one line, got %q", out)
	}
	if err != nil {
		return a, err
	}
	return a, columns("activity", rows[0], &a.Online, &a.Offline, &a.BurstOnline, &a.BurstOffline, &a.Unresolved)
}

// ParseServerStats parses `chronyc -c serverstats` output of any release.
func ParseServerStats(out string) (ChronycServerStats, error) {
	var s ChronycServerStats
	line := strings.TrimRight(out, "\n")
	f := strings.Split(line, ",")
	if strings.Contains(line, "\n") || !serverStatsColumns[len(f)] {
		return s, fmt.Errorf("chronylab: serverstats: want one line of 5, 8, 11 or 17 columns, got %q", out)
	}
	s.Columns = len(f)
	var into []any
	for _, p := range s.counters()[:len(f)] {
		into = append(into, p)
	}
	return s, columns("serverstats", f, into...)
}

// hasSourceNames says whether the lab's chronyc has -N and -a (4.0 on).
func (l *Lab) hasSourceNames() bool {
	return chronybuild.CompareVersions(l.Release, "4.0") >= 0
}

// sourcesArgs are chronyc's arguments for report ("sources" or
// "sourcestats"): -a from 4.0, so that sources whose name is not resolved
// yet are listed too, and -N for the names chronyd was given.
func (l *Lab) sourcesArgs(report string, names bool) []string {
	if !l.hasSourceNames() {
		return []string{"-c", report}
	}
	if names {
		return []string{"-c", "-N", report, "-a"}
	}
	return []string{"-c", report, "-a"}
}

// withNames runs report ("sources" or "sourcestats") over UDP and parses
// it; from 4.0 it runs it again with -N and sets each entry's name from
// column col of that output (the two runs must list as many sources).
func withNames[T any](ctx context.Context, l *Lab, report string, col int,
	parse func(string) ([]T, error), name func(*T) *string) ([]T, error) {
	out, err := l.ChronycContext(ctx, l.sourcesArgs(report, false)...)
	if err != nil {
		return nil, err
	}
	entries, err := parse(out)
	if err != nil || !l.hasSourceNames() {
		return entries, err
	}
	out, err = l.ChronycContext(ctx, l.sourcesArgs(report, true)...)
	if err != nil {
		return nil, err
	}
	rows, err := csvLines(report+" -N", out, -1)
	if err != nil {
		return nil, err
	}
	if len(rows) != len(entries) {
		return nil, fmt.Errorf("chronylab: %s: %d sources, then %d with -N", report, len(entries), len(rows))
	}
	for i, f := range rows {
		if col >= len(f) {
			return nil, fmt.Errorf("chronylab: %s -N: no column %d in %q", report, col+1, strings.Join(f, ","))
		}
		*name(&entries[i]) = f[col]
	}
	return entries, nil
}

// Sources runs `chronyc -c sources` over UDP (with -a from 4.0) and, from
// 4.0, `chronyc -c -N sources -a` for the names, and parses them.
func (l *Lab) Sources(ctx context.Context) ([]ChronycSource, error) {
	return withNames(ctx, l, "sources", 2, ParseSources, func(s *ChronycSource) *string { return &s.Name })
}

// SourceStats runs `chronyc -c sourcestats` over UDP as Sources runs
// sources.
func (l *Lab) SourceStats(ctx context.Context) ([]ChronycSourceStats, error) {
	return withNames(ctx, l, "sourcestats", 0, ParseSourceStats, func(s *ChronycSourceStats) *string { return &s.Name })
}

// Activity runs `chronyc -c activity` over UDP and parses it.
func (l *Lab) Activity(ctx context.Context) (ChronycActivity, error) {
	out, err := l.ChronycContext(ctx, "-c", "activity")
	if err != nil {
		return ChronycActivity{}, err
	}
	return ParseActivity(out)
}

// ServerStats runs `chronyc -c serverstats` over the unix socket (chronyd
// answers it nowhere else by default) and parses it.
func (l *Lab) ServerStats(ctx context.Context) (ChronycServerStats, error) {
	out, err := l.run(ctx, l.unixArgs(), "-c", "serverstats")
	if err != nil {
		return ChronycServerStats{}, err
	}
	return ParseServerStats(out)
}

// Picture is what chronyc says of an AllSources lab's sources.
type Picture struct {
	Sources  []ChronycSource
	Stats    []ChronycSourceStats
	Activity ChronycActivity
}

// ReadPicture reads sources, sourcestats and activity with chronyc.
func (l *Lab) ReadPicture(ctx context.Context) (Picture, error) {
	var p Picture
	var err error
	if p.Sources, err = l.Sources(ctx); err != nil {
		return p, err
	}
	if p.Stats, err = l.SourceStats(ctx); err != nil {
		return p, err
	}
	p.Activity, err = l.Activity(ctx)
	return p, err
}

// settled are the settled states of each kind of source, as chronyc shows
// them.
var settled = map[SourceKind]func(ChronycSource) bool{
	SourceSelected: func(s ChronycSource) bool { return s.Mode == '^' && s.State == '*' && s.Reach == 0o377 },
	SourceReachable: func(s ChronycSource) bool {
		return s.Mode == '^' && (s.State == '+' || s.State == '-') && s.Reach == 0o377
	},
	SourceSilent: func(s ChronycSource) bool {
		return s.Mode == '^' && s.State == '?' && s.Reach == 0 && s.LastRx == math.MaxUint32
	},
	SourceRefclock: func(s ChronycSource) bool {
		return s.Mode == '#' && s.State == 'x' && s.Reach == 0o377 && math.Abs(s.Offset+RefclockOffset) < RefclockOffset/10
	},
}

// Check says how p differs from the settled picture of an AllSources lab
// of this release, or nil: the lab NTP server selected, the second one
// combined or not, both and the reference clock with a full reachability
// register (377: it no longer changes), the reference clock a falseticker
// RefclockOffset away, the silent source unusable and never sampled, the
// unresolved name listed from 4.0 (with -a) and not before, sourcestats
// listing the same sources in the same order, and the activity counts
// agreeing with the sources.
func (l *Lab) Check(p Picture) error {
	want := map[string]func(ChronycSource) bool{}
	for _, c := range l.Configured {
		if c.Kind != SourceUnresolved {
			want[c.Name] = settled[c.Kind]
		}
	}
	ids := 0
	for _, s := range p.Sources {
		if strings.HasPrefix(s.Address, "ID#") {
			ids++
			if s.Name != UnresolvedName || s.Mode != '^' || s.State != '?' || s.Reach != 0 {
				return fmt.Errorf("unresolved source %+v", s)
			}
			continue
		}
		ok := want[s.Address]
		if ok == nil || !ok(s) {
			return fmt.Errorf("source %+v is not one the lab expects", s)
		}
		if l.hasSourceNames() && s.Name != s.Address {
			return fmt.Errorf("source %+v: chronyc -N names it %q", s, s.Name)
		}
		delete(want, s.Address)
	}
	if len(want) != 0 {
		return fmt.Errorf("sources %+v lack %d of the lab's", p.Sources, len(want))
	}
	unresolved := 0
	for _, c := range l.Configured {
		if c.Kind == SourceUnresolved {
			unresolved++
		}
	}
	unlisted := unresolved // before 4.0
	if l.hasSourceNames() {
		unlisted = 0
	}
	if wantIDs := unresolved - unlisted; ids != wantIDs {
		return fmt.Errorf("%d unresolved sources listed, want %d for chronyc %s", ids, wantIDs, l.Release)
	}
	if len(p.Stats) != len(p.Sources) {
		return fmt.Errorf("%d sources, %d in sourcestats", len(p.Sources), len(p.Stats))
	}
	for i, st := range p.Stats {
		if st.Address != p.Sources[i].Address || st.Name != p.Sources[i].Name {
			return fmt.Errorf("sourcestats %d is %s (%s), sources %d is %s (%s)", i, st.Address, st.Name, i, p.Sources[i].Address, p.Sources[i].Name)
		}
	}
	return checkActivity(p.Activity, len(p.Sources)-ids-1, ids, unlisted)
}

// checkActivity compares activity with the sources listed: ntp NTP
// sources with an address (all online, none in a burst once settled) and
// ids unresolved ones. Before 4.0 an unresolved name is not listed
// (unlisted of them), and counted while chronyd still tries to resolve it.
func checkActivity(a ChronycActivity, ntp, ids, unlisted int) error {
	unresolvedOK := int(a.Unresolved) >= ids && int(a.Unresolved) <= ids+unlisted
	if int(a.Online) != ntp || a.Offline != 0 || a.BurstOnline != 0 || a.BurstOffline != 0 || !unresolvedOK {
		return fmt.Errorf("activity %+v, want %d online and %d unresolved", a, ntp, ids)
	}
	return nil
}

// WaitAllSources waits until chronyc's picture of an AllSources lab is the
// settled one (Check), and returns it.
func (l *Lab) WaitAllSources(timeout time.Duration) (Picture, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		p, err := l.ReadPicture(ctx)
		if err == nil {
			if err = l.Check(p); err == nil {
				return p, nil
			}
		}
		select {
		case <-ctx.Done():
			return p, fmt.Errorf("chronylab: sources of chronyd %s not settled within %v: %v%s", l.Release, timeout, err, logTail(l.LogPath))
		case <-time.After(pollInterval):
		}
	}
}
