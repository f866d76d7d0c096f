package chronylab

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Reference IDs chronyd reports in its tracking report.
const (
	// RefIDUnsynchronised is the reference ID of a daemon without a source.
	RefIDUnsynchronised uint32 = 0
	// RefIDLocal is the reference ID of a daemon using its local reference
	// ("local stratum N"): 127.127.1.1.
	RefIDLocal uint32 = 0x7F7F0101
	// RefIDLabServer is the reference ID of the lab NTP server, 127.0.0.1.
	RefIDLabServer uint32 = 0x7F000001
)

// Leap status words printed by `chronyc -c tracking`.
const (
	LeapNormal          = "Normal"
	LeapInsertSecond    = "Insert second"
	LeapDeleteSecond    = "Delete second"
	LeapNotSynchronised = "Not synchronised"
)

// ChronycTracking is one `chronyc -c tracking` line.
type ChronycTracking struct {
	RefID          uint32
	Name           string // IP address of the source; empty when unsynchronised or local
	Stratum        int
	RefTime        float64 // seconds since the Unix epoch; 0 when unsynchronised
	SystemTime     float64 // seconds; positive: the system clock is slow of NTP time
	LastOffset     float64 // seconds
	RMSOffset      float64 // seconds
	Frequency      float64 // ppm; positive: the clock runs fast
	ResidualFreq   float64 // ppm
	Skew           float64 // ppm
	RootDelay      float64 // seconds
	RootDispersion float64 // seconds
	UpdateInterval float64 // seconds
	Leap           string  // one of the Leap* words
}

// LeapCode is the NTP leap indicator behind the Leap word: 0 normal, 1
// insert second, 2 delete second, 3 not synchronised.
func (c ChronycTracking) LeapCode() int {
	return map[string]int{LeapNormal: 0, LeapInsertSecond: 1, LeapDeleteSecond: 2, LeapNotSynchronised: 3}[c.Leap]
}

// ParseTracking parses the output of `chronyc -c tracking`: one line of 14
// comma-separated columns.
func ParseTracking(out string) (ChronycTracking, error) {
	line := strings.TrimSpace(out)
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		return ChronycTracking{}, fmt.Errorf("chronylab: tracking: want one line, got %q", out)
	}
	f := strings.Split(line, ",")
	if len(f) != 14 {
		return ChronycTracking{}, fmt.Errorf("chronylab: tracking: want 14 columns, got %d in %q", len(f), line)
	}
	var tr ChronycTracking
	refID, err := strconv.ParseUint(f[0], 16, 32)
	if err != nil {
		return tr, fmt.Errorf("chronylab: tracking: ref id %q: %w", f[0], err)
	}
	tr.RefID = uint32(refID)
	tr.Name = f[1]
	if tr.Stratum, err = strconv.Atoi(f[2]); err != nil {
		return tr, fmt.Errorf("chronylab: tracking: stratum %q: %w", f[2], err)
	}
	floats := []*float64{&tr.RefTime, &tr.SystemTime, &tr.LastOffset, &tr.RMSOffset,
		&tr.Frequency, &tr.ResidualFreq, &tr.Skew, &tr.RootDelay, &tr.RootDispersion,
		&tr.UpdateInterval}
	for i, p := range floats {
		if *p, err = strconv.ParseFloat(f[3+i], 64); err != nil {
			return tr, fmt.Errorf("chronylab: tracking: column %d %q: %w", 4+i, f[3+i], err)
		}
	}
	tr.Leap = f[13]
	switch tr.Leap {
	case LeapNormal, LeapInsertSecond, LeapDeleteSecond, LeapNotSynchronised:
	default:
		return tr, fmt.Errorf("chronylab: tracking: unknown leap status %q", tr.Leap)
	}
	return tr, nil
}

func (l *Lab) udpArgs() []string {
	return []string{"-n", "-h", "127.0.0.1", "-p", strconv.Itoa(l.CmdPort)}
}

