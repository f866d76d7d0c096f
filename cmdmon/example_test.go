package cmdmon_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/chronylab"
	"github.com/telegraf-chrony/telegraf-chrony/testutil/labenv"
)

// chronydAddress is where the examples find chronyd. A program would leave
// Config.Address empty (chronyc's order: /run/chrony/chronyd.sock, then
// 127.0.0.1:323, then [::1]:323); the tests point it at a private lab.
var chronydAddress string

// TestMain starts a chronyd lab for the runnable examples, which cannot
// start one themselves.
func TestMain(m *testing.M) {
	os.Exit(runWithLab(m))
}

func runWithLab(m *testing.M) int {
	if err := chronylab.Available(); err != nil {
		if labenv.Required() {
			fmt.Fprintln(os.Stderr, "examples need chronyd:", err)
			return 1
		}
		// Examples cannot skip themselves: leave out the one that needs
		// chronyd, as the lab's tests skip, saying why.
		fmt.Fprintln(os.Stderr, "skipping Example: no chronyd lab here:", err)
		flag.Set("test.skip", "^Example(Client_Sources)?$")
		return m.Run()
	}
	lab, err := chronylab.Launch(chronylab.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer lab.Close()
	if err := lab.WaitSynced(10 * time.Second); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	chronydAddress = lab.UnixURL()
	return m.Run()
}

func Example() {
	cfg := cmdmon.DefaultConfig() // 1 s first timeout, 2 retries, like chronyc
	cfg.Address = chronydAddress
	client, err := cmdmon.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	report, err := client.Tracking(context.Background())
	if err != nil {
		fmt.Println(err) // every error is a *cmdmon.Error with a code and a hint
		return
	}
	fmt.Println("reference:", report.RefIDHex(), report.ReferenceName)
	fmt.Println("stratum:", report.Stratum, "leap:", report.Leap)
	fmt.Println("synchronised:", report.Synchronised)
	fmt.Println("error bound under 1 ms:", report.ClockErrorBound < 0.001)
	// Output:
	// reference: 7F000001 127.0.0.1
	// stratum: 9 leap: normal
	// synchronised: true
	// error bound under 1 ms: true
}

func ExampleClient_Sources() {
	client, err := cmdmon.New(cmdmon.Config{Address: chronydAddress, Timeout: time.Second, Retries: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	sources, err := client.Sources(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range sources {
		// Key is unique per source; Name is what chrony.conf called it.
		fmt.Println(s.Key(), s.Name, s.Mode, s.State, string(s.State.Symbol()))
	}
	stats, err := client.ServerStats(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	hits, ok := stats.Get(cmdmon.CmdHits)
	fmt.Println("command requests counted:", ok && hits > 0)
	// Output:
	// 127.0.0.1 127.0.0.1 client sync *
	// command requests counted: true
}

func ExampleError() {
	cfg := cmdmon.DefaultConfig()
	cfg.Address = "unixgram:///nonexistent/chronyd.sock"
	client, err := cmdmon.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	_, err = client.Tracking(context.Background())
	var terr *cmdmon.Error
	if errors.As(err, &terr) {
		fmt.Println("result:", terr.Code, uint8(terr.Code))
		fmt.Println("unavailable:", errors.Is(err, cmdmon.ErrUnavailable))
	}
	// Output:
	// result: service_unavailable 1
	// unavailable: true
}
