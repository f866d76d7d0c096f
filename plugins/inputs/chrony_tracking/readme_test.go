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
	// The other reports: every tag and field a point of theirs carries.
	for _, r := range schemaSamples() {
		for _, m := range r.Metrics() {
			require.Contains(t, readme, "- "+m.Name()+"", m.Name())
			for _, tag := range m.TagList() {
				require.Contains(t, readme, tag.Key, "%s tag %s", m.Name(), tag.Key)
			}
			for _, f := range m.FieldList() {
				require.Contains(t, readme, f.Key, "%s field %s", m.Name(), f.Key)
			}
		}
	}
}

// schemaSamples are successful results of every report but tracking, with
// every field each can have.
func schemaSamples() []Result {
	stats := cmdmon.ServerStats{Version: 4}
	return []Result{
		{Kind: KindSources, Sources: []cmdmon.Source{{}}},
		{Kind: KindSourceStats, SourceStats: []cmdmon.SourceStats{{}}},
		{Kind: KindActivity},
		{Kind: KindServerStats, ServerStats: stats},
	}
}
