package timing

import (
	"testing"
	"time"
)

// Attempt n of FirstTimeout(n) waits ReplyWait and the n before it less
// in all; the last attempt's wait also leaves room for Slack.
func TestFirstTimeout(t *testing.T) {
	if ReplyWait < 2*Slack {
		t.Fatalf("ReplyWait %v is shorter than twice Slack %v", ReplyWait, Slack)
	}
	for n := 0; n <= 6; n++ {
		first := FirstTimeout(n)
		var before time.Duration
		for i := 0; i < n; i++ {
			before += first << i
		}
		if last := first << n; last != ReplyWait {
			t.Errorf("FirstTimeout(%d) = %v: attempt %d waits %v, want %v", n, first, n, last, ReplyWait)
		}
		if before >= ReplyWait {
			t.Errorf("FirstTimeout(%d) = %v: the %d attempts before cost %v, want less than %v", n, first, n, before, ReplyWait)
		}
	}
}

// SlackEnv raises Slack, never lowers it, and a value that is not a
// duration leaves the default.
func TestSlackEnv(t *testing.T) {
	for _, tt := range []struct {
		env  string
		want time.Duration
	}{
		{"", defaultSlack},
		{"4s", 4 * time.Second},
		{"100ms", defaultSlack},
		{"four seconds", defaultSlack},
	} {
		t.Setenv(SlackEnv, tt.env)
		if got := slack(); got != tt.want {
			t.Errorf("%s=%q: Slack %v, want %v", SlackEnv, tt.env, got, tt.want)
		}
	}
}
