// Package telegraftoml reads TOML as Telegraf's config loader reads it
// (github.com/influxdata/toml, TOML v0.4 with that reader's quirks), into a
// tree of tables, keys and values, without that reader's start-up cost:
// its package initialisation and parser cost a --once run about 0.3 ms.
//
// Every file is accepted or refused as influxdata/toml does, with the same
// tree and the same error text (FuzzParse in the tests compares the two),
// but for arrays and inline tables nested more than maxDepth deep, which
// are refused with an error of their own (see maxDepth).
package telegraftoml

import (
	"fmt"
	"time"
)

// Kind is the TOML type of a value.
type Kind uint8

const (
	String Kind = iota
	Integer
	Float
	Boolean
	Datetime
	Array
)

// Value is a key's value. Text is a string's decoded value, a number's
// source without underscores, or a boolean's or datetime's source.
type Value struct {
	Kind   Kind
	Text   string
	Source string   // as written
	Elems  []*Value // an array's values
}

// KeyValue is a key, its value and the line the value ends on.
type KeyValue struct {
	Key   string
	Value *Value
	Line  int
}

// Table holds *KeyValue, *Table and []*Table (an array of tables) by key.
type Table struct {
	Name     string
	Line     int
	Fields   map[string]any
	explicit bool // defined by a [header], not only implied by one
}

// LineError is an error on a line of the file; its text is
// influxdata/toml's.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

func (e *LineError) Unwrap() error { return e.Err }

// Time is a datetime value's time, parsed as influxdata/toml parses it.
func (v *Value) Time() (time.Time, error) {
	switch {
	case !contains(v.Text, ':'):
		return time.Parse("2006-01-02", v.Text)
	case !contains(v.Text, '-'):
		return time.Parse("15:04:05.999999999", v.Text)
	}
	t, err := time.Parse("2006-01-02T15:04:05.999999999Z07:00", v.Text)
	if err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05.999999999", v.Text)
}

func contains(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}
