package telegrafagent

import (
	"fmt"
	"strings"
	"testing"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/labenv"
)

// Without a go command the build cannot happen: `make test` must fail,
// a casual `go test` must skip.
func TestBinarySkipsUnlessRequired(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(CacheEnv, t.TempDir())
	for i, tc := range []struct{ env, want string }{
		{"", "skip"}, {"0", "skip"}, {"1", "fatal"},
	} {
		t.Setenv(labenv.RequireEnv, tc.env)
		// A tag set of its own per case, so the in-process memo of
		// earlier builds does not answer.
		tags := []string{"custom", fmt.Sprintf("inputs.case%d", i)}
		got := labenv.Outcome(t, func(tb testing.TB) { BinaryWithTags(tb, tags...) })
		if !strings.HasPrefix(got, tc.want) || !strings.Contains(got, `"go": executable file not found`) {
			t.Errorf("%s=%q: BinaryWithTags %s, want %s because go is missing", labenv.RequireEnv, tc.env, got, tc.want)
		}
	}
}
