package main

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	"github.com/telegraf-chrony/telegraf-chrony/internal/telegraftoml"
	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
)

// loadConfig reads the plugin's options from path: a file written as for
// Telegraf, holding one [[inputs.chrony_tracking]] table. Unlike the execd
// shim's loader, which ignores keys it does not know (a misspelt "timout"
// would leave the default in place), every key must be one the plugin has.
// An error is a config_error that names the file.
func loadConfig(path string) (*ct.ChronyTracking, error) {
	b, err := readConfigFile(path)
	if err != nil {
		return nil, err
	}
	p, err := parseConfig(string(b))
	var te *cmdmon.Error
	if errors.As(err, &te) {
		te.Msg = strings.TrimSuffix(path+": "+te.Msg, ": ")
	}
	return p, err
}

// parseConfig decodes a config as Telegraf does: read as Telegraf's TOML
// reader (github.com/influxdata/toml) reads it (internal/telegraftoml, which
// its tests compare with that reader), environment variables expanded in
// string values only, after parsing, so that a value cannot change the
// file's structure. An error is a config_error.
func parseConfig(data string) (*ct.ChronyTracking, error) {
	// Editors on Windows start a UTF-8 file with a byte order mark, which
	// Telegraf's loader drops and the TOML reader takes for a syntax error.
	data = strings.TrimPrefix(data, "\ufeff")
	tree, err := telegraftoml.Parse(data)
	if err != nil {
		return nil, fileError("", "", fmt.Errorf("toml: %w", err))
	}
	tbl, err := ourTable(tree)
	if err != nil {
		return nil, err
	}
	p := ct.New()
	if err := expandEnvTable(tbl); err != nil {
		return nil, err
	}
	if err := decodeTable(tbl, p); err != nil {
		return nil, err
	}
	return p, nil
}

// fileError is a config_error about the file rather than one option's value.
func fileError(msg, hint string, err error) *cmdmon.Error {
	return &cmdmon.Error{Code: cmdmon.CodeConfigError, Msg: msg, Hint: hint, Err: err}
}

// ourTable returns the one [[inputs.chrony_tracking]] table, refusing
// anything else: another plugin, the agent's tables, two of ours.
func ourTable(tree *telegraftoml.Table) (*telegraftoml.Table, error) {
	for _, name := range sortedKeys(tree.Fields) {
		if name != "inputs" {
			return nil, fileError(fmt.Sprintf("unknown table or key %q", name),
				fmt.Sprintf("this file holds only [[inputs.%s]]; the agent's settings belong in telegraf.conf", ct.Name), nil)
		}
	}
	inputs, ok := tree.Fields["inputs"].(*telegraftoml.Table)
	if !ok && tree.Fields["inputs"] != nil {
		return nil, fileError("inputs must be a table", fmt.Sprintf("write [[inputs.%s]]", ct.Name), nil)
	}
	if inputs != nil {
		for _, name := range sortedKeys(inputs.Fields) {
			if name != ct.Name {
				return nil, fileError(fmt.Sprintf("unknown input [[inputs.%s]]", name), fmt.Sprintf("this program runs only [[inputs.%s]]", ct.Name), nil)
			}
		}
	}
	var tables []*telegraftoml.Table
	if inputs != nil {
		switch v := inputs.Fields[ct.Name].(type) {
		case []*telegraftoml.Table:
			tables = v
		case nil:
		default:
			return nil, fileError(fmt.Sprintf("inputs.%s must be an array of tables, as Telegraf requires", ct.Name),
				fmt.Sprintf("write [[inputs.%s]]", ct.Name), nil)
		}
	}
	switch n := len(tables); {
	case n == 0:
		return nil, fileError(fmt.Sprintf("no [[inputs.%s]] table", ct.Name), "start from the output of --sample-config", nil)
	case n > 1:
		return nil, fileError(fmt.Sprintf("%d [[inputs.%s]] tables, only one is allowed", n, ct.Name), "list several chronyd addresses in its servers option", nil)
	}
	return tables[0], nil
}

// decodeTable sets p's options from tbl one key at a time, in file order,
// so that an error names the key and its value as written, and collects
// every key the plugin does not have.
func decodeTable(tbl *telegraftoml.Table, p *ct.ChronyTracking) error {
	var unknown []string
	keys := sortedKeys(tbl.Fields)
	sort.SliceStable(keys, func(i, j int) bool { return line(tbl.Fields[keys[i]]) < line(tbl.Fields[keys[j]]) })
	for _, key := range keys {
		known, err := setOption(p, key, tbl.Fields[key])
		if err != nil {
			return keyError(key, tbl.Fields[key], err)
		}
		if !known {
			unknown = append(unknown, key)
		}
	}
	if len(unknown) > 0 {
		return unknownKeys(unknown)
	}
	return nil
}

// keyError names the key and the value as written, with the decoder's
// reason.
func keyError(key string, node any, err error) error {
	if kv, ok := node.(*telegraftoml.KeyValue); ok {
		return fileError(fmt.Sprintf("line %d: %s = %s", kv.Line, key, kv.Value.Source), "", err)
	}
	return fileError(fmt.Sprintf("line %d: %s", line(node), key), "", err)
}

func line(node any) int {
	switch v := node.(type) {
	case *telegraftoml.KeyValue:
		return v.Line
	case *telegraftoml.Table:
		return v.Line
	case []*telegraftoml.Table:
		return v[0].Line
	}
	return 0
}

// unknownKeys names every key the plugin did not take.
func unknownKeys(keys []string) error {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = "inputs." + ct.Name + "." + k
	}
	slices.Sort(names)
	return fileError("unknown key(s) "+strings.Join(names, ", "),
		"check the spelling against --sample-config (Telegraf's per-plugin settings such as interval or tags belong in the agent's [[inputs.execd]] table)", nil)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
