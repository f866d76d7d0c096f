package chrony_tracking

import (
	"errors"
	"strings"
	"sync"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
)

// configKeys pairs each field of cmdmon.Config with the plugin's TOML key
// for it: the library's errors name its fields, the plugin's users know
// its keys.
var configKeys = [...][2]string{
	{"Address", "server"},
	{"Timeout", "timeout"},
	{"Retries", "retries"},
	{"SocketDir", "socket_dir"},
	{"SocketGroup", "socket_group"},
	{"SocketMode", "socket_perms"},
}

// keyOf is the plugin's key for a Config field.
func keyOf(field string) (key string, ok bool) {
	for _, p := range configKeys {
		if p[0] == field {
			return p[1], true
		}
	}
	return "", false
}

// inKeys rewrites "Config.Field" in the library's messages and hints; built
// on first use, since a run where nothing fails never needs it.
var inKeys = sync.OnceValue(func() *strings.Replacer {
	var pairs []string
	for _, p := range configKeys {
		pairs = append(pairs, "Config."+p[0], p[1])
	}
	return strings.NewReplacer(pairs...)
})

// InKeys returns err worded in the plugin's keys: a *cmdmon.Error's Key,
// and the Config fields its message and hint name. Other errors, and nil,
// are returned as they are.
func InKeys(err error) error {
	var te *cmdmon.Error
	if !errors.As(err, &te) {
		return err
	}
	e := *te
	if k, ok := keyOf(e.Key); ok {
		e.Key = k
	}
	e.Msg, e.Hint = inKeys().Replace(e.Msg), inKeys().Replace(e.Hint)
	return &e
}

// Advice is a piece of the library's advice worded in the plugin's keys.
func Advice(s string) string { return inKeys().Replace(s) }
