package buildcache

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestRoot(t *testing.T) {
	t.Setenv(Env, "/somewhere/else")
	if r, err := Root(); err != nil || r != "/somewhere/else" {
		t.Errorf("Root() = %q, %v with %s set", r, err, Env)
	}
	t.Setenv(Env, "")
	r, err := Root()
	if err == nil && !strings.HasSuffix(r, "/telegraf-chrony") {
		t.Errorf("Root() = %q, want <user cache>/telegraf-chrony", r)
	}
}

// A second holder waits, and gives up at its timeout; once the first
// lets go, the lock is free.
func TestLockExcludes(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("flock")
	}
	path := filepath.Join(t.TempDir(), ".lock")
	ctx := context.Background()
	unlock, err := Lock(ctx, path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(ctx, path, 300*time.Millisecond); !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("second Lock while held: %v, want ErrLockTimeout", err)
	}
	unlock()
	unlock2, err := Lock(ctx, path, time.Second)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	unlock2()
}

func TestWithoutEnv(t *testing.T) {
	got := WithoutEnv([]string{"A=1", "MAKEFLAGS=-j", "B=x=y", "MAKEFLAGSX=2"}, "MAKEFLAGS")
	if strings.Join(got, " ") != "A=1 B=x=y MAKEFLAGSX=2" {
		t.Errorf("WithoutEnv = %q", got)
	}
}

// n slots admit n holders; the next waits until one is released.
func TestSlot(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("flock")
	}
	dir := filepath.Join(t.TempDir(), "slots")
	ctx := context.Background()
	a, err := Slot(ctx, dir, 2, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Slot(ctx, dir, 2, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Slot(ctx, dir, 2, 300*time.Millisecond); !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("third of two slots: %v, want ErrLockTimeout", err)
	}
	b()
	c, err := Slot(ctx, dir, 2, time.Second)
	if err != nil {
		t.Fatalf("slot after a release: %v", err)
	}
	a()
	c()
}
