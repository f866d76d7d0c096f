// Package reliability is the fault-matrix suite: it drives the public
// tracking client, the Telegraf plugin and the execd binary through every fault a real chronyd, the host or a scripted
// fake chronyd can produce, and checks what the user sees: the result code,
// the message and how long it took.
//
// The package holds tests only (this file gives it a non-test file so that
// `go build ./...` and `go vet ./...` see a package). The README's
// Reliability section is the table the tests prove.
//
// Environment:
//
//	TELEGRAF_CHRONY_REQUIRE_LAB=1        lab tests fail instead of skipping without chronyd
//	TELEGRAF_CHRONY_SOAK_GATHERS=N       gathers per soak run (default 100000)
//	TELEGRAF_CHRONY_SOAK_TIMEOUT=DUR     wall-clock cap of one soak run (default 75s)
//
// Tests that need root (network namespaces, running as nobody) skip, saying
// why, when not root, unless TELEGRAF_CHRONY_REQUIRE_LAB=1, when they fail.
package reliability
