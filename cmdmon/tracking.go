package cmdmon

import (
	"net/netip"
	"time"
)

// LeapStatus is chronyd's leap indicator for the system clock.
type LeapStatus uint16

// The leap states chronyd reports (ntp.h, LEAP_*).
const (
	LeapNormal         LeapStatus = 0
	LeapInsertSecond   LeapStatus = 1
	LeapDeleteSecond   LeapStatus = 2
	LeapUnsynchronised LeapStatus = 3
)

var leapWords = [...]string{"normal", "insert second", "delete second", "not synchronised"}

// String returns the word chronyc prints, in lower case.
func (l LeapStatus) String() string {
	if int(l) < len(leapWords) {
		return leapWords[l]
	}
	return "invalid"
}

// AddrFamily says what the reference address holds.
type AddrFamily uint16

// The address families of chrony's IPAddr (addressing.h, IPADDR_*).
const (
	FamilyUnspec AddrFamily = 0 // local reference, refclock or unsynchronised
	FamilyInet4  AddrFamily = 1
	FamilyInet6  AddrFamily = 2
	FamilyID     AddrFamily = 3 // a source whose name is not resolved yet
)

var familyWords = [...]string{"unspec", "inet4", "inet6", "id"}

func (f AddrFamily) String() string {
	if int(f) < len(familyWords) {
		return familyWords[f]
	}
	return "invalid"
}

// LocalRefID is the reference ID chronyd reports when it serves its own
// clock as the reference (`local` directive), 127.127.1.1.
const LocalRefID uint32 = 0x7F7F0101

// Tracking is chronyd's tracking report, with chronyc's field meanings and
// signs, plus values derived from it at the moment of the reading.
type Tracking struct {
	// Address is the chronyd command address that answered, as a URL.
	Address string

	// ReferenceID identifies the reference (RefIDHex renders it as chronyc).
	ReferenceID uint32
	// ReferenceName is the source's IP address for an NTP source, the ASCII
	// reference ID (such as GPS or PPS) for a refclock, chrony's ID#… for an
	// unresolved source, and empty for the local reference or when
	// unsynchronised, exactly as `chronyc -c tracking` prints it.
	ReferenceName string
	// ReferenceAddr is the source's address when Family is inet4 or inet6.
	ReferenceAddr netip.Addr
	// Family is the wire family of the reference address. Unspec is what
	// tells a refclock or the local reference from an NTP source.
	Family AddrFamily

	Stratum uint16
	Leap    LeapStatus
	// RefTime is when the last measurement from the reference was
	// processed; the zero Time when chronyd has never had one.
	RefTime time.Time

	// SystemTime is chronyd's current correction of the system clock in
	// seconds: positive means the clock is slow of NTP time, negative fast.
	SystemTime float64
	// LastOffset is the offset measured at the last clock update, seconds;
	// positive means local time was ahead of the source.
	LastOffset float64
	// RMSOffset is the long-term average of the offset, seconds.
	RMSOffset float64
	// Frequency is the rate at which the clock would gain time if chronyd
	// did not correct it, ppm; positive means it runs fast.
	Frequency float64
	// ResidualFreq is the residual frequency of the reference, ppm.
	ResidualFreq float64
	// Skew is the estimated error bound of Frequency, ppm.
	Skew float64
	// RootDelay is the total network path delay to the stratum-1 source, s.
	RootDelay float64
	// RootDispersion is the total dispersion accumulated to the stratum-1
	// source, seconds.
	RootDispersion float64
	// UpdateInterval is the interval between the last two clock updates, s.
	UpdateInterval float64

	// ReadAt is the local time the reply was received.
	ReadAt time.Time
	// Synchronised reports whether the clock follows a real time source:
	// leap status is not "not synchronised", the reference ID is neither 0
	// (no source) nor the local reference, and the stratum is 1..15. This is
	// the rule chronyc's waitsync applies: a clock running on `local
	// stratum N` keeps a normal leap status and a stratum, but nothing bounds
	// its error, so it does not count.
	Synchronised bool
	// ClockErrorBound is the largest error the clock can have, seconds:
	// |SystemTime| + RootDispersion + RootDelay/2 (chronyc's documentation).
	ClockErrorBound float64
	// RefTimeAge is ReadAt - RefTime, or 0 when RefTime is zero. A growing
	// age is what reveals that chronyd lost its sources, since neither leap
	// status nor stratum changes at once.
	RefTimeAge time.Duration
}

// RefIDHex renders the reference ID as 8 upper-case hex digits, as chronyc
// and Telegraf's inputs.chrony do.
func (r *Tracking) RefIDHex() string { return RefIDHex(r.ReferenceID) }

// RefIDHex renders a reference ID as 8 upper-case hex digits.
func RefIDHex(id uint32) string {
	const digits = "0123456789ABCDEF"
	var b [8]byte
	for i := range b {
		b[i] = digits[id>>(28-4*uint(i))&0xF]
	}
	return string(b[:])
}

// derive fills the fields computed from the wire fields.
func (r *Tracking) derive() {
	r.Synchronised = r.Leap != LeapUnsynchronised &&
		r.ReferenceID != 0 && r.ReferenceID != LocalRefID &&
		r.Stratum >= 1 && r.Stratum <= 15
	r.ClockErrorBound = abs(r.SystemTime) + r.RootDispersion + r.RootDelay/2
	r.RefTimeAge = 0
	if !r.RefTime.IsZero() {
		r.RefTimeAge = r.ReadAt.Sub(r.RefTime)
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
