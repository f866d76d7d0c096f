// Package jsonline writes a metric as Telegraf's JSON serializer does with
// its defaults, one object per line, without that serializer's JSONata
// engine (a tenth of the command's binary) and without encoding/json,
// whose reflection costs every start of the command 0.14 ms, a twentieth
// of a --once (BENCHMARKS.md). The bytes are encoding/json's for the same
// object as Go 1.26 and before write it, which Telegraf's releases are
// built with (FuzzMarshal compares the two); the test wing compares them
// with the serializer of a real agent (test/e2e).
package jsonline

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/influxdata/telegraf"
)

// ErrUnsupported is a field value that JSON cannot hold (NaN, ±Inf), or
// of a type that no metric of this plugin carries.
var ErrUnsupported = errors.New("jsonline: unsupported field value")

// Marshal returns m as one line of JSON: fields, name, tags and the
// timestamp in json_timestamp_units of 1s, the serializer's division of
// nanoseconds. Keys are sorted, as encoding/json sorts a map's.
func Marshal(m telegraf.Metric) ([]byte, error) {
	b := make([]byte, 0, 640)
	b = append(b, `{"fields":{`...)
	fields := slices.Clone(m.FieldList())
	slices.SortFunc(fields, func(x, y *telegraf.Field) int { return strings.Compare(x.Key, y.Key) })
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f.Key)
		b = append(b, ':')
		var err error
		if b, err = appendValue(b, f.Value); err != nil {
			return nil, err
		}
	}
	b = append(b, `},"name":`...)
	b = appendString(b, m.Name())
	b = append(b, `,"tags":{`...)
	// TagList is sorted by key.
	for i, t := range m.TagList() {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, t.Key)
		b = append(b, ':')
		b = appendString(b, t.Value)
	}
	b = append(b, `},"timestamp":`...)
	b = strconv.AppendInt(b, m.Time().UnixNano()/int64(time.Second), 10)
	return append(b, "}\n"...), nil
}

func appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case float64:
		return appendFloat(b, v)
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case uint64:
		return strconv.AppendUint(b, v, 10), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case string:
		return appendString(b, v), nil
	}
	return nil, ErrUnsupported
}

// appendFloat formats as encoding/json does: the shortest repetition, in
// exponent form only below 1e-6 or from 1e21 on, with a one-digit negative
// exponent unpadded.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, ErrUnsupported
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const hex = "0123456789abcdef"

// appendString quotes s as encoding/json does by default: HTML's <, > and
// & escaped, each byte of invalid UTF-8 as the escape \ufffd (Go 1.27's
// writes the character itself), and U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c >= ' ' && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&':
				b = append(b, c)
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\b':
				b = append(b, '\\', 'b')
			case c == '\f':
				b = append(b, '\\', 'f')
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
