//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package telegrafagent

import (
	"context"
	"errors"
	"time"
)

// Without flock the cache could be corrupted by concurrent builds, so the
// build is refused and the tests skip (or fail under labenv.RequireEnv).
func lockFile(context.Context, string, time.Duration) (func(), error) {
	return nil, errors.New("no file locking on this platform")
}
