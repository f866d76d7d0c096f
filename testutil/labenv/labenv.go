// Package labenv decides whether a test that needs a real service (chronyd,
// Telegraf, InfluxDB) skips or fails when the service is missing: `make
// test` sets RequireEnv so that nothing is skipped there, while a bare
// `go test ./...` on a machine without them skips, saying why.
package labenv

import (
	"os"
	"testing"
)

// RequireEnv, set to anything but "", "0" or "false", turns a missing
// service into a test failure.
const RequireEnv = "TELEGRAF_CHRONY_REQUIRE_LAB"

// Required reports whether missing services must fail tests.
func Required() bool {
	switch os.Getenv(RequireEnv) {
	case "", "0", "false":
		return false
	}
	return true
}

// Need skips or fails t when err (why the service is unavailable) is not
// nil; install says how to get it. Under go test -short it always skips:
// that run is for the unit tests alone (make test runs them so with the
// next Go release).
func Need(t testing.TB, what string, err error, install string) {
	t.Helper()
	if _, deciding := t.(*recorder); testing.Short() && !deciding {
		t.Skipf("%s: -short runs the unit tests only", what)
	}
	if err == nil {
		return
	}
	if Required() {
		t.Fatalf("%s: %v, and %s=1 requires it: %s", what, err, RequireEnv, install)
	}
	t.Skipf("%s: %v: %s to run this test (set %s=1 to fail instead)", what, err, install, RequireEnv)
}
