// Package lineproto writes Telegraf metrics as InfluxDB line protocol, the
// format inputs.execd reads from an external plugin. It writes what
// Telegraf's influx serializer writes with its defaults, byte for byte
// (FuzzAppend compares the two), without linking the serializer, whose
// registry brings Telegraf's metric package and its gob encoder into every
// start of the command.
package lineproto

import (
	"errors"
	"math"
	"strconv"

	"github.com/influxdata/telegraf"
)

// ErrNoFields is returned for a metric none of whose fields can be written.
var ErrNoFields = errors.New("no serializable fields")

// ErrNoName is returned for a metric whose name is empty.
var ErrNoName = errors.New("invalid name")

// Append appends m to b as one line, newline included, as Telegraf's
// serializer does: tags in the metric's order, those with an empty key or
// value (after a trailing backslash is dropped) left out; fields in order,
// NaN and infinite floats and values of other types left out, unsigned
// integers written as signed ones (capped at the largest), strings quoted;
// the time in nanoseconds. On error b is returned unchanged.
func Append(b []byte, m telegraf.Metric) ([]byte, error) {
	start := len(b)
	if m.Name() == "" {
		return b, ErrNoName
	}
	b = appendEscaped(b, m.Name(), nameEscape)
	for _, t := range m.TagList() {
		k, v := trimBackslash(t.Key), trimBackslash(t.Value)
		if k == "" || v == "" {
			continue
		}
		b = append(b, ',')
		b = appendEscaped(b, k, keyEscape)
		b = append(b, '=')
		b = appendEscaped(b, v, keyEscape)
	}
	sep := byte(' ')
	for _, f := range m.FieldList() {
		if f.Key == "" || !writable(f.Value) {
			continue
		}
		b = append(b, sep)
		sep = ','
		b = appendEscaped(b, f.Key, keyEscape)
		b = append(b, '=')
		b = appendValue(b, f.Value)
	}
	if sep == ' ' {
		return b[:start], ErrNoFields
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, m.Time().UnixNano(), 10)
	return append(b, '\n'), nil
}

func writable(v any) bool {
	switch v := v.(type) {
	case float64:
		return !math.IsNaN(v) && !math.IsInf(v, 0)
	case int64, uint64, string, bool:
		return true
	}
	return false
}

func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case float64:
		return strconv.AppendFloat(b, v, 'f', -1, 64)
	case int64:
		return append(strconv.AppendInt(b, v, 10), 'i')
	case uint64:
		return append(strconv.AppendInt(b, int64(min(v, math.MaxInt64)), 10), 'i')
	case bool:
		return strconv.AppendBool(b, v)
	}
	s := v.(string)
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// Which characters are escaped where: a tag key or value and a field key
// escape '=' too; a measurement name does not.
const (
	nameEscape = false
	keyEscape  = true
)

func appendEscaped(b []byte, s string, equals bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\t':
			b = append(b, `\t`...)
		case '\n':
			b = append(b, `\n`...)
		case '\f':
			b = append(b, `\f`...)
		case '\r':
			b = append(b, `\r`...)
		case ',', ' ':
			b = append(b, '\\', c)
		case '=':
			if equals {
				b = append(b, '\\')
			}
			b = append(b, c)
		default:
			b = append(b, c)
		}
	}
	return b
}

// trimBackslash drops trailing backslashes, which line protocol cannot
// end a tag key or value with.
func trimBackslash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '\\' {
		s = s[:len(s)-1]
	}
	return s
}
