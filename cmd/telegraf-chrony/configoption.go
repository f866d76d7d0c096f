package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/telegraf-chrony/telegraf-chrony/internal/telegraftoml"
	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
)

// An option's value is decoded as influxdata/toml's decoder (Telegraf's)
// decodes it into the option's Go type, with its error texts, which name
// that type. The decoder test compares the two on every file FuzzParse
// makes.

// target is one option's Go type: the name the decoder's errors give it
// and how a TOML value of each kind is stored in it.
type target struct {
	typ      string
	str      func(string)
	integer  func(int64)
	boolean  func(bool)
	text     func(string) error // an encoding.TextUnmarshaler
	elements *[]string
}

// setOption decodes node (a *KeyValue, a *Table or a []*Table) into the
// option key names; known is false when p has no such option.
func setOption(p *ct.ChronyTracking, key string, node any) (known bool, err error) {
	t, ok := optionTarget(p, key)
	if !ok {
		if strings.ReplaceAll(strings.ToLower(key), "_", "") == "log" {
			return true, fmt.Errorf("field corresponding to `%s' in chrony_tracking.ChronyTracking cannot be set through TOML", key)
		}
		return false, nil
	}
	switch v := node.(type) {
	case *telegraftoml.KeyValue:
		return true, t.set(v.Value)
	case *telegraftoml.Table:
		return true, typeError("table", "struct or map", t.typ)
	case []*telegraftoml.Table:
		if t.elements != nil {
			return true, typeError("table", "struct or map", "string")
		}
		return true, typeError("array table", "slice", t.typ)
	}
	return true, nil
}

func optionTarget(p *ct.ChronyTracking, key string) (target, bool) {
	switch key {
	case "server":
		return stringTarget(&p.Server), true
	case "socket_dir":
		return stringTarget(&p.SocketDir), true
	case "socket_group":
		return stringTarget(&p.SocketGroup), true
	case "socket_perms":
		return stringTarget(&p.SocketPerms), true
	case "servers":
		return target{typ: "[]string", elements: &p.Servers}, true
	case "metrics":
		return target{typ: "[]string", elements: &p.Metrics}, true
	case "max_in_flight":
		return target{typ: "int", integer: func(n int64) { p.MaxInFlight = int(n) }}, true
	case "retries":
		return target{typ: "int", integer: func(n int64) { p.Retries = int(n) }}, true
	case "timeout":
		return target{typ: "chrony_tracking.Duration", text: func(s string) error { return p.Timeout.UnmarshalText([]byte(s)) }}, true
	case "dns_lookup":
		return target{typ: "bool", boolean: func(b bool) { p.DNSLookup = b }}, true
	}
	return target{}, false
}

func stringTarget(s *string) target {
	return target{typ: "string", str: func(v string) { *s = v }}
}

var errArrayMultiType = errors.New("array can't contain multiple types")

func (t target) set(v *telegraftoml.Value) error {
	if t.text != nil {
		switch v.Kind {
		case telegraftoml.Array:
			return typeError("array", "", t.typ)
		case telegraftoml.String:
			return t.text(v.Text)
		}
		return t.text(v.Source)
	}
	switch v.Kind {
	case telegraftoml.Integer:
		return t.setInteger(v)
	case telegraftoml.Float:
		if _, err := strconv.ParseFloat(v.Text, 64); err != nil {
			return err
		}
	case telegraftoml.String:
		if t.str != nil {
			t.str(v.Text)
			return nil
		}
	case telegraftoml.Boolean:
		if t.boolean != nil {
			t.boolean(v.Text == "true")
			return nil
		}
	case telegraftoml.Datetime:
		if _, err := v.Time(); err != nil {
			return err
		}
	case telegraftoml.Array:
		return t.setArray(v)
	}
	return typeError(kindName[v.Kind], "", t.typ)
}

var kindName = [...]string{
	telegraftoml.String: "string", telegraftoml.Integer: "integer", telegraftoml.Float: "float",
	telegraftoml.Boolean: "boolean", telegraftoml.Datetime: "datetime", telegraftoml.Array: "array",
}

func (t target) setInteger(v *telegraftoml.Value) error {
	if t.integer == nil {
		return typeError("integer", "", t.typ)
	}
	n, err := strconv.ParseInt(v.Text, 10, 64)
	var ne *strconv.NumError
	if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
		return fmt.Errorf("value %s is out of range for int", ne.Num)
	}
	if err != nil {
		return err
	}
	t.integer(n)
	return nil
}

func (t target) setArray(v *telegraftoml.Value) error {
	if t.elements == nil {
		return typeError("array", "slice", t.typ)
	}
	out := make([]string, len(v.Elems))
	for i, e := range v.Elems {
		if i > 0 && e.Kind != v.Elems[0].Kind {
			return errArrayMultiType
		}
		if err := stringTarget(&out[i]).set(e); err != nil {
			return err
		}
	}
	*t.elements = out
	return nil
}

func typeError(what, want, typ string) error {
	msg := fmt.Sprintf("cannot unmarshal TOML %s into %s", what, typ)
	if want != "" {
		msg += " (need " + want + ")"
	}
	return errors.New(msg)
}
