package main

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// unitScale is the seconds of each unit chronyc prints an offset in.
var unitScale = map[string]float64{"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400, "y": 86400 * 365}

// FuzzOffset: any offset chronyd can send prints as chronyc would: at
// least chronyc's width, a unit of its steps, the sign when asked, and a
// number that reads back to the offset within half of its last digit.
func FuzzOffset(f *testing.F) {
	for _, v := range []float64{0, 1e-9, -9.9994e-6, 9999.5e-9, 0.0021, -1.5, 999.49, 999.5, 1e5, -6e6, 4e9, 9e18} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		if math.IsNaN(v) || math.Abs(v) > 1<<63 {
			return // a chrony float is neither NaN nor beyond 2^63 (a 25-bit coefficient, exponents up to 63)
		}
		for _, signed := range []bool{false, true} {
			s, want, width := nanoseconds(v), math.Abs(v), 6 // chronyc's %4.0fns, %5.1fs...
			if signed {
				s, want, width = signedNanoseconds(v), v, 7
			}
			num := strings.TrimLeft(s, " ")
			unit := strings.TrimLeft(num, "+-0123456789.")
			scale, ok := unitScale[unit]
			if !ok || len(s) < width {
				t.Fatalf("offset %v (signed %v) = %q: unit %q, want one of chronyc's and %d characters at least", v, signed, s, unit, width)
			}
			if signed != (num[0] == '+' || num[0] == '-') {
				t.Fatalf("offset %v (signed %v) = %q: sign", v, signed, s)
			}
			got, err := strconv.ParseFloat(strings.TrimSuffix(num, unit), 64)
			if err != nil {
				t.Fatalf("offset %v (signed %v) = %q: %v", v, signed, s, err)
			}
			digit := 1.0
			if strings.Contains(num, ".") {
				digit = 0.1
			}
			// Half the last digit printed, and float64's own rounding of a
			// number that large.
			if math.Abs(got*scale-want) > max(digit/2*scale, math.Abs(want)*1e-15)*(1+1e-9) {
				t.Fatalf("offset %v (signed %v) = %q reads back as %v s", v, signed, s, got*scale)
			}
		}
	})
}

// FuzzInterval: LastRx and Span print in chronyc's 4 characters, "-" for
// never, reading back to the interval within its unit.
func FuzzInterval(f *testing.F) {
	for _, v := range []uint64{0, 1199, 1200, 35999, 36000, 345599, 345600, 86400 * 999, 86400 * 1000, math.MaxUint32} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v uint64) {
		v %= 1 << 32 // chronyd sends 32 bits
		s := interval(v)
		if len(s) < 4 {
			t.Fatalf("interval(%d) = %q: fewer than 4 characters", v, s)
		}
		if v == math.MaxUint32 {
			if s != "   -" {
				t.Fatalf("interval(never) = %q", s)
			}
			return
		}
		num := strings.TrimLeft(s, " ")
		scale := map[string]uint64{"m": 60, "h": 3600, "d": 86400, "y": 86400 * 365}[num[len(num)-1:]]
		if scale == 0 {
			scale = 1
		} else {
			num = num[:len(num)-1]
		}
		n, err := strconv.ParseUint(num, 10, 64)
		if err != nil || n*scale > v || v-n*scale >= scale {
			t.Fatalf("interval(%d) = %q reads back as %d s (%v)", v, s, n*scale, err)
		}
	})
}
