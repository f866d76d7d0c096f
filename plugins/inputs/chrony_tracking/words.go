package chrony_tracking

import (
	"errors"
	"strings"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
)

// keyOf is the plugin's TOML key for each field of cmdmon.Config: the
// library's errors name its fields, the plugin's users know its keys.
var keyOf = map[string]string{
	"Address":     "server",
	"Timeout":     "timeout",
	"Retries":     "retries",
	"SocketDir":   "socket_dir",
	"SocketGroup": "socket_group",
	"SocketMode":  "socket_perms",
}

// inKeys rewrites "Config.Field" in the library's messages and hints.
var inKeys = func() *strings.Replacer {
	var pairs []string
	for field, key := range keyOf {
		pairs = append(pairs, "Config."+field, key)
	}
	return strings.NewReplacer(pairs...)
}()

// InKeys returns err worded in the plugin's keys: a *cmdmon.Error's Key,
// and the Config fields its message and hint name. Other errors, and nil,
// are returned as they are.
func InKeys(err error) error {
	var te *cmdmon.Error
	if !errors.As(err, &te) {
		return err
	}
	e := *te
	if k, ok := keyOf[e.Key]; ok {
		e.Key = k
	}
	e.Msg, e.Hint = inKeys.Replace(e.Msg), inKeys.Replace(e.Hint)
	return &e
}

// Advice is a piece of the library's advice worded in the plugin's keys.
func Advice(s string) string { return inKeys.Replace(s) }
