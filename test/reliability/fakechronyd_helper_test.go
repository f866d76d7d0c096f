package reliability

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	fc "github.com/telegraf-chrony/telegraf-chrony/testutil/fakechronyd"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/timing"
)

// TestFakeCloseCancelsDelayedSends holds the test helper to its doc:
// "Close stops the fake, cancels delayed sends not yet made". The fault
// tests lean on it: a fake closed while a delayed reply is pending must not
// hold the test (and its cleanup) for the whole delay. The fake is closed
// once it has taken the request (Sync), so the reply is certainly pending.
func TestFakeCloseCancelsDelayedSends(t *testing.T) {
	delay := timing.LongTimeout
	srv := fc.StartUDP(t, fc.Delayed(delay, chronyd()))
	c := newClient(t, cmdmon.Config{Address: srv.URL(), Timeout: timing.LongTimeout, Retries: 0})
	done := make(chan gathered, 1)
	go func() { done <- gather(c) }()
	require.True(t, waitFor(timing.LongTimeout, func() bool { return len(srv.Requests()) == 1 }), "the request reached the fake")
	require.NoError(t, srv.Sync())
	start := time.Now()
	assert.NoError(t, srv.Close())
	timing.Before(t, time.Since(start), delay, "Close waited for a delayed send instead of cancelling it")
	c.Close() // ends the call in progress
	g := <-done
	requireCode(t, g.err, cmdmon.CodeOf(g.err))
}
