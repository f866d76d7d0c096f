package chrony_tracking

import (
	"context"
	"errors"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

func TestNameCache(t *testing.T) {
	addr := netip.MustParseAddr("192.0.2.17")
	rep := cmdmon.Tracking{ReferenceAddr: addr, ReferenceName: "192.0.2.17"}
	tests := []struct {
		name   string
		lookup func(ctx context.Context, a string) ([]string, error)
		report cmdmon.Tracking
		want   string
		calls  int32 // over two calls of name
	}{
		{"resolved and cached", func(context.Context, string) ([]string, error) { return []string{"ntp1.example.com."}, nil }, rep, "ntp1.example.com", 1},
		{"failure falls back to the address, cached", func(context.Context, string) ([]string, error) { return nil, errors.New("nxdomain") }, rep, "192.0.2.17", 1},
		{"slow resolver bounded by the deadline", func(ctx context.Context, _ string) ([]string, error) { <-ctx.Done(); return nil, ctx.Err() }, rep, "192.0.2.17", 1},
		{"refclock: nothing to resolve", nil, cmdmon.Tracking{ReferenceName: "GPS"}, "GPS", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			c := newDNSCache()
			c.lookup = func(ctx context.Context, a string) ([]string, error) {
				calls.Add(1)
				require.Equal(t, addr.String(), a)
				return tt.lookup(ctx, a)
			}
			for range 2 {
				start := time.Now()
				require.Equal(t, tt.want, c.name(context.Background(), tt.report, time.Now().Add(50*time.Millisecond)))
				timing.Within(t, time.Since(start), 50*time.Millisecond, "the lookup is bounded by the deadline")
			}
			require.Equal(t, tt.calls, calls.Load())
		})
	}
}
