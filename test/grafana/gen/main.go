// Command gen writes the example dashboards of package grafana into the
// directory given (default: the repository's examples/grafana, from the test
// module's directory):
//
//	cd test && go run ./grafana/gen
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/telegraf-chrony/telegraf-chrony/test/grafana"
)

func main() {
	dir := filepath.Join("..", "examples", "grafana")
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	for name, build := range grafana.Files {
		d, err := build()
		if err == nil {
			var b []byte
			if b, err = grafana.Render(d); err == nil {
				err = os.WriteFile(filepath.Join(dir, name), b, 0o644)
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "gen: %s: %v\n", name, err)
			os.Exit(1)
		}
	}
}
