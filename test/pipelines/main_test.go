package pipelines

import (
	"os"
	"testing"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/cmdbin"
)

func TestMain(m *testing.M) {
	code := m.Run()
	cmdbin.Remove()
	os.Exit(code)
}
