package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The --help example of the [[inputs.execd]] table is the one the packages
// install as /etc/telegraf/telegraf.d/chrony_tracking.conf, comments aside.
func TestManualShowsThePackagedDropIn(t *testing.T) {
	packaged, err := os.ReadFile("../../packaging/chrony_tracking.conf")
	require.NoError(t, err)
	var table []string
	for _, l := range strings.Split(strings.TrimSpace(string(packaged)), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			table = append(table, "        "+l)
		}
	}
	require.Contains(t, manual, strings.Join(table, "\n")+"\n")
}
