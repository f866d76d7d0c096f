package labenv

import (
	"fmt"
	"runtime"
	"testing"
)

// recorder notes whether a helper skipped or failed t, without ending the
// real test.
type recorder struct {
	testing.TB
	outcome string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(f string, a ...any) {
	r.outcome = "fatal: " + fmt.Sprintf(f, a...)
	runtime.Goexit()
}
func (r *recorder) Skipf(f string, a ...any) {
	r.outcome = "skip: " + fmt.Sprintf(f, a...)
	runtime.Goexit()
}

// Outcome runs f with a testing.TB that records a Skipf or Fatalf instead
// of acting on it, and returns "skip: …", "fatal: …" or "" when f did
// neither: for testing the helpers that decide between skip and fail. It
// reports the decision of a full run, also under go test -short.
func Outcome(t testing.TB, f func(testing.TB)) string {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.outcome
}
