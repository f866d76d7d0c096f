// Package buildcache is where tests keep what they build once and reuse
// across runs (a Telegraf agent, chronyd and chronyc of each chrony
// release), and the lock that lets several test processes share it.
package buildcache

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Env overrides the root of the cache (default
// <os.UserCacheDir()>/telegraf-chrony). Each kind of build keeps its own
// subdirectories, so one root holds them all.
const Env = "TELEGRAF_CHRONY_CACHE"

// ErrLockTimeout is returned by Lock when another holder kept the lock
// past the timeout.
var ErrLockTimeout = errors.New("timed out waiting for another build")

// Root is the cache's root directory; it is not created.
func Root() (string, error) {
	if root := os.Getenv(Env); root != "" {
		return root, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set %s): %w", Env, err)
	}
	return filepath.Join(base, "telegraf-chrony"), nil
}

// WithoutEnv returns env without the variables named, for a build that
// must not inherit them (a parent make's jobserver, a caller's GOFLAGS).
func WithoutEnv(env []string, names ...string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(names, name) {
			out = append(out, kv)
		}
	}
	return out
}

// Tail is the last n bytes of a build's output, to keep an error readable.
func Tail(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return "...\n" + string(b[len(b)-n:])
}
