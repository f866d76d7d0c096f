package chrony_tracking

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a length of time in a config file, written as Telegraf users
// write them: a string for Go's time.ParseDuration ("500ms", "1s", "1m30s")
// or a number of seconds (2, 0.5).
//
// It decodes through encoding.TextUnmarshaler, as Telegraf's own
// config.Duration does, so every TOML reader that loads this plugin accepts
// it: Telegraf's config loader (github.com/influxdata/toml hands it a
// string's value, or a number's source text), the execd shim's
// (BurntSushi/toml) and this repository's command. Using config.Duration
// itself would link Telegraf's config package, about 440 packages.
type Duration time.Duration

// maxSeconds is the largest number of seconds a time.Duration holds.
const maxSeconds = math.MaxInt64 / int64(time.Second)

// UnmarshalText reads "500ms", "1s", "2" or "0.5". Empty is zero, as in
// Telegraf; the plugin's Init then names the option that must be positive.
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "" {
		*d = 0
		return nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > maxSeconds || n < -maxSeconds {
			return durationError(s, "out of range")
		}
		*d = Duration(time.Duration(n) * time.Second)
		return nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || math.Abs(f) > float64(maxSeconds) {
			return durationError(s, "out of range")
		}
		*d = Duration(f * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return durationError(s, "not a duration")
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the form UnmarshalText reads back.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d Duration) String() string { return time.Duration(d).String() }

func durationError(s, why string) error {
	return fmt.Errorf(`%q is %s: write a string such as "500ms" or "2s", or a number of seconds`, s, why)
}
