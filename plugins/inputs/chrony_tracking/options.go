package chrony_tracking

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
)

// Options are the plugin's options as plain values, wherever they come
// from: a [[inputs.chrony_tracking]] table, the command's flags, Go code.
type Options struct {
	Server      string
	Servers     []string
	MaxInFlight int
	Timeout     time.Duration
	Retries     int
	SocketDir   string
	SocketGroup string
	SocketPerms string // octal, such as "0660"; empty: the client's default
	DNSLookup   bool
	// Metrics are the reports to read, inputs.chrony's words; empty means
	// DefaultMetrics.
	Metrics []string
}

// Settings are Options checked and resolved: what the plugin runs with.
type Settings struct {
	// Cmdmon are the cmdmon settings the client of every server runs with.
	Cmdmon cmdmon.Settings
	// Addresses are the configured servers in order; with Auto, chronyc's
	// default addresses, which one client tries in turn.
	Addresses []cmdmon.Address
	// Auto is set when no server is configured.
	Auto        bool
	MaxInFlight int
	DNSLookup   bool
	// Metrics are the reports each gather reads from every server, in the
	// order configured.
	Metrics []Kind
}

// UnixSockets reports whether a poll may bind client sockets in the file
// system: a unixgram server, or chronyc's defaults, which try chronyd's
// socket first. A UDP client leaves nothing behind when the process ends.
func (s Settings) UnixSockets() bool {
	for _, a := range s.Addresses {
		if a.Network == "unixgram" {
			return true
		}
	}
	return false
}

// Options returns the plugin's options as plain values.
func (p *ChronyTracking) Options() Options {
	return Options{
		Server:      p.Server,
		Servers:     p.Servers,
		MaxInFlight: p.MaxInFlight,
		Timeout:     time.Duration(p.Timeout),
		Retries:     p.Retries,
		SocketDir:   p.SocketDir,
		SocketGroup: p.SocketGroup,
		SocketPerms: p.SocketPerms,
		DNSLookup:   p.DNSLookup,
		Metrics:     p.Metrics,
	}
}

// Resolve checks the options and resolves them. It is where the option
// rules live: Init, the command's --once and execd runs, and its
// --diagnose all go through it. An error is a *cmdmon.Error with code
// config_error naming the key and the value at fault.
func (o Options) Resolve() (Settings, error) {
	if o.MaxInFlight < 1 {
		return Settings{}, optionError("max_in_flight", strconv.Itoa(o.MaxInFlight),
			"must be at least 1", fmt.Sprintf("the default is %d", DefaultMaxInFlight))
	}
	mode, err := parsePerms(o.SocketPerms)
	if err != nil {
		return Settings{}, err
	}
	cs, defaults, err := cmdmon.Config{Timeout: o.Timeout, Retries: o.Retries,
		SocketDir: o.SocketDir, SocketGroup: o.SocketGroup, SocketMode: mode}.Resolve()
	if err != nil {
		return Settings{}, InKeys(err)
	}
	s := Settings{Cmdmon: cs, MaxInFlight: o.MaxInFlight, DNSLookup: o.DNSLookup}
	if s.Metrics, err = parseMetrics(o.Metrics); err != nil {
		return Settings{}, err
	}
	s.Addresses, err = o.addresses(cs)
	if err != nil {
		return Settings{}, err
	}
	if len(s.Addresses) == 0 {
		s.Addresses, s.Auto = defaults, true
	}
	return s, nil
}

// addresses parses servers, or server, each one usable with the client's
// settings; none means chronyc's order.
func (o Options) addresses(client cmdmon.Settings) ([]cmdmon.Address, error) {
	if o.Server != "" && len(o.Servers) > 0 {
		return nil, optionError("server", strconv.Quote(o.Server), "set together with servers",
			"list every address in servers, or use server alone")
	}
	if o.Server != "" {
		a, err := parseAddress(o.Server, client)
		if err != nil {
			return nil, rekey(err, "server")
		}
		return []cmdmon.Address{a}, nil
	}
	addrs := make([]cmdmon.Address, 0, len(o.Servers))
	seen := make(map[cmdmon.Address]string, len(o.Servers))
	for i, s := range o.Servers {
		key := fmt.Sprintf("servers[%d]", i)
		a, err := parseAddress(s, client)
		if err != nil {
			return nil, rekey(err, key)
		}
		// Two entries for one address would write two series with the same
		// server tag.
		if prev, dup := seen[a]; dup {
			return nil, optionError(key, strconv.Quote(s), "same address as "+prev, "list each server once")
		}
		seen[a] = key
		addrs = append(addrs, a)
	}
	return addrs, nil
}

func parseAddress(s string, client cmdmon.Settings) (cmdmon.Address, error) {
	a, err := cmdmon.ParseAddress(s)
	if err == nil {
		err = client.CheckAddress(a)
	}
	return a, err
}

// parsePerms reads socket_perms, an octal string such as "0660". Empty
// leaves the choice to the library (see sample.conf), which checks the
// mode: this only reads the number.
func parsePerms(s string) (os.FileMode, error) {
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O"), 8, 32)
	if err != nil || v == 0 {
		return 0, optionError("socket_perms", strconv.Quote(s), "not an octal permission mode",
			`write an octal string such as "0660" or "0666"`)
	}
	return os.FileMode(v), nil
}

func optionError(key, value, why, hint string) error {
	return &cmdmon.Error{Code: cmdmon.CodeConfigError, Key: key, Value: value, Msg: why, Hint: hint}
}

// rekey names the plugin's key in a config_error the library raised about
// its own option of the same value (an address), in the plugin's words.
func rekey(err error, key string) error {
	var te *cmdmon.Error
	if !errors.As(InKeys(err), &te) {
		return err
	}
	te.Key = key
	return te
}
