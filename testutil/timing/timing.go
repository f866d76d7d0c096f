// Package timing is the one rule for wall-clock assertions in tests.
//
// A timed assertion in a test proves structure, never a figure: a bounded
// call returned instead of hanging, a refused call did not wait out its
// timeout, a fleet was polled concurrently rather than in sequence. The CI
// machine has two cores and runs every package under -race in parallel, so
// any step may be late by hundreds of milliseconds (a fleet gather measured
// 1.31 s alone and 2.09 s there). Exact figures belong to benchmarks.
package timing

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Slack is how late a loaded machine may make one timed step: 1.5 s, or
// the duration in SlackEnv where every step is slower (make test-arch runs
// the tests of the other architectures under qemu's emulation, where a
// silent call's 5.25 s bound was measured 2.3 s late beside a CI run).
var Slack = slack()

// SlackEnv names the variable that raises Slack.
const SlackEnv = "TELEGRAF_CHRONY_SLACK"

const defaultSlack = 1500 * time.Millisecond

func slack() time.Duration {
	if d, err := time.ParseDuration(os.Getenv(SlackEnv)); err == nil && d > defaultSlack {
		return d
	}
	return defaultSlack
}

// LongTimeout is a client timeout for tests that prove a call did not wait:
// long enough that Before(took, LongTimeout) keeps room on a loaded machine,
// while a correct call still returns at once.
var LongTimeout = 4 * Slack

// ReplyWait is the shortest wait a test may give an attempt whose expected
// outcome is an answer. On a loaded machine a client's read deadline can
// fire while the reply sits unread, because the process was not scheduled
// in between: an answer then becomes a retry or a timeout. The attempt
// may start Slack late and the reply arrive Slack late, hence twice Slack.
// A short wait stays right where the expected outcome is a wait (silence,
// a discarded datagram): lateness changes its duration, not its outcome.
var ReplyWait = 2 * Slack

// FirstTimeout is the first-attempt timeout of a client whose attempts
// each wait twice as long as the one before, chosen so that attempt n
// (counted from 0) waits ReplyWait. It serves two kinds of test:
//   - one that loses attempts 0 to n-1 on purpose and expects attempt n to
//     be answered: the lost attempts cost less than ReplyWait in all;
//   - with n the client's retries, one that counts the attempts of a call
//     nothing answers: the call's bound is fixed when it starts, so any
//     lateness of the earlier attempts comes out of the last one's wait,
//     which at ReplyWait still leaves it sent. A later call on the same
//     client that must be answered still has an attempt of ReplyWait.
func FirstTimeout(n int) time.Duration {
	return ReplyWait >> n
}

// Within asserts that a step bounded by bound returned within it, give or
// take Slack and half the bound: it was bounded, not hung. The half is for
// a bound made of waits, each of which a loaded machine ends late: a silent
// call's 5.25 s bound (three attempts) was measured at 7.08 s in a CI run.
func Within(t testing.TB, took, bound time.Duration, msgAndArgs ...any) bool {
	t.Helper()
	return assert.LessOrEqual(t, took, bound+Slack+bound/2, msgAndArgs...)
}

// Before asserts that a step returned before wait, a wait it must not have
// made (a timeout, a retry, a sequence of them). wait must leave room for
// Slack twice over, or the assertion proves nothing on a loaded machine:
// a shorter one is a mistake in the test and fails it as such.
func Before(t testing.TB, took, wait time.Duration, msgAndArgs ...any) bool {
	t.Helper()
	if wait < 2*Slack {
		t.Errorf("timing.Before: the avoided wait %v is shorter than twice the slack %v; lengthen it", wait, Slack)
		return false
	}
	return assert.Less(t, took, wait, msgAndArgs...)
}
