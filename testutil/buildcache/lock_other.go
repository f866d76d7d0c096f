//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package buildcache

import (
	"context"
	"errors"
	"time"
)

var errNoFlock = errors.New("no file locking on this platform")

// Without flock the cache could be corrupted by concurrent builds, so the
// build is refused and the tests that need it skip (or fail under
// labenv.RequireEnv).
func Lock(context.Context, string, time.Duration) (func(), error) {
	return nil, errNoFlock
}

// Slot is refused for the same reason as Lock.
func Slot(context.Context, string, int, time.Duration) (func(), error) {
	return nil, errNoFlock
}
