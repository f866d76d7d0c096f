package chrony_tracking

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking/tracking"
)

// settings checks the options and returns the client configuration they
// describe, plus the server URLs to poll ("" meaning chronyc's order).
// Every error names the key and the value at fault.
func (p *ChronyTracking) settings() (tracking.Config, []string, error) {
	cfg := tracking.DefaultConfig()
	urls, err := p.serverURLs()
	if err != nil {
		return cfg, nil, err
	}
	if p.Timeout <= 0 {
		return cfg, nil, optionError("timeout", time.Duration(p.Timeout).String(),
			"must be positive", `write a duration such as "1s" (chronyc's default)`)
	}
	if p.MaxInFlight < 1 {
		return cfg, nil, optionError("max_in_flight", strconv.Itoa(p.MaxInFlight),
			"must be at least 1", fmt.Sprintf("the default is %d", DefaultMaxInFlight))
	}
	mode, err := parsePerms(p.SocketPerms)
	if err != nil {
		return cfg, nil, err
	}
	cfg.Timeout = time.Duration(p.Timeout)
	cfg.Retries = p.Retries
	cfg.SocketDir = p.SocketDir
	cfg.SocketGroup = p.SocketGroup
	cfg.SocketMode = mode
	// tracking.New checks the rest (retries range, the group exists) and
	// names the key; check once here so a bad value fails even with no
	// server configured.
	if _, err := tracking.New(cfg); err != nil {
		return cfg, nil, fmt.Errorf("invalid configuration: %w", err)
	}
	return cfg, urls, nil
}

// serverURLs returns the URLs to poll: servers, or server, or chronyc's
// automatic order (the empty URL).
func (p *ChronyTracking) serverURLs() ([]string, error) {
	if p.Server != "" && len(p.Servers) > 0 {
		return nil, optionError("server", strconv.Quote(p.Server), "set together with servers",
			"list every address in servers, or use server alone")
	}
	if len(p.Servers) == 0 {
		if p.Server != "" {
			if _, err := tracking.ParseAddress(p.Server); err != nil {
				return nil, addressError("server", p.Server, err)
			}
		}
		return []string{p.Server}, nil
	}
	seen := make(map[string]string, len(p.Servers))
	for i, s := range p.Servers {
		key := fmt.Sprintf("servers[%d]", i)
		a, err := tracking.ParseAddress(s)
		if err != nil {
			return nil, addressError(key, s, err)
		}
		// Two entries for one address would write two series with the same
		// server tag.
		if prev, dup := seen[a.String()]; dup {
			return nil, optionError(key, strconv.Quote(s), "same address as "+prev, "list each server once")
		}
		seen[a.String()] = key
	}
	return append([]string(nil), p.Servers...), nil
}

// parsePerms reads socket_perms, an octal string such as "0660". Empty
// leaves the choice to the tracking client (see sample.conf).
func parsePerms(s string) (os.FileMode, error) {
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O"), 8, 32)
	if err != nil || v == 0 || v > 0o777 {
		return 0, optionError("socket_perms", strconv.Quote(s), "not an octal permission mode 1..0777",
			`write an octal string such as "0660" or "0666"`)
	}
	return os.FileMode(v), nil
}

func optionError(key, value, why, hint string) error {
	return fmt.Errorf("invalid configuration: %s = %s: %s; %s", key, value, why, hint)
}

// addressError names the key of an address tracking.ParseAddress rejected
// and keeps its advice.
func addressError(key, value string, err error) error {
	var te *tracking.Error
	if errors.As(err, &te) {
		return optionError(key, strconv.Quote(value), te.Msg, te.Hint)
	}
	return optionError(key, strconv.Quote(value), err.Error(), "")
}
