//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package buildcache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Lock takes an exclusive flock on path. flock is released by the
// kernel when the holder dies, so a crashed build never wedges later runs.
// It polls rather than blocks so the wait stays bounded.
func Lock(ctx context.Context, path string, timeout time.Duration) (unlock func(), err error) {
	return lockAny(ctx, []string{path}, timeout)
}

// Slot takes one of n build slots in dir (a flock on dir/.slot-I), so that
// builds in every process at once use no more than n cores between them.
func Slot(ctx context.Context, dir string, n int, timeout time.Duration) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	paths := make([]string, max(1, n))
	for i := range paths {
		paths[i] = filepath.Join(dir, fmt.Sprintf(".slot-%d", i))
	}
	return lockAny(ctx, paths, timeout)
}

// lockAny polls until it holds the flock of one of paths.
func lockAny(ctx context.Context, paths []string, timeout time.Duration) (unlock func(), err error) {
	files := make([]*os.File, 0, len(paths))
	closeAll := func(keep *os.File) {
		for _, f := range files {
			if f != keep {
				_ = f.Close()
			}
		}
	}
	for _, p := range paths {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			closeAll(nil)
			return nil, err
		}
		files = append(files, f)
	}
	deadline := time.Now().Add(timeout)
	for {
		for _, f := range files {
			err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
			if err == nil {
				closeAll(f)
				return func() {
					_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
					_ = f.Close()
				}, nil
			}
			if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
				closeAll(nil)
				return nil, err
			}
		}
		if time.Now().After(deadline) {
			closeAll(nil)
			return nil, ErrLockTimeout
		}
		select {
		case <-ctx.Done():
			closeAll(nil)
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
