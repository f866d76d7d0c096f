package chronylab

import (
	"fmt"
	"testing"

	"github.com/influxdata/telegraf"
	"github.com/stretchr/testify/require"
)

// RequireMetric checks a chrony_tracking point against chronyc's view of
// the same daemon: identity exactly, the slowly moving values loosely (the
// two readings are not of the same clock update).
func (tr ChronycTracking) RequireMetric(t testing.TB, m telegraf.Metric) {
	t.Helper()
	tags, fields := m.Tags(), m.Fields()
	require.Equal(t, "success", tags["result"])
	require.Equal(t, fmt.Sprintf("%08X", tr.RefID), tags["reference_id"])
	require.Equal(t, tr.Name, tags["reference_name"])
	require.Equal(t, int64(tr.Stratum), fields["stratum"])
	require.Equal(t, int64(0), fields["leap_status"])
	require.Equal(t, true, fields["synchronised"])
	require.InDelta(t, tr.RefTime, fields["ref_time"], 5)
	require.InDelta(t, tr.RootDelay, fields["root_delay"], 1e-3)
	require.InDelta(t, tr.SystemTime, fields["system_time"], 1e-3)
	require.Len(t, fields, 16)
}
