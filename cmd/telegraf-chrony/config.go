package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
	"github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking/tracking"
)

// fileConfig is the shape of a config file: [[inputs.chrony_tracking]].
type fileConfig struct {
	Inputs map[string][]toml.Primitive `toml:"inputs"`
}

// loadConfig reads the plugin's options from path. Unlike the shim's
// LoadConfig, which silently ignores keys it does not know (a misspelt
// "timout" would leave the default in place), every key must be one the
// plugin has, and the file must hold exactly one [[inputs.chrony_tracking]].
// An error is a config_error that names the file.
func loadConfig(path string) (*ct.ChronyTracking, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is in the message already
		}
		return nil, &tracking.Error{Code: tracking.CodeConfigError, Msg: "cannot read " + path, Err: err}
	}
	p, err := parseConfig(expandEnv(string(b)))
	var te *tracking.Error
	if errors.As(err, &te) {
		te.Msg = strings.TrimSuffix(path+": "+te.Msg, ": ")
	}
	return p, err
}

// parseConfig decodes a config file's text; an error is a config_error.
func parseConfig(data string) (*ct.ChronyTracking, error) {
	var conf fileConfig
	md, err := toml.Decode(data, &conf)
	if err != nil {
		return nil, fileError("", "", err)
	}
	if err := onlyOurTable(conf); err != nil {
		return nil, err
	}
	p := ct.New()
	if err := md.PrimitiveDecode(conf.Inputs[ct.Name][0], p); err != nil {
		return nil, fileError(fmt.Sprintf("[[inputs.%s]]", ct.Name), "", err)
	}
	if keys := md.Undecoded(); len(keys) > 0 {
		return nil, unknownKeys(keys)
	}
	return p, nil
}

// fileError is a config_error about the file rather than one option's value.
func fileError(msg, hint string, err error) *tracking.Error {
	return &tracking.Error{Code: tracking.CodeConfigError, Msg: msg, Hint: hint, Err: err}
}

func onlyOurTable(conf fileConfig) error {
	for name := range conf.Inputs {
		if name != ct.Name {
			return fileError(fmt.Sprintf("unknown input [[inputs.%s]]", name), fmt.Sprintf("this program runs only [[inputs.%s]]", ct.Name), nil)
		}
	}
	switch n := len(conf.Inputs[ct.Name]); {
	case n == 0:
		return fileError(fmt.Sprintf("no [[inputs.%s]] table", ct.Name), "start from the output of --sample-config", nil)
	case n > 1:
		return fileError(fmt.Sprintf("%d [[inputs.%s]] tables, only one is allowed", n, ct.Name), "list several chronyd addresses in its servers option", nil)
	}
	return nil
}

// unknownKeys names every key the plugin did not take.
func unknownKeys(keys []toml.Key) error {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.String()
	}
	sort.Strings(names)
	return fileError("unknown key(s) "+strings.Join(names, ", "),
		"check the spelling against --sample-config (Telegraf's per-plugin settings such as interval or tags belong in the agent's [[inputs.execd]] table)", nil)
}

// expandEnv substitutes ${VAR} and $VAR as the shim does, escaping quotes
// and backslashes so a value cannot break out of a TOML string.
func expandEnv(s string) string {
	esc := strings.NewReplacer(`"`, `\"`, `\`, `\\`)
	return os.Expand(s, func(k string) string { return esc.Replace(os.Getenv(k)) })
}
