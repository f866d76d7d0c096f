package jsonline

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/metric"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reference is what Telegraf's JSON serializer writes with its defaults:
// encoding/json's rendering of this object.
func reference(m telegraf.Metric) ([]byte, error) {
	b, err := json.Marshal(struct {
		Fields    map[string]any    `json:"fields"`
		Name      string            `json:"name"`
		Tags      map[string]string `json:"tags"`
		Timestamp int64             `json:"timestamp"`
	}{m.Fields(), m.Name(), m.Tags(), m.Time().UnixNano() / int64(time.Second)})
	return append(b, '\n'), err
}

// requireSame checks Marshal against encoding/json: the same bytes, or
// both refuse the metric. encoding/json writes a byte of invalid UTF-8 as
// the escape \ufffd through Go 1.26, as Telegraf v1.37's releases (built
// with Go 1.25) and Marshal write it, and as the character itself from Go
// 1.27: the same string either way, so both sides are compared with that
// escape written as the character.
func requireSame(t *testing.T, m telegraf.Metric) {
	t.Helper()
	want, werr := reference(m)
	got, err := Marshal(m)
	if werr != nil {
		require.ErrorIs(t, err, ErrUnsupported, "encoding/json: %v", werr)
		return
	}
	require.NoError(t, err)
	require.Equal(t, unescapeReplacement(want), unescapeReplacement(got))
}

// unescapeReplacement writes each escape \ufffd of JSON text b as U+FFFD,
// leaving an escaped backslash followed by "ufffd" as it is.
func unescapeReplacement(b []byte) string {
	var out strings.Builder
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] != '\\' || i+1 == len(b):
			out.WriteByte(b[i])
		case strings.HasPrefix(string(b[i+1:]), "ufffd"):
			out.WriteRune(utf8.RuneError)
			i += 5
		default:
			out.Write(b[i : i+2])
			i++
		}
	}
	return out.String()
}

// The comparison's own rewriting: an escape becomes the character, an
// escaped backslash before "ufffd" and other escapes stay.
func TestUnescapeReplacement(t *testing.T) {
	assert.Equal(t, "\"a\uFFFDb\\\\ufffd\\n\"", unescapeReplacement([]byte(`"a\ufffdb\\ufffd\n"`)))
}

func TestMarshalAsEncodingJSON(t *testing.T) {
	at := time.Unix(1796302543, 655700967)
	for _, tc := range []struct {
		name   string
		tags   map[string]string
		fields map[string]any
	}{
		{"tracking", map[string]string{"server": "udp://127.0.0.1:323", "result": "success"},
			map[string]any{"system_time": -1.36e-06, "stratum": int64(9), "synchronised": true, "leap": "normal"}},
		{"no tags", nil, map[string]any{"a": 1.0}},
		{"floats", nil, map[string]any{"zero": 0.0, "neg_zero": math.Copysign(0, -1), "small": 1e-7, "edge": 1e-6,
			"big": 1e21, "below_big": 999999999999999999999.0, "tiny": 5e-324, "max": math.MaxFloat64, "third": 1.0 / 3}},
		{"ints", nil, map[string]any{"min": int64(math.MinInt64), "max": uint64(math.MaxUint64)}},
		{"escapes <&>", map[string]string{"q\"uote": "back\\slash", "ctl": "\x00\x01\b\f\n\r\t\x1f\x7f"},
			map[string]any{"html": "<a href='x'>&</a>", "bad utf-8": "a\xffb\xc3", "separators": "\u2028\u2029", "é": "😀"}},
		{"nan", nil, map[string]any{"x": math.NaN()}},
		{"inf", nil, map[string]any{"x": math.Inf(-1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireSame(t, metric.New(tc.name, tc.tags, tc.fields, at))
		})
	}
}

// FuzzMarshal compares Marshal with encoding/json on metrics of every field
// type the plugin writes.
func FuzzMarshal(f *testing.F) {
	f.Add("chrony_tracking", "server", "udp://[::1]:323", "reference_name", "ntp.example", 1.5e-9, int64(-3), uint64(7), true, int64(1796302543655700967))
	f.Add("a<b", "t\x00", "\xff\u2028", "k&", "\"\\", math.NaN(), int64(0), uint64(0), false, int64(-1))
	f.Fuzz(func(t *testing.T, name, tagKey, tagValue, fieldKey, text string, x float64, i int64, u uint64, b bool, ns int64) {
		m := metric.New(name, map[string]string{tagKey: tagValue, "server": tagValue + tagKey},
			map[string]any{fieldKey: text, fieldKey + "_f": x, "i" + fieldKey: i, "u": u, "b": b}, time.Unix(0, ns))
		requireSame(t, m)
	})
}
