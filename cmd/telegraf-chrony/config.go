package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	ct "github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking"
)

// fileConfig is the shape of a config file: [[inputs.chrony_tracking]].
type fileConfig struct {
	Inputs map[string][]toml.Primitive `toml:"inputs"`
}

// loadConfig reads the plugin's options from path. Unlike the shim's
// LoadConfig, which silently ignores keys it does not know (a misspelt
// "timout" would leave the default in place), every key must be one the
// plugin has, and the file must hold exactly one [[inputs.chrony_tracking]].
func loadConfig(path string) (*ct.ChronyTracking, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	p, err := parseConfig(expandEnv(string(b)))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return p, nil
}

func parseConfig(data string) (*ct.ChronyTracking, error) {
	var conf fileConfig
	md, err := toml.Decode(data, &conf)
	if err != nil {
		return nil, err
	}
	if err := onlyOurTable(conf); err != nil {
		return nil, err
	}
	p := ct.New()
	if err := md.PrimitiveDecode(conf.Inputs[ct.Name][0], p); err != nil {
		return nil, fmt.Errorf("[[inputs.%s]]: %w", ct.Name, err)
	}
	if keys := md.Undecoded(); len(keys) > 0 {
		return nil, unknownKeys(keys)
	}
	return p, nil
}

func onlyOurTable(conf fileConfig) error {
	for name := range conf.Inputs {
		if name != ct.Name {
			return fmt.Errorf("unknown input [[inputs.%s]]: this program runs only [[inputs.%s]]", name, ct.Name)
		}
	}
	switch n := len(conf.Inputs[ct.Name]); {
	case n == 0:
		return fmt.Errorf("no [[inputs.%s]] table: start from the output of --sample-config", ct.Name)
	case n > 1:
		return fmt.Errorf("%d [[inputs.%s]] tables: only one is allowed; list several chronyd addresses in its servers option", n, ct.Name)
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
	return errors.New("unknown key(s) " + strings.Join(names, ", ") +
		": check the spelling against --sample-config (Telegraf's per-plugin settings such as interval or tags belong in the agent's [[inputs.execd]] table)")
}

// expandEnv substitutes ${VAR} and $VAR as the shim does, escaping quotes
// and backslashes so a value cannot break out of a TOML string.
func expandEnv(s string) string {
	esc := strings.NewReplacer(`"`, `\"`, `\`, `\\`)
	return os.Expand(s, func(k string) string { return esc.Replace(os.Getenv(k)) })
}
