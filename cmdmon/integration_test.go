package cmdmon_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
)

// With no address, the client tries chronyc's order and reports which
// address answered.
func TestDefaultOrder(t *testing.T) {
	lab := chronylab.Start(t, chronylab.Options{Mode: chronylab.LocalReference})
	missing := cmdmon.Address{Network: "unixgram", Path: lab.Dir + "/missing.sock"}
	unix, err := cmdmon.ParseAddress(lab.UnixURL())
	require.NoError(t, err)
	udp, err := cmdmon.ParseAddress(lab.UDPURL())
	require.NoError(t, err)
	saved := cmdmon.DefaultAddresses
	t.Cleanup(func() { cmdmon.DefaultAddresses = saved })

	for _, tt := range []struct {
		order []cmdmon.Address
		want  string
	}{
		{[]cmdmon.Address{unix, udp}, lab.UnixURL()},
		{[]cmdmon.Address{missing, udp}, lab.UDPURL()},
	} {
		cmdmon.DefaultAddresses = tt.order
		c, err := cmdmon.New(cmdmon.DefaultConfig())
		require.NoError(t, err)
		r, err := c.Tracking(context.Background())
		c.Close()
		require.NoError(t, err)
		assert.Equal(t, tt.want, r.Address)
	}

	cmdmon.DefaultAddresses = []cmdmon.Address{missing}
	c, err := cmdmon.New(cmdmon.DefaultConfig())
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Tracking(context.Background())
	require.ErrorIs(t, err, cmdmon.ErrUnavailable)
	assert.Contains(t, err.Error(), "missing.sock")
}

// A timeout and retries whose bound a duration holds work, however long
// the bound: the longest one Resolve accepts, over both transports.
func TestLongestBoundWorks(t *testing.T) {
	lab := chronylab.Start(t, chronylab.Options{Mode: chronylab.LocalReference})
	const retries = cmdmon.MaxRetries
	timeout := time.Duration(math.MaxInt64) / (1<<(retries+1) - 1)
	for _, url := range []string{lab.UnixURL(), lab.UDPURL()} {
		c, err := cmdmon.New(cmdmon.Config{Address: url, Timeout: timeout, Retries: retries})
		require.NoError(t, err)
		_, err = c.Tracking(context.Background())
		c.Close()
		require.NoError(t, err, url)
	}
}
