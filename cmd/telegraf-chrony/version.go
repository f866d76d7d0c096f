package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; a
// `go install ...@version` build reports its module version instead.
var version = ""

func versionString() string {
	v, telegrafV := version, "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, d := range bi.Deps {
			if d.Path == "github.com/influxdata/telegraf" {
				telegrafV = d.Version
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	return fmt.Sprintf("telegraf-chrony %s (telegraf %s, %s %s/%s)", v, telegrafV, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
