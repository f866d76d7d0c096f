package chrony_tracking

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
)

// The README documents every result code and every tag and field Point writes.
func TestReadmeDocumentsSchema(t *testing.T) {
	b, err := os.ReadFile("README.md")
	require.NoError(t, err)
	readme := string(b)
	require.Contains(t, readme, sampleConfig, "README embeds sample.conf")
	for _, c := range cmdmon.Codes() {
		require.Contains(t, readme, fmt.Sprintf("| %d | %s |", c, c), c.String())
	}
	tags, fields := Point(Result{Report: cmdmon.Tracking{ReferenceName: "x"}})
	for k := range tags {
		require.Contains(t, readme, "    - "+k+":", k)
	}
	for k := range fields {
		require.True(t, strings.Contains(readme, "    - "+k+" ("), k)
	}
}
