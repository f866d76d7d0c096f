package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"

	"github.com/telegraf-chrony/telegraf-chrony/testutil/cmdbin"
)

// probeEnv, when set, makes the test binary a one-shot probe instead of a
// test run: it reads a probeConfig from the variable, makes one Tracking
// call and prints a probeResult as JSON. The permission tests run a copy
// of this binary as an unprivileged user, which needs no compiler and no
// second program.
const probeEnv = "TELEGRAF_CHRONY_RELIABILITY_PROBE"

type probeConfig struct {
	Address     string
	Timeout     time.Duration
	Retries     int
	SocketDir   string
	SocketGroup string
	SocketMode  os.FileMode
}

type probeResult struct {
	UID, GID int
	Groups   []int
	Code     string
	Error    string
	Hint     string
	Took     time.Duration
}

func TestMain(m *testing.M) {
	if cfg := os.Getenv(probeEnv); cfg != "" {
		os.Exit(probe(cfg, os.Stdout))
	}
	code := m.Run()
	cmdbin.Remove()
	os.Exit(code)
}

func probe(raw string, out io.Writer) int {
	var pc probeConfig
	if err := json.Unmarshal([]byte(raw), &pc); err != nil {
		fmt.Fprintln(os.Stderr, "probe config:", err)
		return 2
	}
	res := probeResult{UID: os.Geteuid(), GID: os.Getegid()}
	res.Groups, _ = os.Getgroups()
	c, err := cmdmon.New(cmdmon.Config{Address: pc.Address, Timeout: pc.Timeout, Retries: pc.Retries,
		SocketDir: pc.SocketDir, SocketGroup: pc.SocketGroup, SocketMode: pc.SocketMode})
	if err == nil {
		start := time.Now()
		_, err = c.Tracking(context.Background())
		res.Took = time.Since(start)
		c.Close()
	}
	res.Code = cmdmon.CodeOf(err).String()
	if err != nil {
		res.Error = err.Error()
		if te, ok := err.(*cmdmon.Error); ok {
			res.Hint = te.Hint
		}
	}
	if err := json.NewEncoder(out).Encode(res); err != nil {
		return 2
	}
	return 0
}
