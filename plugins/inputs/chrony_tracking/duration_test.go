package chrony_tracking

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDurationUnmarshalText(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"500ms", 500 * time.Millisecond},
		{"1s", time.Second},
		{"1m30s", 90 * time.Second},
		{"2", 2 * time.Second},
		{"0.25", 250 * time.Millisecond},
		{"-1s", -time.Second}, // Init names it: timeout must be positive
		{"", 0},
	}
	for _, tt := range tests {
		var d Duration
		require.NoError(t, d.UnmarshalText([]byte(tt.in)), tt.in)
		require.Equal(t, tt.want, time.Duration(d), tt.in)
		b, err := d.MarshalText()
		require.NoError(t, err)
		var back Duration
		require.NoError(t, back.UnmarshalText(b))
		require.Equal(t, d, back, "round trip of %q", tt.in)
	}
}

func TestDurationRejects(t *testing.T) {
	for _, in := range []string{"soon", "1 s", "9223372037", "1e300", "NaN", "5d"} {
		var d Duration
		err := d.UnmarshalText([]byte(in))
		require.Error(t, err, in)
		require.Contains(t, err.Error(), `"`+in+`"`)
		require.Contains(t, err.Error(), `"500ms"`, "says what to write")
	}
}
