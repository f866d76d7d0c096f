package pipelines

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the README's example blocks from the files under examples/")

func readme(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// exampleBlock is a fenced block of the README that shows an example file:
// the line before it is <!-- example: PATH -->, PATH under examples/.
var exampleBlock = regexp.MustCompile("(?m)^<!-- example: (\\S+) -->\n```(\\w*)\n((?s:.*?))```\n")

// The README shows each file of examples/telegraf, the configs the
// pipeline tests run, as it is (go test ./test/pipelines -run
// TestREADMEShowsExamples -update rewrites the blocks), and names every
// alert and dashboard.
func TestREADMEShowsExamples(t *testing.T) {
	text := readme(t)
	shown := map[string]bool{}
	fixed := exampleBlock.ReplaceAllStringFunc(text, func(block string) string {
		m := exampleBlock.FindStringSubmatch(block)
		name, lang, body := m[1], m[2], m[3]
		shown[name] = true
		want := example(t, name)
		if body != want {
			t.Errorf("README's block for examples/%s differs from the file", name)
		}
		return fmt.Sprintf("<!-- example: %s -->\n```%s\n%s```\n", name, lang, want)
	})
	if *update && fixed != text {
		if err := os.WriteFile(filepath.Join(repoRoot, "README.md"), []byte(fixed), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("README.md rewritten")
	}
	files, err := filepath.Glob(filepath.Join(repoRoot, "examples", "telegraf", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples/telegraf files: %v", err)
	}
	for _, f := range files {
		if name := "telegraf/" + filepath.Base(f); !shown[name] {
			t.Errorf("the README does not show examples/%s", name)
		}
	}
	for _, r := range promRules(t, example(t, "prometheus/chrony.rules.yml")) {
		if !strings.Contains(text, "`"+r.Alert+"`") {
			t.Errorf("the README does not name the alert %s", r.Alert)
		}
	}
	for _, f := range []string{"chrony-influxdb.json", "chrony-prometheus.json", "chrony.rules.yml", "alerts.influxql"} {
		if !strings.Contains(text, f) {
			t.Errorf("the README does not mention %s", f)
		}
	}
}
