package main

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"testing"

	"github.com/influxdata/toml"
	"github.com/influxdata/toml/ast"

	"github.com/telegraf-chrony/telegraf-chrony/internal/telegraftoml"
	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
)

// FuzzOptionMatchesTelegraf decodes every key of the file's
// [[inputs.chrony_tracking]] table (or of its top-level table when it has
// none, so that any value reaches every option) one at a time with
// setOption and with influxdata/toml's decoder, as Telegraf's loader
// decodes it: the same option set to the same value, or the same error
// text, or both calling the key unknown.
func FuzzOptionMatchesTelegraf(f *testing.F) {
	sample, err := os.ReadFile("../../sample.conf")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(sample))
	for _, s := range []string{
		"server = \"udp://x\"\nservers = [\"a\", 'b',]\nmetrics = []\nmax_in_flight = 1_000\nretries = -1\ndns_lookup = true",
		"timeout = \"1s\"\nretries = 9223372036854775808\nserver = 1\nservers = \"a\"\ndns_lookup = 1",
		"timeout = 2\nserver = 1.5\nretries = 1.5\nmax_in_flight = 1979-05-27\nsocket_dir = 07:32:00\nmetrics = [1, \"a\"]",
		"timeout = 1e999\nsocket_perms = true\nservers = [[\"a\"]]\nlog = 1\nLog = \"x\"\nl_o_g = 1\nServer = \"x\"",
		"timeout = [1]\ntimeout2 = 1\nservers = [\"a\", 1]\ndns_lookup = \"true\"\nretries = {a = 1}",
		"[[inputs.chrony_tracking]]\nservers = [{a = 1}]\n[inputs.chrony_tracking.server]\n[[inputs.chrony_tracking.timeout]]",
		"timeout = 1979-05-27T07:32:00Z\nmax_in_flight = 99-99-99\ndns_lookup = 99:99:99\ntimeout = 1_0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		want, err := toml.Parse([]byte(data))
		if err != nil {
			return // FuzzParse compares refusals
		}
		got, err := telegraftoml.Parse(data)
		if err != nil {
			t.Fatalf("%q: refused (%v) what influxdata/toml reads", data, err)
		}
		wt, gt := optionTables(want, got)
		for key, node := range wt.Fields {
			compareOption(t, key, node, gt.Fields[key])
		}
	})
}

// optionTables are the [[inputs.chrony_tracking]] table of both trees,
// or their top-level tables.
func optionTables(want *ast.Table, got *telegraftoml.Table) (*ast.Table, *telegraftoml.Table) {
	wi, ok1 := want.Fields["inputs"].(*ast.Table)
	gi, ok2 := got.Fields["inputs"].(*telegraftoml.Table)
	if !ok1 || !ok2 {
		return want, got
	}
	wc, ok1 := wi.Fields[ct.Name].([]*ast.Table)
	gc, ok2 := gi.Fields[ct.Name].([]*telegraftoml.Table)
	if !ok1 || !ok2 {
		return want, got
	}
	return wc[0], gc[0]
}

func compareOption(t *testing.T, key string, wantNode, gotNode any) {
	t.Helper()
	unknown := false
	cfg := toml.Config{
		NormFieldName: toml.DefaultConfig.NormFieldName,
		FieldToKey:    toml.DefaultConfig.FieldToKey,
		MissingField:  func(reflect.Type, string) error { unknown = true; return nil },
	}
	want := ct.New()
	werr := cfg.UnmarshalTable(&ast.Table{Fields: map[string]any{key: wantNode}}, want)
	var le *toml.LineError
	for errors.As(werr, &le) {
		werr = le.Err
	}
	got := ct.New()
	known, gerr := setOption(got, key, gotNode)
	if known == unknown || fmt.Sprint(werr) != fmt.Sprint(gerr) {
		t.Fatalf("%s: known %v, error %v; influxdata/toml: unknown %v, error %v", key, known, gerr, unknown, werr)
	}
	if werr == nil && !reflect.DeepEqual(want, got) {
		t.Fatalf("%s: set %+v, influxdata/toml %+v", key, got, want)
	}
}
