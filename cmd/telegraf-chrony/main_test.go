package main

import (
	"os"
	"testing"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/cmdbin"
)

// TestMain removes the command that the tests built to run as a process.
func TestMain(m *testing.M) {
	code := m.Run()
	cmdbin.Remove()
	os.Exit(code)
}
