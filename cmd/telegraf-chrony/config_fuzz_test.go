package main

import (
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/telegraf-chrony/telegraf-chrony/cmdmon"
)

// FuzzConfig feeds arbitrary config files to the loader and the plugin's
// Init: a file is either refused with a config_error (Init's names the
// key), or gives a plugin whose settings hold. Nothing panics.
func FuzzConfig(f *testing.F) {
	sample, err := os.ReadFile("../../sample.conf")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(sample))
	for _, s := range []string{
		"[[inputs.chrony_tracking]]\n",
		"[[inputs.chrony_tracking]]\nserver = \"udp://127.0.0.1:323\"\ntimeout = \"250ms\"\nretries = 0\n",
		"[[inputs.chrony_tracking]]\nservers = [\"udp://[::1]\", \"unixgram:///run/chrony/chronyd.sock\"]\nmax_in_flight = 2\n",
		"[[inputs.chrony_tracking]]\nsocket_perms = \"0660\"\nsocket_group = \"root\"\nsocket_dir = \"/run/telegraf\"\n",
		"[[inputs.chrony_tracking]]\ntimout = \"1s\"\n",
		"[[inputs.chrony_tracking]]\n[[inputs.chrony_tracking]]\n",
		"[agent]\ninterval = \"10s\"\n",
		"[[inputs.chrony_tracking]]\ntimeout = -1\nretries = 99\n",
		"[[inputs.chrony_tracking]]\ntimeout = \"1000000h\"\nretries = 1\n",
		"[[inputs.chrony_tracking]]\ntimeout = 0.5\nserver = \"${HOME}${UNSET_FUZZ:-/x}$$\"\nservers = [\"${PATH:+udp://a}\"]\n",
		"[[inputs.chrony_tracking]]\nsocket_dir = \"${UNSET_FUZZ}\"\n",
		"[inputs.chrony_tracking]\ntimeout = [1]\n",
		"\ufeff[[inputs.chrony_tracking]]\nserver = \"${A:-${B:+${C-x}}}\"\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		p, err := parseConfig(data)
		if err != nil {
			var te *cmdmon.Error
			if !errors.As(err, &te) || te.Code != cmdmon.CodeConfigError || strings.TrimSpace(te.Message()) == "" {
				t.Fatalf("a refusal that is not a config_error with a message: %#v", err)
			}
			return
		}
		if err := p.Init(); err != nil {
			var te *cmdmon.Error
			if !errors.As(err, &te) || te.Code != cmdmon.CodeConfigError || te.Key == "" {
				t.Fatalf("Init error does not name the key: %v", err)
			}
			return
		}
		defer p.Stop()
		if time.Duration(p.Timeout) < cmdmon.MinTimeout || p.Retries < 0 || p.Retries > cmdmon.MaxRetries || p.MaxInFlight < 1 ||
			p.Settings().Cmdmon.Bound() == math.MaxInt64 {
			t.Fatalf("accepted a config with timeout %v, retries %d, max_in_flight %d",
				time.Duration(p.Timeout), p.Retries, p.MaxInFlight)
		}
	})
}
