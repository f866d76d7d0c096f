package labenv

import (
	"errors"
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNeed(t *testing.T) {
	missing := errors.New("chronyd not found")
	for _, tc := range []struct {
		env  string
		err  error
		want string
	}{
		{"", missing, "skip: chronyd: chronyd not found: apt-get install chrony to run this test"},
		{"0", missing, "skip:"},
		{"false", missing, "skip:"},
		{"1", missing, "fatal: chronyd: chronyd not found, and TELEGRAF_CHRONY_REQUIRE_LAB=1 requires it: apt-get install chrony"},
		{"yes", missing, "fatal:"},
		{"1", nil, ""},
	} {
		t.Setenv(RequireEnv, tc.env)
		got := Outcome(t, func(tb testing.TB) { Need(tb, "chronyd", tc.err, "apt-get install chrony") })
		if tc.want == "" {
			assert.Empty(t, got)
			continue
		}
		assert.Contains(t, got, tc.want, "env %q", tc.env)
	}
}

func TestNeedShortSkips(t *testing.T) {
	short := flag.Lookup("test.short")
	was := short.Value.String()
	t.Cleanup(func() { short.Value.Set(was) })
	short.Value.Set("true")
	t.Setenv(RequireEnv, "1")
	var sub *testing.T
	t.Run("short", func(t *testing.T) {
		sub = t
		Need(t, "chronyd", nil, "apt-get install chrony")
		t.Error("Need did not skip under -short")
	})
	assert.True(t, sub.Skipped())
}
