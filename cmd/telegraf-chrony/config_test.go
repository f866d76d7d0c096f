package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

func TestParseConfigRejects(t *testing.T) {
	tests := []struct {
		name string
		toml string
		want []string
	}{
		{"misspelt key", "[[inputs.chrony_tracking]]\ntimout = \"2s\"\n", []string{"inputs.chrony_tracking.timout"}},
		{"Telegraf-only key", "[[inputs.chrony_tracking]]\ninterval = \"10s\"\n", []string{"inputs.chrony_tracking.interval", "[[inputs.execd]]"}},
		{"agent table", "[agent]\ninterval = \"10s\"\n[[inputs.chrony_tracking]]\n", []string{"agent"}},
		{"other input", "[[inputs.chrony]]\n", []string{"inputs.chrony", "only"}},
		{"two tables", "[[inputs.chrony_tracking]]\n[[inputs.chrony_tracking]]\n", []string{"2 [[inputs.chrony_tracking]]", "servers"}},
		{"no table", "", []string{"no [[inputs.chrony_tracking]]"}},
		{"wrong type", "[[inputs.chrony_tracking]]\nretries = \"two\"\n", []string{"retries"}},
		{"bad duration", "[[inputs.chrony_tracking]]\ntimeout = \"soon\"\n", []string{"soon"}},
		{"not TOML", "[[inputs.chrony_tracking]\n", []string{"toml: line"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(tt.toml)
			require.Error(t, err)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestParseConfigReadsEveryOption(t *testing.T) {
	p, err := parseConfig(`[[inputs.chrony_tracking]]
  servers = ["udp://127.0.0.1:323", "udp://[::1]"]
  max_in_flight = 8
  timeout = "250ms"
  retries = 0
  socket_dir = "/run/telegraf"
  socket_group = "_chrony"
  socket_perms = "0660"
  dns_lookup = true
`)
	require.NoError(t, err)
	require.Equal(t, []string{"udp://127.0.0.1:323", "udp://[::1]"}, p.Servers)
	require.Equal(t, 8, p.MaxInFlight)
	require.Equal(t, 250*time.Millisecond, time.Duration(p.Timeout))
	require.Equal(t, 0, p.Retries)
	require.Equal(t, "/run/telegraf", p.SocketDir)
	require.Equal(t, "_chrony", p.SocketGroup)
	require.Equal(t, "0660", p.SocketPerms)
	require.True(t, p.DNSLookup)
}

// The shipped sample configs parse, and leave the defaults in place.
func TestSampleConfigsParse(t *testing.T) {
	for _, path := range []string{"../../sample.conf", "../../plugins/inputs/chrony_tracking/sample.conf"} {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		p, err := parseConfig(string(b))
		require.NoError(t, err, path)
		require.Equal(t, ct.New(), p, path)
	}
	top, _ := os.ReadFile("../../sample.conf")
	require.Equal(t, ct.New().SampleConfig(), string(top), "the top-level sample.conf is the plugin's")
}

func TestLoadConfigExpandsEnv(t *testing.T) {
	t.Setenv("CHRONY_ADDR", "udp://127.0.0.1:4323")
	path := filepath.Join(t.TempDir(), "c.conf")
	require.NoError(t, os.WriteFile(path, []byte("[[inputs.chrony_tracking]]\nserver = \"${CHRONY_ADDR}\"\n"), 0o600))
	p, err := loadConfig(path)
	require.NoError(t, err)
	require.Equal(t, "udp://127.0.0.1:4323", p.Server)
}

// Durations are read as Telegraf reads them: strings and seconds.
func TestParseConfigDurations(t *testing.T) {
	for in, want := range map[string]time.Duration{
		`"500ms"`: 500 * time.Millisecond, `"1s"`: time.Second, `"1m"`: time.Minute,
		`2`: 2 * time.Second, `0.25`: 250 * time.Millisecond, `'750ms'`: 750 * time.Millisecond,
	} {
		p, err := parseConfig("[[inputs.chrony_tracking]]\ntimeout = " + in + "\n")
		require.NoError(t, err, in)
		require.Equal(t, want, time.Duration(p.Timeout), in)
	}
}

// A UTF-8 byte order mark is dropped, as Telegraf's loader drops it; one
// anywhere else is no TOML.
func TestParseConfigByteOrderMark(t *testing.T) {
	p, err := parseConfig("\ufeff[[inputs.chrony_tracking]]\nretries = 1\n")
	require.NoError(t, err)
	require.Equal(t, 1, p.Retries)
	_, err = parseConfig("[[inputs.chrony_tracking]]\n\ufeffretries = 1\n")
	require.ErrorContains(t, err, "toml: line 2")
}

func TestExpandEnv(t *testing.T) {
	env := map[string]string{"A": "udp://127.0.0.1", "EMPTY": "", "Q": `a"b\c`}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct{ in, want, err string }{
		{in: "no variables", want: "no variables"},
		{in: "$A:323", want: "udp://127.0.0.1:323"},
		{in: "${A}:323", want: "udp://127.0.0.1:323"},
		{in: "${UNSET:-udp://[::1]}", want: "udp://[::1]"},
		{in: "${EMPTY:-fallback}", want: "fallback"},
		{in: "${EMPTY-fallback}", want: ""},
		{in: "${UNSET-fallback}", want: "fallback"},
		{in: "${UNSET:-${A}}", want: "udp://127.0.0.1"},
		{in: "${A:+set}", want: "set"},
		{in: "${EMPTY:+set}", want: ""},
		{in: "${EMPTY+set}", want: "set"},
		{in: "${A:?needed}", want: "udp://127.0.0.1"},
		{in: "$Q", want: `a"b\c`},
		{in: "pa$$word", want: "pa$word"},
		{in: "cost $5, ${1}, ends with $", want: "cost $5, ${1}, ends with $"},
		{in: "${A", want: "${A"},
		{in: "$UNSET", err: "environment variable UNSET is not set"},
		{in: "${UNSET}", err: "${UNSET:-value}"},
		{in: "${UNSET:-${ALSO_UNSET}}", err: "ALSO_UNSET is not set"},
		{in: "${EMPTY:?set it to the chronyd address}", err: "EMPTY is unset or empty: set it to the chronyd address"},
		{in: "${UNSET?required}", err: "UNSET is not set: required"},
		{in: "${EMPTY?required}", want: ""},
		// A word is expanded only when it is used, as in the shell.
		{in: "${A:-${UNSET}}", want: "udp://127.0.0.1"},
		{in: "${A-${UNSET}}", want: "udp://127.0.0.1"},
		{in: "${UNSET:+${ALSO_UNSET}}", want: ""},
		{in: "${EMPTY:+${UNSET}}", want: ""},
		{in: "${A:?${UNSET}}", want: "udp://127.0.0.1"},
		{in: "${UNSET:?${A} is needed}", err: "UNSET is unset or empty: udp://127.0.0.1 is needed"},
		{in: "${A:+${UNSET}}", err: "UNSET is not set"},
		{in: strings.Repeat("${UNSET:-", 8) + "x" + strings.Repeat("}", 8), want: "x"},
		{in: strings.Repeat("${UNSET:-", 9) + "x" + strings.Repeat("}", 9), err: "nested more than 8 deep"},
		{in: strings.Repeat("${A:-", 100) + "x" + strings.Repeat("}", 100), want: "udp://127.0.0.1"},
	}
	for _, tt := range tests {
		got, err := expandEnv(tt.in, lookup)
		if tt.err != "" {
			require.ErrorContains(t, err, tt.err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, got, tt.in)
	}
}

// Expansion is linear in the value: 300 KB of nested defaults, used or not,
// are refused or expanded at once (without the bound on nesting, each
// level scanned the rest again: 41 s for 600 KB).
func TestExpandEnvIsBounded(t *testing.T) {
	const n = 300 << 10 / len("${UNSET:-}")
	lookup := func(k string) (string, bool) { return "set", k == "A" }
	for name, tt := range map[string]struct{ in, want, err string }{
		"used":     {in: strings.Repeat("${UNSET:-", n) + "x" + strings.Repeat("}", n), err: "nested more than 8 deep"},
		"unused":   {in: "${A:-" + strings.Repeat("${UNSET:-", n) + "x" + strings.Repeat("}", n+1), want: "set"},
		"unclosed": {in: strings.Repeat("${UNSET:-", n), want: strings.Repeat("${UNSET:-", n)},
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			got, err := expandEnv(tt.in, lookup)
			timing.Within(t, time.Since(start), timing.Slack, "expansion is linear")
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// Variables are expanded in string values after parsing, as Telegraf does:
// in arrays too, never in comments, and a value cannot break the TOML.
func TestParseConfigEnv(t *testing.T) {
	t.Setenv("CHRONY_A", "udp://127.0.0.1:4323")
	t.Setenv("CHRONY_QUOTE", `x" retries = 9 #`)
	p, err := parseConfig(`# ${NOT_SET_ANYWHERE} in a comment is no variable
[[inputs.chrony_tracking]]
  servers = ["${CHRONY_A}", "unixgram:///run/${CHRONY_QUOTE}"]
  socket_dir = "${UNSET_DIR:-/run/telegraf}"
`)
	require.NoError(t, err)
	require.Equal(t, []string{"udp://127.0.0.1:4323", `unixgram:///run/x" retries = 9 #`}, p.Servers)
	require.Equal(t, 2, p.Retries)
	require.Equal(t, "/run/telegraf", p.SocketDir)

	_, err = parseConfig("[[inputs.chrony_tracking]]\n  server = \"udp://${CHRONY_HOST_UNSET}:323\"\n")
	require.ErrorContains(t, err, "line 2: server: environment variable CHRONY_HOST_UNSET is not set")
}

// What is not a config file is refused at once, without reading it: a
// device, a FIFO without a writer, a directory, a file over the limit.
func TestLoadConfigRefusesNonFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	big := filepath.Join(dir, "big.conf")
	require.NoError(t, os.WriteFile(big, nil, 0o600))
	require.NoError(t, os.Truncate(big, 200<<20)) // sparse: costs no disk
	edge := filepath.Join(dir, "edge.conf")
	require.NoError(t, os.WriteFile(edge, append([]byte("[[inputs.chrony_tracking]]\n"), bytes.Repeat([]byte("#\n"), (maxConfigSize-27)/2+1)...), 0o600))
	link := filepath.Join(dir, "link.conf")
	require.NoError(t, os.Symlink("/dev/zero", link))
	tests := []struct{ path, want string }{
		{"/dev/zero", "is a character device, not a regular file"},
		{link, "is a character device, not a regular file"},
		{fifo, "is a named pipe (FIFO), not a regular file"},
		{dir, "is a directory, not a regular file"},
		{big, "larger than the limit of 1 MiB"},
		{edge, "larger than the limit of 1 MiB"},
	}
	for _, tt := range tests {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		_, err := loadConfig(tt.path)
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		require.ErrorContains(t, err, tt.path, tt.path)
		require.ErrorContains(t, err, tt.want, tt.path)
		timing.Before(t, took, timing.LongTimeout, "%s is refused at once", tt.path)
		require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20), "%s is not read beyond the limit", tt.path)
	}
	// The limit itself is allowed.
	require.NoError(t, os.Truncate(edge, maxConfigSize))
	_, err := loadConfig(edge)
	require.NoError(t, err)
}