func (l *Lab) unixArgs() []string {
	return []string{"-n", "-h", l.SocketPath}
}

// run runs chronyc with the address arguments addr followed by args.
func (l *Lab) run(ctx context.Context, addr []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, chronycTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, l.tools.chronyc, append(addr, args...)...)
	cmd.Dir = l.Dir
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	out := strings.TrimRight(stdout.String(), "\n")
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = fmt.Errorf("%w (%v)", ctxErr, err)
		}
		msg := strings.TrimSpace(stdout.String() + " " + stderr.String())
		return out, fmt.Errorf("chronylab: chronyc %s: %w: %s", strings.Join(append(addr, args...), " "), err, msg)
	}
	return out, nil
}

// Chronyc runs `chronyc -n -h 127.0.0.1 -p CmdPort ARGS...` (UDP: only the
// monitoring commands are open) and returns its standard output. It gives up
// after 10 s; chronyc itself gives up after 7 s by default.
func (l *Lab) Chronyc(args ...string) (string, error) {
	return l.ChronycContext(context.Background(), args...)
}

// ChronycContext is Chronyc with a context that bounds the run.
func (l *Lab) ChronycContext(ctx context.Context, args ...string) (string, error) {
	return l.run(ctx, l.udpArgs(), args...)
}

// ChronycUnix runs `chronyc -n -h SocketPath ARGS...` over the unix socket,
// where every command is allowed. chronyc 4.3 binds its own socket in Dir.
func (l *Lab) ChronycUnix(args ...string) (string, error) {
	return l.run(context.Background(), l.unixArgs(), args...)
}

// Tracking runs `chronyc -c tracking` over UDP and parses it.
func (l *Lab) Tracking() (ChronycTracking, error) {
	return l.TrackingContext(context.Background())
}

// TrackingContext is Tracking with a context that bounds the run.
func (l *Lab) TrackingContext(ctx context.Context) (ChronycTracking, error) {
	out, err := l.ChronycContext(ctx, "-c", "tracking")
	if err != nil {
		return ChronycTracking{}, err
	}
	return ParseTracking(out)
}

// WaitTracking polls Tracking every 50 ms until cond holds or timeout passes.
// It returns the last report.
func (l *Lab) WaitTracking(timeout time.Duration, cond func(ChronycTracking) bool) (ChronycTracking, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var (
		tr   ChronycTracking
		last error
	)
	for {
		var err error
		tr, err = l.TrackingContext(ctx)
		if err == nil && cond(tr) {
			return tr, nil
		}
		if err != nil {
			last = err
		} else {
			last = fmt.Errorf("last report %+v", tr)
		}
		select {
		case <-ctx.Done():
			return tr, fmt.Errorf("chronylab: condition not met within %v: %v%s", timeout, last, logTail(l.LogPath))
		case <-time.After(pollInterval):
		}
	}
}

// WaitSynced waits until the daemon under test has selected the lab NTP
// server (Synced: ref ID 7F000001, name 127.0.0.1, stratum LocalStratum+1,
// leap Normal) or uses its local reference (LocalReference: ref ID 7F7F0101,
// stratum LocalStratum, leap Normal). It returns ErrNeverSynchronises at once
// for an Unsynchronised lab.
func (l *Lab) WaitSynced(timeout time.Duration) error {
	var cond func(ChronycTracking) bool
	switch l.Mode {
	case Synced:
		cond = func(tr ChronycTracking) bool {
			return tr.RefID == RefIDLabServer && tr.Name == "127.0.0.1" &&
				tr.Stratum == l.LocalStratum+1 && tr.Leap == LeapNormal
		}
	case LocalReference:
		cond = func(tr ChronycTracking) bool {
			return tr.RefID == RefIDLocal && tr.Stratum == l.LocalStratum && tr.Leap == LeapNormal
		}
	default:
		return ErrNeverSynchronises
	}
	_, err := l.WaitTracking(timeout, cond)
	return err
}
