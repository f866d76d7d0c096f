package telegrafagent

import (
	"fmt"
	"runtime"
	"strings"
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

// Without a go command the build cannot happen: `make test` must fail,
// a casual `go test` must skip.
func TestBinarySkipsUnlessRequired(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(CacheEnv, t.TempDir())
	for i, tc := range []struct{ env, want string }{
		{"", "skip"}, {"0", "skip"}, {"1", "fatal"},
	} {
		t.Setenv(RequireEnv, tc.env)
		// A tag set of its own per case, so the in-process memo of
		// earlier builds does not answer.
		tags := []string{"custom", fmt.Sprintf("inputs.case%d", i)}
		got := outcome(t, func(tb testing.TB) { BinaryWithTags(tb, tags...) })
		if !strings.HasPrefix(got, tc.want) || !strings.Contains(got, `"go": executable file not found`) {
			t.Errorf("%s=%q: BinaryWithTags %s, want %s because go is missing", RequireEnv, tc.env, got, tc.want)
		}
	}
}
