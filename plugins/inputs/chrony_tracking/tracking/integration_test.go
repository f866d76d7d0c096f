package tracking_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/plugins/inputs/chrony_tracking/tracking"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
)

// With no address, the client tries chronyc's order and reports which
// address answered.
func TestDefaultOrder(t *testing.T) {
	lab := chronylab.Start(t, chronylab.Options{Mode: chronylab.LocalReference})
	missing := tracking.Address{Network: "unixgram", Path: lab.Dir + "/missing.sock"}
	unix, err := tracking.ParseAddress(lab.UnixURL())
	require.NoError(t, err)
	udp, err := tracking.ParseAddress(lab.UDPURL())
	require.NoError(t, err)
	saved := tracking.DefaultAddresses
	t.Cleanup(func() { tracking.DefaultAddresses = saved })

	for _, tt := range []struct {
		order []tracking.Address
		want  string
	}{
		{[]tracking.Address{unix, udp}, lab.UnixURL()},
		{[]tracking.Address{missing, udp}, lab.UDPURL()},
	} {
		tracking.DefaultAddresses = tt.order
		c, err := tracking.New(tracking.DefaultConfig())
		require.NoError(t, err)
		r, err := c.Tracking(context.Background())
		c.Close()
		require.NoError(t, err)
		assert.Equal(t, tt.want, r.Address)
	}

	tracking.DefaultAddresses = []tracking.Address{missing}
	c, err := tracking.New(tracking.DefaultConfig())
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Tracking(context.Background())
	require.ErrorIs(t, err, tracking.ErrUnavailable)
	assert.Contains(t, err.Error(), "missing.sock")
}
