package influxlab

import (
	"fmt"
	"runtime"
	"testing"
)

// outcomeTB records whether a helper skipped or failed, without ending
// the real test.
type outcomeTB struct {
	testing.TB
	outcome string
}

func (o *outcomeTB) Helper() {}
func (o *outcomeTB) Fatalf(f string, a ...any) {
	o.outcome = "fatal: " + fmt.Sprintf(f, a...)
	runtime.Goexit()
}
func (o *outcomeTB) Skipf(f string, a ...any) {
	o.outcome = "skip: " + fmt.Sprintf(f, a...)
	runtime.Goexit()
}

func outcome(t *testing.T, f func(testing.TB)) string {
	o := &outcomeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(o)
	}()
	<-done
	return o.outcome
}

func TestRequireSkipsUnlessRequired(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, tc := range []struct{ env, want string }{
		{"", "skip"}, {"0", "skip"}, {"false", "skip"}, {"1", "fatal"}, {"yes", "fatal"},
	} {
		t.Setenv(RequireEnv, tc.env)
		got := outcome(t, Require)
		if len(got) < len(tc.want) || got[:len(tc.want)] != tc.want {
			t.Errorf("%s=%q: Require %s, want %s", RequireEnv, tc.env, got, tc.want)
		}
	}
}
