package reliability

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking/tracking"
	fc "github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// TestFakeCloseCancelsDelayedSends holds the test helper to its doc:
// "Close stops the fake, cancels delayed sends not yet made". The fault
// tests lean on it: a fake closed while a delayed reply is pending must not
// hold the test (and its cleanup) for the whole delay.
func TestFakeCloseCancelsDelayedSends(t *testing.T) {
	const delay = timing.LongTimeout
	srv := fc.StartUDP(t, fc.Delayed(delay, chronyd()))
	c := newClient(t, tracking.Config{Address: srv.URL(), Timeout: 10 * time.Millisecond, Retries: 0})
	requireCode(t, gather(c).err, tracking.CodeTimeout)
	start := time.Now()
	assert.NoError(t, srv.Close())
	timing.Before(t, time.Since(start), delay, "Close waited for a delayed send instead of cancelling it")
}
