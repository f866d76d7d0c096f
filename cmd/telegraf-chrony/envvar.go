package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/telegraf-chrony/telegraf-chrony/internal/telegraftoml"
)

// expandEnvTable replaces environment variables in the string values of
// tbl (arrays included), as Telegraf does by default: after parsing, so a
// value never needs quoting. See expandEnv for the forms.
func expandEnvTable(tbl *telegraftoml.Table) error {
	for _, key := range sortedKeys(tbl.Fields) {
		kv, ok := tbl.Fields[key].(*telegraftoml.KeyValue)
		if !ok {
			continue // a sub-table: refused as an unknown key
		}
		if err := expandEnvValue(kv.Value); err != nil {
			return fileError(fmt.Sprintf("line %d: %s", kv.Line, key), "", err)
		}
	}
	return nil
}

func expandEnvValue(v *telegraftoml.Value) error {
	switch v.Kind {
	case telegraftoml.String:
		s, err := expandEnv(v.Text, os.LookupEnv)
		v.Text = s
		return err
	case telegraftoml.Array:
		for _, e := range v.Elems {
			if err := expandEnvValue(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// expandEnv substitutes the forms Telegraf's config loader knows:
//
//	$VAR, ${VAR}      the value; unset is an error (Telegraf would keep the text)
//	${VAR:-default}   default when VAR is unset or empty; ${VAR-default}: unset only
//	${VAR:?message}   an error with message when VAR is unset or empty; ${VAR?message}: unset only
//	${VAR:+other}     other when VAR is set and not empty; ${VAR+other}: when set
//	$$                a literal $
//
// A default, message or other may hold variables itself, expanded only
// when it is used, as in the shell, and nested at most maxNesting deep:
// each level scans the rest of the value again. Text that is no variable
// (a $ before a digit or a space, ${1}) is kept as written, as Telegraf
// keeps it for regular expressions.
func expandEnv(s string, lookup func(string) (string, bool)) (string, error) {
	return expand(s, lookup, 0)
}

// maxNesting bounds how deep ${A:-${B:-...}} nests: a config needs two or
// three levels, and a value of 600 KB nested without bound took 41 s.
const maxNesting = 8

func expand(s string, lookup func(string) (string, bool), depth int) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			i++
			continue
		}
		switch c := s[i+1]; {
		case c == '$':
			b.WriteByte('$')
			i += 2
		case isNameStart(c):
			n := nameLen(s[i+1:])
			name := s[i+1 : i+1+n]
			v, ok := lookup(name)
			if !ok {
				return "", unsetError(name)
			}
			b.WriteString(v)
			i += 1 + n
		case c == '{':
			end := closingBrace(s, i+2)
			if end < 0 {
				b.WriteString(s[i:])
				return b.String(), nil
			}
			if depth == maxNesting {
				return "", fmt.Errorf("environment variables nested more than %d deep: write a default without ${...} inside it at that depth", maxNesting)
			}
			v, ok, err := expandBraced(s[i+2:end], lookup, depth+1)
			if err != nil {
				return "", err
			}
			if !ok {
				v = s[i : end+1]
			}
			b.WriteString(v)
			i = end + 1
		default:
			b.WriteByte('$')
			i++
		}
	}
	return b.String(), nil
}

// expandBraced expands the inside of ${...}; ok is false when it is not a
// variable at all.
func expandBraced(in string, lookup func(string) (string, bool), depth int) (v string, ok bool, err error) {
	n := 0
	if len(in) > 0 && isNameStart(in[0]) {
		n = nameLen(in)
	}
	if n == 0 {
		return "", false, nil
	}
	name, op := in[:n], in[n:]
	val, set := lookup(name)
	if op == "" {
		if !set {
			return "", true, unsetError(name)
		}
		return val, true, nil
	}
	colon := strings.HasPrefix(op, ":")
	op = strings.TrimPrefix(op, ":")
	if op == "" || !strings.ContainsRune("-?+", rune(op[0])) {
		return "", false, nil
	}
	present := set && (!colon || val != "")
	// The word after the operator is used when the variable is absent
	// (- and ?) or present (+); otherwise it is not expanded at all.
	if present != (op[0] == '+') {
		return val, true, nil
	}
	arg, err := expand(op[1:], lookup, depth)
	switch {
	case err != nil:
		return "", true, err
	case op[0] != '?':
		return arg, true, nil
	case colon:
		return "", true, fmt.Errorf("environment variable %s is unset or empty: %s", name, arg)
	default:
		return "", true, fmt.Errorf("environment variable %s is not set: %s", name, arg)
	}
}

func unsetError(name string) error {
	return fmt.Errorf("environment variable %s is not set: set it in the agent's environment (or the environment option of [[inputs.execd]]), or give a default: ${%s:-value}", name, name)
}

// closingBrace finds the } that closes a ${ whose inside starts at from,
// counting nested ${...}.
func closingBrace(s string, from int) int {
	depth := 1
	for i := from; i < len(s); i++ {
		switch {
		case s[i] == '}':
			if depth--; depth == 0 {
				return i
			}
		case strings.HasPrefix(s[i:], "${"):
			depth++
			i++
		}
	}
	return -1
}

func isNameStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func nameLen(s string) int {
	n := 0
	for n < len(s) && (isNameStart(s[n]) || '0' <= s[n] && s[n] <= '9') {
		n++
	}
	return n
}
